"""How the service runs: where its database and models are, and the URL-fetching rules.

``rostro serve`` builds the settings once and passes them to each worker process through the
``ROSTRO_SERVICE_SETTINGS`` environment variable (JSON), so every worker runs the same way.
What is not set here (None or 0) comes from the process's settings (rostro.config), which
read every other ``ROSTRO_*`` variable.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rostro.config import settings
from rostro.service.memory import DEFAULT_PIXEL_BUDGET
from rostro.service.url_fetch import FetchPolicy

ENVIRONMENT_VARIABLE = "ROSTRO_SERVICE_SETTINGS"


@dataclass(frozen=True)
class ServiceSettings:
    """``database``: SQLite file or database URL (default ``$ROSTRO_DATABASE_URL``, else
    ``$ROSTRO_HOME/rostro.db``; see ``rostro.store.db.open_database``); ``models``: model
    cache (default ``$ROSTRO_MODELS`` or ``$ROSTRO_HOME/models``); ``allow_private_urls`` and
    ``allowed_hosts``: which image URLs may point at non-public addresses;
    ``inference_threads``: images analysed at once per process (0: one per CPU core);
    ``download_threads``: image URLs fetched at once per process (``downloads_per_host`` of
    them at most to one host); ``fetch_timeout``: seconds one image URL may take, connect,
    headers and body together; ``pixel_budget``: pixels of images decoded and analysed at
    once per process (memory); ``training_lease``: seconds a training run stays with the
    process performing it without a renewal, after which another process takes it over;
    ``training_poll``: seconds between looks for training runs that other processes queued;
    ``blas_threads``: BLAS/OpenMP threads per process (0: the ``$ROSTRO_BLAS_THREADS``
    setting, default 1; see rostro.threads)."""

    database: str | None = None
    models: str | None = None
    allow_private_urls: bool = False
    allowed_hosts: tuple[str, ...] = field(default_factory=tuple)
    inference_threads: int = 0
    download_threads: int = 32
    downloads_per_host: int = 8
    fetch_timeout: float = 10.0
    pixel_budget: int = DEFAULT_PIXEL_BUDGET
    training_lease: float = 30.0
    training_poll: float = 1.0
    blas_threads: int = 0

    def fetch_policy(self) -> FetchPolicy:
        """Return the URL fetcher's policy for these settings."""
        return FetchPolicy(allow_private=self.allow_private_urls,
                           allowed_hosts=frozenset(h.lower() for h in self.allowed_hosts),
                           total_timeout=self.fetch_timeout)

    def database_location(self) -> str | None:
        """The database to open: a path or a URL (None: the default, see open_database)."""
        return self.database or None

    def models_path(self) -> Path:
        """The model cache: ``models``, else the ``$ROSTRO_MODELS`` setting."""
        return Path(self.models) if self.models else settings().models

    def blas_thread_count(self) -> int:
        """BLAS/OpenMP threads per process: ``blas_threads``, else the setting."""
        return self.blas_threads or settings().blas_threads

    def threads(self) -> int:
        """Return the number of images analysed at once."""
        return self.inference_threads if self.inference_threads > 0 else (os.cpu_count() or 1)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServiceSettings:
        values = json.loads(text)
        values["allowed_hosts"] = tuple(values.get("allowed_hosts") or ())
        return cls(**values)

    @classmethod
    def from_environment(cls) -> ServiceSettings:
        """Return the settings in ``$ROSTRO_SERVICE_SETTINGS`` (defaults when unset)."""
        text = settings().service_json
        return cls.from_json(text) if text else cls()
