"""Containers, persons, faces and training state on real SQLite files and a real PostgreSQL
server (tests taking ``database`` run on both); the confidence mapping, person templates and
face grouping as plain functions."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout

import numpy as np
import pytest
from sqlalchemy import update

from rostro.api import containers
from rostro.service.matching import (
    SAME_PERSON_COSINE,
    cluster,
    confidence,
    is_identical,
    similarity_for,
)
from rostro.store import groups, training
from rostro.store.db import open_database
from rostro.store.errors import AlreadyExists
from rostro.store.groups import LimitReached, NewFace
from rostro.store.quotas import FACES_PER_PERSON, quota
from rostro.store.resources import create_resource
from rostro.vision.templates import template, templates


@pytest.fixture
def database(database_location):
    db = open_database(database_location)
    with db.transaction() as connection:
        db.resource_id = create_resource(connection, "store-tests", "S0").id
    yield db
    db.close()


def unit(seed: int, dim: int = 128) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def face(seed: int) -> NewFace:
    return NewFace(unit(seed), (1, 2, 30, 40), "detection_01", user_data=f"face {seed}")


def make_group(connection, resource_id: int, kind: str = groups.LARGE_PERSON_GROUP,
               name: str = "g") -> groups.ContainerRow:
    return groups.create_container(connection, resource_id, kind, name, name, None,
                                   "recognition_01")


def test_containers_persons_faces_and_cascade(database):
    with database.transaction() as connection:
        group = make_group(connection, database.resource_id)
        with pytest.raises(AlreadyExists):
            make_group(connection, database.resource_id)
        other_kind = make_group(connection, database.resource_id, groups.PERSON_GROUP)
        assert other_kind.pk != group.pk
        person = groups.create_person(connection, group.pk, "Ann", "data")
        row = groups.get_person(connection, group.pk, person)
        first = groups.add_face(connection, group.pk, face(1), person_pk=row.pk)
        second = groups.add_face(connection, group.pk, face(2), person_pk=row.pk)
        assert groups.get_person(connection, group.pk, person).persisted_face_ids == (first, second)
        faces = groups.container_embeddings(connection, group.pk)
        assert faces.person_pks.tolist() == [row.pk, row.pk]
        np.testing.assert_allclose(faces.vectors[1], unit(2))
        assert len(groups.container_embeddings(connection, group.pk, max_seq=1)) == 1
        groups.delete_container(connection, group.pk)
        assert groups.get_person(connection, group.pk, person) is None
        assert groups.count_faces(connection, group.pk) == 0


def test_row_ids_are_never_reused(database):
    with database.transaction() as connection:
        group = make_group(connection, database.resource_id, groups.LARGE_FACE_LIST)
        groups.add_face(connection, group.pk, face(1))
        last = groups.container_embeddings(connection, group.pk).face_pks[-1]
        groups.delete_face(connection, group.pk, int(last), counts_as_removed=True)
        groups.add_face(connection, group.pk, face(2))
        assert groups.container_embeddings(connection, group.pk).face_pks[-1] > last
        assert groups.get_container_by_pk(connection, group.pk).removed_since_train == 1
        groups.consume_removed(connection, group.pk, 5)
        assert groups.get_container_by_pk(connection, group.pk).removed_since_train == 0


def test_lists_are_in_byte_order(database):
    """Azure lists are ordered by id and paged with ``start``; an English collation would
    put ``a_1`` before ``a-1`` and ``a01``, SQLite (and Rostro on both) compares bytes."""
    ids = ["b", "a01", "a_1", "a-1", "a"]
    with database.transaction() as connection:
        for container_id in ids:
            make_group(connection, database.resource_id, groups.PERSON_GROUP, container_id)
        listed = groups.list_containers(connection, database.resource_id, groups.PERSON_GROUP)
        assert [c.container_id for c in listed] == sorted(ids) == ["a", "a-1", "a01", "a_1", "b"]
        after = groups.list_containers(connection, database.resource_id, groups.PERSON_GROUP,
                                       start="a-1", top=2)
        assert [c.container_id for c in after] == ["a01", "a_1"]
        face_list = make_group(connection, database.resource_id, groups.FACE_LIST, "faces")
        face_ids = [groups.add_face(connection, face_list.pk, face(i)) for i in range(6)]
        assert [f.persisted_face_id for f in groups.list_faces(connection, face_list.pk)] == \
            sorted(face_ids)
        group = make_group(connection, database.resource_id)
        person_ids = [groups.create_person(connection, group.pk, f"p{i}", None)
                      for i in range(6)]
        assert [p.person_id for p in groups.list_persons(connection, group.pk)] == \
            sorted(person_ids)
        # ids differ in case only where a client invents them: exact, case-sensitive matches
        assert groups.get_container(connection, database.resource_id, groups.PERSON_GROUP,
                                    "A") is None


def test_limits(database):
    with database.transaction() as connection:
        make_group(connection, database.resource_id, groups.FACE_LIST, "one")
        with pytest.raises(LimitReached) as containers_full:
            groups.create_container(connection, database.resource_id, groups.FACE_LIST, "two",
                                    "two", None, "recognition_01", limit=1)
        assert containers_full.value.what == "containers"
        group = make_group(connection, database.resource_id)
        person = groups.get_person(connection, group.pk,
                                   groups.create_person(connection, group.pk, "p", None))
        with pytest.raises(LimitReached) as persons_full:
            groups.create_person(connection, group.pk, "q", None, limit=1)
        assert persons_full.value.what == "persons"
        groups.add_face(connection, group.pk, face(1), person_pk=person.pk, person_limit=1)
        with pytest.raises(LimitReached) as person_full:
            groups.add_face(connection, group.pk, face(2), person_pk=person.pk, person_limit=1)
        assert person_full.value.what == "person_faces"
    assert quota("F0", groups.FACE_LIST).faces == 1000
    assert quota("S0", groups.PERSON_GROUP).persons == 10_000
    assert quota("unlimited", groups.LARGE_FACE_LIST).faces is None
    assert FACES_PER_PERSON == 248
    error = containers.PERSON_GROUP.quota_exceeded("containers")
    assert (error.status, error.code) == (403, "QuotaExceeded")


def test_container_writes_are_exact_and_other_containers_do_not_wait(database):
    """Sixteen threads race to add persons to a group with room for five, and faces to one
    person (room for three): exactly five and three get in, with consecutive sequence
    numbers. On PostgreSQL, a write held open in one group does not hold up another group, or
    creating a container on another resource."""
    with database.transaction() as connection:
        group = make_group(connection, database.resource_id, name="race")
        other = make_group(connection, database.resource_id, name="other")
        person = groups.create_person(connection, group.pk, "p", None)
        other_resource = create_resource(connection, "store-tests-2", "S0").id

    def locked(connection, name: str = "race") -> groups.ContainerRow:
        return groups.get_container(connection, database.resource_id,
                                    groups.LARGE_PERSON_GROUP, name, lock=True)

    barrier = threading.Barrier(16)

    def write(i: int) -> bool:
        if i < 16:
            barrier.wait(timeout=30)
        try:
            with database.transaction() as connection:
                row = locked(connection)
                if i % 2:
                    groups.create_person(connection, row.pk, f"p{i}", None, limit=6)
                else:
                    person_pk = groups.get_person(connection, row.pk, person).pk
                    groups.add_face(connection, row.pk, face(i), person_pk=person_pk,
                                    person_limit=3)
            return True
        except LimitReached:
            return False

    with ThreadPoolExecutor(16) as pool:
        assert sum(pool.map(write, range(16))) == 5 + 3
    with database.transaction() as connection:
        assert groups.count_persons(connection, group.pk) == 6
        assert groups.container_embeddings(connection, group.pk).face_pks.size == 3
        assert locked(connection).face_seq == 3
    if database.path is not None:
        return  # SQLite: one writer at a time, by design
    with ThreadPoolExecutor(2) as pool, database.transaction() as held:
        locked(held)

        def elsewhere() -> None:
            with database.transaction() as connection:
                groups.create_person(connection, locked(connection, "other").pk, "q", None)
                make_group(connection, other_resource, name="elsewhere")

        pool.submit(elsewhere).result(timeout=10)
        waiting = pool.submit(write, 17)
        with pytest.raises(FuturesTimeout):
            waiting.result(timeout=0.5)
    assert waiting.result(timeout=10) is False  # the group was full all along
    with database.transaction() as connection:
        assert groups.count_persons(connection, other.pk) == 1


def test_training_runs_operations_and_requests_meanwhile(database):
    t = time.time()
    with database.transaction() as connection:
        group = make_group(connection, database.resource_id)
        first = training.request_training(connection, database.resource_id, group.pk, now=t)
        assert first.due and first.run == 1
        # not claimed yet: the due run will read the faces later, so it serves this one too
        unclaimed = training.request_training(connection, database.resource_id, group.pk,
                                              now=t + 0.5)
        assert not unclaimed.due and unclaimed.run == 1
        claim = training.claim_training(connection, "node-a", now=t + 0.6)
        assert (claim.container_pk, claim.run, claim.attempt) == (group.pk, 1, 1)
        assert training.claim_training(connection, "node-b", now=t + 0.7) is None
        second = training.request_training(connection, database.resource_id, group.pk, now=t + 1)
        assert not second.due and second.run == 2
        state = training.get_training(connection, group.pk)
        assert (state.status, state.owner) == (training.RUNNING, "node-a")
        assert training.finish_run(connection, claim, "snap1", 3, 2, now=t + 2)
        done = training.get_operation(connection, database.resource_id, first.operation_id, t + 2)
        assert (done.status, done.finished_at) == (training.SUCCEEDED, t + 2)
        assert training.get_operation(connection, database.resource_id,
                                      unclaimed.operation_id).status == training.SUCCEEDED
        pending = training.get_operation(connection, database.resource_id, second.operation_id,
                                         t + 2)
        assert pending.status == training.RUNNING and pending.finished_at is None
        state = training.get_training(connection, group.pk)
        assert state.trained and state.snapshot == "snap1" and state.status == training.RUNNING
        assert state.owner is None  # run 2 is due, for any process
        claim = training.claim_training(connection, "node-b", now=t + 2.5)
        assert (claim.run, claim.attempt) == (2, 1)
        assert training.finish_run(connection, claim, None, None, 0, "empty", now=t + 3)
        state = training.get_training(connection, group.pk)
        assert (state.status, state.message, state.snapshot) == ("failed", "empty", "snap1")
        assert training.get_operation(connection, database.resource_id,
                                      second.operation_id).status == training.FAILED
        assert training.get_operation(connection, database.resource_id + 1,
                                      first.operation_id) is None


def test_a_run_whose_lease_runs_out_is_taken_over(database):
    t = time.time()
    with database.transaction() as connection:
        group = make_group(connection, database.resource_id)
        training.request_training(connection, database.resource_id, group.pk, now=t)
        held = training.claim_training(connection, "node-a", lease=10, now=t)
        assert training.renew_leases(connection, "node-a", [group.pk], lease=10,
                                     now=t + 5) == {(group.pk, 1)}
        assert training.claim_training(connection, "node-b", lease=10, now=t + 14) is None
        taken = training.claim_training(connection, "node-b", lease=10, now=t + 16)
        assert (taken.run, taken.attempt, taken.previous_owner) == (1, 2, "node-a")
        # the first owner comes back: it holds nothing, and its outcome is not recorded
        assert training.renew_leases(connection, "node-a", [group.pk], now=t + 17) == set()
        assert not training.finish_run(connection, held, "stale", 1, 1, now=t + 18)
        assert training.finish_run(connection, taken, "fresh", 1, 1, now=t + 19)
        state = training.get_training(connection, group.pk)
        assert (state.status, state.snapshot, state.attempts) == (training.SUCCEEDED, "fresh", 2)
        # a run left "running" by the previous release: an owner, no lease; due at once
        training.request_training(connection, database.resource_id, group.pk, now=t + 20)
        connection.execute(update(training.Training).values(owner="old-release:1:x"))
        taken = training.claim_training(connection, "node-c", now=t + 21)
        assert (taken.run, taken.previous_owner) == (2, "old-release:1:x")


def test_a_run_that_keeps_dying_fails_and_a_given_back_run_is_due_at_once(database):
    t = time.time()
    with database.transaction() as connection:
        group = make_group(connection, database.resource_id)
        asked = training.request_training(connection, database.resource_id, group.pk, now=t)
        claim = training.claim_training(connection, "stopping", lease=10, now=t)
        assert training.release(connection, "stopping", now=t + 1) == 1
        claim = training.claim_training(connection, "node-0", lease=10, now=t + 1)
        assert (claim.attempt, claim.previous_owner) == (1, None)  # a give-back is no attempt
        for attempt in (2, 3):
            claim = training.claim_training(connection, f"node-{attempt}", lease=10,
                                            now=t + 20 * attempt)
            assert claim.attempt == attempt
        assert training.claim_training(connection, "node-4", lease=10, now=t + 100) is None
        state = training.get_training(connection, group.pk)
        assert state.status == training.FAILED
        assert state.message == training.ABANDONED.format(attempts=training.MAX_ATTEMPTS)
        assert training.get_operation(connection, database.resource_id,
                                      asked.operation_id).status == training.FAILED
        again = training.request_training(connection, database.resource_id, group.pk)
        assert again.due and again.run == 2


def test_one_claim_among_racing_processes(database_location):
    """Eight connections claim at once: exactly one gets the run."""
    db = open_database(database_location)
    try:
        with db.transaction() as connection:
            resource = create_resource(connection, "racing", "S0").id
            group = make_group(connection, resource)
            training.request_training(connection, resource, group.pk)
        start = threading.Barrier(8)

        def claim(i: int):
            start.wait()
            with db.transaction() as connection:
                return training.claim_training(connection, f"node-{i}")

        with ThreadPoolExecutor(8) as pool:
            claims = [c for c in pool.map(claim, range(8)) if c is not None]
        assert len(claims) == 1
        with db.transaction() as connection:
            assert training.get_training(connection, group.pk).owner == claims[0].owner
    finally:
        db.close()


def test_training_workers_renew_leases_and_give_runs_back(database, tmp_path):
    """Two training workers on one database: a run longer than the lease stays with the
    worker renewing it; a worker that stops gives its run back and the other takes it at once."""
    from rostro.search import GalleryFiles
    from rostro.server import TRAINED_KINDS
    from rostro.service.trainer import TrainingWorker

    with database.transaction() as connection:
        group = make_group(connection, database.resource_id)
        person = groups.get_person(connection, group.pk,
                                   groups.create_person(connection, group.pk, "p", None))
        groups.add_face(connection, group.pk, face(1), person_pk=person.pk)

    def worker(name: str, pause: float) -> TrainingWorker:
        made = TrainingWorker(database, GalleryFiles(tmp_path / name), TRAINED_KINDS,
                              lease=1.5, poll=0.05, owner=name)
        made.pause = pause
        return made

    def wait_for(condition, what: str):
        deadline = time.monotonic() + 30
        while not (found := condition()):
            assert time.monotonic() < deadline, what
            time.sleep(0.02)
        return found

    def state():
        with database.transaction() as connection:
            return training.get_training(connection, group.pk)

    slow, other = worker("slow", 2.0), worker("other", 0.0)
    with database.transaction() as connection:
        training.request_training(connection, database.resource_id, group.pk)
    slow.start()
    wait_for(lambda: state().owner == "slow", "the first worker claims the run")
    other.start()
    done = wait_for(lambda: state().status != training.RUNNING and state(), "the run ends")
    # the run took longer than the lease, yet, renewed, it was never taken over
    assert (done.status, done.attempts, done.trained_items) == (training.SUCCEEDED, 1, 1)
    slow.stop()
    other.stop()

    stopping, other = worker("stopping", 60.0), worker("other", 0.0)
    with database.transaction() as connection:
        training.request_training(connection, database.resource_id, group.pk)
    stopping.start()
    wait_for(lambda: state().owner == "stopping", "the worker claims the run")
    stopping.stop(grace=0.1)
    assert state().owner is None  # given back: due at once, not after the lease
    other.start()
    done = wait_for(lambda: state().status != training.RUNNING and state(), "the run ends")
    assert (done.status, done.run, done.attempts) == (training.SUCCEEDED, 2, 1)
    other.stop()


def test_state_survives_reopening(database_location):
    path = database_location
    db = open_database(path)
    with db.transaction() as connection:
        resource = create_resource(connection, "kept", "F0").id
        group = make_group(connection, resource)
        groups.add_face(connection, group.pk, face(3),
                        person_pk=groups.get_person(connection, group.pk, groups.create_person(
                            connection, group.pk, "p", None)).pk)
        training.request_training(connection, resource, group.pk)
        claim = training.claim_training(connection, training.process_owner())
        training.finish_run(connection, claim, "snap", 1, 1)
    db.close()
    db = open_database(path)
    with db.transaction() as connection:
        state = training.get_training(connection, group.pk)
        assert (state.status, state.snapshot, state.trained_seq) == ("succeeded", "snap", 1)
        np.testing.assert_allclose(groups.container_embeddings(connection, group.pk).vectors[0],
                                   unit(3))
    db.close()


# ------------------------------------------------------------------------ plain functions

def test_confidence_mapping():
    t = SAME_PERSON_COSINE
    assert confidence(t) == 0.5 and is_identical(confidence(t))
    assert not is_identical(confidence(t - 0.01)) and is_identical(confidence(t + 0.01))
    assert confidence(1.0) == 1.0 and confidence(0.0) == 0.0 and confidence(-0.4) == 0.0
    sims = np.linspace(-1, 1, 201)
    values = confidence(sims)
    assert np.all(np.diff(values) >= 0) and values.min() == 0 and values.max() == 1
    for c in (0.1, 0.5, 0.9):
        assert confidence(similarity_for(c)) == pytest.approx(c, abs=1e-5)


def test_templates_are_unit_means_in_first_seen_order():
    owners = np.array([7, 3, 7, 3, 9])
    vectors = np.stack([unit(i) for i in range(5)])
    ids, rows = templates(owners, vectors)
    assert ids.tolist() == [7, 3, 9]
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-6)
    expected = vectors[[0, 2]].mean(axis=0)
    np.testing.assert_allclose(rows[0], expected / np.linalg.norm(expected), atol=1e-6)
    np.testing.assert_allclose(template(vectors[4:5]), vectors[4], atol=1e-6)


def test_cluster_groups_same_person_and_leaves_strangers_alone():
    rng = np.random.default_rng(0)
    centres = [unit(100 + i) for i in range(3)]
    rows, truth = [], []
    for person, centre in enumerate(centres):
        for _ in range(4):
            noisy = centre + 0.08 * rng.normal(size=128)
            rows.append(noisy / np.linalg.norm(noisy))
            truth.append(person)
    rows.append(unit(999))  # a stranger
    truth.append(-1)
    clusters = cluster(np.stack(rows).astype(np.float32))
    assert sorted(len(c) for c in clusters) == [1, 4, 4, 4]
    for members in clusters:
        assert len({truth[i] for i in members}) == 1
