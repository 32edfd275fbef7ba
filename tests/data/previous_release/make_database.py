"""Make the database of the previous release (commit 85e3d61, schema_migrations 1-5) that
tests/api/test_migrations.py upgrades. Run once, through THAT release's public functions, then
dump: the dumps beside this script are what the test loads (no git history at test time).

    mkdir /tmp/rostro-85e3d61; git archive 85e3d61 src | tar -x -C /tmp/rostro-85e3d61
    PYTHONPATH=/tmp/rostro-85e3d61/src python tests/data/previous_release/make_database.py \
        /tmp/old.db          # or a postgresql://... URL of an empty database
    python -c "import sqlite3; print('\\n'.join(sqlite3.connect('/tmp/old.db').iterdump()))" \
        > tests/data/previous_release/sqlite.sql
    pg_dump --inserts --no-owner --no-privileges URL | grep -v '^\\\\' \
        > tests/data/previous_release/postgresql.sql      # without psql's \\restrict lines

Every value is fixed (times, names, embeddings, the salt of the password hash) except the
uuids the release draws for persons, faces and operations; the test finds those by listing.
"""

from __future__ import annotations

import sys

import numpy as np

from rostro.store import face_cache, groups, history, studio_accounts, training, usage
from rostro.store.db import open_database
from rostro.store.resources import create_resource, set_sensitive_attributes
from rostro.studio.accounts import hash_password

NOW = 1_780_000_000.0  # 2026-05-28, well inside the windows the test reads at NOW
PASSWORD = "previous-release"  # noqa: S105 (a test fixture's password)
DIM = 128


def unit(seed: int) -> np.ndarray:
    """A fixed unit embedding."""
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def main(location: str) -> None:
    database = open_database(location)
    with database.transaction() as connection:
        resource = create_resource(connection, "legacy", "S0", now=NOW)
        set_sensitive_attributes(connection, "legacy", False)
        studio_accounts.set_description(connection, resource.id, "made by the previous release")
        group = groups.create_container(connection, resource.id, groups.PERSON_GROUP, "family",
                                        "Family", "group data", "recognition_04", now=NOW)
        person_id = groups.create_person(connection, group.pk, "Ada", "person data", now=NOW)
        person = groups.get_person(connection, group.pk, person_id)
        groups.add_face(connection, group.pk,
                        groups.NewFace(unit(1), (10, 20, 30, 40), "detection_03", "face data"),
                        person_pk=person.pk, now=NOW)
        face_list = groups.create_container(connection, resource.id, groups.FACE_LIST, "list",
                                            "List", None, "recognition_04", now=NOW)
        groups.add_face(connection, face_list.pk,
                        groups.NewFace(unit(2), (1, 2, 3, 4), "detection_01"), now=NOW)
        request = training.request_training(connection, resource.id, group.pk, owner="maker",
                                            now=NOW)
        training.finish_run(connection, group.pk, request.run, "snapshot-1", 1, 1, now=NOW + 5)
        usage.record_calls(connection, resource.id, calls=7, now=NOW)
        history.record_error(connection, resource.id, 429, now=NOW)
        face_cache.save_faces(connection, [face_cache.StoredFace(
            "00000000-0000-4000-8000-000000000001", resource.id, "recognition_04",
            "detection_03", unit(3), NOW, NOW + 86_400)], now=NOW)
        studio_accounts.set_admin_password_hash(
            connection, hash_password(PASSWORD, salt=b"previous-release"), now=NOW)
        studio_accounts.create_session(connection, b"t" * 32, "csrf", 3600.0, now=NOW)
        studio_accounts.record_signin_failure(connection, ("ip:127.0.0.1",), NOW, 900.0)
    database.close()


if __name__ == "__main__":
    main(sys.argv[1])
