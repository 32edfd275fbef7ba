"""Opening the SQLite database: WAL journal, foreign keys, one IMMEDIATE transaction per write.

Several processes (server workers, CLI commands) may use the file at once: WAL lets readers
run beside a writer, ``BEGIN IMMEDIATE`` takes the write lock up front so a
read-then-write (count a call if under the limit) cannot interleave with another, and the
busy timeout makes a second writer wait instead of failing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event

from rostro.config import rostro_home
from rostro.store.migrations import migrate

log = logging.getLogger(__name__)

DATABASE_NAME = "rostro.db"
BUSY_TIMEOUT_MS = 15_000


def default_database_path() -> Path:
    """Return ``$ROSTRO_HOME/rostro.db``."""
    return rostro_home() / DATABASE_NAME


def _engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        pool_size=8, max_overflow=32,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Autocommit at the driver level: SQLAlchemy's "begin" event issues BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       f"busy_timeout={BUSY_TIMEOUT_MS}"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """One SQLite file. ``transaction()`` yields a Connection inside one transaction that
    commits when the block ends and rolls back if it raises."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.engine = _engine(self.path)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    def close(self) -> None:
        self.engine.dispose()


def open_database(path: Path | None = None, create: bool = True) -> Database:
    """Open (and with ``create``, create and migrate) the database at ``path``
    (default ``$ROSTRO_HOME/rostro.db``). The file is readable by its owner only: it holds
    the keys. FileNotFoundError when it does not exist and ``create`` is false."""
    path = Path(path) if path is not None else default_database_path()
    if not path.exists():
        if not create:
            raise FileNotFoundError(f"no database at {path}; start `rostro serve` once to create it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
    if os.name == "posix":
        os.chmod(path, 0o600)
    database = Database(path)
    with database.transaction() as connection:
        applied = migrate(connection)
    if applied:
        log.info("database %s migrated to version %d", path, applied[-1])
    return database
