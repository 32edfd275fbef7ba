"""One trained gallery for every node: PostgreSQL with pgvector (the pgserver wheel's
PostgreSQL 16, tests/postgres_server.py ``start_pgvector``; skipped without it).

Two real `rostro serve` processes on one database, each with its own home: a group trained
through one is identified through the other at once, with no index file on either node;
faces added after training are not found until the next training (Azure's snapshot
semantics). Below, the store itself on the same server (its tables made by migration 0007):
exact and HNSW snapshots against
numpy's exact answer, the rebuild of a snapshot the database lacks, and retiring old ones.
(The start-up warning on a server without pgvector is asserted in test_postgres_service.py,
on Debian's PostgreSQL.)
"""

from __future__ import annotations

import time
import uuid

import numpy as np
import pytest
from api_service import STREAM, Api, stop_service
from sqlalchemy import inspect
from test_postgres_service import face_id, identify, start_both

from rostro.search import Gallery
from rostro.search.errors import SearchError
from rostro.search.pgvector_store import SharedGalleries, prepare
from rostro.search.synthetic import clustered_gallery, probe_queries
from rostro.store.db import open_database


def wait_trained(api: Api, group: str) -> dict:
    deadline = time.monotonic() + 60
    while (status := api.ok("GET", f"/persongroups/{group}/training"))["status"] not in (
            "succeeded", "failed"):
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    assert status["status"] == "succeeded", status
    return status


def test_a_group_trained_on_one_node_is_identified_on_another_at_once(
        pgvector_server, tmp_path, models_root, photos):
    url = pgvector_server.create_database()
    homes = (tmp_path / "home-a", tmp_path / "home-b")
    a, b = start_both(homes, models_root, url, flag_first=True)
    try:
        for server in (a, b):
            assert "not shared" not in server.log.read_text(errors="replace")
        api_a, api_b = Api(a.base, a.default_key), Api(b.base, b.default_key)
        api_a.ok("PUT", "/persongroups/friends", json={"name": "friends"})
        eileen = api_a.ok("POST", "/persongroups/friends/persons", json={"name": "E"})["personId"]
        other = api_a.ok("POST", "/persongroups/friends/persons", json={"name": "C"})["personId"]
        api_a.ok("POST", f"/persongroups/friends/persons/{eileen}/persistedfaces",
                 data=photos["eileen"], headers=STREAM)
        api_a.ok("POST", f"/persongroups/friends/persons/{other}/persistedfaces",
                 data=photos["cameraman"], headers=STREAM)
        api_a.ok("POST", "/persongroups/friends/train")
        wait_trained(api_a, "friends")
        probe = face_id(api_b, photos["eileen-probe"])
        assert identify(api_b, probe, "friends") == eileen  # b never built anything
        assert not list(homes[1].rglob("*.idx")) and not list(homes[0].rglob("*.idx"))

        # -- snapshot semantics: a face added after training is not found until training
        twin = api_b.ok("POST", "/persongroups/friends/persons", json={"name": "T"})["personId"]
        api_b.ok("POST", f"/persongroups/friends/persons/{twin}/persistedfaces",
                 data=photos["eileen-probe"], headers=STREAM)
        assert identify(api_a, probe, "friends") == eileen
        api_b.ok("POST", "/persongroups/friends/train")
        wait_trained(api_a, "friends")
        assert identify(api_a, probe, "friends") == twin  # the probe's own photo wins now
        assert identify(api_b, probe, "friends") == twin
    finally:
        stop_service(a.process)
        stop_service(b.process)


@pytest.fixture(scope="module")
def store(pgvector_server):
    location = pgvector_server.create_database()
    database = open_database(location)  # migration 0007: the extension and the tables
    try:
        with database.transaction() as connection:
            found = inspect(connection)
            assert found.has_table("trained_galleries") and found.has_table("trained_vectors")
        assert prepare(database.engine).ready
    finally:
        database.close()
    shared = SharedGalleries(location.replace("postgresql://", "postgresql+psycopg://"))
    yield shared
    shared.close()


@pytest.mark.parametrize("approximate", [False, True], ids=["exact", "hnsw"])
def test_store_search_matches_exact_search(store, approximate):
    gallery = clustered_gallery(2000, seed=3)
    queries, _ = probe_queries(gallery, 20)
    store.approximate = 1 if approximate else None
    try:
        published = store.publish(f"r/lists/{approximate}", uuid.uuid4().hex, gallery.ids,
                                  gallery.embeddings)
    finally:
        store.approximate = None
    assert published.approximate is approximate
    hits = store.search(published, queries, 5)
    sims = queries @ gallery.embeddings.T
    for row, found in zip(sims, hits, strict=True):
        best = np.argsort(-row)[:5]
        assert found.ids[0] == best[0]
        np.testing.assert_allclose(found.similarities, row[found.ids], atol=1e-5)
        assert list(found.similarities) == sorted(found.similarities, reverse=True)
        if not approximate:
            assert list(found.ids) == list(best)


def test_store_publishes_a_missing_snapshot_once_and_keeps_the_last_two(store):
    gallery = clustered_gallery(50, seed=4)
    built = []

    def rebuild() -> Gallery:
        built.append(1)
        return Gallery.build(gallery.ids, gallery.embeddings, persons=gallery.ids,
                             snapshot=snapshots[0], backend="exact")

    snapshots = [uuid.uuid4().hex for _ in range(3)]
    first = store.open("r", "persongroups", "g", snapshots[0], rebuild)
    again = store.open("r", "persongroups", "g", snapshots[0], rebuild)
    assert built == [1] and len(first) == len(again) == 50
    [hit] = first.identify(gallery.embeddings[7], 1)
    assert hit.ids.tolist() == [7]
    for snapshot in snapshots[1:]:
        store.save("r", "persongroups", "g", Gallery.build(
            gallery.ids[:10], gallery.embeddings[:10], snapshot=snapshot, backend="exact"))
    store.clear_cache()
    assert store.lookup(snapshots[0]) is None  # the third newest is gone
    assert [store.lookup(s).faces for s in snapshots[1:]] == [10, 10]
    with pytest.raises(SearchError):
        store.open("r", "persongroups", "g", snapshots[2], rebuild).identify(
            gallery.embeddings[0], 1)  # a face list's gallery has no persons
    store.discard("r", "persongroups", "g")
    store.clear_cache()
    assert all(store.lookup(s) is None for s in snapshots)
