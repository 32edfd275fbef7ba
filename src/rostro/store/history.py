"""A resource's last hour, minute by minute: calls, and the error answers it got.

Calls per minute are the usage counters' ``minute`` windows (``rostro.store.usage`` keeps them
for ``MINUTE_HISTORY`` seconds). Error answers are counted here, per minute and class, by the
API's outcome middleware (``rostro.api.outcomes``): ``client`` (4xx other than the tier's refusals),
``throttled`` (the tier's 429 and 403 refusals, which are not counted as calls) and ``server``
(5xx). Requests without a valid key belong to no resource and are not counted. A resource's
rows older than the history are deleted when it gets its next error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from rostro.store.tables import Base, WholeSeconds
from rostro.store.usage import MINUTE_HISTORY

ERROR_CLASSES = ("client", "throttled", "server")


class UsageError(Base):
    """Error answers of one class that a resource got in one minute."""

    __tablename__ = "usage_errors"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)
    minute: Mapped[int] = mapped_column(WholeSeconds, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class MinuteUsage:
    """One minute of a resource's history: ``start`` (UNIX seconds), calls admitted, and
    error answers by class."""

    start: int
    calls: int = 0
    client_errors: int = 0
    throttled: int = 0
    server_errors: int = 0

    @property
    def requests(self) -> int:
        """Calls admitted plus calls the tier refused."""
        return self.calls + self.throttled

    @property
    def errors(self) -> int:
        return self.client_errors + self.throttled + self.server_errors


def error_class(status: int, refused: bool = False) -> str | None:
    """Return the class an answer is counted in, or None for a success; ``refused``: the
    tier refused the call (429 rate limit or 403 quota)."""
    if status < 400:
        return None
    if refused:
        return "throttled"
    if status < 500:
        return "client"
    if status >= 500:
        return "server"
    return None


_UPSERT = text(
    "INSERT INTO usage_errors (resource_id, minute, kind, count) "
    "VALUES (:resource_id, :minute, :kind, 1) "
    "ON CONFLICT (resource_id, minute, kind) DO UPDATE SET count = usage_errors.count + 1")
# Only this resource's rows: one resource's error never waits for another's.
_DROP_OLD = text("DELETE FROM usage_errors WHERE resource_id = :resource_id AND minute < :oldest")


def record_error(connection: Connection, resource_id: int, status: int,
                 refused: bool = False, now: float | None = None) -> None:
    """Count one answer with HTTP ``status`` for the resource (successes are ignored);
    ``refused``: the tier refused the call."""
    kind = error_class(status, refused)
    if kind is None:
        return
    now = time.time() if now is None else now
    minute = int(now) - int(now) % 60
    connection.execute(_UPSERT, {"resource_id": resource_id, "minute": minute, "kind": kind})
    connection.execute(_DROP_OLD, {"resource_id": resource_id,
                                   "oldest": minute - MINUTE_HISTORY})


_CALLS = text("SELECT start, calls FROM usage_counters WHERE resource_id = :resource_id "
              """AND "window" = 'minute' AND start >= :oldest""")
_ERRORS = text("SELECT minute, kind, count FROM usage_errors WHERE resource_id = :resource_id "
               "AND minute >= :oldest")


def minute_history(connection: Connection, resource_id: int, now: float | None = None,
                   minutes: int = 60) -> list[MinuteUsage]:
    """Return the last ``minutes`` minutes (oldest first, the current one last), zeros
    included."""
    now = time.time() if now is None else now
    current = int(now) - int(now) % 60
    oldest = current - 60 * (minutes - 1)
    values: dict[int, dict[str, int]] = {
        oldest + 60 * i: {} for i in range(minutes)}
    params = {"resource_id": resource_id, "oldest": oldest}
    for start, calls in connection.execute(_CALLS, params):
        if start in values:
            values[start]["calls"] = calls
    for minute, kind, count in connection.execute(_ERRORS, params):
        if minute in values and kind in ERROR_CLASSES:
            field = "throttled" if kind == "throttled" else f"{kind}_errors"
            values[minute][field] = count
    return [MinuteUsage(start, **counts) for start, counts in values.items()]
