"""Schema migrations (rostro.store.migrations) on SQLite and PostgreSQL: a database made by
the previous release (tests/data/previous_release, made by release 85e3d61's own code) is
adopted and upgraded to head with its rows intact and readable; an empty database upgraded to
head has exactly the schema the ORM classes declare; concurrent first opens do not race; a
failing revision leaves the database as it was.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import column, inspect, select, table

import rostro.store
from rostro.store import (
    face_cache,
    groups,
    history,
    migrations,
    resources,
    studio_accounts,
    training,
    usage,
)
from rostro.store.db import open_database
from rostro.store.tables import Base
from rostro.studio.accounts import verify_password

PREVIOUS = Path(__file__).resolve().parents[1] / "data" / "previous_release"


def _maker():
    """The script that made the previous release's databases (its constants and embeddings)."""
    spec = importlib.util.spec_from_file_location("previous_release_maker",
                                                  PREVIOUS / "make_database.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKER = _maker()


def _metadata():
    """Base.metadata with every room's tables: each module of rostro.store is imported, so a
    table declared in a new module is compared too."""
    for module in pkgutil.iter_modules(rostro.store.__path__):
        importlib.import_module(f"rostro.store.{module.name}")
    return Base.metadata


def _upgrade_code(connection, metadata) -> str:
    """What the ORM classes have and the migrated schema lacks, as the body of the
    ``upgrade()`` a new revision needs (Alembic's autogenerate output: check it before use)."""
    from alembic.autogenerate import produce_migrations, render_python_code
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return render_python_code(produce_migrations(context, metadata).upgrade_ops)


def assert_schema_is_orm(connection) -> None:
    metadata = _metadata()
    differences = migrations.schema_differences(connection, metadata)
    assert not differences, (
        "the migrated schema differs from the ORM classes: add a revision to "
        "src/rostro/store/migrations/versions/ (see the docstring of rostro.store.migrations)"
        f"; the differences: {differences}\nan upgrade() that would remove them:\n"
        + _upgrade_code(connection, metadata))


@pytest.fixture
def previous_release(request, tmp_path) -> str:
    """A database as the previous release left it (schema_migrations 1-5 and its rows), on
    SQLite or on the session's PostgreSQL server; returns its location."""
    if request.param == "sqlite":
        path = tmp_path / "rostro.db"
        connection = sqlite3.connect(path)
        connection.executescript((PREVIOUS / "sqlite.sql").read_text())
        connection.close()
        return str(path)
    import psycopg

    url = request.getfixturevalue("postgres").create_database()
    # pg_dump's plain SQL (psql meta-commands such as \restrict are not SQL; the committed
    # dump has none, and any that a newer pg_dump adds are skipped here).
    dump = "\n".join(line for line in (PREVIOUS / "postgresql.sql").read_text().splitlines()
                     if not line.startswith("\\"))
    with psycopg.connect(url) as connection:
        connection.execute(dump)
    return url


@pytest.mark.parametrize("previous_release", ["sqlite", "postgresql"], indirect=True)
def test_previous_release_database_upgrades_with_its_rows(previous_release):
    database = open_database(previous_release, create=False)
    now = MAKER.NOW
    with database.transaction() as connection:
        assert migrations.stored_revision(connection) == migrations.head()
        legacy = table("schema_migrations", column("version"))
        assert connection.execute(select(legacy.c.version)).scalars().all() == [1, 2, 3, 4, 5]
        assert_schema_is_orm(connection)

        resource = resources.get_resource(connection, "legacy")
        assert resource.tier == "S0"
        assert resources.authenticate(connection, resource.key2).id == resource.id
        assert not resources.sensitive_attributes_enabled(connection, resource.id)
        assert studio_accounts.descriptions(connection) == {
            resource.id: "made by the previous release"}

        group = groups.get_container(connection, resource.id, groups.PERSON_GROUP, "family")
        assert (group.name, group.user_data, group.face_seq) == ("Family", "group data", 1)
        (person,) = groups.list_persons(connection, group.pk)
        assert (person.name, person.user_data, len(person.persisted_face_ids)) == (
            "Ada", "person data", 1)
        gallery = groups.container_embeddings(connection, group.pk)
        assert list(gallery.person_pks) == [person.pk]
        np.testing.assert_array_equal(gallery.vectors[0], MAKER.unit(1))
        face_list = groups.get_container(connection, resource.id, groups.FACE_LIST, "list")
        assert len(groups.list_faces(connection, face_list.pk)) == 1

        state = training.get_training(connection, group.pk)
        assert (state.status, state.snapshot, state.trained_items) == (
            training.SUCCEEDED, "snapshot-1", 1)
        report = usage.usage_report(connection, "legacy", now)
        assert report.calls_this_minute == 7
        minutes = history.minute_history(connection, resource.id, now)
        assert sum(m.client_errors for m in minutes) == 1
        cached = face_cache.get_face(connection, resource.id,
                                     "00000000-0000-4000-8000-000000000001", now)
        np.testing.assert_array_equal(cached.embedding, MAKER.unit(3))

        assert verify_password(MAKER.PASSWORD, studio_accounts.admin_password_hash(connection))
        assert studio_accounts.get_session(connection, b"t" * 32, now) is not None
        assert len(studio_accounts.signin_failures(connection, "ip:127.0.0.1", now - 1)) == 1

        # New rows continue the old ids (PostgreSQL's sequences came with the dump).
        person_id = groups.create_person(connection, group.pk, "Grace", None, now=now)
        assert groups.get_person(connection, group.pk, person_id).pk > person.pk
        assert resources.create_resource(connection, "newer", "F0").id > resource.id
    database.close()
    reopened = open_database(previous_release, create=False)
    with reopened.transaction() as connection:
        assert migrations.migrate(connection) == []
    reopened.close()


def test_empty_database_upgrades_to_the_orm_schema(database_location):
    database = open_database(database_location)
    with database.transaction() as connection:
        assert migrations.stored_revision(connection) == migrations.head()
        assert not inspect(connection).has_table(migrations.LEGACY_TABLE)
        assert_schema_is_orm(connection)
        assert migrations.migrate(connection) == []
    database.close()


def test_revision_files_form_one_chain():
    """File names, revision ids and down_revisions agree, so ``head()`` (read from the file
    names, without importing Alembic) is Alembic's head."""
    script = migrations._script(())
    revisions = list(reversed(list(script.walk_revisions())))
    ids = [r.revision for r in revisions]
    assert ids == [f"{n:04d}" for n in range(1, len(ids) + 1)]
    assert [r.down_revision for r in revisions] == [None, *ids[:-1]]
    assert all(Path(r.path).name.startswith(f"{r.revision}_") for r in revisions)
    assert script.get_current_head() == migrations.head() == ids[-1]


def test_concurrent_first_opens_migrate_once(database_location):
    """Server workers opening a new database at once: every open succeeds at head."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_it() -> None:
        try:
            barrier.wait(timeout=30)
            open_database(database_location).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    database = open_database(database_location)
    with database.transaction() as connection:
        assert migrations.stored_revision(connection) == migrations.head()
    database.close()


def _revision(folder: Path, revision: str, body: str) -> Path:
    """Write a revision on top of head into ``folder``."""
    folder.mkdir(exist_ok=True)
    (folder / f"{revision}_test.py").write_text(
        f'"""A test revision."""\nfrom alembic import op\n\nrevision = "{revision}"\n'
        f'down_revision = "{migrations.head()}"\nbranch_labels = None\ndepends_on = None\n\n\n'
        f"def upgrade():\n{body}\n")
    return folder


def test_new_revision_applies_once(database_location, tmp_path):
    extra = _revision(tmp_path / "extra", "9001",
                      '    op.execute("CREATE TABLE extra (id INTEGER PRIMARY KEY)")')
    database = open_database(database_location)
    with database.transaction() as connection:
        assert migrations.migrate(connection, [extra]) == ["9001"]
        assert migrations.migrate(connection, [extra]) == []
        assert migrations.stored_revision(connection) == "9001"
    database.close()


def test_failed_revision_leaves_database_unchanged(database_location, tmp_path):
    broken = _revision(tmp_path / "broken", "9002",
                       '    op.execute("CREATE TABLE half (id INTEGER)")\n'
                       '    raise RuntimeError("boom")')
    database = open_database(database_location)
    with pytest.raises(RuntimeError, match="boom"):
        with database.transaction() as connection:
            migrations.migrate(connection, [broken])
    with database.transaction() as connection:
        assert migrations.stored_revision(connection) == migrations.head()
        tables = inspect(connection).get_table_names()
        assert "half" not in tables and "usage_counters" in tables
    database.close()


def test_database_at_an_older_legacy_version_is_upgraded(tmp_path):
    """A database left at schema_migrations version 3 (before resource settings and the
    sign-in throttle) is stamped 0003 and gets 0004 and 0005, its rows kept."""
    path = tmp_path / "rostro.db"
    connection = sqlite3.connect(path)
    connection.executescript((PREVIOUS / "sqlite.sql").read_text())
    connection.executescript("DROP TABLE resource_settings; DROP TABLE studio_signin_failures;"
                             "DELETE FROM schema_migrations WHERE version > 3;")
    connection.close()
    database = open_database(path, create=False)
    with database.transaction() as connection:
        assert migrations.stored_revision(connection) == migrations.head()
        assert_schema_is_orm(connection)
        resource = resources.get_resource(connection, "legacy")
        assert resources.sensitive_attributes_enabled(connection, resource.id)  # the default
        assert len(groups.list_containers(connection, resource.id, groups.PERSON_GROUP)) == 1
    database.close()
