"""Trained galleries on disk, next to the database, with a small in-memory cache.

Layout: ``<root>/<resource>/<kind>/<group>.idx`` with root ``$ROSTRO_HOME/indexes``, e.g.
``indexes/default/persongroups/friends.idx``. ``kind`` keeps namespaces apart that Azure keeps
apart (a PersonGroup and a LargePersonGroup may share an id). The database is the source of
truth: a missing, corrupt or stale file is rebuilt through a callback the storage layer gives.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from rostro.config import rostro_home
from rostro.search.errors import IndexFileError, SearchError
from rostro.search.gallery import Gallery

log = logging.getLogger(__name__)

#: Keep loaded galleries up to this many bytes in memory (least recently used go first).
DEFAULT_CACHE_BYTES = 2 << 30

# Azure ids are lowercase letters, digits, '-' and '_' (≤ 64); allow case and '.' for
# resource names but never a path separator or a leading dot.
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")

Key = tuple[str, str, str]


class GalleryFiles:
    """Save, load and cache trained galleries by (resource, kind, group). Thread-safe."""

    #: The backend training builds galleries with for :meth:`save` (by size).
    backend = "auto"

    def __init__(self, root: Path | None = None, cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        """``root`` defaults to ``$ROSTRO_HOME/indexes`` (read now, not at import)."""
        self.root = Path(root) if root is not None else rostro_home() / "indexes"
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[Key, Gallery] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Key, threading.Lock] = {}

    def path(self, resource: str, kind: str, group: str) -> Path:
        """The file of one gallery; rejects names that could escape the root."""
        for name in (resource, kind, group):
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise SearchError(f"invalid name for an index file: {name!r}")
        return self.root / resource / kind / f"{group}.idx"

    def save(self, resource: str, kind: str, group: str, gallery: Gallery) -> Path:
        """Persist a freshly trained gallery (atomic replace) and make it the cached one."""
        path = self.path(resource, kind, group)
        gallery.save(path)
        self._remember((resource, kind, group), gallery)
        log.info("saved %s index of %d faces (snapshot %s) to %s",
                 gallery.index.kind, len(gallery), gallery.snapshot, path)
        return path

    def load(self, resource: str, kind: str, group: str, snapshot: str) -> Gallery:
        """The gallery of training run ``snapshot``: from memory, else from its file.

        Raises :class:`IndexMissing`, :class:`IndexCorrupt` or :class:`IndexStale` (all
        :class:`IndexFileError`) when the file cannot serve that snapshot.
        """
        key = (resource, kind, group)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached.snapshot == snapshot:
                self._cache.move_to_end(key)
                return cached
        gallery = Gallery.load(self.path(*key), snapshot)
        self._remember(key, gallery)
        return gallery

    def open(
        self, resource: str, kind: str, group: str, snapshot: str, rebuild: Callable[[], Gallery]
    ) -> Gallery:
        """Like :meth:`load`, but rebuild from the database when the file cannot serve.

        ``rebuild()`` must return the gallery of ``snapshot`` (the faces of that training
        run, as :meth:`Gallery.build` with the same snapshot token); it is saved before it is
        returned. Concurrent callers for one gallery wait for a single load or rebuild.
        """
        key = (resource, kind, group)
        with self._key_lock(key):
            try:
                return self.load(resource, kind, group, snapshot)
            except IndexFileError as exc:
                log.warning("rebuilding index %s/%s/%s from the database: %s", *key, exc)
            gallery = rebuild()
            if gallery.snapshot != snapshot:
                raise SearchError(
                    f"rebuild returned snapshot {gallery.snapshot!r}, expected {snapshot!r}"
                )
            self.save(resource, kind, group, gallery)
            return gallery

    def discard(self, resource: str, kind: str, group: str) -> None:
        """Forget a gallery (its group was deleted): drop it from memory and delete its file."""
        key = (resource, kind, group)
        with self._lock:
            self._cache.pop(key, None)
        self.path(*key).unlink(missing_ok=True)

    def clear_cache(self) -> None:
        """Drop every gallery held in memory (files stay)."""
        with self._lock:
            self._cache.clear()

    def close(self) -> None:
        """Nothing to release (the counterpart of ``SharedGalleries.close``)."""

    def _remember(self, key: Key, gallery: Gallery) -> None:
        """Cache ``gallery``, evicting least-recently-used ones past ``cache_bytes``
        (the newest always stays, however large)."""
        with self._lock:
            self._cache[key] = gallery
            self._cache.move_to_end(key)
            total = sum(g.index.nbytes for g in self._cache.values())
            while total > self.cache_bytes and len(self._cache) > 1:
                _, evicted = self._cache.popitem(last=False)
                total -= evicted.index.nbytes

    def _key_lock(self, key: Key) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())
