"""The gallery-index interface: search unit embeddings by cosine similarity, best first.

Every backend keeps its faces in *build order*: position ``i`` is ``ids[i]``. Ids are a 1-D
array of integers (e.g. database row ids) or fixed-width strings (e.g. UUIDs); whatever goes
in comes back out in :class:`SearchHits`. Embeddings are float32 rows of unit L2 norm, of any
dimension (128 for SFace today), so cosine similarity is the inner product.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np

from rostro.search import container
from rostro.search.errors import IndexCorrupt, InvalidEmbeddings

#: How far from 1 an embedding's norm may be before it is rejected as "not normalised".
UNIT_TOLERANCE = 1e-3


@dataclass(frozen=True, eq=False)
class SearchHits:
    """The results for one query: ``ids`` and their cosine ``similarities``, best first.

    Both are numpy arrays of the same length (at most k; fewer when the gallery is smaller).
    Iterating yields ``(id, similarity)`` pairs of plain Python values.
    """

    ids: np.ndarray
    similarities: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[tuple[Any, float]]:
        return zip(self.ids.tolist(), self.similarities.tolist())


@runtime_checkable
class GalleryIndex(Protocol):
    """A searchable, persistable set of (id, unit embedding) rows. Immutable once built:
    a change to the gallery means building a new index (Azure's "train")."""

    kind: ClassVar[str]  # backend name written into files, e.g. "exact" or "hnsw"

    @classmethod
    def build(cls, ids: Any, embeddings: Any, *args: Any, **options: Any) -> Self:
        """Index ``embeddings`` (n × dim float32 unit rows; n may be 0) under ``ids`` (n).
        Each backend names its own options (``*args: Any, **options: Any`` lets a type
        checker accept any of them)."""
        ...

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        ...

    @property
    def ids(self) -> np.ndarray:
        """The ids in build order."""
        ...

    @property
    def nbytes(self) -> int:
        """Approximate memory the index holds (vectors, graph, ids), in bytes."""
        ...

    def __len__(self) -> int: ...

    def search(self, queries: Any, k: int) -> list[SearchHits]:
        """Return the ``k`` most similar faces for each query (one row or a q × dim array)."""
        ...

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The index's state as plain arrays (what :meth:`save` writes)."""
        ...

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Self:
        """Rebuild the object from :meth:`to_arrays` output (no re-indexing)."""
        ...

    def save(self, path: Path) -> None:
        """Write the index to one file atomically (readers see the old file or the new one)."""
        ...

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a file written by :meth:`save`; raises an :class:`IndexFileError` subclass."""
        ...


def check_ids(ids: Any, n: int) -> np.ndarray:
    """Return ``ids`` as a 1-D int64 or unicode array of length ``n`` with no duplicates."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) != n:
        raise InvalidEmbeddings(f"expected {n} ids in a 1-D array, got shape {ids.shape}")
    if ids.dtype.kind in "iu":
        ids = ids.astype(np.int64, copy=False)
    elif ids.dtype.kind != "U":
        raise InvalidEmbeddings(f"ids must be integers or strings, not {ids.dtype}")
    if n and len(np.unique(ids)) != n:
        raise InvalidEmbeddings("ids must be unique")
    return ids


def check_embeddings(rows: Any, dim: int | None = None) -> np.ndarray:
    """Return ``rows`` as a C-contiguous float32 2-D array of unit rows (1-D = one row).

    Raises :class:`InvalidEmbeddings` for the wrong dimension, non-finite values or rows
    whose norm is not 1: an unnormalised vector silently breaks cosine ranking.
    """
    rows = np.asarray(rows, dtype=np.float32)
    if rows.ndim == 1:
        rows = rows[None, :]
    if rows.ndim != 2 or rows.shape[1] == 0:
        raise InvalidEmbeddings(f"expected an n × dim array, got shape {rows.shape}")
    if dim is not None and rows.shape[1] != dim:
        raise InvalidEmbeddings(f"expected dimension {dim}, got {rows.shape[1]}")
    if len(rows):
        norms = np.linalg.norm(rows, axis=1)
        if not np.all(np.abs(norms - 1.0) <= UNIT_TOLERANCE):  # also catches NaN / inf
            raise InvalidEmbeddings("embeddings must be finite and of unit L2 norm")
    return np.ascontiguousarray(rows)


def check_k(k: int) -> int:
    """Return ``k`` if it is a positive integer."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidEmbeddings(f"k must be a positive integer, got {k!r}")
    return int(k)


def empty_hits(ids: np.ndarray) -> SearchHits:
    """Hits for a query against an empty gallery (keeps the id dtype)."""
    return SearchHits(ids[:0].copy(), np.empty(0, dtype=np.float32))


class FileBacked:
    """``save``/``load`` for an index class with ``kind``, ``to_arrays`` and ``from_arrays``:
    one container file whose metadata names the kind, checked on load."""

    kind: ClassVar[str]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The index's state as plain arrays (each backend defines it)."""
        raise NotImplementedError

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Self:
        """The index rebuilt from :meth:`to_arrays` output (each backend defines it)."""
        raise NotImplementedError

    def save(self, path: Path) -> None:
        container.write(path, {"kind": self.kind}, self.to_arrays())

    @classmethod
    def load(cls, path: Path) -> Self:
        meta, arrays = container.read(path)
        if meta.get("kind") != cls.kind:
            raise IndexCorrupt(f"{path} holds a {meta.get('kind')!r} index, not {cls.kind!r}")
        return cls.from_arrays(arrays)
