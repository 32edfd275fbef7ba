"""Pricing tiers: how many calls a resource may make per window and per month.

Azure's Face tiers: F0 (free) allows 20 calls a minute and 30,000 a month; S0 allows 10 calls a
second and has no monthly cap. ``unlimited`` is Rostro's own, for self-hosted use without
limits (and for tests that must not be throttled).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    """A tier's limits. ``rate_limit`` calls per ``rate_window`` seconds (None: no limit);
    ``monthly_quota`` calls per calendar month, UTC (None: no quota)."""

    name: str
    rate_limit: int | None
    rate_window: int
    monthly_quota: int | None
    description: str

    @property
    def window_name(self) -> str:
        """``second`` or ``minute``: the counter the rate limit applies to."""
        return "second" if self.rate_window == 1 else "minute"


TIERS: dict[str, Tier] = {
    "F0": Tier("F0", 20, 60, 30_000, "Free: 20 calls per minute, 30,000 calls per month"),
    "S0": Tier("S0", 10, 1, None, "Standard: 10 calls per second, no monthly quota"),
    "unlimited": Tier("unlimited", None, 1, None, "Rostro only: no rate limit, no quota"),
}
DEFAULT_TIER = "F0"


def get_tier(name: str) -> Tier:
    """Return the tier called ``name``; KeyError lists the known ones."""
    try:
        return TIERS[name]
    except KeyError:
        raise KeyError(f"unknown tier {name!r}; known tiers: {', '.join(TIERS)}") from None
