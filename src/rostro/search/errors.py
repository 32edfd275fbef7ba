"""Errors of the search room. The storage layer catches :class:`IndexFileError` and rebuilds."""


class SearchError(Exception):
    """Base class for gallery-index errors."""


class InvalidEmbeddings(SearchError, ValueError):
    """Ids or embeddings are malformed: wrong shape or dtype, not unit length, duplicate ids."""


class BackendUnavailable(SearchError):
    """An index backend was asked for by name but its library is not installed."""


class IndexFileError(SearchError):
    """A persisted index cannot be used; rebuild it from the database (the source of truth)."""


class IndexMissing(IndexFileError):
    """No index file at the expected path."""


class IndexCorrupt(IndexFileError):
    """The file exists but is truncated, fails its checksums or does not parse."""


class IndexStale(IndexFileError):
    """The file is intact but belongs to another training snapshot or file-format version."""
