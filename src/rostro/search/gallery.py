"""A trained gallery: the face index of one person group or face list at training time.

This is what "train" produces and what identify / find-similar read, as in Azure: faces
added after training are not in it until the next train. It carries the person of each face
(for identify) and an opaque ``snapshot`` token naming the training run it came from, so a
loaded file can be checked against the training state in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np

from rostro.search import container
from rostro.search.base import GalleryIndex, SearchHits, check_embeddings, check_k
from rostro.search.errors import IndexCorrupt, IndexStale, InvalidEmbeddings, SearchError
from rostro.search.factory import build_index, index_from_arrays

#: First fetch for identify, in faces per wanted person; doubled while too few persons show.
_FACES_PER_PERSON_GUESS = 4


@dataclass(frozen=True, eq=False)
class Gallery:
    """``index`` over faces; ``persons`` (aligned with ``index.ids``) gives each face's person,
    or is None for face lists; ``snapshot`` names the training run."""

    index: GalleryIndex
    persons: np.ndarray | None = None
    snapshot: str = ""
    _sorted_ids: np.ndarray = field(init=False, repr=False)
    _sorted_persons: np.ndarray | None = field(init=False, repr=False)
    _n_persons: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Sorted face ids let identify map hit ids to persons with one searchsorted.
        ids = self.index.ids
        order = np.argsort(ids, kind="stable")
        sorted_persons = None
        n_persons = 0
        if self.persons is not None:
            if self.persons.shape != ids.shape:
                raise InvalidEmbeddings(f"{len(self.persons)} persons for {len(ids)} faces")
            sorted_persons = self.persons[order]
            n_persons = len(np.unique(self.persons))
        object.__setattr__(self, "_sorted_ids", ids[order])
        object.__setattr__(self, "_sorted_persons", sorted_persons)
        object.__setattr__(self, "_n_persons", n_persons)

    @classmethod
    def build(
        cls,
        face_ids: Any,
        embeddings: Any,
        persons: Any = None,
        snapshot: str = "",
        backend: str = "auto",
        **options: Any,
    ) -> Self:
        """Train: index ``embeddings`` (n × dim unit rows) under ``face_ids``.

        ``persons`` (n person ids, int or str) makes the gallery answer :meth:`identify`;
        ``backend`` is "auto" (by size), "exact" or "hnsw"; ``options`` go to the backend.
        """
        index = build_index(face_ids, embeddings, backend, **options)
        if persons is not None:
            persons = np.asarray(persons)
            if persons.dtype.kind in "iu":
                persons = persons.astype(np.int64, copy=False)
            elif persons.dtype.kind != "U":
                raise InvalidEmbeddings(
                    f"person ids must be integers or strings, not {persons.dtype}"
                )
        return cls(index, persons, snapshot)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def n_persons(self) -> int:
        """Distinct persons with at least one face (0 for face lists)."""
        return self._n_persons

    def find_similar(self, queries: Any, k: int) -> list[SearchHits]:
        """The ``k`` most similar faces per query (face ids), best first."""
        return self.index.search(queries, k)

    def identify(self, queries: Any, k: int) -> list[SearchHits]:
        """The ``k`` most similar persons per query: each person scores its best face.

        Returns person ids with that maximum similarity, best first; fewer than ``k`` when
        the gallery has fewer persons. Raises :class:`SearchError` for a face-list gallery.
        """
        self._persons()  # SearchError for a face list, before any search
        queries = check_embeddings(queries, self.index.dim)
        k = min(check_k(k), self._n_persons)
        results: dict[int, SearchHits] = {}  # by query, as each is answered
        pending = np.arange(len(queries))
        fetch = min(len(self), k * _FACES_PER_PERSON_GUESS)
        while len(pending):
            hits = self.index.search(queries[pending], max(fetch, 1)) if k else None
            still = []
            for row, query in enumerate(pending):
                best = self._best_persons(hits[row], k) if hits is not None else self._no_persons()
                if len(best) < k and fetch < len(self):
                    still.append(query)  # a few persons own all the faces fetched: widen
                else:
                    results[int(query)] = best
            pending = np.asarray(still, dtype=np.int64)
            fetch = min(len(self), fetch * 2)
        return [results[query] for query in range(len(queries))]

    def _best_persons(self, hits: SearchHits, k: int) -> SearchHits:
        """Collapse face hits (best first) to the first ``k`` distinct persons."""
        positions = np.searchsorted(self._sorted_ids, hits.ids)
        persons = self._persons()[positions]
        _, first = np.unique(persons, return_index=True)  # first = best face of each person
        first = np.sort(first)[:k]
        return SearchHits(persons[first], hits.similarities[first])

    def _no_persons(self) -> SearchHits:
        persons = self._persons()[:0].copy()
        return SearchHits(persons, np.empty(0, dtype=np.float32))

    def _persons(self) -> np.ndarray:
        """The person of each face in id order; SearchError for a face-list gallery."""
        if self._sorted_persons is None:
            raise SearchError("this gallery has no persons (a face list): use find_similar")
        return self._sorted_persons

    # Persistence -------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write index, persons and snapshot to one file, atomically."""
        arrays = {f"index.{name}": value for name, value in self.index.to_arrays().items()}
        if self.persons is not None:
            arrays["persons"] = self.persons
        meta = {"kind": self.index.kind, "snapshot": self.snapshot, "dim": self.index.dim,
                "faces": len(self)}
        container.write(path, meta, arrays)

    @classmethod
    def load(cls, path: Path, snapshot: str | None = None) -> Self:
        """Read a file written by :meth:`save`.

        With ``snapshot`` given, a file from another training run raises :class:`IndexStale`.
        Missing or unreadable files raise :class:`IndexMissing` / :class:`IndexCorrupt`.
        """
        meta, arrays = container.read(path)
        if snapshot is not None and meta.get("snapshot") != snapshot:
            raise IndexStale(
                f"{path} is from training snapshot {meta.get('snapshot')!r}, not {snapshot!r}"
            )
        prefix = "index."
        state = {
            name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)
        }
        index = index_from_arrays(str(meta.get("kind")), state)
        if len(index) != meta.get("faces") or index.dim != meta.get("dim"):
            raise IndexCorrupt(f"{path}: header says {meta.get('faces')} × {meta.get('dim')}")
        try:
            return cls(index, arrays.get("persons"), str(meta.get("snapshot", "")))
        except InvalidEmbeddings as exc:
            raise IndexCorrupt(f"{path}: {exc}") from exc
