"""What one server process holds: settings, database, analyzer and the concurrency limits."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from anyio import CapacityLimiter

from rostro.search import GalleryFiles, GalleryStore
from rostro.service.memory import PixelBudget, Trimmer
from rostro.service.settings import ServiceSettings
from rostro.service.trainer import TrainingWorker
from rostro.service.url_fetch import DownloadSlots, FetchPolicy
from rostro.store.db import Database
from rostro.vision.analyzer import Analyzer

#: Where trained galleries are kept, beside the database (``$ROSTRO_HOME/indexes`` with a
#: database server: each host keeps its own files).
INDEX_DIRECTORY = "indexes"

log = logging.getLogger(__name__)


def open_gallery_store(database: Database) -> GalleryStore:
    """Where this process keeps trained galleries: one copy in the database for every node
    when it is PostgreSQL and its server offers pgvector (the extension and tables are
    created here if missing), else index files on this node (logged as a warning with a
    database server: each node then rebuilds a gallery on its first search)."""
    files = GalleryFiles(root=database.local_directory / INDEX_DIRECTORY)
    if database.path is not None:
        return files
    from rostro.search.pgvector_store import SharedGalleries, prepare

    readiness = prepare(database.engine)
    if not readiness.ready:
        log.warning("trained galleries: per-node index files under %s, not shared: %s. "
                    "Each node rebuilds a gallery from the database on its first search; "
                    "install pgvector on the PostgreSQL server to share one gallery",
                    files.root, readiness.reason)
        return files
    log.info("trained galleries: shared in PostgreSQL (pgvector %s)", readiness.version)
    return SharedGalleries(database.url)


@dataclass
class ServiceState:
    """Shared by every request of a process. ``inference`` bounds how many images are
    decoded and analysed at once (CPU work); ``downloads`` bounds concurrent URL fetches,
    separately and per host, so slow image servers never hold the analysis slots, nor every
    download slot; ``pixels`` bounds the pixels of the images being decoded and analysed
    (memory), and ``trimmer`` gives memory back after a burst of them; ``refused_hosts``:
    image-URL hosts already logged as refused; ``galleries``: where trained galleries are
    kept (see ``gallery_files``); ``trainer``: the process's training worker (started with
    the application)."""

    settings: ServiceSettings
    database: Database
    analyzer: Analyzer
    fetch_policy: FetchPolicy
    inference: CapacityLimiter
    downloads: DownloadSlots
    pixels: PixelBudget = field(default_factory=PixelBudget)
    trimmer: Trimmer = field(default_factory=Trimmer)
    refused_hosts: set[str] = field(default_factory=set)
    galleries: GalleryStore | None = None
    trainer: TrainingWorker | None = None

    def gallery_files(self) -> GalleryStore:
        """The process's gallery store (see :func:`open_gallery_store`; index files next to
        the database when none was given)."""
        if self.galleries is None:
            self.galleries = GalleryFiles(root=self.database.local_directory / INDEX_DIRECTORY)
        return self.galleries


class HasApp(Protocol):
    """A web request (Starlette's), as far as this room needs it: its application."""

    @property
    def app(self) -> Any: ...  # read-only, as on Starlette's Request


def service_state(request: HasApp) -> ServiceState:
    """Return the process's ServiceState (set up by the application's lifespan)."""
    return request.app.state.service
