"""The faceId cache: each faceId Detect returns, with its face's embedding, until it expires.

Verify, Identify, Find Similar and Group look faceIds up here. An expired faceId is treated as
absent at once and deleted the next time faceIds are saved.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Connection, insert, select, text

from rostro.store.tables import FaceIdEntry


@dataclass(frozen=True)
class StoredFace:
    """A cached face: its id, models and embedding (float32), and when it expires."""

    face_id: str
    resource_id: int
    recognition_model: str
    detection_model: str
    embedding: np.ndarray = field(compare=False)
    created_at: float
    expires_at: float


def save_faces(connection: Connection, faces: list[StoredFace], now: float | None = None) -> None:
    """Store ``faces`` and delete every faceId that has expired by ``now``."""
    now = time.time() if now is None else now
    purge_expired(connection, now)
    if not faces:
        return
    connection.execute(_INSERT, [
        {"face_id": f.face_id, "resource_id": f.resource_id,
         "recognition_model": f.recognition_model, "detection_model": f.detection_model,
         "embedding": np.asarray(f.embedding, dtype=np.float32).tobytes(),
         "embedding_dim": int(np.asarray(f.embedding).size),
         "created_at": f.created_at, "expires_at": f.expires_at}
        for f in faces])


def get_faces(connection: Connection, resource_id: int, face_ids: list[str],
              now: float | None = None) -> dict[str, StoredFace]:
    """Return the live (unexpired) faces among ``face_ids`` that belong to the resource,
    keyed by faceId; missing or expired ids are simply absent."""
    now = time.time() if now is None else now
    if not face_ids:
        return {}
    rows = connection.execute(select(FaceIdEntry).where(
        FaceIdEntry.resource_id == resource_id, FaceIdEntry.face_id.in_(list(face_ids)),
        FaceIdEntry.expires_at > now)).all()
    return {row.face_id: StoredFace(
        face_id=row.face_id, resource_id=row.resource_id,
        recognition_model=row.recognition_model, detection_model=row.detection_model,
        embedding=np.frombuffer(row.embedding, dtype=np.float32, count=row.embedding_dim),
        created_at=row.created_at, expires_at=row.expires_at) for row in rows}


def get_face(connection: Connection, resource_id: int, face_id: str,
             now: float | None = None) -> StoredFace | None:
    """Return one live face of the resource, or None (unknown, other resource, or expired)."""
    return get_faces(connection, resource_id, [face_id], now).get(face_id)


_INSERT = insert(FaceIdEntry)  # built once: Detect runs these on every call with faceIds
_PURGE = text("DELETE FROM face_ids WHERE expires_at <= :now")
# On PostgreSQL, rows another transaction is purging right now are left to it (SKIP LOCKED):
# two detect calls, of any resources, never wait for each other here.
_PURGE_UNLOCKED = text(
    "DELETE FROM face_ids WHERE face_id IN "
    "(SELECT face_id FROM face_ids WHERE expires_at <= :now FOR UPDATE SKIP LOCKED)")


def purge_expired(connection: Connection, now: float | None = None) -> int:
    """Delete faceIds that expired by ``now`` (but those another transaction is deleting);
    return how many."""
    now = time.time() if now is None else now
    purge = _PURGE_UNLOCKED if connection.dialect.name == "postgresql" else _PURGE
    return connection.execute(purge, {"now": now}).rowcount
