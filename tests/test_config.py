"""Settings read in one place (rostro.config) and the BLAS/OpenMP thread limit (rostro.threads)."""

from __future__ import annotations

from pathlib import Path

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from rostro.config import Settings, SettingsError, settings
from rostro.service.settings import ServiceSettings
from rostro.threads import limit_threads


def test_defaults_and_the_home_folder():
    assert Settings.from_environment({}) == Settings(home=Path.home() / ".cache" / "rostro",
                                                     models=Path.home() / ".cache" / "rostro" / "models")
    moved = Settings.from_environment({"ROSTRO_HOME": "/srv/rostro", "ROSTRO_DATABASE_URL": ""})
    assert (moved.models, moved.database_path) == (Path("/srv/rostro/models"), Path("/srv/rostro/rostro.db"))
    assert moved.database_url is None  # set but empty counts as unset
    assert Settings.from_environment({"ROSTRO_MODELS": "/m"}).models == Path("/m")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("ROSTRO_BLAS_THREADS", "two", "whole number"),
    ("ROSTRO_THREADS", "0", "at least 1"),
    ("ROSTRO_APPROXIMATE_FROM", "-5", "at least 0"),
])
def test_a_bad_number_names_its_variable(name, value, message):
    with pytest.raises(SettingsError, match=f"\\${name} must be .*{message}"):
        Settings.from_environment({name: value})


def test_the_process_settings_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ROSTRO_HOME", str(tmp_path))
    monkeypatch.setenv("ROSTRO_APPROXIMATE_FROM", "50")
    assert (settings().home, settings().approximate_from) == (tmp_path, 50)
    monkeypatch.setenv("ROSTRO_BLAS_THREADS", "3")  # no reset needed
    assert settings().blas_threads == 3
    assert ServiceSettings().blas_thread_count() == 3
    assert ServiceSettings(blas_threads=2).blas_thread_count() == 2
    assert ServiceSettings().models_path() == settings().models


def test_one_blas_thread_in_the_test_process():
    """tests/conftest.py limits the pools at start (scripts/test.sh exports nothing)."""
    pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
    assert pools and all(p["num_threads"] == 1 for p in pools)
    with threadpool_limits(limits=1):  # restores the pools however the limit below ends
        assert limit_threads(2) == 2
        assert {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} == {2}
