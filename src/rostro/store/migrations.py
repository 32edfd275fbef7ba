"""A small, ordered migration list: each entry runs once per database, in version order.

To change the schema, append a ``Migration`` with the next version number (never edit one
that has shipped). Each runs inside the transaction that records it, so a failed migration
leaves the database as it was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from rostro.store import groups, training
from rostro.store.history import UsageError
from rostro.store.studio_accounts import (
    ResourceDescription,
    SignInFailure,
    StudioAdmin,
    StudioSession,
)
from rostro.store.tables import (
    ApiKey,
    Base,
    FaceIdEntry,
    Resource,
    ResourceSettings,
    SchemaMigration,
    UsageCounter,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    """Schema version ``version``: ``apply(connection)`` brings the previous one up to it."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def create_tables(*models: type[Base]) -> Callable[[Connection], None]:
    """Return a migration step that creates the tables of ``models``."""
    def apply(connection: Connection) -> None:
        Base.metadata.create_all(connection, tables=[Base.metadata.tables[m.__tablename__] for m in models])
    return apply


MIGRATIONS: list[Migration] = [
    Migration(1, "resources, keys, usage counters, faceId cache",
              create_tables(Resource, ApiKey, UsageCounter, FaceIdEntry)),
    Migration(2, "Studio admin, sessions and resource descriptions; errors per minute",
              create_tables(StudioAdmin, StudioSession, ResourceDescription, UsageError)),
    Migration(3, "face containers (person groups, face lists), persons, persisted faces, "
                 "training state and operations",
              create_tables(*groups.TABLES, *training.TABLES)),
    Migration(4, "per-resource settings (sensitive attributes on or off)",
              create_tables(ResourceSettings)),
    Migration(5, "failed Studio sign-in attempts (one throttle for every process)",
              create_tables(SignInFailure)),
]


def current_version(connection: Connection) -> int:
    """Return the highest applied version (0 for an empty database)."""
    versions = connection.execute(select(SchemaMigration.version)).scalars().all()
    return max(versions, default=0)


def migrate(connection: Connection, migrations: list[Migration] | None = None) -> list[int]:
    """Apply the migrations newer than the database; return the versions applied."""
    migrations = sorted(migrations if migrations is not None else MIGRATIONS,
                        key=lambda m: m.version)
    Base.metadata.create_all(connection, tables=[Base.metadata.tables[SchemaMigration.__tablename__]])
    done = current_version(connection)
    applied = []
    for migration in migrations:
        if migration.version <= done:
            continue
        log.info("applying migration %d: %s", migration.version, migration.description)
        migration.apply(connection)
        connection.execute(insert(SchemaMigration).values(
            version=migration.version, description=migration.description,
            applied_at=time.time()))
        applied.append(migration.version)
    return applied
