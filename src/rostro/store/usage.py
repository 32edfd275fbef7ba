"""Counting calls per resource and enforcing its tier.

Counters are fixed windows aligned to UTC: the current second, the current minute and the
current calendar month. ``admit`` counts the call with conditional upserts ("add one if under
the limit"), each on the resource's own row, so concurrent workers and processes cannot both
take the last call of a window, and calls of two resources never wait for each other. Calls
that are refused are not counted.
"""

from __future__ import annotations

import calendar
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, text

from rostro.store.resources import ResourceRef, get_resource
from rostro.store.tiers import Tier, get_tier


def month_bounds(now: float) -> tuple[int, int]:
    """Return (start, end) of the UTC calendar month containing ``now``, in UNIX seconds."""
    day = datetime.fromtimestamp(now, tz=UTC)
    start = datetime(day.year, day.month, 1, tzinfo=UTC)
    days = calendar.monthrange(day.year, day.month)[1]
    return int(start.timestamp()), int(start.timestamp()) + days * 86400


def window_starts(now: float) -> dict[str, int]:
    """Return the start of the current ``second``, ``minute`` and ``month`` windows."""
    second = int(now)
    return {"second": second, "minute": second - second % 60, "month": month_bounds(now)[0]}


@dataclass(frozen=True)
class Admission:
    """The verdict on one call. When refused, ``reason`` is ``rate`` (too many calls in the
    tier's window; retry after ``retry_after`` seconds) or ``quota`` (the month is used up;
    ``retry_after`` is the time until the next month)."""

    allowed: bool
    tier: Tier
    reason: str | None = None
    retry_after: int = 0


# The per-call statements are built once: building SQLAlchemy expressions costs more than
# running them on SQLite, and every API call runs these.
# The SQL is the same on SQLite and PostgreSQL: "window" is quoted (a reserved word in
# PostgreSQL) and the upserts name the existing row's table (PostgreSQL finds a bare column
# name ambiguous beside ``excluded``).
_SELECT_COUNTS = text(
    'SELECT "window", start, calls FROM usage_counters WHERE resource_id = :resource_id')
_UPSERT = text(
    'INSERT INTO usage_counters (resource_id, "window", start, calls) '
    "VALUES (:resource_id, :window, :start, :calls) "
    'ON CONFLICT (resource_id, "window", start) '
    "DO UPDATE SET calls = usage_counters.calls + excluded.calls")
# Minute counters are kept this long (the Studio charts calls per minute over the last hour,
# see rostro.store.history); second counters only until their second has passed.
MINUTE_HISTORY = 3600
_DROP_PAST = text(
    "DELETE FROM usage_counters WHERE resource_id = :resource_id AND "
    """(("window" = 'second' AND start < :second) """
    """OR ("window" = 'minute' AND start < :minute))""")


def _counts(connection: Connection, resource_id: int, starts: dict[str, int]) -> dict[str, int]:
    counts = dict.fromkeys(starts, 0)
    for window, start, calls in connection.execute(_SELECT_COUNTS, {"resource_id": resource_id}):
        if starts.get(window) == start:
            counts[window] = calls
    return counts


#: The windows, in the order their rows are locked (the month first, see ``admit``).
WINDOWS = ("month", "minute", "second")


def record_calls(connection: Connection, resource_id: int, calls: int = 1,
                 now: float | None = None, windows: tuple[str, ...] = WINDOWS) -> None:
    """Add ``calls`` to the resource's current counters of ``windows`` (all by default),
    drop second counters of past seconds and minute counters older than MINUTE_HISTORY."""
    starts = window_starts(time.time() if now is None else now)
    connection.execute(_UPSERT, [
        {"resource_id": resource_id, "window": window, "start": starts[window], "calls": calls}
        for window in windows])
    _drop_past(connection, resource_id, starts)


def _drop_past(connection: Connection, resource_id: int, starts: dict[str, int]) -> None:
    connection.execute(_DROP_PAST, {"resource_id": resource_id, "second": starts["second"],
                                    "minute": starts["minute"] - MINUTE_HISTORY})


# Add one call to a window's counter if it is under :limit; RETURNING gives the new count, or
# no row when the counter was full (then nothing changed). Either way the row stays locked
# until the transaction ends (PostgreSQL locks the conflicting row even when the WHERE fails),
# so the next admission of this resource waits here for this one's commit and then sees its
# count: exact across processes without any wider lock. A new row starts at 1 (every limit is
# at least 1).
_COUNT_IF_UNDER = text(
    'INSERT INTO usage_counters (resource_id, "window", start, calls) '
    "VALUES (:resource_id, :window, :start, 1) "
    'ON CONFLICT (resource_id, "window", start) '
    "DO UPDATE SET calls = usage_counters.calls + 1 WHERE usage_counters.calls < :limit "
    "RETURNING calls")
_UNCOUNT = text(
    'UPDATE usage_counters SET calls = calls - 1 WHERE resource_id = :resource_id '
    'AND "window" = :window AND start = :start')
#: The limit of a window the tier does not limit (``calls`` is a 32-bit integer).
NO_LIMIT = 2**31 - 1


def _count_if_under(connection: Connection, resource_id: int, window: str, start: int,
                    limit: int | None) -> int | None:
    """The window's new count, or None when it was full (nothing counted)."""
    return connection.execute(_COUNT_IF_UNDER, {
        "resource_id": resource_id, "window": window, "start": start,
        "limit": NO_LIMIT if limit is None else limit}).scalar()


