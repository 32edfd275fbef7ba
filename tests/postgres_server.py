"""A throwaway PostgreSQL server for tests: its own cluster in a temporary folder, listening
on 127.0.0.1 only (and a Unix socket in that folder), trust authentication, stopped and
deleted at the end.

PostgreSQL refuses to run as root, so under root the cluster belongs to the ``postgres`` OS
user and ``initdb``/``pg_ctl`` run through ``runuser``. ``start()`` raises
:class:`Unavailable` (tests skip with its reason) when the binaries, the psycopg driver or
that user are missing; any other failure is an error.

``start_pgvector()`` starts a server that offers the pgvector extension: the PostgreSQL 16
with pgvector 0.6 bundled in the ``pgserver`` wheel (the test extra; Debian's package lists
have no pgvector), or ``$ROSTRO_TEST_PGVECTOR_BIN``. Only the binaries are used, the same way
as Debian's: pgserver's own server management is not.

The cluster uses an ICU collation (``en-US``) when the server supports it: like most real
installations its text order is linguistic, so tests see the ordering differences Rostro must
paper over (ids listed byte by byte, as on SQLite).
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT = 60
#: Durability is not needed for a throwaway cluster; without fsync, databases are created in
#: a few milliseconds.
SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off",
            "max_connections=200")


class Unavailable(RuntimeError):
    """PostgreSQL cannot be started here (a reason for skipping, not a failure)."""


def binaries() -> Path:
    """The folder with initdb, pg_ctl and postgres: ``$ROSTRO_TEST_PG_BIN``, the newest
    /usr/lib/postgresql/*/bin (Debian), or the folder of ``initdb`` on PATH."""
    candidates = []
    if os.environ.get("ROSTRO_TEST_PG_BIN"):
        candidates.append(Path(os.environ["ROSTRO_TEST_PG_BIN"]))
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    candidates.extend(reversed(versions))
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).parent)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise Unavailable("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; "
                      "install Debian's postgresql (scripts/test-setup.d/postgres.sh)")


def pgvector_binaries() -> Path:
    """A folder with initdb, pg_ctl and postgres whose installation has the ``vector``
    extension: ``$ROSTRO_TEST_PGVECTOR_BIN``, else the ``pgserver`` wheel's pginstall/bin."""
    if os.environ.get("ROSTRO_TEST_PGVECTOR_BIN"):
        folder = Path(os.environ["ROSTRO_TEST_PGVECTOR_BIN"])
    else:
        spec = importlib.util.find_spec("pgserver")
        if spec is None or not spec.submodule_search_locations:
            raise Unavailable("no PostgreSQL with pgvector: pip install pgserver (test extra) "
                              "or set ROSTRO_TEST_PGVECTOR_BIN")
        folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
        raise Unavailable(f"no PostgreSQL server binaries in {folder}")
    if not any(folder.parent.glob("share/**/extension/vector.control")):
        raise Unavailable(f"the PostgreSQL in {folder.parent} has no pgvector extension")
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    """A running cluster: superuser ``postgres``, no password, on 127.0.0.1:``port``."""

    root: Path
    port: int
    bin: Path
    runner: tuple[str, ...] = ()
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    def url(self, dbname: str = "postgres") -> str:
        """The SQLAlchemy URL of database ``dbname``, as Rostro takes it."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, prefix: str = "rostro") -> str:
        """Create a new, empty database and return its URL."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self.runner, *args], capture_output=True, text=True,
                              timeout=START_TIMEOUT, check=check)

    def stop(self) -> None:
        """Stop the server and delete the cluster (in the background: its thousands of
        files take seconds to delete on a busy disk, and nothing waits for them)."""
        self._pg(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate",
                 "-w", "stop", check=False)
        try:
            subprocess.Popen(["rm", "-rf", "--", str(self.root)], start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            shutil.rmtree(self.root, ignore_errors=True)


def _runner() -> tuple[tuple[str, ...], int | None]:
    """How to run the server's commands: as ourselves, or under root as ``postgres``."""
    if os.geteuid() != 0:
        return (), None
    try:
        uid = pwd.getpwnam("postgres").pw_uid
    except KeyError:
        raise Unavailable("running as root and there is no 'postgres' user to run "
                          "PostgreSQL as") from None
    if shutil.which("runuser") is None:
        raise Unavailable("running as root without runuser to switch to 'postgres'")
    return ("runuser", "-u", "postgres", "--"), uid


def start_pgvector(settings: tuple[str, ...] = ()) -> PostgresServer:
    """Like :func:`start`, with a server that offers pgvector (see :func:`pgvector_binaries`)."""
    return start(pgvector_binaries(), settings)


def start(folder: Path | None = None, settings: tuple[str, ...] = ()) -> PostgresServer:
    """Create and start a cluster on a free port of 127.0.0.1, from the binaries in
    ``folder`` (default: :func:`binaries`), with ``settings`` (``name=value``) besides
    :data:`SETTINGS`."""
    if importlib.util.find_spec("psycopg") is None:
        raise Unavailable("psycopg is not installed (pip install 'rostro[postgres]')")
    folder = folder or binaries()
    runner, uid = _runner()
    # Not under pytest's tmp folder: that is private to us, and the server's user must
    # reach its data directory.
    root = Path(tempfile.mkdtemp(prefix="rostro-pg-"))
    if uid is not None:
        os.chown(root, uid, -1)
    server = PostgresServer(root, _free_port(), folder, runner)
    try:
        initdb = [str(folder / "initdb"), "-D", str(root / "data"), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]
        result = server._pg(*initdb, "--locale-provider=icu", "--icu-locale=en-US", check=False)
        if result.returncode != 0:  # a server without ICU: the locale's collation
            shutil.rmtree(root / "data", ignore_errors=True)
            result = server._pg(*initdb, check=False)
            if result.returncode != 0:
                raise RuntimeError(f"initdb failed:\n{result.stdout}{result.stderr}")
        options = " ".join([f"-c listen_addresses=127.0.0.1 -c port={server.port}",
                            f"-c unix_socket_directories={root}",
                            *(f"-c {setting}" for setting in (*SETTINGS, *settings))])
        started = server._pg(str(folder / "pg_ctl"), "-D", str(root / "data"),
                             "-l", str(root / "server.log"), "-o", options, "-w",
                             "-t", str(START_TIMEOUT), "start", check=False)
        if started.returncode != 0:
            log = (root / "server.log").read_text(errors="replace") \
                if (root / "server.log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start:\n{started.stdout}{started.stderr}"
                               f"\n{log}")
    except BaseException:
        server.stop()
        raise
    return server
