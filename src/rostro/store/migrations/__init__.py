"""Schema migrations: Alembic revisions in ``versions/``, applied by ``open_database``.

Each revision creates or changes tables with explicit, frozen definitions (``op.create_table``
with its columns, ``op.add_column``, ...): a revision never imports the ORM classes, so it
builds the same tables today as the day it shipped, whatever the classes have become since.
Revision ids are four-digit strings ("0001", "0002", ...) chained by ``down_revision``; the
file is named after its id (``0006_what_it_does.py``). There is no alembic.ini: ``migrate``
configures Alembic in code and runs the upgrade on the connection ``open_database`` holds,
inside its transaction.

To change the schema:

1. Change the ORM class (``rostro.store.tables`` or the room that declares it).
2. Add ``versions/NNNN_what.py`` with the next id, ``down_revision`` = the previous head, and
   an ``upgrade()`` with explicit operations (copy the shape of an existing revision; on
   SQLite, column changes other than adding one go through ``op.batch_alter_table``). Never
   edit a revision that has shipped. ``downgrade()`` is not supported (it raises).
3. Run ``pytest tests/api/test_migrations.py``: it upgrades an empty database and the previous
   release's databases to head on SQLite and PostgreSQL, and fails with the difference
   between the migrated schema and the ORM metadata (as Alembic operations) until the two
   agree.

Every revision runs in the transaction that records it (``alembic_version``): SQLite and
PostgreSQL both have transactional DDL, so a failed migration leaves the database as it was.
Processes that open the same database at once do not race: on SQLite the transaction holds
the write lock from its start (``BEGIN IMMEDIATE``), on PostgreSQL ``migrate`` takes an
advisory lock of its own (``MIGRATION_LOCK``) before it looks at the schema again.

Databases made before Alembic (up to release 85e3d61) record their versions 1-5 in
``schema_migrations``; revisions 0001-0005 build exactly those tables, so such a database is
stamped with the matching revision, then upgraded. ``schema_migrations`` is left as it was.

Alembic is imported only when there is something to do: opening a database that is already
at head reads ``alembic_version`` and compares it with the newest file name in ``versions/``
(``tests/api/test_migrations.py`` checks that file names, ids and the chain agree).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, MetaData, column, inspect, select, table

from rostro.store.errors import SchemaError

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
VERSIONS = HERE / "versions"
VERSION_TABLE = "alembic_version"
#: The table of the migration list used before Alembic, and how its versions map to revisions.
LEGACY_TABLE = "schema_migrations"
LEGACY_REVISIONS = {1: "0001", 2: "0002", 3: "0003", 4: "0004", 5: "0005"}
#: Advisory lock a PostgreSQL migration holds until its transaction ends ("migrate" in ASCII).
MIGRATION_LOCK = 0x6D696772617465
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


@cache
def head() -> str:
    """The newest revision id: the highest ``NNNN`` among the files of ``versions/``."""
    ids = [m.group(1) for m in map(_REVISION_FILE.match, (p.name for p in VERSIONS.iterdir()))
           if m]
    return max(ids)


def stored_revision(connection: Connection) -> str | None:
    """The revision recorded in ``alembic_version`` (None: no Alembic table, or empty)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = table(VERSION_TABLE, column("version_num"))
    return connection.execute(select(versions.c.version_num)).scalar()


def legacy_version(connection: Connection) -> int:
    """The highest version in ``schema_migrations`` (0 when there is no such table)."""
    if not inspect(connection).has_table(LEGACY_TABLE):
        return 0
    legacy = table(LEGACY_TABLE, column("version"))
    return connection.execute(select(legacy.c.version).order_by(
        legacy.c.version.desc()).limit(1)).scalar() or 0


def has_schema(connection: Connection) -> bool:
    """Whether the database holds Rostro tables (made by any release)."""
    found = inspect(connection)
    return found.has_table(VERSION_TABLE) or found.has_table(LEGACY_TABLE)


def _script(extra_locations: Sequence[Path]):
    """Alembic's view of ``versions/`` (and ``extra_locations``), configured in code."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(
        str(p) for p in (VERSIONS, *extra_locations)))
    return ScriptDirectory.from_config(config)


def migrate(connection: Connection, extra_locations: Sequence[Path] = ()) -> list[str]:
    """Upgrade the database to head inside the connection's transaction; return the ids of
    the revisions applied (empty when it was already at head). ``extra_locations``: more
    folders of revisions (tests add one on top of head)."""
    if not extra_locations and stored_revision(connection) == head():
        return []
    if connection.dialect.name == "postgresql":
        # Held until the transaction ends; another process's migration commits first, and
        # what follows then sees its tables and its alembic_version.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    script = _script(extra_locations)
    applied: list[str] = []
    context = MigrationContext.configure(connection, opts={
        "script": script,
        "fn": lambda revision, _context: script._upgrade_revs("heads", revision),
        "on_version_apply": [lambda step, **_: applied.append(step.up_revision_id)],
    })
    current = context.get_current_revision()
    if current is None:
        legacy = legacy_version(connection)
        if legacy:
            if legacy not in LEGACY_REVISIONS:
                raise SchemaError(f"schema_migrations version {legacy} is unknown to this "
                                  "release")
            log.info("adopting schema_migrations version %d as revision %s", legacy,
                     LEGACY_REVISIONS[legacy])
            context.stamp(script, LEGACY_REVISIONS[legacy])
    elif current not in {s.revision for s in script.walk_revisions()}:
        raise SchemaError(f"the database is at revision {current}, which this release does "
                          "not know (made by a newer release?)")
    with Operations.context(context):  # what ``op`` in a revision stands for
        context.run_migrations()
    return applied


def schema_differences(connection: Connection, metadata: MetaData) -> list:
    """Alembic's autogenerate comparison of the database with ``metadata``: an empty list when
    the migrated schema is exactly what the ORM declares (the legacy table is left out)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={
        "compare_type": True,
        "include_name": lambda name, kind, _parent: not (kind == "table"
                                                         and name == LEGACY_TABLE),
    })
    return compare_metadata(context, metadata)
