"""How many containers, persons and faces a resource may hold, per pricing tier (Azure's
"identity quotas and limits"; ``unlimited`` is Rostro's own tier and has no such quotas).

None means no limit. The per-person limit of 248 faces belongs to the API itself, so every
tier has it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rostro.store.groups import FACE_LIST, LARGE_FACE_LIST, LARGE_PERSON_GROUP, PERSON_GROUP

FACES_PER_PERSON = 248


@dataclass(frozen=True)
class ContainerQuota:
    """``containers`` per resource; ``persons`` per person group; ``faces`` per face list."""

    containers: int | None
    persons: int | None = None
    faces: int | None = None


QUOTAS: dict[str, dict[str, ContainerQuota]] = {
    "F0": {
        PERSON_GROUP: ContainerQuota(1_000, persons=1_000),
        LARGE_PERSON_GROUP: ContainerQuota(1_000, persons=1_000),
        FACE_LIST: ContainerQuota(64, faces=1_000),
        LARGE_FACE_LIST: ContainerQuota(64, faces=1_000),
    },
    "S0": {
        PERSON_GROUP: ContainerQuota(1_000_000, persons=10_000),
        LARGE_PERSON_GROUP: ContainerQuota(1_000_000, persons=1_000_000),
        FACE_LIST: ContainerQuota(64, faces=1_000),
        LARGE_FACE_LIST: ContainerQuota(1_000_000, faces=1_000_000),
    },
}
UNLIMITED = ContainerQuota(None)


def quota(tier: str, kind: str) -> ContainerQuota:
    """The quota of ``kind`` containers on ``tier`` (no limits for tiers not listed)."""
    return QUOTAS.get(tier, {}).get(kind, UNLIMITED)
