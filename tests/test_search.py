"""Gallery search: exact = brute force, HNSW recall, persistence, rebuild, persons, edge cases.

Synthetic embeddings only (rostro.search.synthetic); timings live in benchmarks/bench_search.py.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from rostro.search import (
    BACKENDS,
    ExactIndex,
    Gallery,
    GalleryFiles,
    GalleryIndex,
    HnswIndex,
    IndexCorrupt,
    IndexMissing,
    IndexStale,
    InvalidEmbeddings,
    SearchError,
    choose_backend,
    exact,
    hnsw,
    load_index,
)
from rostro.search.synthetic import clustered_gallery, normalize, probe_queries

DIM = 96  # not SFace's 128 on purpose: nothing may assume a dimension


def brute_force(embeddings: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference ranking: float64 similarities, full sort, ties by position."""
    sims = embeddings.astype(np.float64) @ query.astype(np.float64)
    order = np.lexsort((np.arange(len(sims)), -sims))[:k]
    return order, sims[order]


def person_brute_force(g, query: np.ndarray, k: int) -> list[int]:
    """Reference identify: each person's best face, persons sorted by it."""
    sims = g.embeddings.astype(np.float64) @ query.astype(np.float64)
    best = np.full(g.persons.max() + 1, -np.inf)
    np.maximum.at(best, g.persons, sims)
    return np.argsort(-best, kind="stable")[:k].tolist()


@pytest.fixture(scope="module")
def gallery():
    return clustered_gallery(3000, dim=DIM, seed=3)


@pytest.fixture(scope="module")
def queries(gallery):
    return probe_queries(gallery, 40, seed=4)[0]


# --- exact -------------------------------------------------------------------------------


def test_backends_satisfy_the_protocol(gallery):
    for cls in BACKENDS.values():
        index = cls.build(gallery.ids[:50], gallery.embeddings[:50])
        assert isinstance(index, GalleryIndex)
        assert index.dim == DIM and len(index) == 50 and index.nbytes >= 50 * DIM * 4


@pytest.mark.parametrize("k", [1, 10, 3000, 5000])
def test_exact_equals_brute_force(gallery, queries, k, monkeypatch):
    monkeypatch.setattr(exact, "BLOCK_ELEMENTS", 3000 * 7)  # several query blocks
    ids = gallery.ids + 1000  # ids are not positions
    index = ExactIndex.build(ids, gallery.embeddings)
    hits = index.search(queries, k)
    assert len(hits) == len(queries)
    for query, got in zip(queries, hits):
        order, sims = brute_force(gallery.embeddings, query, k)
        assert got.similarities.dtype == np.float32
        assert got.ids[:10].tolist() == (order[:10] + 1000).tolist()
        # Deeper down float32 and float64 may swap faces whose similarities differ by
        # ~1e-7: the same set, and at every rank the same similarity, is what exact means.
        assert sorted(got.ids.tolist()) == sorted((order + 1000).tolist())
        np.testing.assert_allclose(got.similarities, sims, atol=1e-5)
        truth = gallery.embeddings.astype(np.float64) @ query.astype(np.float64)
        np.testing.assert_allclose(got.similarities, truth[got.ids - 1000], atol=1e-5)


def test_exact_single_query_and_ties():
    rows = normalize(np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [1, 0, 0], [0.6, 0.8, 0]]))
    index = ExactIndex.build(np.array(["a", "b", "c", "d", "e"]), rows)
    (hits,) = index.search(np.array([1.0, 0.0, 0.0]), 2)  # three-way tie for first
    assert list(hits) == [("a", 1.0), ("c", 1.0)]
    (hits,) = index.search(np.array([1.0, 0.0, 0.0]), 4)
    assert hits.ids.tolist() == ["a", "c", "d", "e"]


# --- approximate -------------------------------------------------------------------------


def test_hnsw_recall_at_1_on_clustered_gallery():
    g = clustered_gallery(20000, dim=128, faces_per_person=4, seed=5)
    queries, true_persons = probe_queries(g, 400, seed=6)
    exact_top = [h.ids[0] for h in ExactIndex.build(g.ids, g.embeddings).search(queries, 1)]
    approx = HnswIndex.build(g.ids, g.embeddings)
    approx_hits = approx.search(queries, 10)
    recall = np.mean([h.ids[0] == e for h, e in zip(approx_hits, exact_top)])
    assert recall >= 0.95, recall
    wider = approx.with_ef_search(256).search(queries, 1)  # same graph, longer candidate list
    assert np.mean([h.ids[0] == e for h, e in zip(wider, exact_top)]) >= recall
    # Sanity of the synthetic data: the exact top face is nearly always the right person.
    assert np.mean(g.persons[np.array(exact_top)] == true_persons) >= 0.95
    # Similarities are exact inner products of the faces found, best first.
    for query, h in zip(queries[:20], approx_hits[:20]):
        np.testing.assert_allclose(h.similarities, g.embeddings[h.ids] @ query, atol=1e-5)
        assert np.all(np.diff(h.similarities) <= 1e-6)


