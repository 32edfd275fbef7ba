"""Approximate search: a FAISS HNSW graph over the full-precision vectors (``IndexHNSWFlat``).

FAISS (the ``faiss-cpu`` wheel, optional extra ``rostro[ann]``) was chosen over usearch and
hnswlib by ``benchmarks/bench_search.py --compare-libraries`` (docs/performance.md, "Search"):
best recall at equal graph settings (0.98 vs 0.95 at 100k faces), latency as good as the
best, a maintained wheel for every platform we target (hnswlib has no wheel for CPython 3.11
on Linux: pip compiles it), and IVF/PQ indexes in the same library if galleries outgrow RAM.
The vectors are stored unquantised, so reported similarities are exact inner products of the
faces found; only *which* faces are found is approximate.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar, Self

import numpy as np

from rostro.search.base import FileBacked, SearchHits, check_embeddings, check_ids, check_k, empty_hits
from rostro.search.errors import BackendUnavailable, IndexCorrupt
from rostro.threads import limit_threads

#: Graph degree (FAISS "M"): 32 links per node, ~256 bytes per face on top of the vector.
DEFAULT_M = 32
#: Candidate list while inserting. 80 rather than FAISS's 40: on 1M synthetic faces it raised
#: recall@1 at efSearch 64 from 0.51 to 0.74 for ~15 % more build time.
DEFAULT_EF_CONSTRUCTION = 80
#: Bounds of the default candidate list while searching (see :func:`default_ef_search`).
MIN_EF_SEARCH, MAX_EF_SEARCH = 64, 1024


def default_ef_search(n_faces: int) -> int:
    """efSearch for a gallery of ``n_faces``: the next power of two ≥ n/2000, in [64, 1024].

    HNSW recall falls as the graph grows unless the search list grows too. Measured on
    synthetic clustered faces (docs/performance.md, "Search"): 64 keeps recall@1 ≥ 0.99 up to
    100k faces, 256 at 300k, 512 at 1M (0.985 face / 1.0 person, ~3 ms per query).
    """
    wanted = max(1, n_faces // 2000)
    return int(min(MAX_EF_SEARCH, max(MIN_EF_SEARCH, 1 << (wanted - 1).bit_length())))


def faiss_module() -> Any:
    """Import FAISS or raise :class:`BackendUnavailable` with the install command."""
    try:
        import faiss
    except ImportError as exc:
        raise BackendUnavailable(
            "the approximate index needs FAISS: pip install 'rostro[ann]' (faiss-cpu)"
        ) from exc
    _limit_faiss_pools()
    return faiss


@functools.cache
def _limit_faiss_pools() -> int:
    """FAISS brings its own BLAS and OpenMP pools: limit them once, when it is first loaded."""
    return limit_threads()


def available() -> bool:
    """True when FAISS can be imported."""
    try:
        faiss_module()
    except BackendUnavailable:
        return False
    return True


class HnswIndex(FileBacked):
    """Approximate cosine search with a FAISS HNSW graph; positions in the graph are build
    positions, mapped back to ids on the way out."""

    kind: ClassVar[str] = "hnsw"

    def __init__(self, ids: np.ndarray, index: Any, ef_search: int) -> None:
        """Wrap a built FAISS index; use :meth:`build` or :meth:`load` instead."""
        self._ids = ids
        self._index = index
        self._ef_search = ef_search

    @classmethod
    def build(
        cls,
        ids: Any,
        embeddings: Any,
        *,
        m: int = DEFAULT_M,
        ef_construction: int = DEFAULT_EF_CONSTRUCTION,
        ef_search: int | None = None,
        threads: int = 1,
    ) -> Self:
        """Build the graph (the slow part of training: ~15 min per million faces on 2 cores).

        ``ef_search`` defaults to :func:`default_ef_search` of the gallery size and is saved
        with the index. ``threads`` is the OpenMP thread count for the build only; searches
        use one thread per request, like the ONNX models (requests run in parallel instead).
        """
        faiss = faiss_module()
        rows = check_embeddings(embeddings)
        ids = check_ids(ids, len(rows))
        index = faiss.IndexHNSWFlat(rows.shape[1], int(m), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(ef_construction)
        # OpenMP's thread count belongs to the calling thread: other threads are unaffected.
        faiss.omp_set_num_threads(max(1, int(threads)))
        try:
            index.add(rows)
        finally:
            faiss.omp_set_num_threads(1)
        if ef_search is None:
            ef_search = default_ef_search(len(rows))
        return cls(ids, index, int(ef_search))

    @property
    def dim(self) -> int:
        return int(self._index.d)

    @property
    def ids(self) -> np.ndarray:
        return self._ids

    @property
    def nbytes(self) -> int:
        # Vectors plus level-0 links (2·M int32 per face; upper levels add ~1/M of that).
        links = self._index.hnsw.nb_neighbors(0) * 4
        return len(self) * (self.dim * 4 + links) + self._ids.nbytes

    def __len__(self) -> int:
        return len(self._ids)

    def with_ef_search(self, ef_search: int) -> Self:
        """The same graph (shared, not copied) searched with another candidate-list size:
        higher finds the true nearest faces more often, slower."""
        return type(self)(self._ids, self._index, int(ef_search))

    def search(self, queries: Any, k: int) -> list[SearchHits]:
        """About the ``k`` most similar faces per query, best first."""
        faiss = faiss_module()
        queries = check_embeddings(queries, self.dim)
        k = min(check_k(k), len(self))
        if k == 0:
            return [empty_hits(self._ids) for _ in range(len(queries))]
        faiss.omp_set_num_threads(1)  # per OS thread: request threads must not fan out
        params = faiss.SearchParametersHNSW(efSearch=max(self._ef_search, k))
        sims, positions = self._index.search(queries, k, params=params)
        hits = []
        for row_sims, row_positions in zip(sims, positions):
            found = row_positions >= 0  # FAISS pads with -1 when it finds fewer than k
            hits.append(SearchHits(self._ids[row_positions[found]], row_sims[found]))
        return hits

    def to_arrays(self) -> dict[str, np.ndarray]:
        faiss = faiss_module()
        return {
            "ids": self._ids,
            "faiss": faiss.serialize_index(self._index),
            "ef_search": np.array([self._ef_search], dtype=np.int64),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Self:
        faiss = faiss_module()
        try:
            ids, blob, ef_search = arrays["ids"], arrays["faiss"], int(arrays["ef_search"][0])
            index = faiss.deserialize_index(np.ascontiguousarray(blob, dtype=np.uint8))
        except (KeyError, IndexError, RuntimeError) as exc:
            raise IndexCorrupt(f"HNSW index does not load: {exc}") from exc
        if index.ntotal != len(ids):
            raise IndexCorrupt(f"HNSW index holds {index.ntotal} vectors for {len(ids)} ids")
        return cls(ids, index, ef_search)
