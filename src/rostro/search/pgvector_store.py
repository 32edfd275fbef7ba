"""Trained galleries shared by every node: rows in PostgreSQL, searched there with pgvector.

With a PostgreSQL database whose server offers the ``vector`` extension, training writes its
gallery into the database instead of a file on the node that trained, and identify / find
similar run as SQL on whichever node receives them: no node builds or loads anything, so a
new node answers its first identify as fast as the others.

Two tables (created by migration 0007, or at start-up when the extension came later):

* ``trained_galleries``: one row per published snapshot (the training run's token), naming
  its gallery (``resource/kind/group``), its size, whether its rows are persons, and whether
  it has an approximate index;
* ``trained_vectors``: the snapshot's rows (``item`` = person pk or face pk) and unit
  embeddings.

Azure's snapshot semantics hold as with files: a search reads the snapshot the training
state names, and the training state names a new snapshot only after it is committed here.
Galleries of at least :func:`approximate_from` rows get an HNSW index of their own (a partial
index ``WHERE gallery_id = N``: pgvector 0.6 filters *after* the graph walk, so one index
over all galleries would return too few hits for any one of them); smaller ones are searched
exactly (the primary key narrows to the snapshot, then a top-k sort by distance).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from rostro.config import settings
from rostro.search.base import SearchHits, check_embeddings, check_k
from rostro.search.errors import SearchError
from rostro.search.gallery import Gallery

log = logging.getLogger(__name__)

EXTENSION = "vector"
#: The embedding width of the table (SFace); another model with another width needs a new
#: migration, as any column change does.
DIMENSION = 128
#: Galleries with at least this many rows get an HNSW index (override:
#: ``$ROSTRO_PGVECTOR_APPROXIMATE_FROM``). Below it an exact scan of the gallery's rows is
#: fast enough and never misses (measured in docs/scaling-pgvector.md).
APPROXIMATE_FROM = 20_000
#: pgvector's graph settings: its defaults (m 16, ef_construction 64) built 1M faces in
#: reasonable time on 2 cores; recall comes from ef_search, set per query.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
#: Memory for building one HNSW index (``maintenance_work_mem``): the graph must fit, else
#: pgvector builds on disk, many times slower (~1 GB per million 128-d rows).
BUILD_MEMORY = "2GB"
#: Keep this many snapshots per gallery: the newest (being published) and the one the
#: training state may still name until the new run is recorded.
KEEP_SNAPSHOTS = 2
#: Snapshot tokens are uuid4().hex; anything else is refused before it reaches SQL text.
_SNAPSHOT = re.compile(r"[0-9a-f]{32}")
#: Serialises start-up schema work across nodes starting at once ("vector" in ASCII).
_SCHEMA_LOCK = 0x766563746F72

SCHEMA = (
    f"CREATE EXTENSION IF NOT EXISTS {EXTENSION}",
    ("CREATE TABLE IF NOT EXISTS trained_galleries ("
     " id bigserial PRIMARY KEY, snapshot varchar(32) NOT NULL UNIQUE, gallery text NOT NULL,"
     " faces integer NOT NULL, persons boolean NOT NULL, approximate boolean NOT NULL,"
     " created_at double precision NOT NULL)"),
    "CREATE INDEX IF NOT EXISTS trained_galleries_gallery ON trained_galleries (gallery)",
    ("CREATE TABLE IF NOT EXISTS trained_vectors ("
     " gallery_id bigint NOT NULL REFERENCES trained_galleries (id) ON DELETE CASCADE,"
     f" item bigint NOT NULL, embedding vector({DIMENSION}) NOT NULL,"
     " PRIMARY KEY (gallery_id, item))"),
)


def approximate_from() -> int:
    """The size from which a gallery gets an HNSW index: $ROSTRO_PGVECTOR_APPROXIMATE_FROM
    (read by rostro.config) or :data:`APPROXIMATE_FROM`."""
    value = settings().pgvector_approximate_from
    return APPROXIMATE_FROM if value is None else value


def default_ef_search(n_faces: int) -> int:
    """``hnsw.ef_search`` for a gallery of ``n_faces``: the next power of two ≥ n / 800,
    within [64, 1000] (pgvector's maximum). From the recall sweep in
    docs/scaling-pgvector.md: 128 gave recall@1 0.995 at 100,000 faces where 64 gave 0.98."""
    wanted = max(1, n_faces // 800)
    return int(min(1000, max(64, 1 << (wanted - 1).bit_length())))


@dataclass(frozen=True)
class Readiness:
    """Whether this database can hold shared galleries: ``version`` of the installed
    extension, or ``reason`` saying why not."""

    ready: bool
    version: str | None = None
    reason: str = ""


def offered_version(connection: Connection) -> str | None:
    """The pgvector version the server offers (None: the extension is not installed on it)."""
    return connection.exec_driver_sql(
        "SELECT default_version FROM pg_available_extensions WHERE name = %(name)s",
        {"name": EXTENSION}).scalar()


def create_schema(connection: Connection) -> None:
    """Create the extension and the two tables if missing (idempotent)."""
    for statement in SCHEMA:
        connection.exec_driver_sql(statement)


def prepare(engine: Engine) -> Readiness:
    """Make the database ready for shared galleries when its server offers pgvector:
    create the extension (needs a role allowed to) and the tables. Never raises for a
    server that cannot: the answer says why."""
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
            if offered_version(connection) is None:
                return Readiness(False, reason="the PostgreSQL server does not offer the "
                                 "pgvector extension ('vector')")
            create_schema(connection)
            version = connection.exec_driver_sql(
                "SELECT extversion FROM pg_extension WHERE extname = %(name)s",
                {"name": EXTENSION}).scalar()
    except SQLAlchemyError as exc:  # e.g. no right to CREATE EXTENSION: run per node instead
        return Readiness(False, reason=f"pgvector could not be set up: {exc}".strip())
    return Readiness(True, version=version)


def gallery_key(resource: str, kind: str, group: str) -> str:
    """The text naming one gallery in ``trained_galleries``."""
    return f"{resource}/{kind}/{group}"


@dataclass(frozen=True)
class Published:
    """One snapshot's row of ``trained_galleries``."""

    id: int
    snapshot: str
    faces: int
    persons: bool
    approximate: bool


def vector_literal(row: np.ndarray) -> str:
    """pgvector's text form of one embedding, e.g. ``[0.1,-0.2]``."""
    return "[" + ",".join(np.format_float_positional(v, unique=True) for v in row) + "]"


def copy_rows(gallery_id: int, items: np.ndarray, rows: np.ndarray) -> bytes:
    """``COPY ... (FORMAT BINARY)`` data for (gallery_id, item, embedding) rows: built with
    numpy in one pass (text literals would take minutes for a million rows)."""
    dim = rows.shape[1]
    record = np.dtype([("fields", ">i2"), ("len_gallery", ">i4"), ("gallery", ">i8"),
                       ("len_item", ">i4"), ("item", ">i8"), ("len_vector", ">i4"),
                       ("dim", ">i2"), ("unused", ">i2"), ("values", ">f4", (dim,))])
    data = np.zeros(len(items), dtype=record)
    data["fields"], data["len_gallery"], data["gallery"] = 3, 8, gallery_id
    data["len_item"], data["item"] = 8, items
    data["len_vector"], data["dim"], data["values"] = 4 + 4 * dim, dim, rows
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    return header + data.tobytes() + (-1).to_bytes(2, "big", signed=True)


def gallery_rows(gallery: Gallery) -> tuple[np.ndarray, np.ndarray]:
    """The (ids, unit rows) of an exact in-process gallery, as training builds them for
    publishing; raises SearchError for a gallery that does not map one row per item."""
    arrays = gallery.index.to_arrays()
    if "matrix_t" not in arrays:
        raise SearchError(f"publish needs an exact gallery, not {gallery.index.kind!r}")
    ids = np.asarray(gallery.index.ids)
    if ids.dtype.kind not in "iu":
        raise SearchError("shared galleries hold integer ids")
    if gallery.persons is not None and not np.array_equal(gallery.persons, ids):
        raise SearchError("shared person galleries hold one row (template) per person")
    return ids.astype(np.int64), np.ascontiguousarray(arrays["matrix_t"].T)


class SharedGalleries:
    """The gallery store of every node on one PostgreSQL database with pgvector: the same
    ``save`` / ``open`` / ``discard`` as :class:`rostro.search.GalleryFiles`. Thread-safe.

    It keeps its own small connection pool: its statements touch only its two tables and
    snapshots never change once written, so they need none of the locking the other
    tables' transactions take.
    """

    #: Training builds a plain exact gallery (a transposed copy of the rows) for
    #: :meth:`save` to publish; the index that matters is built by the server.
    backend = "exact"

    def __init__(self, url: URL | str, ef_search: int | None = None,
                 approximate: int | None = None, pool_size: int = 4) -> None:
        """``ef_search`` and ``approximate`` override :func:`default_ef_search` and
        :func:`approximate_from` (benchmarks sweep them)."""
        self.engine = create_engine(url, pool_size=pool_size, max_overflow=2 * pool_size,
                                    pool_pre_ping=True)
        self.ef_search = ef_search
        self.approximate = approximate
        self._known: OrderedDict[str, Published] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    # Training --------------------------------------------------------------------------

    def save(self, resource: str, kind: str, group: str, gallery: Gallery) -> None:
        """Publish a trained gallery under its snapshot token (a no-op if that snapshot is
        already there), then delete the gallery's snapshots older than the last
        :data:`KEEP_SNAPSHOTS`. Committed before it returns."""
        ids, rows = gallery_rows(gallery)
        self.publish(gallery_key(resource, kind, group), gallery.snapshot, ids, rows,
                     persons=gallery.persons is not None)

    def publish(self, key: str, snapshot: str, ids: np.ndarray, rows: np.ndarray,
                persons: bool = False, build_threads: int | None = None) -> Published | None:
        """Write snapshot ``snapshot`` of gallery ``key``: ``ids`` (n int64) and ``rows``
        (n × :data:`DIMENSION` unit float32). Returns its row (None: already published)."""
        snapshot = _checked(snapshot)
        if len(rows):
            rows = check_embeddings(rows, DIMENSION)
        threshold = self.approximate if self.approximate is not None else approximate_from()
        approximate = len(ids) >= threshold
        started = time.perf_counter()
        with self.engine.begin() as connection:
            gallery_id = connection.exec_driver_sql(
                "INSERT INTO trained_galleries (snapshot, gallery, faces, persons, approximate,"
                " created_at) VALUES (%(snapshot)s, %(gallery)s, %(faces)s, %(persons)s,"
                " %(approximate)s, %(now)s) ON CONFLICT (snapshot) DO NOTHING RETURNING id",
                {"snapshot": snapshot, "gallery": key, "faces": len(ids), "persons": persons,
                 "approximate": approximate, "now": time.time()}).scalar()
            if gallery_id is None:
                return None  # another node published this snapshot (a concurrent rebuild)
            _copy(connection, gallery_id, ids, rows)
            if approximate:
                _build_hnsw(connection, gallery_id, build_threads)
            _retire(connection, key, keep=KEEP_SNAPSHOTS)
        published = Published(gallery_id, snapshot, len(ids), persons, approximate)
        self._remember(published)
        log.info("published %s snapshot %s: %d rows%s in %.1f s", key, snapshot, len(ids),
                 " with an HNSW index" if approximate else "", time.perf_counter() - started)
        return published

    def discard(self, resource: str, kind: str, group: str) -> None:
        """Delete every snapshot of a gallery (its group was deleted)."""
        with self.engine.begin() as connection:
            _retire(connection, gallery_key(resource, kind, group), keep=0)

    # Searching -------------------------------------------------------------------------

    def open(self, resource: str, kind: str, group: str, snapshot: str,
             rebuild: Callable[[], Gallery]) -> SharedGallery:
        """The searchable snapshot ``snapshot``. When the database lacks it (e.g. trained
        before pgvector was installed), ``rebuild()`` gives that snapshot's gallery from the
        faces table and it is published first, once for all nodes."""
        published = self.lookup(snapshot)
        if published is None:
            key = gallery_key(resource, kind, group)
            with self._key_lock(key):
                published = self.lookup(snapshot)
                if published is None:
                    log.warning("publishing missing snapshot %s of %s from the database",
                                snapshot, key)
                    self.save(resource, kind, group, rebuild())
                    published = self.lookup(snapshot)
            if published is None:
                raise SearchError(f"snapshot {snapshot} of {key} could not be published")
        return SharedGallery(self, published)

    def lookup(self, snapshot: str) -> Published | None:
        """The published row of ``snapshot`` (remembered once seen: snapshots never change)."""
        snapshot = _checked(snapshot)
        with self._lock:
            if snapshot in self._known:
                return self._known[snapshot]
        with self.engine.connect() as connection:
            row = connection.exec_driver_sql(
                "SELECT id, snapshot, faces, persons, approximate FROM trained_galleries"
                " WHERE snapshot = %(snapshot)s", {"snapshot": snapshot}).first()
        if row is None:
            return None
        published = Published(int(row.id), row.snapshot, int(row.faces), bool(row.persons),
                              bool(row.approximate))
        self._remember(published)
        return published

    def search(self, published: Published, queries: Any, k: int) -> list[SearchHits]:
        """Top ``k`` rows of a snapshot per query (HNSW or exact, as it was published)."""
        queries = check_embeddings(queries, DIMENSION)
        k = min(check_k(k), published.faces)
        if k == 0:
            return [_no_hits() for _ in range(len(queries))]
        ef = self.ef_search if self.ef_search is not None else default_ef_search(published.faces)
        # One statement for every query face (identify takes up to 10): each is a top-k
        # subquery the HNSW index answers. The gallery id is a literal so the planner
        # matches the snapshot's partial index; with sorting disabled it never prefers
        # reading the whole gallery through the primary key and sorting it (seen with stale
        # statistics right after a large publish: exact, but 50× slower).
        sql = ("SELECT q.n, t.item, t.similarity FROM unnest(%(queries)s::vector[])"
               " WITH ORDINALITY AS q (v, n) CROSS JOIN LATERAL ("
               " SELECT item, (embedding <#> q.v) * -1 AS similarity FROM trained_vectors"
               f" WHERE gallery_id = {int(published.id)} ORDER BY embedding <#> q.v"
               f" LIMIT {int(k)}) AS t")
        literal = "{" + ",".join(f'"{vector_literal(q)}"' for q in queries) + "}"
        with self.engine.begin() as connection:
            if published.approximate:
                connection.exec_driver_sql(
                    "SELECT set_config('hnsw.ef_search', %(ef)s, true),"
                    " set_config('enable_sort', 'off', true)",
                    {"ef": str(min(1000, max(ef, k)))})
            found = connection.exec_driver_sql(sql, {"queries": literal}).all()
        by_query: list[list] = [[] for _ in range(len(queries))]
        for row in sorted(found, key=lambda r: (r.n, -r.similarity)):
            by_query[row.n - 1].append(row)
        return [SearchHits(np.array([r.item for r in rows], dtype=np.int64),
                           np.array([r.similarity for r in rows], dtype=np.float32))
                for rows in by_query]

    def clear_cache(self) -> None:
        """Forget the snapshots seen (they are looked up again)."""
        with self._lock:
            self._known.clear()

    def close(self) -> None:
        """Close the store's connections."""
        self.engine.dispose()

    def _remember(self, published: Published) -> None:
        with self._lock:
            self._known[published.snapshot] = published
            while len(self._known) > 4096:
                self._known.popitem(last=False)

    def _key_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())


