"""The Studio's operator account, sign-in sessions, and resource descriptions.

One admin password (its scrypt hash, see ``rostro.studio.security``) and the sessions it
opened. A session is stored by the SHA-256 of its cookie token, never the token itself, with
the CSRF token its forms must carry. Changing the password ends every session.

Failed sign-in attempts are kept here too (``SignInFailure``), so that every worker and
process sharing the database shares one throttle (the policy is ``rostro.studio.throttle``).

A resource's optional description (typed when it is created in the Studio, as in the Azure
portal) lives in its own table so the resources table stays as the API uses it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import (
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from rostro.store.locks import lock_global
from rostro.store.tables import Base

ADMIN_ROW = 1
MAX_DESCRIPTION = 500


class StudioAdmin(Base):
    """The operator's password hash (a single row, id 1)."""

    __tablename__ = "studio_admin"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class StudioSession(Base):
    """A signed-in browser: SHA-256 of its cookie token, its CSRF token, its lifetime."""

    __tablename__ = "studio_sessions"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class SignInFailure(Base):
    """One failed (or not yet judged) sign-in attempt, counted under ``scope``: the client's
    address (``address:...``) or the account (``account``)."""

    __tablename__ = "studio_signin_failures"
    __table_args__ = (Index("ix_studio_signin_failures_scope_time", "scope", "attempted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(80))
    attempted_at: Mapped[float] = mapped_column(Float)


class ResourceDescription(Base):
    """The description of a resource (absent when none was given)."""

    __tablename__ = "resource_descriptions"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)
    description: Mapped[str] = mapped_column(String(MAX_DESCRIPTION))


@dataclass(frozen=True)
class SessionInfo:
    """A live session: the CSRF token its forms carry and when it ends."""

    csrf_token: str
    created_at: float
    expires_at: float


def admin_password_hash(connection: Connection) -> str | None:
    """Return the stored admin password hash, or None before the first start."""
    return connection.execute(
        select(StudioAdmin.password_hash).where(StudioAdmin.id == ADMIN_ROW)).scalar()


def set_admin_password_hash(connection: Connection, password_hash: str,
                            now: float | None = None) -> None:
    """Store ``password_hash`` as the admin password and end every session."""
    now = time.time() if now is None else now
    lock_global(connection, "studio")  # the row is created if missing
    if admin_password_hash(connection) is None:
        connection.execute(insert(StudioAdmin).values(
            id=ADMIN_ROW, password_hash=password_hash, created_at=now, updated_at=now))
    else:
        connection.execute(update(StudioAdmin).where(StudioAdmin.id == ADMIN_ROW)
                           .values(password_hash=password_hash, updated_at=now))
    connection.execute(delete(StudioSession))


def create_session(connection: Connection, token_hash: bytes, csrf_token: str, ttl: float,
                   now: float | None = None) -> SessionInfo:
    """Store a session for ``ttl`` seconds; expired sessions are deleted on the way."""
    now = time.time() if now is None else now
    connection.execute(delete(StudioSession).where(StudioSession.expires_at <= now))
    connection.execute(insert(StudioSession).values(
        token_hash=token_hash, csrf_token=csrf_token, created_at=now, expires_at=now + ttl))
    return SessionInfo(csrf_token, now, now + ttl)


def get_session(connection: Connection, token_hash: bytes,
                now: float | None = None) -> SessionInfo | None:
    """Return the live session stored under ``token_hash``, or None (unknown or expired)."""
    now = time.time() if now is None else now
    row = connection.execute(select(StudioSession).where(
        StudioSession.token_hash == token_hash, StudioSession.expires_at > now)).first()
    return None if row is None else SessionInfo(row.csrf_token, row.created_at, row.expires_at)


def delete_session(connection: Connection, token_hash: bytes) -> None:
    """End the session stored under ``token_hash`` (nothing happens if there is none)."""
    connection.execute(delete(StudioSession).where(StudioSession.token_hash == token_hash))


def set_description(connection: Connection, resource_id: int, description: str) -> None:
    """Set (or with an empty text, remove) a resource's description, cut to MAX_DESCRIPTION."""
    connection.execute(delete(ResourceDescription)
                       .where(ResourceDescription.resource_id == resource_id))
    description = description.strip()[:MAX_DESCRIPTION]
    if description:
        connection.execute(insert(ResourceDescription).values(
            resource_id=resource_id, description=description))


def descriptions(connection: Connection) -> dict[int, str]:
    """Return every resource's description, by resource id."""
    return dict(connection.execute(
        select(ResourceDescription.resource_id, ResourceDescription.description)).all())


def signin_failures(connection: Connection, scope: str, since: float) -> list[float]:
    """Return the times of the failed attempts under ``scope`` since ``since``, oldest first."""
    return list(connection.execute(
        select(SignInFailure.attempted_at)
        .where(SignInFailure.scope == scope, SignInFailure.attempted_at >= since)
        .order_by(SignInFailure.attempted_at)).scalars())


def record_signin_failure(connection: Connection, scopes: tuple[str, ...], now: float,
                          keep: float) -> None:
    """Count one failed attempt at ``now`` under each of ``scopes``; attempts older than
    ``keep`` seconds are deleted on the way (the table holds one throttle window). The caller
    holds ``lock_global(connection, "studio")`` from before it counted the failures."""
    connection.execute(delete(SignInFailure).where(SignInFailure.attempted_at < now - keep))
    connection.execute(insert(SignInFailure), [{"scope": scope, "attempted_at": now}
                                               for scope in scopes])


def forget_signin_failures(connection: Connection, scope: str, at: float | None = None) -> None:
    """Delete the failed attempts counted under ``scope`` (only the one made ``at`` that time,
    when given)."""
    condition = SignInFailure.scope == scope
    if at is not None:
        condition = condition & (SignInFailure.attempted_at == at)
    connection.execute(delete(SignInFailure).where(condition))
