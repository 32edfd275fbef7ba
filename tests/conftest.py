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


# Test tiers. Marks are added here, from what a test uses, so no test file has to remember
# them: `-m "not slow"` is the quick run (see docs/development.md), `-m "not browser"` skips
# Chromium, `-m "not postgres"` the PostgreSQL server, `-m "not models"` the model cache.
# The quick run leaves these modules out: each took more than 20 s on the 2-core development
# VM (per-module sums of a `--junitxml` run), or starts its own servers, browser, PostgreSQL,
# converters or head fits. test_api_detect (21 s) stays in: it is the core of the contract.
SLOW_MODULES = frozenset({
    "tests/api/test_api_cli.py",
    "tests/api/test_api_clients.py",
    "tests/api/test_api_hostile.py",
    "tests/api/test_api_openapi.py",
    "tests/api/test_api_workers.py",
    "tests/api/test_cluster.py",
    "tests/api/test_eval_client_flow.py",
    "tests/api/test_pgvector_service.py",
    "tests/api/test_postgres_service.py",
    "tests/api/test_quickstarts.py",
    "tests/api/test_recognition_api.py",
    "tests/api/test_recognition_sdk.py",
    "tests/api/test_recognition_v12.py",
    "tests/api/test_api_tiers.py",
    "tests/studio/test_studio_e2e.py",
    "tests/studio/test_studio_http.py",
    "tests/studio/test_studio_security.py",
    "tests/test_attributes_heads.py",
    "tests/test_cli_ray.py",
    "tests/test_convert.py",
    "tests/test_convert_faceapi.py",
    "tests/test_convert_keras.py",
    "tests/test_eval_detection.py",
    "tests/test_eval_identification.py",
    "tests/test_eval_quality.py",
    "tests/test_eval_verification.py",
    "tests/test_eval_wild.py",
    "tests/test_notebooks.py",
    "tests/test_provisioning.py",
    "tests/test_search.py",
    "tests/test_tfjs_convert.py",
    "tests/test_wheel.py",
})
BROWSER_FIXTURES = frozenset({"browser", "page"})
# Run first: with `-n 2 --dist loadfile` (scripts/test.sh) each module goes whole to one
# worker in collection order, so the longest module (the head reproduction, ~4 of the ~9
# minutes on one core) must start at once on one worker while the other takes the rest;
# collected last, it would start when the rest is nearly done and double the wall time.
FIRST_MODULES = ("tests/test_attributes_heads.py",)


def pytest_configure(config):
    """One BLAS/OpenMP thread in the test process (rostro.threads says why; servers the tests
    start limit their own): models, servers and the tests run side by side on two cores."""
    # skimage's test images load scipy's own OpenBLAS later: loaded now, the limit reaches it
    # too (otherwise whichever test imports skimage first leaves a 2-thread pool behind it).
    import scipy.linalg  # noqa: F401

    from rostro.threads import limit_threads

    limit_threads()


def pytest_collection_modifyitems(config, items):
    """Mark each test ``models``, ``postgres``, ``browser`` and ``slow`` as it qualifies, and
    move the tests of ``FIRST_MODULES`` to the front (a stable sort: the rest keep their order)."""
    def module(item) -> str:
        return Path(str(item.fspath)).relative_to(REPO).as_posix()

    items.sort(key=lambda item: module(item) not in FIRST_MODULES)
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "models_root" in fixtures:
            item.add_marker(pytest.mark.models)
        if (fixtures & {"postgres", "pgvector_server"}
                or params.get("database_location") == "postgresql"):
            item.add_marker(pytest.mark.postgres)
        if fixtures & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if module(item) in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
