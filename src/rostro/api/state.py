"""What one server process holds: settings, database, analyzer and the concurrency limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from anyio import CapacityLimiter
from starlette.requests import Request

from rostro.api.fetch import DownloadSlots, FetchPolicy
from rostro.api.memory import PixelBudget, Trimmer
from rostro.api.settings import ServiceSettings
from rostro.store.db import Database
from rostro.vision.analyzer import Analyzer


@dataclass
class ServiceState:
    """Shared by every request of a process. ``inference`` bounds how many images are
    decoded and analysed at once (CPU work); ``downloads`` bounds concurrent URL fetches,
    separately and per host, so slow image servers never hold the analysis slots, nor every
    download slot; ``pixels`` bounds the pixels of the images being decoded and analysed
    (memory), and ``trimmer`` gives memory back after a burst of them; ``refused_hosts``:
    image-URL hosts already logged as refused."""

    settings: ServiceSettings
    database: Database
    analyzer: Analyzer
    fetch_policy: FetchPolicy
    inference: CapacityLimiter
    downloads: DownloadSlots
    pixels: PixelBudget = field(default_factory=PixelBudget)
    trimmer: Trimmer = field(default_factory=Trimmer)
    refused_hosts: set[str] = field(default_factory=set)


def service_state(request: Request) -> ServiceState:
    """Return the process's ServiceState (set up by the app's lifespan)."""
    return request.app.state.service