def test_hnsw_k_larger_than_gallery(gallery):
    index = HnswIndex.build(gallery.ids[:7], gallery.embeddings[:7])
    (hits,) = index.search(gallery.embeddings[0], 50)
    assert sorted(hits.ids.tolist()) == list(range(7))
    assert hits.ids[0] == 0


# --- persistence -------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["exact", "hnsw"])
def test_save_load_round_trip(gallery, queries, backend, tmp_path):
    ids = np.array([f"face-{i:05d}" for i in gallery.ids])  # UUID-like string ids survive
    index = BACKENDS[backend].build(ids, gallery.embeddings)
    path = tmp_path / "x.idx"
    index.save(path)
    for loaded in (BACKENDS[backend].load(path), load_index(path)):
        assert type(loaded) is type(index) and len(loaded) == len(index)
        assert loaded.ids.dtype.kind == "U"
        for before, after in zip(index.search(queries, 5), loaded.search(queries, 5)):
            assert before.ids.tolist() == after.ids.tolist()
            np.testing.assert_array_equal(before.similarities, after.similarities)
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temp file


@pytest.mark.parametrize("backend", ["exact", "hnsw"])
def test_gallery_round_trip_keeps_persons_and_snapshot(gallery, queries, backend, tmp_path):
    trained = Gallery.build(gallery.ids, gallery.embeddings, gallery.persons, "train-1", backend)
    trained.save(tmp_path / "g.idx")
    loaded = Gallery.load(tmp_path / "g.idx", snapshot="train-1")
    assert loaded.snapshot == "train-1" and loaded.index.kind == backend
    assert loaded.n_persons == trained.n_persons == 750
    for before, after in zip(trained.identify(queries, 3), loaded.identify(queries, 3)):
        assert list(before) == list(after)


