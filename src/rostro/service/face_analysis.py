"""Detection: decoding an image and analysing it as a request asks, and keeping the faces'
embeddings under new faceIds for a while.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import numpy as np

from rostro.service.state import ServiceState
from rostro.store.face_cache import StoredFace, save_faces
from rostro.store.resources import ResourceRef
from rostro.vision.analyzer import MAX_FACES, Analyzer
from rostro.vision.analyzer import Request as AnalysisRequest
from rostro.vision.image import decode_image
from rostro.vision.rectangle import minimum_face
from rostro.vision.types import Face


@dataclass(frozen=True)
class DetectParams:
    """What one detection asks for: faceIds (embeddings) kept for ``face_id_ttl`` seconds
    under ``recognition_model``, landmarks, attributes (engine names) and the detection
    model, which also sets the shape of the reported rectangles."""

    return_face_id: bool = True
    return_landmarks: bool = False
    attributes: tuple[str, ...] = ()
    recognition_model: str = "recognition_01"
    return_recognition_model: bool = False
    detection_model: str = "detection_01"
    face_id_ttl: int = 86400


def analyze_image(analyzer: Analyzer, data: bytes, params: DetectParams) -> list[Face]:
    """Decode ``data`` and analyse it as ``params`` ask (runs in an inference thread): the
    faces, largest first. Raises ImageError/ImageTooLarge when ``data`` cannot be decoded."""
    image = decode_image(data)
    height, width = image.shape[:2]
    request = AnalysisRequest(
        landmarks=params.return_landmarks,
        embedding=params.return_face_id,
        attributes=frozenset(params.attributes),
        max_faces=MAX_FACES,
        min_face=minimum_face(width, height),
        shape=params.detection_model,
    )
    return analyzer.analyze(image, request)


def remember_faces(state: ServiceState, resource: ResourceRef, faces: list[Face],
                   params: DetectParams) -> list[str]:
    """Store each face's embedding under a new faceId for ``params.face_id_ttl`` seconds."""
    now = time.time()
    entries = [StoredFace(
        face_id=str(uuid.uuid4()), resource_id=resource.id,
        recognition_model=params.recognition_model, detection_model=params.detection_model,
        embedding=np.asarray(face.embedding, dtype=np.float32), created_at=now,
        expires_at=now + params.face_id_ttl) for face in faces]
    with state.database.transaction() as connection:
        save_faces(connection, entries, now)
    return [entry.face_id for entry in entries]
