"""Opening the database: a SQLite file by default, or a PostgreSQL server by URL.

SQLite (``$ROSTRO_HOME/rostro.db`` unless told otherwise): WAL journal, foreign keys, one
IMMEDIATE transaction per write, and ``synchronous=FULL``: every commit is on disk (the WAL
fsynced) before the answer leaves, so an acknowledged write survives a power loss, not only a
process crash (NORMAL, SQLite's WAL default, may lose the last commits to a power loss; the
cost is one fsync per write, measured in docs/performance.md, "Durability"). Several
processes (server workers, CLI commands) may use the file at once: WAL lets readers run
beside a writer, ``BEGIN IMMEDIATE`` takes the write lock up front so a read-then-write
(count a call if under the limit) cannot interleave with another, and the busy timeout makes
a second writer wait instead of failing.

PostgreSQL (``postgresql://user:password@host/dbname``, from ``$ROSTRO_DATABASE_URL`` or
``rostro serve --database-url``), for several server processes, on one machine or several,
sharing one database. Transactions run side by side at READ COMMITTED, with no database-wide
lock: each read-then-write holds a lock as narrow as the data it guards
(``rostro.store.locks``), so two resources never wait for each other. Commits wait for the
server's WAL flush (``synchronous_commit=on`` is set per connection, whatever the server's
default). See ``_postgresql_engine``.

Every transaction and its guard on PostgreSQL (on SQLite, ``BEGIN IMMEDIATE`` guards them all):

==============================================  ============================================
transaction (where)                             guard
==============================================  ============================================
admission of a Face call (api.auth.authorize)   conditional upserts of the resource's
                                                counters, month row first (store.usage.admit)
error answers (api.outcomes)                    one upsert of (resource, minute, class); only
                                                that resource's old rows are deleted
detect's faceIds (service.face_analysis)        new uuids; the purge of expired faceIds
                                                skips rows another purge holds (SKIP LOCKED)
create a container (container routes)           the resource's row lock (FOR NO KEY UPDATE)
                                                + the unique (resource, kind, id)
delete a container, create/delete a person,     the container's row lock, taken by the read
add a face (container and face-list routes)     of the container before anything is checked
                                                (api.containers.require_container(lock=True))
train request, end of a run (store.training)    the container's row lock, then the training
                                                row's; claiming a due run: FOR UPDATE SKIP
                                                LOCKED + a conditional UPDATE; lease renewal,
                                                release: one UPDATE each
update a container/person/face, delete a face   one statement each; a deletion counts as
                                                "removed since training" only if it deleted
reads: list, get, verify, identify, find        none (each statement sees committed data;
similar, usage, training status, operations     ``Database.snapshot`` where pages read many);
                                                an operation whose container is gone is
                                                marked failed by one UPDATE
migrations (open_database)                      migrate's own advisory lock (MIGRATION_LOCK)
create a resource, the first 'default',         global lock "resources" (regenerating a key,
sensitive-attributes setting (CLI, Studio)      changing a tier, deleting: one statement)
Studio admin password, sign-in throttle         global lock "studio"; sessions: one random
                                                token per row
==============================================  ============================================
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from rostro.config import rostro_home, settings
from rostro.store.errors import UnsupportedDatabase
from rostro.store.migrations import has_schema, migrate

log = logging.getLogger(__name__)

DATABASE_NAME = "rostro.db"
#: A database URL in this variable (read by rostro.config) replaces the SQLite file for
#: every command (``rostro serve`` also takes ``--database-url``).
URL_VARIABLE = "ROSTRO_DATABASE_URL"
BUSY_TIMEOUT_MS = 15_000
IDLE_IN_TRANSACTION_MS = 60_000
POSTGRES_EXTRA = "pip install 'rostro[postgres]'"


def default_database_path() -> Path:
    """Return ``$ROSTRO_HOME/rostro.db``."""
    return rostro_home() / DATABASE_NAME


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """Put the file in WAL mode (persistent; a no-op once done). The switch needs an
    exclusive lock, and SQLite answers "database is locked" at once, without waiting in its
    busy handler, when another connection holds the file at that moment: several server
    workers opening a new database together. So wait here, as long as the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _sqlite_engine(path: Path) -> Engine:
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
        _enable_wal(cursor)
        for pragma in ("synchronous=FULL", "foreign_keys=ON", f"busy_timeout={BUSY_TIMEOUT_MS}"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgresql_engine(url: URL) -> Engine:
    # Why narrow locks at READ COMMITTED rather than SERIALIZABLE: SERIALIZABLE would abort
    # conflicting transactions and need a retry of each whole block, which the ``with
    # database.transaction()`` callers cannot do; a lock taken before a block's reads makes it
    # wait instead, and each statement after the wait sees what the previous holder committed
    # (REPEATABLE READ would keep the snapshot taken before the wait). The locks and what
    # each guards: the module's docstring and rostro.store.locks.
    # ``lock_timeout`` is the counterpart of SQLite's busy timeout: a transaction waits at
    # most that long for a lock, then fails instead of hanging. Each process keeps up to 15
    # connections (PostgreSQL allows 100 by default).
    # synchronous_commit=on: an acknowledged write is on the server's disk even where the
    # server's default was turned off for speed.
    # idle_in_transaction_session_timeout: a process that stops in the middle of a
    # transaction without closing its connection (a frozen machine, a network partition)
    # would hold its locks until TCP gives up (hours); the server ends such a session after
    # a minute instead. Rostro's transactions never wait on anything but the database.
    options = (f"-c lock_timeout={BUSY_TIMEOUT_MS} -c synchronous_commit=on "
               f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}")
    given = url.query.get("options")  # the URL's own ?options=... are kept
    if given:
        options = " ".join([*([given] if isinstance(given, str) else given), options])
    return create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True,
                         connect_args={"options": options})