def _refusal(tier: Tier, counts: dict[str, int], starts: dict[str, int],
             now: float) -> Admission | None:
    """The refusal a full window gives (the month first), or None when there is room."""
    if tier.monthly_quota is not None and counts["month"] >= tier.monthly_quota:
        return _refused(tier, "quota", starts, now)
    if tier.rate_limit is not None and counts[tier.window_name] >= tier.rate_limit:
        return _refused(tier, "rate", starts, now)
    return None


def _refused(tier: Tier, reason: str, starts: dict[str, int], now: float) -> Admission:
    """The refusal of a full month (``quota``) or rate window (``rate``): retry when it ends."""
    if reason == "quota":
        return Admission(False, tier, "quota", max(1, math.ceil(month_bounds(now)[1] - now)))
    window_end = starts[tier.window_name] + tier.rate_window
    return Admission(False, tier, "rate", max(1, math.ceil(window_end - now)))


# Every window of a tier without limits in one statement, rows in WINDOWS order.
_COUNT_ALL = text(
    'INSERT INTO usage_counters (resource_id, "window", start, calls) '
    "VALUES (:resource_id, 'month', :month, 1), (:resource_id, 'minute', :minute, 1), "
    "(:resource_id, 'second', :second, 1) "
    'ON CONFLICT (resource_id, "window", start) '
    'DO UPDATE SET calls = usage_counters.calls + 1 RETURNING "window", calls')


def admit(connection: Connection, resource: ResourceRef, now: float | None = None) -> Admission:
    """Decide whether ``resource`` may make one more call now; count it if so.

    The calls of one resource are counted one at a time (each holds its counter rows until
    its commit), so the work between taking the first row and the commit is kept small:

    1. a plain read: a window's committed count never goes down, so a full window refuses
       the call at once, without a lock or a write (a client retrying past its limit does
       not queue behind the calls being counted);
    2. the month's counter is taken first, by every admission of the resource: whoever
       holds its row is the only one counting this resource's calls, so the rate window's
       check, the undo and the other windows run one at a time per resource, in one order
       (month, then the others), which cannot deadlock. A tier without limits counts every
       window in one statement;
    3. the first call of a second deletes the past windows' rows, still holding the month's
       row (deleting them before it could take a row that a call begun a moment earlier
       is about to count, and each would wait for the other)."""
    now = time.time() if now is None else now
    tier = get_tier(resource.tier)
    starts = window_starts(now)
    if tier.monthly_quota is None and tier.rate_limit is None:
        counted = dict(connection.execute(_COUNT_ALL, {"resource_id": resource.id, **starts}).all())
    else:
        refused = _refusal(tier, _counts(connection, resource.id, starts), starts, now)
        if refused is not None:
            return refused
        if _count_if_under(connection, resource.id, "month", starts["month"],
                           tier.monthly_quota) is None:
            return _refused(tier, "quota", starts, now)
        rate_window = tier.window_name
        rate = _count_if_under(connection, resource.id, rate_window, starts[rate_window],
                               tier.rate_limit)
        if rate is None:
            connection.execute(_UNCOUNT, {"resource_id": resource.id, "window": "month",
                                          "start": starts["month"]})
            return _refused(tier, "rate", starts, now)
        (other,) = (w for w in WINDOWS if w not in ("month", rate_window))
        counted = {rate_window: rate, other: _count_if_under(
            connection, resource.id, other, starts[other], None)}
    if counted["second"] == 1:
        _drop_past(connection, resource.id, starts)
    return Admission(True, tier)


@dataclass(frozen=True)
class UsageReport:
    """A resource's balance: calls in the current second, minute and month, the tier's
    limits and what remains (None where the tier has no limit)."""

    resource: str
    tier: str
    calls_this_second: int
    calls_this_minute: int
    calls_this_month: int
    rate_limit: int | None
    rate_window: str
    rate_remaining: int | None
    monthly_quota: int | None
    month_remaining: int | None
    month_resets_at: int

    def as_json(self) -> dict[str, object]:
        """Return the report as the usage endpoint's JSON object."""
        return {
            "resource": self.resource,
            "tier": self.tier,
            "rateLimit": {"calls": self.rate_limit, "per": self.rate_window,
                          "remaining": self.rate_remaining},
            "callsThisSecond": self.calls_this_second,
            "callsThisMinute": self.calls_this_minute,
            "callsThisMonth": self.calls_this_month,
            "monthlyQuota": self.monthly_quota,
            "monthRemaining": self.month_remaining,
            "monthResetsAt": datetime.fromtimestamp(self.month_resets_at, tz=UTC)
                                     .isoformat().replace("+00:00", "Z"),
        }


def usage_report(connection: Connection, name: str, now: float | None = None) -> UsageReport:
    """Return the usage of resource ``name`` (NotFound if there is none)."""
    now = time.time() if now is None else now
    info = get_resource(connection, name)
    tier = get_tier(info.tier)
    counts = _counts(connection, info.id, window_starts(now))
    rate_used = counts[tier.window_name]
    return UsageReport(
        resource=info.name, tier=tier.name,
        calls_this_second=counts["second"], calls_this_minute=counts["minute"],
        calls_this_month=counts["month"],
        rate_limit=tier.rate_limit, rate_window=tier.window_name,
        rate_remaining=None if tier.rate_limit is None else max(0, tier.rate_limit - rate_used),
        monthly_quota=tier.monthly_quota,
        month_remaining=None if tier.monthly_quota is None
        else max(0, tier.monthly_quota - counts["month"]),
        month_resets_at=month_bounds(now)[1],
    )
