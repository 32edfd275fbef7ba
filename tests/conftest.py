"""Shared fixtures: the provisioned model cache, one analyzer, and the evaluation data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_EVAL = REPO.parent / "shared" / "eval"


def shared_eval(name: str = "") -> Path:
    """Return ../shared/eval/<name>, skipping the calling test when it is absent."""
    path = SHARED_EVAL / name
    if not path.exists():
        pytest.skip(f"evaluation data not available: {path}")
    return path


@pytest.fixture(scope="session")
def eval_data():
    """The ``shared_eval`` function as a fixture (test modules should not import conftest)."""
    return shared_eval


@pytest.fixture(scope="session")
def models_root() -> Path:
    """A complete model cache (reference-only models too), provisioned once per session.

    Uses ``$ROSTRO_MODELS`` (or the default cache) and pulls whatever is missing: from
    ``$ROSTRO_TEST_ARCHIVES`` when set, else from the registries, as `rostro models pull` does.
    """
    from rostro.config import models_dir
    from rostro.models.cache import ModelCache
    from rostro.models.pull import pull

    root = models_dir()
    cache = ModelCache(root)
    if not all(entry.present for entry in cache.entries()):
        archives = os.environ.get("ROSTRO_TEST_ARCHIVES")
        pull(cache, from_dir=Path(archives) if archives else None, progress=False,
             everything=True)
    os.environ["ROSTRO_MODELS"] = str(root)
    return root


@pytest.fixture(scope="session")
def analyzer(models_root):
    """One Analyzer for the whole session (models load once, as in the server)."""
    from rostro.models.cache import ModelCache
    from rostro.vision.analyzer import Analyzer

    return Analyzer(ModelCache(models_root))


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """skimage's astronaut photo (Eileen Collins, one frontal face) as BGR."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[..., ::-1])


@pytest.fixture(scope="session")
def cameraman() -> np.ndarray:
    """skimage's cameraman photo (one man in profile-ish view) as BGR."""
    from skimage import data

    gray = data.camera()
    return np.ascontiguousarray(np.stack([gray] * 3, axis=-1))
