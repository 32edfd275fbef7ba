"""Where Rostro keeps its state on disk.

Everything lives under one home folder, ``$ROSTRO_HOME`` (default ``~/.cache/rostro``), so a
test can point a whole process at a temporary folder by setting one variable.
"""

from __future__ import annotations

import os
from pathlib import Path


def rostro_home() -> Path:
    """Return the home folder (not created here): ``$ROSTRO_HOME`` or ``~/.cache/rostro``."""
    env = os.environ.get("ROSTRO_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "rostro"


def models_dir() -> Path:
    """Return the folder of provisioned models: ``$ROSTRO_MODELS`` or ``$ROSTRO_HOME/models``.

    A separate variable lets many test homes (databases, keys) share one model cache.
    """
    env = os.environ.get("ROSTRO_MODELS")
    return Path(env).expanduser() if env else rostro_home() / "models"
