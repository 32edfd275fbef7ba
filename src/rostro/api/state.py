"""What one server process holds: settings, database, analyzer and the concurrency limits."""

from __future__ import annotations

from dataclasses import dataclass

from anyio import CapacityLimiter
from starlette.requests import Request

from rostro.api.fetch import FetchPolicy
from rostro.api.settings import ServiceSettings
from rostro.store.db import Database
from rostro.vision.analyzer import Analyzer


@dataclass
class ServiceState:
    """Shared by every request of a process. ``inference`` bounds how many images are
    decoded and analysed at once (CPU work); ``downloads`` bounds concurrent URL fetches,
    separately, so slow image servers never hold the analysis slots."""

    settings: ServiceSettings
    database: Database
    analyzer: Analyzer
    fetch_policy: FetchPolicy
    inference: CapacityLimiter
    downloads: CapacityLimiter


def service_state(request: Request) -> ServiceState:
    """Return the process's ServiceState (set up by the app's lifespan)."""
    return request.app.state.service
