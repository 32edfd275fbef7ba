"""The sign-in throttle: how many wrong passwords are checked, per address and per account.

Two limits, both kept in the database (``rostro.store.studio_accounts.SignInFailure``) so that every
worker and every process on the database enforces the same count:

- **per address**: after ``ADDRESS_FAILURES`` failures in ``ADDRESS_WINDOW`` seconds from one
  client address (one IPv6 /64: a host usually holds the whole prefix), that address waits
  ``ADDRESS_LOCKOUT`` seconds after its latest failure;
- **per account**, whatever the addresses: after ``ACCOUNT_FREE_FAILURES`` failures in
  ``ACCOUNT_WINDOW`` seconds, each next attempt waits ``2 ** (failures - free)`` seconds
  after the latest failure, at most ``ACCOUNT_MAX_DELAY``. An attacker with any number of
  addresses gets about 20 guesses per 15 minutes; the operator, whose password is right, is
  at most ``ACCOUNT_MAX_DELAY`` late (and ``rostro admin password`` works regardless).

An attempt is counted as a failure *before* its password is checked (``reserve``) and the
count is taken back when it succeeds (``succeeded``): parallel attempts cannot all pass a
check that sees none of the others (the check and the count hold one global lock on
PostgreSQL, ``rostro.store.locks``; SQLite's writers run one at a time anyway). The client
address is the connection's peer, or what a trusted proxy forwarded (``rostro serve
--forwarded-allow-ips``); by default no forwarded header is believed.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass

from rostro.store import studio_accounts
from rostro.store.db import Database
from rostro.store.locks import lock_global

ADDRESS_FAILURES = 5
ADDRESS_WINDOW = 300
ADDRESS_LOCKOUT = 60
ACCOUNT_FREE_FAILURES = 10
ACCOUNT_WINDOW = 900
ACCOUNT_MAX_DELAY = 300
ACCOUNT_SCOPE = "account"


def address_scope(host: str | None) -> str:
    """The scope an address's failures are counted under: the IPv4 address, the IPv6 /64
    (an IPv4-mapped IPv6 address counts as its IPv4 address), or the text as given."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return f"address:{(host or '')[:64]}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"address:{address.ipv4_mapped}"
        return f"address:{ipaddress.IPv6Network((address, 64), strict=False)}"
    return f"address:{address}"


def wait_seconds(address_failures: list[float], account_failures: list[float],
                 now: float) -> float:
    """Seconds before the next attempt may be checked (0: now), given the failure times in
    each window, oldest first."""
    waits = [0.0]
    if len(address_failures) >= ADDRESS_FAILURES:
        waits.append(address_failures[-1] + ADDRESS_LOCKOUT - now)
    beyond = len(account_failures) - ACCOUNT_FREE_FAILURES
    if beyond >= 0:
        waits.append(account_failures[-1] + min(ACCOUNT_MAX_DELAY, 2.0 ** beyond) - now)
    return max(waits)


@dataclass(frozen=True)
class Attempt:
    """An attempt as the throttle judged it: ``retry_after`` whole seconds to wait (0: its
    password may be checked, and it is counted as a failure made at ``at`` until
    ``succeeded``)."""

    retry_after: int
    at: float


def reserve(database: Database, host: str | None, now: float | None = None) -> Attempt:
    """Judge an attempt from ``host``: when the throttle lets it through, count it as a
    failure under its address and the account; otherwise count nothing."""
    now = time.time() if now is None else now
    scope = address_scope(host)
    with database.transaction() as connection:
        lock_global(connection, "studio")  # count and judge in one go, in every process
        wait = wait_seconds(
            studio_accounts.signin_failures(connection, scope, now - ADDRESS_WINDOW),
            studio_accounts.signin_failures(connection, ACCOUNT_SCOPE, now - ACCOUNT_WINDOW), now)
        if wait > 0:
            return Attempt(max(1, math.ceil(wait)), now)
        studio_accounts.record_signin_failure(connection, (scope, ACCOUNT_SCOPE), now,
                                    keep=max(ADDRESS_WINDOW, ACCOUNT_WINDOW))
    return Attempt(0, now)


def succeeded(database: Database, host: str | None, attempt: Attempt) -> None:
    """``attempt`` had the right password: take it back from the account's count and forget
    its address's failures. The account's earlier failures stay until they age out, so that
    a sign-in by the operator does not hand an attacker a fresh allowance."""
    with database.transaction() as connection:
        studio_accounts.forget_signin_failures(connection, address_scope(host))
        studio_accounts.forget_signin_failures(connection, ACCOUNT_SCOPE, at=attempt.at)