def parse_location(text: str) -> URL | Path:
    """Parse a database location: a URL (``postgresql://...``; ``postgres://`` and
    ``postgresql+psycopg://`` are the same) or, for ``sqlite:///PATH`` URLs and plain paths,
    the SQLite file's Path. UnsupportedDatabase for other kinds of database (a missing
    driver is found when the database is opened)."""
    if "://" not in text:
        return Path(text)
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise UnsupportedDatabase(f"not a database URL: {exc}") from None
    if url.drivername == "sqlite":
        if not url.database or url.database == ":memory:":
            raise UnsupportedDatabase("a sqlite URL needs a file: sqlite:///PATH")
        return Path(url.database)
    if url.drivername not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise UnsupportedDatabase(
            f"unsupported database {url.drivername!r}: use a SQLite file or a "
            "postgresql://user:password@host:port/dbname URL")
    return url.set(drivername="postgresql+psycopg")


class Database:
    """A SQLite file (``path``) or a PostgreSQL database (``url``; ``path`` is None).
    ``transaction()`` yields a Connection inside one transaction that commits when the block
    ends and rolls back if it raises."""

    def __init__(self, location: Path | URL) -> None:
        if isinstance(location, URL):
            if importlib.util.find_spec("psycopg") is None:
                raise UnsupportedDatabase(f"PostgreSQL needs the psycopg driver: {POSTGRES_EXTRA}")
            self.path: Path | None = None
            self.url = location
            self.engine = _postgresql_engine(location)
        else:
            self.path = Path(location)
            self.url = make_url(f"sqlite:///{self.path}")
            self.engine = _sqlite_engine(self.path)

    @property
    def location(self) -> str:
        """The file, or the URL without its password, for messages."""
        return str(self.path) if self.path is not None else \
            self.url.render_as_string(hide_password=True)

    @property
    def local_directory(self) -> Path:
        """Where files derived from the database (trained gallery indexes) are kept: the
        SQLite file's folder, or ``$ROSTRO_HOME`` for a database server."""
        return self.path.parent if self.path is not None else rostro_home()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read-only transaction whose statements all see one moment of the database
        (REPEATABLE READ on PostgreSQL; on SQLite, ``transaction()``, whose writers are
        serialized anyway): for pages that read many things at once."""
        if self.path is not None:
            with self.transaction() as connection:
                yield connection
            return
        with self.engine.connect().execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True) as connection:
            with connection.begin():
                yield connection

    def close(self) -> None:
        self.engine.dispose()


def _resolve(location: Path | str | None) -> Path | URL:
    if location is None:
        location = settings().database_url or default_database_path()
    if isinstance(location, str):
        return parse_location(location)
    return Path(location)


def open_database(location: Path | str | None = None, create: bool = True) -> Database:
    """Open the database at ``location``: a SQLite file's path, or a database URL (see
    ``parse_location``). Default: ``$ROSTRO_DATABASE_URL`` when set, else
    ``$ROSTRO_HOME/rostro.db``. Migrations are applied on the way (``migrations.migrate``).

    A SQLite file is created when missing (with ``create``) and readable by its owner only:
    it holds the keys. A PostgreSQL database must exist; its tables are created on first
    use (with ``create``). FileNotFoundError when the database has no Rostro tables yet (no
    file) and ``create`` is false."""
    resolved = _resolve(location)
    if isinstance(resolved, Path):
        path = resolved
        if not path.exists():
            if not create:
                raise FileNotFoundError(
                    f"no database at {path}; start `rostro serve` once to create it")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
        if os.name == "posix":
            os.chmod(path, 0o600)
    database = Database(resolved)
    try:
        with database.transaction() as connection:
            if not create and database.path is None and not has_schema(connection):
                raise FileNotFoundError(f"no Rostro tables in {database.location}; start "
                                        "`rostro serve` once to create them")
            applied = migrate(connection)
    except BaseException:
        database.close()
        raise
    if applied:
        log.info("database %s migrated to revision %s", database.location, applied[-1])
    return database
