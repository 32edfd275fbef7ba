"""Face containers (person groups, large person groups, face lists, large face lists), their
persons and their persisted faces, with each face's embedding.

One table holds the four kinds of container, told apart by ``kind``; a container id is unique
per resource and kind, as in Azure (a person group and a large person group may share an id).
Persons belong to (large) person groups; persisted faces belong to a person, or directly to a
(large) face list. Every face gets the container's next sequence number (``seq``), so a trained
snapshot is "the faces with ``seq`` up to N": faces added after training are not in it.

Writes into a container hold its row's lock (``get_container(..., lock=True)``, a ``FOR NO KEY
UPDATE`` on PostgreSQL) from before their checks to their commit: the person and face limits
and the sequence numbers are exact across processes, and other containers never wait. Creating
a container locks its resource's row instead (the per-resource container quota).

Row ids are never reused (SQLite AUTOINCREMENT; PostgreSQL's sequences never go back):
trained galleries refer to persons and faces by row id, and a reused id would make an old
gallery answer with a new face. Ids that lists are ordered by compare byte by byte on both
backends (``SortedString``).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import (
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from rostro.store.errors import AlreadyExists, StoreError
from rostro.store.tables import Base, Resource, SortedString

PERSON_GROUP = "persongroup"
LARGE_PERSON_GROUP = "largepersongroup"
FACE_LIST = "facelist"
LARGE_FACE_LIST = "largefacelist"
KINDS = (PERSON_GROUP, LARGE_PERSON_GROUP, FACE_LIST, LARGE_FACE_LIST)
PERSON_KINDS = (PERSON_GROUP, LARGE_PERSON_GROUP)


class LimitReached(StoreError):
    """A quota would be exceeded: ``what`` is ``containers``, ``persons``, ``person_faces``
    or ``faces``."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what} limit of {limit} reached")
        self.what = what
        self.limit = limit


