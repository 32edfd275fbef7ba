"""The store on real SQLite files and a real PostgreSQL server (each test that takes
``database`` or ``database_location`` runs on both): keys, tier windows, the
faceId cache, choosing the database by URL, and exact admission under concurrent calls
(migrations: test_migrations.py)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from rostro.store import migrations
from rostro.store.db import URL_VARIABLE, open_database, parse_location
from rostro.store.errors import AlreadyExists, InvalidName, NotFound, UnsupportedDatabase
from rostro.store.face_cache import StoredFace, get_face, get_faces, purge_expired, save_faces
from rostro.store.resources import (
    authenticate,
    create_resource,
    ensure_default,
    get_resource,
    list_resources,
    regenerate_key,
    set_tier,
)
from rostro.store.tables import Base
from rostro.store.usage import admit, month_bounds, record_calls, usage_report


@pytest.fixture
def database(database_location):
    db = open_database(database_location)
    yield db
    db.close()


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_file_is_private_durable_and_in_wal_mode(tmp_path):
    database = open_database(tmp_path / "rostro.db")
    assert database.path.stat().st_mode & 0o777 == 0o600
    with database.transaction() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # FULL (2): a commit is fsynced before it is acknowledged (docs/security.md)
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.close()


def test_database_is_chosen_by_path_or_url(tmp_path, monkeypatch):
    monkeypatch.setenv("ROSTRO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    database = open_database()
    assert database.path == tmp_path / "home" / "rostro.db" and database.path.exists()
    database.close()
    monkeypatch.setenv(URL_VARIABLE, f"sqlite:///{tmp_path / 'by-url.db'}")
    database = open_database()
    assert database.path == tmp_path / "by-url.db"
    assert database.local_directory == tmp_path
    database.close()
    assert parse_location("postgres://u:secret@db.example:5433/rostro").drivername == \
        "postgresql+psycopg"
    assert parse_location("relative/rostro.db") == Path("relative/rostro.db")
    for unsupported in ("mysql://u@h/db", "sqlite://", "postgresql+asyncpg://u@h/db"):
        with pytest.raises(UnsupportedDatabase):
            parse_location(unsupported)
    with pytest.raises(FileNotFoundError):
        open_database(tmp_path / "absent.db", create=False)


def test_postgresql_database_by_url(postgres, tmp_path, monkeypatch):
    url = postgres.create_database()
    with pytest.raises(FileNotFoundError, match="no Rostro tables"):
        open_database(url, create=False)
    monkeypatch.setenv("ROSTRO_HOME", str(tmp_path))
    monkeypatch.setenv(URL_VARIABLE, url.replace("//postgres@", "//postgres:pw@"))
    database = open_database()
    assert database.path is None and database.local_directory == tmp_path
    assert "pw" not in database.location and database.location.startswith("postgresql+psycopg")
    with database.transaction() as connection:
        assert connection.dialect.name == "postgresql"
        assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
        # a process stopped mid-transaction releases its locks after a minute
        assert connection.exec_driver_sql(
            "SHOW idle_in_transaction_session_timeout").scalar() == "1min"
        assert migrations.stored_revision(connection) == migrations.head()
    with database.snapshot() as connection:  # pages that read many things see one moment
        assert connection.exec_driver_sql("SHOW transaction_isolation").scalar() == \
            "repeatable read"
        assert connection.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
        assert list_resources(connection) == []
    with database.transaction() as connection:  # the pool's connections are as before
        assert connection.exec_driver_sql("SHOW transaction_isolation").scalar() == \
            "read committed"
    database.close()
    open_database(url, create=False).close()


def test_concurrent_admissions_are_exact(database):
    """Eighty threads, each on its own connection, race for the calls of four resources at
    once: F0's twenty a minute, S0's ten a second, the last five of an F0 month (the minute's
    room does not matter there), and an unlimited resource whose calls straddle a second
    (as calls whose clocks differ do; none may deadlock): exactly that many are admitted."""
    now = at("2026-03-10T12:00:10")
    with database.transaction() as connection:
        f0, s0, month, clocks = (
            authenticate(connection, create_resource(connection, name, tier).key1)
            for name, tier in (("race", "F0"), ("race-s0", "S0"), ("race-month", "F0"),
                               ("race-clocks", "unlimited")))
        record_calls(connection, month.id, 29_995, now, windows=("month",))
        record_calls(connection, clocks.id, 1, now)  # a second that later calls drop
    calls = 80
    barrier = threading.Barrier(calls)

    def call(i: int) -> tuple[str, bool]:
        resource = (f0, s0, month, clocks)[i % 4]
        when = now + 0.5 * (i % 3) if resource is clocks else now
        barrier.wait(timeout=30)
        with database.transaction() as connection:
            return resource.name, admit(connection, resource, when).allowed

    with ThreadPoolExecutor(calls) as pool:
        outcomes = list(pool.map(call, range(calls)))
    admitted = {name: sum(ok for n, ok in outcomes if n == name) for name, _ in outcomes}
    assert admitted == {"race": 20, "race-s0": 10, "race-month": 5, "race-clocks": 20}
    with database.transaction() as connection:
        assert usage_report(connection, "race", now).calls_this_minute == 20
        assert usage_report(connection, "race-s0", now).calls_this_second == 10
        month_report = usage_report(connection, "race-month", now)
        assert (month_report.calls_this_month, month_report.calls_this_minute) == (30_000, 5)
        assert usage_report(connection, "race-clocks", now).calls_this_minute == 21


def test_resources_do_not_wait_for_each_other(postgres):
    """On PostgreSQL, an admission left uncommitted on one resource holds up that resource's
    next admission only: another resource's call is admitted meanwhile, and the held-up one
    is counted exactly once the first commits. (SQLite runs writers one at a time.)"""
    database = open_database(postgres.create_database())
    now = at("2026-03-10T12:00:10")
    with database.transaction() as connection:
        busy, free = (authenticate(connection, create_resource(connection, name, "F0").key1)
                      for name in ("busy", "free"))

    def admit_now(resource) -> bool:
        with database.transaction() as connection:
            return admit(connection, resource, now).allowed

    try:
        with ThreadPoolExecutor(2) as pool:
            with database.transaction() as held:
                assert admit(held, busy, now).allowed
                waiting = pool.submit(admit_now, busy)
                assert pool.submit(admit_now, free).result(timeout=10)
                with pytest.raises(FuturesTimeout):
                    waiting.result(timeout=0.5)
            assert waiting.result(timeout=10)
        with database.transaction() as connection:
            assert usage_report(connection, "busy", now).calls_this_minute == 2
            assert usage_report(connection, "free", now).calls_this_minute == 1
    finally:
        database.close()


def test_tables_declared_on_base():
    assert {"resources", "api_keys", "usage_counters", "face_ids"} <= set(Base.metadata.tables)


def test_resources_and_keys(database):
    with database.transaction() as connection:
        default, created = ensure_default(connection)
        assert created and default.name == "default" and default.tier == "F0"
        assert ensure_default(connection) == (default, False)
        other = create_resource(connection, "team-a", "S0")
        with pytest.raises(AlreadyExists):
            create_resource(connection, "team-a", "S0")
        with pytest.raises(InvalidName):
            create_resource(connection, "-bad", "S0")
        with pytest.raises(InvalidName):
            create_resource(connection, "fine", "P1")
        with pytest.raises(NotFound):
            get_resource(connection, "nope")
        assert [r.name for r in list_resources(connection)] == ["default", "team-a"]
        assert authenticate(connection, other.key1).name == "team-a"
        assert authenticate(connection, other.key2).name == "team-a"
        assert authenticate(connection, default.key1).name == "default"
        assert authenticate(connection, other.key1[:-1]) is None
        assert authenticate(connection, "") is None
        rotated = regenerate_key(connection, "team-a", 2)
        assert rotated.key1 == other.key1 and rotated.key2 != other.key2
        assert authenticate(connection, other.key2) is None
        assert authenticate(connection, rotated.key2).name == "team-a"
        assert set_tier(connection, "team-a", "F0").tier == "F0"


def test_f0_minute_window(database):
    now = at("2026-03-10T12:00:10")
    with database.transaction() as connection:
        resource = authenticate(connection, create_resource(connection, "f0", "F0").key1)
        for i in range(20):
            assert admit(connection, resource, now + i).allowed
        refused = admit(connection, resource, now + 25.5)
        assert (refused.allowed, refused.reason, refused.retry_after) == (False, "rate", 25)
        assert admit(connection, resource, now + 50).allowed  # next minute
        report = usage_report(connection, "f0", now + 50)
        assert report.calls_this_minute == 1 and report.calls_this_month == 21
        assert report.rate_remaining == 19 and report.month_remaining == 29_979


def test_f0_month_quota_and_reset(database):
    now = at("2026-02-27T08:00:00")
    with database.transaction() as connection:
        resource = authenticate(connection, create_resource(connection, "quota", "F0").key1)
        record_calls(connection, resource.id, 29_999, now, windows=("month",))
        assert admit(connection, resource, now).allowed
        later = now + 1
        refused = admit(connection, resource, later)
        assert (refused.allowed, refused.reason) == (False, "quota")
        assert refused.retry_after == int(at("2026-03-01T00:00:00") - later)
        assert admit(connection, resource, at("2026-03-01T00:00:01")).allowed


def test_s0_second_window(database):
    now = at("2026-03-10T12:00:00")
    with database.transaction() as connection:
        resource = authenticate(connection, create_resource(connection, "s0", "S0").key1)
        assert all(admit(connection, resource, now + 0.05 * i).allowed for i in range(10))
        refused = admit(connection, resource, now + 0.6)
        assert (refused.allowed, refused.reason, refused.retry_after) == (False, "rate", 1)
        assert admit(connection, resource, now + 1.0).allowed
        report = usage_report(connection, "s0", now + 1.0)
        assert report.monthly_quota is None and report.rate_window == "second"


def test_month_bounds():
    assert month_bounds(at("2024-02-15T00:00:00")) == (int(at("2024-02-01T00:00:00")),
                                                       int(at("2024-03-01T00:00:00")))
    assert month_bounds(at("2026-12-31T23:59:59"))[1] == int(at("2027-01-01T00:00:00"))


def test_face_id_cache(database):
    now = time.time()
    with database.transaction() as connection:
        a = create_resource(connection, "faces-a", "S0")
        b = create_resource(connection, "faces-b", "S0")
        vector = np.arange(128, dtype=np.float32) / 128
        short = StoredFace("11111111-1111-1111-1111-111111111111", a.id, "recognition_04",
                           "detection_03", vector, now, now + 60)
        long = StoredFace("22222222-2222-2222-2222-222222222222", a.id, "recognition_01",
                          "detection_01", vector, now, now + 3600)
        save_faces(connection, [short, long], now)
        found = get_face(connection, a.id, short.face_id, now + 1)
        assert found.recognition_model == "recognition_04"
        assert np.array_equal(found.embedding, vector)
        assert get_face(connection, b.id, short.face_id, now + 1) is None
        assert set(get_faces(connection, a.id, [short.face_id, long.face_id, "x"], now + 61)) == {
            long.face_id}
        assert purge_expired(connection, now + 61) == 1
        assert purge_expired(connection, now + 61) == 0
