"""Pick, build and load index backends by name or by gallery size."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from rostro.config import DEFAULT_APPROXIMATE_FROM, settings
from rostro.search import container, hnsw
from rostro.search.base import GalleryIndex
from rostro.search.errors import BackendUnavailable, IndexCorrupt, IndexStale, SearchError
from rostro.search.exact import ExactIndex
from rostro.search.hnsw import HnswIndex

log = logging.getLogger(__name__)

#: Backend classes by the name written into index files.
BACKENDS: dict[str, type[GalleryIndex]] = {ExactIndex.kind: ExactIndex, HnswIndex.kind: HnswIndex}

#: Galleries with at least this many faces get the approximate index ("auto"). Measured in
#: docs/performance.md ("Search"): at 200k faces exact search takes ~10 ms per face and ~50 ms
#: per 10-face identify call, growing linearly (36 ms / 180 ms at 1M), while HNSW stays at
#: 1-4 ms. Below it exact search is fast enough, never misses and trains instantly, where
#: HNSW costs minutes of graph building (77 s at 100k on 2 cores). Override with
#: ``$ROSTRO_APPROXIMATE_FROM`` (read by rostro.config).
APPROXIMATE_FROM = DEFAULT_APPROXIMATE_FROM


def approximate_from() -> int:
    """The size threshold in force: ``$ROSTRO_APPROXIMATE_FROM`` or :data:`APPROXIMATE_FROM`."""
    return settings().approximate_from


def choose_backend(n_faces: int, backend: str = "auto") -> str:
    """Return the backend name for a gallery of ``n_faces``.

    ``backend`` is ``"auto"`` (by size, see :func:`approximate_from`) or a name in
    :data:`BACKENDS`. When "auto" wants the approximate index but FAISS is not installed,
    this falls back to exact search and logs a warning saying how to get it.
    """
    if backend != "auto":
        if backend not in BACKENDS:
            raise SearchError(f"unknown index backend {backend!r}; known: {sorted(BACKENDS)}")
        return backend
    if n_faces < approximate_from():
        return ExactIndex.kind
    if not hnsw.available():
        log.warning(
            "gallery of %d faces: approximate index unavailable (FAISS not installed; "
            "pip install 'rostro[ann]'), using exact search", n_faces,
        )
        return ExactIndex.kind
    return HnswIndex.kind


def build_index(ids: Any, embeddings: Any, backend: str = "auto", **options: Any) -> GalleryIndex:
    """Build an index of the chosen backend; ``options`` go to that backend's ``build``."""
    n_faces = len(np.asarray(embeddings)) if np.ndim(embeddings) > 1 else 1
    name = choose_backend(n_faces, backend)
    if name == ExactIndex.kind:
        options = {}  # graph settings mean nothing to the exact index
    return BACKENDS[name].build(ids, embeddings, **options)


def index_from_arrays(kind: str, arrays: dict[str, np.ndarray]) -> GalleryIndex:
    """Recreate an index of backend ``kind`` from its ``to_arrays()`` state."""
    if kind not in BACKENDS:
        raise IndexCorrupt(f"unknown index backend {kind!r} in file")
    try:
        return BACKENDS[kind].from_arrays(arrays)
    except BackendUnavailable as exc:  # e.g. FAISS uninstalled since: rebuild (exact) instead
        raise IndexStale(f"cannot load a {kind!r} index here: {exc}") from exc


def load_index(path: Path) -> GalleryIndex:
    """Load any index file written by a backend's ``save`` (dispatches on its kind)."""
    meta, arrays = container.read(path)
    return index_from_arrays(str(meta.get("kind")), arrays)