def test_corrupt_missing_and_stale_files(gallery, tmp_path):
    trained = Gallery.build(gallery.ids, gallery.embeddings, gallery.persons, "train-1")
    path = tmp_path / "g.idx"
    trained.save(path)
    data = bytearray(path.read_bytes())

    flipped = tmp_path / "flipped.idx"
    data_flipped = bytearray(data)
    data_flipped[len(data) // 2] ^= 0xFF  # inside the embedding matrix
    flipped.write_bytes(bytes(data_flipped))
    truncated = tmp_path / "truncated.idx"
    truncated.write_bytes(bytes(data[: len(data) // 3]))
    garbage = tmp_path / "garbage.idx"
    garbage.write_bytes(b"not an index")
    for bad in (flipped, truncated, garbage):
        with pytest.raises(IndexCorrupt):
            Gallery.load(bad)
    with pytest.raises(IndexMissing):
        Gallery.load(tmp_path / "absent.idx")
    with pytest.raises(IndexStale):
        Gallery.load(path, snapshot="train-2")
    assert len(Gallery.load(path)) == 3000  # no snapshot asked: any intact file loads


def test_files_rebuild_missing_corrupt_and_stale(gallery, tmp_path, caplog):
    files = GalleryFiles(tmp_path)
    path = files.path("default", "persongroups", "friends")
    assert path == tmp_path / "default" / "persongroups" / "friends.idx"
    calls = []

    def rebuild_from(snapshot):
        def rebuild():
            calls.append(snapshot)
            return Gallery.build(gallery.ids, gallery.embeddings, gallery.persons, snapshot)

        return rebuild

    caplog.set_level(logging.WARNING, logger="rostro.search.files")
    first = files.open("default", "persongroups", "friends", "t1", rebuild_from("t1"))  # missing
    assert calls == ["t1"] and path.exists() and "rebuilding index" in caplog.text
    assert files.open("default", "persongroups", "friends", "t1", rebuild_from("t1")) is first

    fresh = GalleryFiles(tmp_path)  # another process: reads the file, no rebuild
    assert len(fresh.open("default", "persongroups", "friends", "t1", rebuild_from("t1"))) == 3000
    assert calls == ["t1"]

    path.write_bytes(path.read_bytes()[:1000])  # corrupt on disk
    fresh.clear_cache()
    fresh.open("default", "persongroups", "friends", "t1", rebuild_from("t1"))
    assert calls == ["t1", "t1"]
    assert Gallery.load(path, "t1").snapshot == "t1"  # the file was rewritten whole

    # A newer training run: the cached and the stored gallery are both stale.
    newer = fresh.open("default", "persongroups", "friends", "t2", rebuild_from("t2"))
    assert newer.snapshot == "t2" and calls == ["t1", "t1", "t2"]

    with pytest.raises(SearchError):  # a rebuild that returns another snapshot is a bug
        files.open("default", "facelists", "x", "t9", rebuild_from("t8"))

    files.discard("default", "persongroups", "friends")
    assert not path.exists()
    with pytest.raises(IndexMissing):
        files.load("default", "persongroups", "friends", "t2")


def test_files_reject_path_escapes(tmp_path):
    files = GalleryFiles(tmp_path)
    for bad in ("../x", "a/b", ".hidden", "", "x" * 200):
        with pytest.raises(SearchError):
            files.path("default", "persongroups", bad)


def test_files_default_root_and_cache_bound(gallery, tmp_path, monkeypatch):
    monkeypatch.setenv("ROSTRO_HOME", str(tmp_path))
    small = Gallery.build(gallery.ids[:100], gallery.embeddings[:100], None, "s")
    files = GalleryFiles(cache_bytes=small.index.nbytes * 2)
    assert files.root == tmp_path / "indexes"
    for name in ("a", "b", "c"):
        files.save("r", "facelists", name, small)
    assert list(files._cache) == [("r", "facelists", "b"), ("r", "facelists", "c")]
    assert files.load("r", "facelists", "a", "s").snapshot == "s"  # evicted: read from file


def test_concurrent_open_rebuilds_once(gallery, tmp_path):
    files = GalleryFiles(tmp_path)
    calls = []
    started = threading.Barrier(4)

    def rebuild():
        calls.append(1)
        return Gallery.build(gallery.ids, gallery.embeddings, gallery.persons, "t1")

    def worker():
        started.wait()
        files.open("r", "largepersongroups", "g", "t1", rebuild)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1


# --- identify: faces to persons ----------------------------------------------------------


def test_identify_takes_each_persons_best_face():
    rows = normalize(np.array([[1, 0.1, 0], [1, 0.3, 0], [1, 0.2, 0], [0.5, 1, 0], [0, 0, 1]]))
    persons = np.array(["ann", "ann", "bob", "cid", "dan"])
    trained = Gallery.build(np.arange(5), rows, persons)
    (hits,) = trained.identify(np.array([1.0, 0.0, 0.0]), 3)
    assert hits.ids.tolist() == ["ann", "bob", "cid"]
    np.testing.assert_allclose(hits.similarities, [rows[0, 0], rows[2, 0], rows[3, 0]], rtol=1e-6)
    (everyone,) = trained.identify(np.array([1.0, 0.0, 0.0]), 10)  # k > persons
    assert everyone.ids.tolist() == ["ann", "bob", "cid", "dan"]
    with pytest.raises(SearchError):
        Gallery.build(np.arange(5), rows).identify(rows[0], 1)  # a face list has no persons


@pytest.mark.parametrize("backend", ["exact", "hnsw"])
def test_identify_widens_when_one_person_owns_the_top_faces(backend):
    # Person 0 has 120 faces close to every query: the first fetch (4 faces per wanted
    # person) sees only them, so identify must fetch more to find 5 distinct persons.
    g = clustered_gallery(2000, dim=64, faces_per_person=4, seed=7)
    rng = np.random.default_rng(8)
    crowd = normalize(g.centres[0] + rng.normal(scale=0.02, size=(120, 64)))
    embeddings = np.vstack([g.embeddings, crowd])
    persons = np.concatenate([g.persons, np.zeros(120, dtype=np.int64)])
    ids = np.arange(len(embeddings))
    trained = Gallery.build(ids, embeddings, persons, backend=backend)
    queries = normalize(g.centres[[0, 0, 1]] + rng.normal(scale=0.05, size=(3, 64)))
    reference = type("G", (), {"embeddings": embeddings, "persons": persons})
    for query, hits in zip(queries, trained.identify(queries, 5)):
        assert len(hits) == 5 and len(set(hits.ids.tolist())) == 5
        expected = person_brute_force(reference, query, 5)
        if backend == "exact":
            assert hits.ids.tolist() == expected
        else:
            assert hits.ids[0] == expected[0]


# --- empty galleries, factory, bad input -------------------------------------------------


@pytest.mark.parametrize("backend", ["exact", "hnsw"])
def test_empty_gallery(backend, tmp_path):
    empty = Gallery.build(np.empty(0, dtype=np.int64), np.empty((0, DIM)), np.empty(0, np.int64),
                          "t0", backend)
    query = normalize(np.ones((2, DIM)))
    assert len(empty) == 0 and empty.n_persons == 0
    assert [len(h) for h in empty.find_similar(query, 5)] == [0, 0]
    assert [len(h) for h in empty.identify(query, 5)] == [0, 0]
    empty.save(tmp_path / "e.idx")
    loaded = Gallery.load(tmp_path / "e.idx", "t0")
    assert len(loaded) == 0 and loaded.index.dim == DIM
    assert [len(h) for h in loaded.identify(query, 1)] == [0, 0]


def test_factory_picks_by_size_and_falls_back(monkeypatch, caplog):
    monkeypatch.delenv("ROSTRO_APPROXIMATE_FROM", raising=False)
    assert choose_backend(0) == "exact"
    assert choose_backend(199_999) == "exact"
    assert choose_backend(200_000) == "hnsw"
    assert choose_backend(10, "hnsw") == "hnsw"
    monkeypatch.setenv("ROSTRO_APPROXIMATE_FROM", "50")
    assert choose_backend(50) == "hnsw"
    g = clustered_gallery(60, dim=16)
    assert Gallery.build(g.ids, g.embeddings).index.kind == "hnsw"

    monkeypatch.setattr(hnsw, "available", lambda: False)  # as without faiss-cpu installed
    caplog.set_level(logging.WARNING, logger="rostro.search.factory")
    assert Gallery.build(g.ids, g.embeddings).index.kind == "exact"
    assert "FAISS not installed" in caplog.text and "rostro[ann]" in caplog.text
    with pytest.raises(SearchError):
        choose_backend(10, "annoy")


def test_bad_input_is_rejected(gallery):
    index = ExactIndex.build(gallery.ids, gallery.embeddings)
    with pytest.raises(InvalidEmbeddings):
        ExactIndex.build(np.arange(3), np.ones((3, DIM)))  # not unit length
    with pytest.raises(InvalidEmbeddings):
        ExactIndex.build(np.zeros(3, dtype=np.int64), gallery.embeddings[:3])  # duplicate ids
    with pytest.raises(InvalidEmbeddings):
        ExactIndex.build(np.arange(2), gallery.embeddings[:3])  # count mismatch
    with pytest.raises(InvalidEmbeddings):
        index.search(normalize(np.ones((1, DIM + 1))), 1)  # wrong dimension
    with pytest.raises(InvalidEmbeddings):
        index.search(gallery.embeddings[0], 0)
    nan = gallery.embeddings[:1].copy()
    nan[0, 0] = np.nan
    with pytest.raises(InvalidEmbeddings):
        index.search(nan, 1)


def test_hnsw_search_list_grows_with_the_gallery(gallery, tmp_path):
    assert [hnsw.default_ef_search(n) for n in (0, 100_000, 300_000, 1_000_000, 10**8)] == [
        64, 64, 256, 512, 1024,
    ]
    index = HnswIndex.build(gallery.ids[:10], gallery.embeddings[:10], ef_search=200)
    index.save(tmp_path / "h.idx")
    loaded = HnswIndex.load(tmp_path / "h.idx")
    assert loaded.to_arrays()["ef_search"].tolist() == [200]  # saved with the graph
    assert loaded.with_ef_search(7).to_arrays()["ef_search"].tolist() == [7]


def test_hnsw_file_without_faiss_is_stale_so_it_gets_rebuilt(gallery, tmp_path, monkeypatch):
    Gallery.build(gallery.ids, gallery.embeddings, None, "t1", "hnsw").save(tmp_path / "g.idx")

    def missing():
        raise hnsw.BackendUnavailable("no faiss here")

    monkeypatch.setattr(hnsw, "faiss_module", missing)  # as after uninstalling faiss-cpu
    with pytest.raises(IndexStale):
        Gallery.load(tmp_path / "g.idx", "t1")