class FaceContainer(Base):
    """A person group, large person group, face list or large face list of a resource.

    ``face_seq`` is the sequence number of the last face added; ``removed_since_train`` counts
    persons (person groups) or faces (face lists) deleted since the last training, so searches
    of the trained gallery know how many extra hits to fetch to make up for them."""

    __tablename__ = "face_containers"
    __table_args__ = (UniqueConstraint("resource_id", "kind", "container_id"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    container_id: Mapped[str] = mapped_column(SortedString(64))
    name: Mapped[str] = mapped_column(String(128))
    user_data: Mapped[str | None] = mapped_column(Text, nullable=True)
    recognition_model: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float)
    face_seq: Mapped[int] = mapped_column(Integer, default=0)
    removed_since_train: Mapped[int] = mapped_column(Integer, default=0)


class Person(Base):
    """A person of a (large) person group."""

    __tablename__ = "persons"
    __table_args__ = (Index("ix_persons_container_person", "container_pk", "person_id"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(SortedString(36), unique=True)
    container_pk: Mapped[int] = mapped_column(ForeignKey("face_containers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    user_data: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class PersistedFace(Base):
    """A face added to a person or a face list: its embedding (float32 bytes), where it was
    in its image, and the container sequence number it was added under."""

    __tablename__ = "persisted_faces"
    __table_args__ = (Index("ix_persisted_faces_container_seq", "container_pk", "seq"),
                      Index("ix_persisted_faces_container_face", "container_pk",
                            "persisted_face_id"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    persisted_face_id: Mapped[str] = mapped_column(SortedString(36), unique=True)
    container_pk: Mapped[int] = mapped_column(ForeignKey("face_containers.id", ondelete="CASCADE"))
    person_pk: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), nullable=True, index=True)
    seq: Mapped[int] = mapped_column(Integer)
    user_data: Mapped[str | None] = mapped_column(Text, nullable=True)
    detection_model: Mapped[str] = mapped_column(String(32))
    left: Mapped[int] = mapped_column(Integer)
    top: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    embedding_dim: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[float] = mapped_column(Float)


TABLES = (FaceContainer, Person, PersistedFace)


# ------------------------------------------------------------------------------ values

@dataclass(frozen=True)
class ContainerRow:
    """A container as the API sees it; ``pk`` is its row id."""

    pk: int
    resource_id: int
    kind: str
    container_id: str
    name: str
    user_data: str | None
    recognition_model: str
    created_at: float
    face_seq: int
    removed_since_train: int


@dataclass(frozen=True)
class PersonRow:
    """A person and the ids of its persisted faces (oldest first)."""

    pk: int
    person_id: str
    name: str
    user_data: str | None
    persisted_face_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class FaceRow:
    """A persisted face without its embedding."""

    pk: int
    persisted_face_id: str
    person_pk: int | None
    user_data: str | None


@dataclass(frozen=True)
class NewFace:
    """A face to persist: its unit embedding, rectangle (left, top, width, height), the
    detection model named in the request and the client's userData."""

    embedding: np.ndarray = field(compare=False)
    rectangle: tuple[int, int, int, int]
    detection_model: str
    user_data: str | None = None


@dataclass(frozen=True)
class Embeddings:
    """Faces of a container: row ids, their persons' row ids (-1 for face-list faces) and
    their embeddings (n × dim float32)."""

    face_pks: np.ndarray
    person_pks: np.ndarray
    vectors: np.ndarray = field(compare=False)

    def __len__(self) -> int:
        return len(self.face_pks)


def _container(row) -> ContainerRow:
    return ContainerRow(row.id, row.resource_id, row.kind, row.container_id, row.name,
                        row.user_data, row.recognition_model, row.created_at, row.face_seq,
                        row.removed_since_train)


# -------------------------------------------------------------------------- containers

def count_containers(connection: Connection, resource_id: int, kind: str) -> int:
    return connection.execute(select(func.count()).select_from(FaceContainer).where(
        FaceContainer.resource_id == resource_id, FaceContainer.kind == kind)).scalar_one()


def create_container(connection: Connection, resource_id: int, kind: str, container_id: str,
                     name: str, user_data: str | None, recognition_model: str,
                     limit: int | None = None, now: float | None = None) -> ContainerRow:
    """Create a container; AlreadyExists when the id is taken, LimitReached when the
    resource already has ``limit`` containers of this kind. Holds the resource's row lock
    (creations on other resources do not wait)."""
    # NO KEY UPDATE: rows that merely refer to the resource (counters, faceIds) still go in.
    connection.execute(select(Resource.id).where(Resource.id == resource_id)
                       .with_for_update(key_share=True))
    if get_container(connection, resource_id, kind, container_id) is not None:
        raise AlreadyExists(f"{kind} {container_id!r} already exists")
    if limit is not None and count_containers(connection, resource_id, kind) >= limit:
        raise LimitReached("containers", limit)
    row = connection.execute(insert(FaceContainer).values(
        resource_id=resource_id, kind=kind, container_id=container_id, name=name,
        user_data=user_data, recognition_model=recognition_model,
        created_at=time.time() if now is None else now, face_seq=0, removed_since_train=0)
        .returning(FaceContainer)).one()
    return _container(row)


def get_container(connection: Connection, resource_id: int, kind: str,
                  container_id: str, lock: bool = False) -> ContainerRow | None:
    """The container (None if there is none). With ``lock``, also hold its row's lock until
    the transaction ends: every write into the container does so before reading what it
    checks (see the module's docstring)."""
    query = select(FaceContainer).where(
        FaceContainer.resource_id == resource_id, FaceContainer.kind == kind,
        FaceContainer.container_id == container_id)
    if lock:
        query = query.with_for_update(key_share=True)
    row = connection.execute(query).first()
    return _container(row) if row is not None else None


def lock_container(connection: Connection, pk: int) -> ContainerRow | None:
    """Hold the lock of container ``pk`` (as ``get_container(..., lock=True)``); return it,
    or None when it is gone."""
    row = connection.execute(select(FaceContainer).where(FaceContainer.id == pk)
                             .with_for_update(key_share=True)).first()
    return _container(row) if row is not None else None


def get_container_by_pk(connection: Connection, pk: int) -> ContainerRow | None:
    row = connection.execute(select(FaceContainer).where(FaceContainer.id == pk)).first()
    return _container(row) if row is not None else None


def list_containers(connection: Connection, resource_id: int, kind: str, start: str | None = None,
                    top: int = 1000) -> list[ContainerRow]:
    """Containers of a kind in id order, those with an id greater than ``start``."""
    query = select(FaceContainer).where(FaceContainer.resource_id == resource_id,
                                        FaceContainer.kind == kind)
    if start:
        query = query.where(FaceContainer.container_id > start)
    rows = connection.execute(query.order_by(FaceContainer.container_id).limit(top)).all()
    return [_container(row) for row in rows]


def update_container(connection: Connection, pk: int, name: str | None = None,
                     user_data: str | None = None) -> None:
    """Change the name and/or userData (None leaves a field as it is)."""
    values = {key: value for key, value in (("name", name), ("user_data", user_data))
              if value is not None}
    if values:
        connection.execute(update(FaceContainer).where(FaceContainer.id == pk).values(**values))


def delete_container(connection: Connection, pk: int) -> None:
    """Delete a container with its persons and faces."""
    connection.execute(delete(PersistedFace).where(PersistedFace.container_pk == pk))
    connection.execute(delete(Person).where(Person.container_pk == pk))
    connection.execute(delete(FaceContainer).where(FaceContainer.id == pk))


# ----------------------------------------------------------------------------- persons

def count_persons(connection: Connection, container_pk: int) -> int:
    return connection.execute(select(func.count()).select_from(Person).where(
        Person.container_pk == container_pk)).scalar_one()


def create_person(connection: Connection, container_pk: int, name: str, user_data: str | None,
                  limit: int | None = None, now: float | None = None) -> str:
    """Add a person; return its new personId. LimitReached at ``limit`` persons. The caller
    holds the container's lock."""
    if limit is not None and count_persons(connection, container_pk) >= limit:
        raise LimitReached("persons", limit)
    person_id = str(uuid.uuid4())
    connection.execute(insert(Person).values(
        person_id=person_id, container_pk=container_pk, name=name, user_data=user_data,
        created_at=time.time() if now is None else now))
    return person_id


def _face_ids_of(connection: Connection, person_pks: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {pk: [] for pk in person_pks}
    if person_pks:
        rows = connection.execute(
            select(PersistedFace.person_pk, PersistedFace.persisted_face_id)
            .where(PersistedFace.person_pk.in_(person_pks)).order_by(PersistedFace.id)).all()
        for person_pk, face_id in rows:
            if person_pk is not None:  # always: the query asks for these persons' faces
                found[person_pk].append(face_id)
    return found


def get_person(connection: Connection, container_pk: int, person_id: str) -> PersonRow | None:
    row = connection.execute(select(Person).where(
        Person.container_pk == container_pk, Person.person_id == person_id)).first()
    if row is None:
        return None
    faces = _face_ids_of(connection, [row.id])[row.id]
    return PersonRow(row.id, row.person_id, row.name, row.user_data, tuple(faces))


def list_persons(connection: Connection, container_pk: int, start: str | None = None,
                 top: int = 1000) -> list[PersonRow]:
    """Persons in personId order, those with an id greater than ``start``."""
    query = select(Person).where(Person.container_pk == container_pk)
    if start:
        query = query.where(Person.person_id > start)
    rows = connection.execute(query.order_by(Person.person_id).limit(top)).all()
    faces = _face_ids_of(connection, [row.id for row in rows])
    return [PersonRow(row.id, row.person_id, row.name, row.user_data, tuple(faces[row.id]))
            for row in rows]


def persons_by_pk(connection: Connection, container_pk: int,
                  person_pks: list[int]) -> dict[int, str]:
    """Map the row ids of persons that still exist in the container to their personIds."""
    if not person_pks:
        return {}
    rows = connection.execute(select(Person.id, Person.person_id).where(
        Person.container_pk == container_pk, Person.id.in_(person_pks))).all()
    return dict(rows)


def update_person(connection: Connection, person_pk: int, name: str | None = None,
                  user_data: str | None = None) -> None:
    values = {key: value for key, value in (("name", name), ("user_data", user_data))
              if value is not None}
    if values:
        connection.execute(update(Person).where(Person.id == person_pk).values(**values))


def delete_person(connection: Connection, container_pk: int, person_pk: int) -> None:
    """Delete a person and its faces (counted as removed since the last training, once
    however many delete it at the same time)."""
    connection.execute(delete(PersistedFace).where(PersistedFace.person_pk == person_pk))
    if connection.execute(delete(Person).where(Person.id == person_pk)).rowcount:
        connection.execute(update(FaceContainer).where(FaceContainer.id == container_pk).values(
            removed_since_train=FaceContainer.removed_since_train + 1))


# ------------------------------------------------------------------------------- faces

def count_faces(connection: Connection, container_pk: int, person_pk: int | None = None) -> int:
    query = select(func.count()).select_from(PersistedFace).where(
        PersistedFace.container_pk == container_pk)
    if person_pk is not None:
        query = query.where(PersistedFace.person_pk == person_pk)
    return connection.execute(query).scalar_one()


def add_face(connection: Connection, container_pk: int, face: NewFace,
             person_pk: int | None = None, person_limit: int | None = None,
             container_limit: int | None = None, now: float | None = None) -> str:
    """Persist ``face`` for a person (``person_pk``) or a face list; return its
    persistedFaceId. LimitReached at ``person_limit`` faces per person (``person_faces``) or
    ``container_limit`` faces per container (``faces``). The caller holds the container's
    lock."""
    if person_pk is not None and person_limit is not None:
        if count_faces(connection, container_pk, person_pk) >= person_limit:
            raise LimitReached("person_faces", person_limit)
    if container_limit is not None and count_faces(connection, container_pk) >= container_limit:
        raise LimitReached("faces", container_limit)
    seq = connection.execute(
        update(FaceContainer).where(FaceContainer.id == container_pk)
        .values(face_seq=FaceContainer.face_seq + 1).returning(FaceContainer.face_seq)).scalar_one()
    vector = np.asarray(face.embedding, dtype=np.float32).ravel()
    face_id = str(uuid.uuid4())
    left, top, width, height = (int(v) for v in face.rectangle)
    connection.execute(insert(PersistedFace).values(
        persisted_face_id=face_id, container_pk=container_pk, person_pk=person_pk, seq=seq,
        user_data=face.user_data, detection_model=face.detection_model, left=left, top=top,
        width=width, height=height, embedding=vector.tobytes(), embedding_dim=int(vector.size),
        created_at=time.time() if now is None else now))
    return face_id


def get_face(connection: Connection, container_pk: int, persisted_face_id: str,
             person_pk: int | None = None) -> FaceRow | None:
    """A face of the container (and of ``person_pk`` when given)."""
    query = select(PersistedFace.id, PersistedFace.persisted_face_id, PersistedFace.person_pk,
                   PersistedFace.user_data).where(
        PersistedFace.container_pk == container_pk,
        PersistedFace.persisted_face_id == persisted_face_id)
    if person_pk is not None:
        query = query.where(PersistedFace.person_pk == person_pk)
    row = connection.execute(query).first()
    return FaceRow(*row) if row is not None else None


def list_faces(connection: Connection, container_pk: int, start: str | None = None,
               top: int | None = None) -> list[FaceRow]:
    """Faces of a face list in persistedFaceId order, those with an id greater than ``start``."""
    query = select(PersistedFace.id, PersistedFace.persisted_face_id, PersistedFace.person_pk,
                   PersistedFace.user_data).where(PersistedFace.container_pk == container_pk)
    if start:
        query = query.where(PersistedFace.persisted_face_id > start)
    query = query.order_by(PersistedFace.persisted_face_id)
    if top is not None:
        query = query.limit(top)
    return [FaceRow(*row) for row in connection.execute(query).all()]


def faces_by_pk(connection: Connection, container_pk: int, face_pks: list[int]) -> dict[int, str]:
    """Map the row ids of faces that still exist in the container to their persistedFaceIds."""
    if not face_pks:
        return {}
    rows = connection.execute(select(PersistedFace.id, PersistedFace.persisted_face_id).where(
        PersistedFace.container_pk == container_pk, PersistedFace.id.in_(face_pks))).all()
    return dict(rows)


def update_face(connection: Connection, face_pk: int, user_data: str | None) -> None:
    if user_data is not None:
        connection.execute(update(PersistedFace).where(PersistedFace.id == face_pk)
                           .values(user_data=user_data))


def delete_face(connection: Connection, container_pk: int, face_pk: int,
                counts_as_removed: bool = False) -> None:
    """Delete one face; ``counts_as_removed`` when trained galleries index faces (large face
    lists), so their searches fetch one more hit to make up for it (once, however many
    delete it at the same time)."""
    deleted = connection.execute(delete(PersistedFace).where(PersistedFace.id == face_pk))
    if counts_as_removed and deleted.rowcount:
        connection.execute(update(FaceContainer).where(FaceContainer.id == container_pk).values(
            removed_since_train=FaceContainer.removed_since_train + 1))


_EMBEDDING_COLUMNS = (PersistedFace.id, PersistedFace.person_pk, PersistedFace.embedding,
                      PersistedFace.embedding_dim)
#: Rows fetched at a time when reading embeddings: the vectors go straight into one array,
#: so a million faces need their 512 MB and little more.
_PARTITION = 10_000


def _embeddings(connection: Connection, where, count: int) -> Embeddings:
    """Read ``count`` faces (an upper bound) matching ``where``, in sequence order."""
    query = select(*_EMBEDDING_COLUMNS).where(*where).order_by(PersistedFace.seq)
    face_pks = np.empty(count, np.int64)
    person_pks = np.empty(count, np.int64)
    vectors = None
    n = 0
    # Options on the statement, not the Connection: Connection.execution_options() changes
    # the connection in place, and on PostgreSQL every later statement of the transaction
    # would then go through a server-side cursor (which a DELETE cannot).
    result = connection.execute(query.execution_options(yield_per=_PARTITION))
    for rows in result.partitions():
        if n + len(rows) > count:  # cannot happen inside one transaction; never overrun
            break
        if vectors is None:
            vectors = np.empty((count, rows[0][3]), np.float32)
        stop = n + len(rows)
        face_pks[n:stop] = [r[0] for r in rows]
        person_pks[n:stop] = [-1 if r[1] is None else r[1] for r in rows]
        vectors[n:stop] = np.frombuffer(b"".join(r[2] for r in rows),
                                        np.float32).reshape(len(rows), -1)
        n = stop
    if vectors is None:
        return Embeddings(np.empty(0, np.int64), np.empty(0, np.int64),
                          np.empty((0, 0), np.float32))
    return Embeddings(face_pks[:n], person_pks[:n], vectors[:n])


def _count(connection: Connection, where) -> int:
    return connection.execute(select(func.count()).select_from(PersistedFace)
                              .where(*where)).scalar_one()


def container_embeddings(connection: Connection, container_pk: int,
                         max_seq: int | None = None) -> Embeddings:
    """Embeddings of the container's faces (those added up to ``max_seq`` when given), in
    the order they were added."""
    where = [PersistedFace.container_pk == container_pk]
    if max_seq is not None:
        where.append(PersistedFace.seq <= max_seq)
    return _embeddings(connection, where, _count(connection, where))


def person_embeddings(connection: Connection, person_pk: int) -> Embeddings:
    """Embeddings of one person's faces, oldest first."""
    where = [PersistedFace.person_pk == person_pk]
    return _embeddings(connection, where, _count(connection, where))


def consume_removed(connection: Connection, container_pk: int, amount: int) -> None:
    """Forget ``amount`` removals: a training run that started after them has left them out."""
    if amount:
        connection.execute(update(FaceContainer).where(FaceContainer.id == container_pk).values(
            removed_since_train=case((FaceContainer.removed_since_train > amount,
                                      FaceContainer.removed_since_train - amount), else_=0)))