@dataclass(frozen=True, eq=False)
class SharedGallery:
    """One published snapshot, searched in the database: what :class:`Gallery` offers the
    service (``identify``, ``find_similar``, ``len``, ``snapshot``)."""

    store: SharedGalleries
    published: Published

    @property
    def snapshot(self) -> str:
        return self.published.snapshot

    def __len__(self) -> int:
        return self.published.faces

    def find_similar(self, queries: Any, k: int) -> list[SearchHits]:
        """The ``k`` most similar rows per query (face pks for face lists), best first."""
        return self.store.search(self.published, queries, k)

    def identify(self, queries: Any, k: int) -> list[SearchHits]:
        """The ``k`` most similar persons per query: a person gallery has one row (the
        template) per person, so this is the same search over person pks."""
        if not self.published.persons:
            raise SearchError("this gallery has no persons (a face list): use find_similar")
        return self.store.search(self.published, queries, k)


def _checked(snapshot: str) -> str:
    if not isinstance(snapshot, str) or not _SNAPSHOT.fullmatch(snapshot):
        raise SearchError(f"invalid snapshot token {snapshot!r}")
    return snapshot


def _no_hits() -> SearchHits:
    return SearchHits(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))


def _index_name(gallery_id: int) -> str:
    return f"trained_vectors_hnsw_{int(gallery_id)}"


