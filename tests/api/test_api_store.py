"""The store on real SQLite files: migrations, keys, tier windows, the faceId cache."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import numpy as np
import pytest

from rostro.store import migrations
from rostro.store.db import open_database
from rostro.store.errors import AlreadyExists, InvalidName, NotFound
from rostro.store.faces import StoredFace, get_face, get_faces, purge_expired, save_faces
from rostro.store.models import Base
from rostro.store.resources import (
    authenticate, create_resource, ensure_default, get_resource, list_resources, regenerate_key,
    set_tier,
)
from rostro.store.usage import admit, month_bounds, record_calls, usage_report


@pytest.fixture
def database(tmp_path):
    db = open_database(tmp_path / "rostro.db")
    yield db
    db.close()


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def test_file_is_private_and_in_wal_mode(database):
    assert database.path.stat().st_mode & 0o777 == 0o600
    with database.transaction() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_migrations_run_once_and_new_ones_apply(tmp_path):
    db = open_database(tmp_path / "m.db")
    with db.transaction() as connection:
        assert migrations.current_version(connection) == len(migrations.MIGRATIONS)
        assert migrations.migrate(connection) == []
    created = []

    def add_table(connection):
        connection.exec_driver_sql("CREATE TABLE extra (id INTEGER PRIMARY KEY)")
        created.append(True)

    extra = migrations.MIGRATIONS + [migrations.Migration(99, "extra table", add_table)]
    with db.transaction() as connection:
        assert migrations.migrate(connection, extra) == [99]
        assert migrations.migrate(connection, extra) == []
        assert migrations.current_version(connection) == 99
    assert created == [True]
    db.close()


def test_failed_migration_leaves_database_unchanged(tmp_path):
    db = open_database(tmp_path / "f.db")

    def broken(connection):
        connection.exec_driver_sql("CREATE TABLE half (id INTEGER)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        with db.transaction() as connection:
            migrations.migrate(connection, migrations.MIGRATIONS + [
                migrations.Migration(50, "broken", broken)])
    with db.transaction() as connection:
        assert migrations.current_version(connection) == max(
            m.version for m in migrations.MIGRATIONS)
        tables = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type='table'").scalars().all()
        assert "half" not in tables
    db.close()


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
