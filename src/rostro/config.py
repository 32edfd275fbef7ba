"""Rostro's settings: every ``ROSTRO_*`` environment variable is read here, in one function.

Everything lives under one home folder, ``$ROSTRO_HOME`` (default ``~/.cache/rostro``), so a
test can point a whole process at a temporary folder by setting one variable. Other modules
ask :func:`settings` (or the shortcuts below) and never read the environment themselves; the
table of variables is in docs/development.md ("Settings").

The values are parsed once per distinct set of ``ROSTRO_*`` values (a cache keyed by them),
so a long-running server parses once and a test that sets a variable with ``monkeypatch``
sees it at once, with no reset to remember.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: The variables :func:`settings` reads (test-only variables are read by the tests).
VARIABLES = (
    "ROSTRO_HOME",
    "ROSTRO_MODELS",
    "ROSTRO_DATABASE_URL",
    "ROSTRO_APPROXIMATE_FROM",
    "ROSTRO_PGVECTOR_APPROXIMATE_FROM",
    "ROSTRO_THREADS",
    "ROSTRO_BLAS_THREADS",
    "ROSTRO_WILD",
    "ROSTRO_SERVICE_SETTINGS",
    "ROSTRO_TEST_TRAINING_PAUSE",
)

#: Galleries with at least this many faces get the approximate index ("auto"); the reason
#: for the figure is in rostro.search.factory.
DEFAULT_APPROXIMATE_FROM = 200_000


class SettingsError(ValueError):
    """A ``ROSTRO_*`` variable holds a value Rostro cannot use (the message names it)."""


@dataclass(frozen=True)
class Settings:
    """``home``: state folder ($ROSTRO_HOME); ``models``: provisioned models ($ROSTRO_MODELS,
    default ``home/models``; a separate variable lets many test homes share one model
    cache); ``database_url``: database server replacing the SQLite file
    ``home/rostro.db`` ($ROSTRO_DATABASE_URL); ``approximate_from``: gallery size from which
    "auto" picks the approximate index ($ROSTRO_APPROXIMATE_FROM);
    ``pgvector_approximate_from``: the same for shared galleries in PostgreSQL (None: that
    store's default; $ROSTRO_PGVECTOR_APPROXIMATE_FROM); ``onnx_threads``: ONNX
    Runtime intra-op threads per model ($ROSTRO_THREADS); ``blas_threads``: BLAS/OpenMP
    threads per process ($ROSTRO_BLAS_THREADS, see rostro.threads); ``wild``: mirror folder
    of the wild photos for ``rostro eval attributes`` ($ROSTRO_WILD); ``service_json``: the
    ServiceSettings ``rostro serve`` hands its worker processes ($ROSTRO_SERVICE_SETTINGS);
    ``training_pause``: fault injection for tests only, seconds each training run waits
    holding its lease ($ROSTRO_TEST_TRAINING_PAUSE, see rostro.service.trainer)."""

    home: Path
    models: Path
    database_url: str | None = None
    approximate_from: int = DEFAULT_APPROXIMATE_FROM
    pgvector_approximate_from: int | None = None
    onnx_threads: int = 1
    blas_threads: int = 1
    wild: Path | None = None
    service_json: str | None = None
    training_pause: float = 0.0

    @property
    def database_path(self) -> Path:
        """The SQLite file used when no database URL is given."""
        return self.home / "rostro.db"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Return the settings in ``environ`` (default: this process's environment).
        SettingsError when a number is not one."""
        env = os.environ if environ is None else environ

        def text(name: str) -> str | None:
            return env.get(name) or None  # set but empty counts as unset

        def path(name: str) -> Path | None:
            value = text(name)
            return Path(value).expanduser() if value else None

        def count(name: str, default: int, least: int) -> int:
            value = text(name)
            if value is None:
                return default
            try:
                number = int(value)
            except ValueError:
                raise SettingsError(f"${name} must be a whole number, not {value!r}") from None
            if number < least:
                raise SettingsError(f"${name} must be at least {least}, not {number}")
            return number

        def seconds(name: str) -> float:
            value = text(name)
            try:
                return float(value) if value else 0.0
            except ValueError:
                raise SettingsError(f"${name} must be a number of seconds, not {value!r}") from None

        home = path("ROSTRO_HOME") or Path.home() / ".cache" / "rostro"
        return cls(
            home=home,
            models=path("ROSTRO_MODELS") or home / "models",
            database_url=text("ROSTRO_DATABASE_URL"),
            approximate_from=count("ROSTRO_APPROXIMATE_FROM", DEFAULT_APPROXIMATE_FROM, 0),
            pgvector_approximate_from=(None if text("ROSTRO_PGVECTOR_APPROXIMATE_FROM") is None
                                       else count("ROSTRO_PGVECTOR_APPROXIMATE_FROM", 0, 0)),
            onnx_threads=count("ROSTRO_THREADS", 1, 1),
            blas_threads=count("ROSTRO_BLAS_THREADS", 1, 1),
            wild=path("ROSTRO_WILD"),
            service_json=text("ROSTRO_SERVICE_SETTINGS"),
            training_pause=seconds("ROSTRO_TEST_TRAINING_PAUSE"),
        )


@functools.lru_cache(maxsize=8)
def _parsed(values: tuple[str | None, ...]) -> Settings:
    return Settings.from_environment(
        {name: value for name, value in zip(VARIABLES, values, strict=True) if value is not None})


def settings() -> Settings:
    """Return the settings of this process's environment as it is now."""
    return _parsed(tuple(os.environ.get(name) for name in VARIABLES))


def rostro_home() -> Path:
    """Return the home folder (not created here): ``$ROSTRO_HOME`` or ``~/.cache/rostro``."""
    return settings().home


def models_dir() -> Path:
    """Return the folder of provisioned models: ``$ROSTRO_MODELS`` or ``$ROSTRO_HOME/models``."""
    return settings().models
