"""Training and searching the galleries of person groups and large face lists.

"Train" builds a :class:`rostro.search.Gallery` from the container's faces as they are now:
for (large) person groups one row per person, the person's template (the unit mean of its face
embeddings, ``rostro.vision.templates``); for large face lists one row per face. The gallery is
saved beside the database (``<database dir>/indexes``; ``$ROSTRO_HOME/indexes`` with a
database server) under a fresh snapshot token, and the database records the token and the
last face sequence number it contains. Identify and find
similar open the gallery of the recorded token; a missing or stale file is rebuilt from the
database (faces up to that sequence number), so the database stays the source of truth.

Persons or faces deleted after training are still in the gallery until the next training;
searches fetch as many extra hits as were deleted and drop those that no longer exist.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rostro.search import Gallery, GalleryFiles
from rostro.store import groups, training
from rostro.store.db import Database
from rostro.store.groups import ContainerRow, Embeddings
from rostro.vision.embedder import SFaceEmbedder
from rostro.vision.templates import templates

log = logging.getLogger(__name__)


class Kind(Protocol):
    """A kind of container as far as training needs it (``rostro.api.containers.Kind`` is
    one): whether its rows are persons, its index-file namespace and its title in messages."""

    @property
    def has_persons(self) -> bool: ...

    @property
    def path(self) -> str: ...

    @property
    def title(self) -> str: ...


def build_gallery(kind: Kind, faces: Embeddings, snapshot: str) -> Gallery | None:
    """The gallery of ``faces`` (None when there are none): person templates for person
    groups, the faces themselves for face lists."""
    if len(faces) == 0:
        return None
    if kind.has_persons:
        persons, rows = templates(faces.person_pks, faces.vectors)
        return Gallery.build(persons, rows, persons=persons, snapshot=snapshot)
    return Gallery.build(faces.face_pks, faces.vectors, snapshot=snapshot)


def empty_message(kind: Kind) -> str:
    """Why training fails on an empty container (Rostro's wording)."""
    return f"There is no persisted face in the {kind.title.lower()}."


@dataclass(frozen=True)
class TrainJob:
    """What a background training run needs: where, which container, which run."""

    database: Database
    files: GalleryFiles
    resource_name: str
    kind: Kind
    container_pk: int
    container_id: str
    run: int


def run_training(job: TrainJob) -> None:
    """Perform training run ``job.run`` and any run asked for while it went on."""
    current = [job.run]
    stop = threading.Event()

    def beat() -> None:  # tells other processes the run is alive while the index builds
        while not stop.wait(training.HEARTBEAT):
            try:
                with job.database.transaction() as connection:
                    training.heartbeat(connection, job.container_pk, current[0])
            except Exception:
                log.exception("training heartbeat of %s failed", job.container_id)

    beating = threading.Thread(target=beat, name=f"train-{job.container_id}", daemon=True)
    beating.start()
    try:
        _train_runs(job, current)
    finally:
        stop.set()


def _train_runs(job: TrainJob, current: list[int]) -> None:
    run: int | None = job.run
    owner = training.process_owner()
    while run is not None:
        current[0] = run
        snapshot = uuid.uuid4().hex
        with job.database.transaction() as connection:
            container = groups.get_container_by_pk(connection, job.container_pk)
            if container is None:
                job.files.discard(job.resource_name, job.kind.path, job.container_id)
                return
            faces = groups.container_embeddings(connection, container.pk, container.face_seq)
        message = None
        try:
            gallery = build_gallery(job.kind, faces, snapshot)
            if gallery is None:
                message = empty_message(job.kind)
            else:
                job.files.save(job.resource_name, job.kind.path, job.container_id, gallery)
        except Exception:  # a failed run must end as "failed", never stay "running"
            log.exception("training %s %s failed", job.kind.path, job.container_id)
            gallery, message = None, "Training failed because of an internal error."
        with job.database.transaction() as connection:
            if groups.get_container_by_pk(connection, job.container_pk) is None:
                job.files.discard(job.resource_name, job.kind.path, job.container_id)
                return
            if gallery is not None:
                groups.consume_removed(connection, container.pk, container.removed_since_train)
            run = training.finish_run(
                connection, container.pk, run, snapshot if gallery is not None else None,
                container.face_seq, len(gallery) if gallery is not None else 0, message, owner)
        log.info("trained %s %s: %s", job.kind.path, job.container_id,
                 f"{len(faces)} faces" if gallery is not None else message)


def open_trained(database: Database, files: GalleryFiles, resource_name: str, kind: Kind,
                 container: ContainerRow, state: training.TrainingState) -> Gallery:
    """The gallery of the container's last successful training (rebuilt from the database
    if its file is missing or stale). ValueError for a state with no trained snapshot."""
    snapshot = state.snapshot
    if snapshot is None:
        raise ValueError(f"{container.container_id} has no trained snapshot to open")

    def rebuild() -> Gallery:
        with database.transaction() as connection:
            faces = groups.container_embeddings(connection, container.pk, state.trained_seq)
        gallery = build_gallery(kind, faces, snapshot)
        if gallery is None:  # every face of the snapshot was deleted since: an empty gallery
            gallery = Gallery.build(np.empty(0, np.int64), np.empty((0, SFaceEmbedder.dimension), np.float32),
                                    persons=np.empty(0, np.int64) if kind.has_persons else None,
                                    snapshot=snapshot, backend="exact")
        return gallery

    return files.open(resource_name, kind.path, container.container_id, snapshot, rebuild)
