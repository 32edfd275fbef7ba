"""Where trained galleries live: what the service needs of a gallery store and of what it
opens. Two stores satisfy it: :class:`rostro.search.GalleryFiles` (index files on each
node, for SQLite and for PostgreSQL without pgvector) and
:class:`rostro.search.pgvector_store.SharedGalleries` (one copy in PostgreSQL for all nodes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from rostro.search.base import SearchHits
from rostro.search.gallery import Gallery


class SearchableGallery(Protocol):
    """A trained snapshot as identify and find similar use it."""

    @property
    def snapshot(self) -> str: ...

    def __len__(self) -> int: ...

    def find_similar(self, queries: Any, k: int) -> list[SearchHits]:
        """The ``k`` most similar rows per query, best first."""
        ...

    def identify(self, queries: Any, k: int) -> list[SearchHits]:
        """The ``k`` most similar persons per query, best first."""
        ...


class GalleryStore(Protocol):
    """Publishes, opens and forgets the trained galleries of (resource, kind, group)."""

    #: The backend training builds its :class:`Gallery` with before :meth:`save`.
    backend: str

    def save(self, resource: str, kind: str, group: str, gallery: Gallery) -> Any:
        """Make ``gallery`` (a fresh training run's) the openable one of its snapshot."""
        ...

    def open(self, resource: str, kind: str, group: str, snapshot: str,
             rebuild: Callable[[], Gallery]) -> SearchableGallery:
        """The gallery of ``snapshot``; ``rebuild()`` gives it from the database when the
        store lacks it."""
        ...

    def discard(self, resource: str, kind: str, group: str) -> None:
        """Forget every snapshot of the gallery (its group was deleted)."""
        ...

    def close(self) -> None:
        """Release what the store holds open."""
        ...