def _copy(connection: Connection, gallery_id: int, ids: np.ndarray, rows: np.ndarray,
          chunk: int = 65_536) -> None:
    """Append the rows with binary COPY, in the connection's transaction."""
    driver = connection.connection.driver_connection
    if driver is None:  # a pooled connection always has its psycopg connection while checked out
        raise SearchError("no database connection to copy the gallery into")
    with driver.cursor() as cursor, cursor.copy(
            "COPY trained_vectors (gallery_id, item, embedding) FROM STDIN (FORMAT BINARY)") as out:
        data = copy_rows(gallery_id, ids, rows)
        view = memoryview(data)
        step = chunk * (len(data) // max(1, len(ids)))
        for start in range(0, len(view), max(1, step)):
            out.write(view[start:start + step])


def _build_hnsw(connection: Connection, gallery_id: int, threads: int | None) -> None:
    """Build the snapshot's own HNSW index (inner product on unit rows = cosine)."""
    connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
    if threads is not None:
        connection.exec_driver_sql(
            f"SET LOCAL max_parallel_maintenance_workers = {max(0, int(threads) - 1)}")
    connection.exec_driver_sql(
        f"CREATE INDEX {_index_name(gallery_id)} ON trained_vectors USING hnsw"
        f" (embedding vector_ip_ops) WITH (m = {HNSW_M},"
        f" ef_construction = {HNSW_EF_CONSTRUCTION}) WHERE gallery_id = {int(gallery_id)}")


def _retire(connection: Connection, key: str, keep: int) -> None:
    """Delete the gallery's snapshots but the ``keep`` newest (and their indexes)."""
    old = connection.exec_driver_sql(
        "SELECT id FROM trained_galleries WHERE gallery = %(key)s"
        " ORDER BY created_at DESC, id DESC OFFSET %(keep)s", {"key": key, "keep": keep}
    ).scalars().all()
    if old:  # rows first: DROP INDEX locks out every search until the commit that follows
        connection.exec_driver_sql("DELETE FROM trained_galleries WHERE id = ANY(%(ids)s)",
                                   {"ids": list(old)})
    for gallery_id in old:
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {_index_name(gallery_id)}")
