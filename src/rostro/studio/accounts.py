"""The operator's password and sign-in sessions (hashing, tokens; storage in
``rostro.store.studio_accounts``).

The password is hashed with scrypt (N=2**14, r=8, p=1, 16-byte salt) and stored as
``scrypt$N$r$p$salt$hash`` (base64). A session is a 32-byte random token: the browser keeps
it in a cookie, the database keeps only its SHA-256. Face API keys and Studio sessions are
separate: neither opens the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from rostro.store import studio_accounts
from rostro.store.db import Database
from rostro.store.locks import lock_global
from rostro.store.studio_accounts import SessionInfo

SESSION_TTL = 12 * 3600  # seconds a sign-in lasts
MIN_PASSWORD_LENGTH = 8
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}


class PasswordRejected(ValueError):
    """A new password that does not meet the rules (too short)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """Return the storable scrypt hash of ``password``."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Return whether ``password`` matches the ``stored`` hash (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt),
                                n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def new_password() -> str:
    """Return a fresh random password (16 URL-safe characters, 96 bits)."""
    return secrets.token_urlsafe(12)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def ensure_admin(database: Database) -> str | None:
    """Create the admin password if there is none yet; return it (to print once) or None."""
    with database.transaction() as connection:
        lock_global(connection, "studio")  # servers starting at once: one password
        if studio_accounts.admin_password_hash(connection) is not None:
            return None
        password = new_password()
        studio_accounts.set_admin_password_hash(connection, hash_password(password))
    return password


def change_password(database: Database, password: str) -> None:
    """Set the admin password (at least MIN_PASSWORD_LENGTH characters); every session ends."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    hashed = hash_password(password)
    with database.transaction() as connection:
        studio_accounts.set_admin_password_hash(connection, hashed)


def has_admin(database: Database) -> bool:
    with database.transaction() as connection:
        return studio_accounts.admin_password_hash(connection) is not None


@dataclass(frozen=True)
class SignedIn:
    """A new session: ``token`` goes into the cookie, ``session`` holds its CSRF token."""

    token: str
    session: SessionInfo


def sign_in(database: Database, password: str) -> SignedIn | None:
    """Open a session if ``password`` is the admin password; None otherwise."""
    with database.transaction() as connection:
        stored = studio_accounts.admin_password_hash(connection)
    if stored is None or not verify_password(password, stored):
        return None
    token = secrets.token_urlsafe(32)
    with database.transaction() as connection:
        session = studio_accounts.create_session(connection, token_hash(token), secrets.token_urlsafe(32),
                                       SESSION_TTL)
    return SignedIn(token, session)


def session_for(database: Database, token: str | None) -> SessionInfo | None:
    """Return the live session of a cookie token, or None."""
    if not token:
        return None
    with database.transaction() as connection:
        return studio_accounts.get_session(connection, token_hash(token))


def sign_out(database: Database, token: str | None) -> None:
    if token:
        with database.transaction() as connection:
            studio_accounts.delete_session(connection, token_hash(token))
