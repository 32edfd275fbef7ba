"""Training and searching the galleries of person groups and large face lists.

"Train" (one claimed run of a training job, performed by the training worker of whichever
process claimed it: ``rostro.service.trainer``) builds a :class:`rostro.search.Gallery` from
the container's faces as they are now:
for (large) person groups one row per person, the person's template (the unit mean of its face
embeddings, ``rostro.vision.templates``); for large face lists one row per face. The gallery is
saved in the process's gallery store (``ServiceState.gallery_files()``: files beside the
database, ``<database dir>/indexes`` or ``$ROSTRO_HOME/indexes`` with a database server; or,
on PostgreSQL with pgvector, tables every node searches) under a fresh snapshot token, and
the database records the token and the
last face sequence number it contains. Identify and find
similar open the gallery of the recorded token; a missing or stale file is rebuilt from the
database (faces up to that sequence number), so the database stays the source of truth.

Persons or faces deleted after training are still in the gallery until the next training;
searches fetch as many extra hits as were deleted and drop those that no longer exist.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Protocol

import numpy as np

from rostro.search import Gallery, GalleryStore, SearchableGallery
from rostro.store import groups, resources, training
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


def build_gallery(kind: Kind, faces: Embeddings, snapshot: str,
                  backend: str = "auto") -> Gallery | None:
    """The gallery of ``faces`` (None when there are none): person templates for person
    groups, the faces themselves for face lists; ``backend`` is the store's (``files.backend``)."""
    if len(faces) == 0:
        return None
    if kind.has_persons:
        persons, rows = templates(faces.person_pks, faces.vectors)
        return Gallery.build(persons, rows, persons=persons, snapshot=snapshot, backend=backend)
    return Gallery.build(faces.face_pks, faces.vectors, snapshot=snapshot, backend=backend)


def empty_message(kind: Kind) -> str:
    """Why training fails on an empty container (Rostro's wording)."""
    return f"There is no persisted face in the {kind.title.lower()}."


def train(database: Database, files: GalleryStore, kinds: Mapping[str, Kind],
          claim: training.Claim) -> bool:
    """Perform the claimed training run: build the gallery of the container's faces as they
    are now, save it, and record the outcome. Returns whether the outcome was recorded
    (False: the container is gone, or the lease ran out and another process took the run
    over; then this run's gallery is never used)."""
    snapshot = uuid.uuid4().hex
    with database.transaction() as connection:
        container = groups.get_container_by_pk(connection, claim.container_pk)
        resource = (resources.resource_name(connection, container.resource_id)
                    if container is not None else None)
        if container is None or resource is None:
            return False
        faces = groups.container_embeddings(connection, container.pk, container.face_seq)
    kind = kinds[container.kind]
    message = None
    try:
        gallery = build_gallery(kind, faces, snapshot, files.backend)
        if gallery is None:
            message = empty_message(kind)
        else:
            files.save(resource, kind.path, container.container_id, gallery)
    except Exception:  # a failed run must end as "failed", never stay "running"
        log.exception("training %s %s failed", kind.path, container.container_id)
        gallery, message = None, "Training failed because of an internal error."
    with database.transaction() as connection:
        recorded = training.finish_run(
            connection, claim, snapshot if gallery is not None else None,
            container.face_seq, len(gallery) if gallery is not None else 0, message)
        if recorded and gallery is not None:
            groups.consume_removed(connection, container.pk, container.removed_since_train)
        deleted = not recorded and groups.get_container_by_pk(connection, container.pk) is None
    if deleted:
        files.discard(resource, kind.path, container.container_id)
    elif not recorded:  # another process holds the run now; its result will be recorded
        log.warning("training run %d of %s %s dropped: this process's lease ran out and "
                    "another took the run over", claim.run, kind.path, container.container_id)
    else:
        log.info("trained %s %s (run %d, attempt %d): %s", kind.path, container.container_id,
                 claim.run, claim.attempt,
                 f"{len(faces)} faces" if gallery is not None else message)
    return recorded


def open_trained(database: Database, files: GalleryStore, resource_name: str, kind: Kind,
                 container: ContainerRow, state: training.TrainingState) -> SearchableGallery:
    """The gallery of the container's last successful training (rebuilt from the database
    if its file is missing or stale). ValueError for a state with no trained snapshot."""
    snapshot = state.snapshot
    if snapshot is None:
        raise ValueError(f"{container.container_id} has no trained snapshot to open")

    def rebuild() -> Gallery:
        with database.transaction() as connection:
            faces = groups.container_embeddings(connection, container.pk, state.trained_seq)
        gallery = build_gallery(kind, faces, snapshot, files.backend)
        if gallery is None:  # every face of the snapshot was deleted since: an empty gallery
            gallery = Gallery.build(np.empty(0, np.int64), np.empty((0, SFaceEmbedder.dimension), np.float32),
                                    persons=np.empty(0, np.int64) if kind.has_persons else None,
                                    snapshot=snapshot, backend="exact")
        return gallery

    return files.open(resource_name, kind.path, container.container_id, snapshot, rebuild)
