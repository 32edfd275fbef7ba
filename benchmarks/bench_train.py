"""Training benchmark: a large person group trained from the database, end to end.

``benchmarks/bench_search.py`` times ``Gallery.build`` on arrays in memory. This one times
what ``POST /largepersongroups/{id}/train`` does in the service (``rostro.service.galleries.
run_training``): read the faces' embeddings from SQLite, compute each person's template,
build the gallery index (exact below 100,000 persons, HNSW above when FAISS is installed),
save it, record the snapshot. It also times opening the snapshot again from its file and
rebuilding it from the database (what a restart with a lost index file costs), and one
identify of 10 faces against it.

Synthetic clustered embeddings (``rostro.search.synthetic``, 4 faces per person) are
inserted straight into a fresh database; no images, no models.

    nice python benchmarks/bench_train.py --sizes 1000,10000,100000 --json train.json

Times are wall-clock on whatever machine runs it; on a shared machine compare the phases of
one run with each other rather than with other runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="faces, comma-separated")
    parser.add_argument("--faces-per-person", type=int, default=4)
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:  # one BLAS thread, as the server runs
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"

import numpy as np  # noqa: E402
from sqlalchemy import insert, select, update  # noqa: E402

from rostro.api.containers import LARGE_PERSON_GROUP  # noqa: E402
from rostro.search import GalleryFiles  # noqa: E402
from rostro.search.synthetic import clustered_gallery, probe_queries  # noqa: E402
from rostro.service.galleries import TrainJob, open_trained, run_training  # noqa: E402
from rostro.store import groups, training  # noqa: E402
from rostro.store.db import open_database  # noqa: E402
from rostro.store.groups import FaceContainer, PersistedFace, Person  # noqa: E402
from rostro.store.resources import create_resource  # noqa: E402

CHUNK = 20_000


def populate(database, n_faces: int, per_person: int):
    """A large person group of ``n_faces`` synthetic faces; returns (resource, container, gallery)."""
    synthetic = clustered_gallery(n_faces, faces_per_person=per_person)
    with database.transaction() as connection:
        resource = create_resource(connection, f"bench-{n_faces}", "unlimited")
        container = groups.create_container(connection, resource.id, LARGE_PERSON_GROUP.store_kind,
                                            "bench", "bench", None, "recognition_01")
    n_persons = int(synthetic.persons.max()) + 1
    now = time.time()
    with database.transaction() as connection:
        for start in range(0, n_persons, CHUNK):
            connection.execute(insert(Person), [
                {"person_id": str(uuid.uuid4()), "container_pk": container.pk, "name": f"p{i}",
                 "user_data": None, "created_at": now}
                for i in range(start, min(n_persons, start + CHUNK))])
        person_pks = np.array(connection.execute(
            select(Person.id).where(Person.container_pk == container.pk).order_by(Person.id)
        ).scalars().all(), dtype=np.int64)
        for start in range(0, n_faces, CHUNK):
            stop = min(n_faces, start + CHUNK)
            connection.execute(insert(PersistedFace), [
                {"persisted_face_id": str(uuid.uuid4()), "container_pk": container.pk,
                 "person_pk": int(person_pks[synthetic.persons[i]]), "seq": i + 1,
                 "user_data": None, "detection_model": "detection_01", "left": 0, "top": 0,
                 "width": 100, "height": 100, "embedding": synthetic.embeddings[i].tobytes(),
                 "embedding_dim": synthetic.embeddings.shape[1], "created_at": now}
                for i in range(start, stop)])
        connection.execute(update(FaceContainer).where(FaceContainer.id == container.pk)
                           .values(face_seq=n_faces))
    return resource, groups.ContainerRow(**{**container.__dict__, "face_seq": n_faces}), synthetic


def bench(n_faces: int, per_person: int, workdir: Path) -> dict:
    database = open_database(workdir / f"bench-{n_faces}.db")
    files = GalleryFiles(root=workdir / "indexes")
    started = time.perf_counter()
    resource, container, synthetic = populate(database, n_faces, per_person)
    populate_s = time.perf_counter() - started

    started = time.perf_counter()
    with database.transaction() as connection:
        faces = groups.container_embeddings(connection, container.pk, container.face_seq)
    read_s = time.perf_counter() - started
    del faces

    with database.transaction() as connection:
        asked = training.request_training(connection, resource.id, container.pk)
    started = time.perf_counter()
    run_training(TrainJob(database, files, resource.name, LARGE_PERSON_GROUP, container.pk,
                          container.container_id, asked.run))
    train_s = time.perf_counter() - started
    with database.transaction() as connection:
        state = training.get_training(connection, container.pk)
    assert state.status == "succeeded", state

    files.clear_cache()
    started = time.perf_counter()
    gallery = open_trained(database, files, resource.name, LARGE_PERSON_GROUP, container, state)
    load_s = time.perf_counter() - started
    files.clear_cache()
    files.path(resource.name, LARGE_PERSON_GROUP.path, container.container_id).unlink()
    started = time.perf_counter()
    gallery = open_trained(database, files, resource.name, LARGE_PERSON_GROUP, container, state)
    rebuild_s = time.perf_counter() - started

    queries, _ = probe_queries(synthetic, 10)
    started = time.perf_counter()
    gallery.identify(queries, 1)
    identify_ms = (time.perf_counter() - started) * 1000
    result = {
        "faces": n_faces, "persons": gallery.n_persons, "backend": gallery.index.kind,
        "populate_s": round(populate_s, 2), "read_embeddings_s": round(read_s, 3),
        "train_s": round(train_s, 3), "open_from_file_s": round(load_s, 3),
        "rebuild_from_database_s": round(rebuild_s, 3), "identify_10_faces_ms": round(identify_ms, 2),
        "database_mb": round(sum(p.stat().st_size for p in workdir.glob(f"bench-{n_faces}.db*"))
                             / 1e6, 1),
    }
    database.close()
    return result


def main() -> None:
    sizes = [int(s) for s in ARGS.sizes.split(",") if s]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            results.append(bench(n, ARGS.faces_per_person, Path(tmp)))
            print(json.dumps(results[-1]), flush=True)
    if ARGS.json:
        ARGS.json.write_text(json.dumps({"machine": platform.platform(),
                                         "cpus": os.cpu_count(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
