"""Gallery search for identify and find-similar: exact by default, HNSW (FAISS) when large.

What the storage layer calls (see docs/performance.md, "Search", for the numbers):

* at train time: ``Gallery.build(face_ids, embeddings, persons=..., snapshot=token)`` then
  ``GalleryFiles().save(resource, kind, group, gallery)``;
* at identify / find-similar time: ``GalleryFiles().open(resource, kind, group, token,
  rebuild=...)`` then ``gallery.identify(queries, k)`` or ``gallery.find_similar(queries, k)``;
* when a group is deleted: ``GalleryFiles().discard(resource, kind, group)``.

With PostgreSQL and pgvector, ``pgvector_store.SharedGalleries`` offers the same three calls
(the :class:`GalleryStore` protocol) over one copy in the database for every node.
"""

from rostro.search.base import GalleryIndex, SearchHits
from rostro.search.errors import (
    BackendUnavailable,
    IndexCorrupt,
    IndexFileError,
    IndexMissing,
    IndexStale,
    InvalidEmbeddings,
    SearchError,
)
from rostro.search.exact import ExactIndex
from rostro.search.factory import (
    APPROXIMATE_FROM,
    BACKENDS,
    approximate_from,
    build_index,
    choose_backend,
    load_index,
)
from rostro.search.files import GalleryFiles
from rostro.search.gallery import Gallery
from rostro.search.hnsw import HnswIndex
from rostro.search.stores import GalleryStore, SearchableGallery

__all__ = [
    "APPROXIMATE_FROM",
    "BACKENDS",
    "BackendUnavailable",
    "ExactIndex",
    "Gallery",
    "GalleryFiles",
    "GalleryIndex",
    "GalleryStore",
    "HnswIndex",
    "IndexCorrupt",
    "IndexFileError",
    "IndexMissing",
    "IndexStale",
    "InvalidEmbeddings",
    "SearchError",
    "SearchHits",
    "SearchableGallery",
    "approximate_from",
    "build_index",
    "choose_backend",
    "load_index",
]
