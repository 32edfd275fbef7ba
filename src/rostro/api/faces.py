"""DetectedFace JSON exactly as Azure's live service writes it (field order and spelling).

The engine's values (``rostro.vision.types.Face``) know nothing of Azure; this module is the
one place that maps them to Azure's wire format. The CLI and the HTTP service both use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rostro.vision.types import Face

# Order of faceAttributes in live responses (MS docs quickstart output); attributes not in
# that sample (mask, qualityForRecognition) follow in the spec's order.
ATTRIBUTE_ORDER = (
    "smile", "headPose", "gender", "age", "facialHair", "glasses", "emotion", "blur",
    "exposure", "noise", "makeup", "accessories", "occlusion", "hair", "mask",
    "qualityForRecognition",
)


def _round(value: float, digits: int = 1) -> float:
    return round(float(value), digits)


def face_rectangle(face: Face) -> dict[str, int]:
    """Return ``{"top", "left", "width", "height"}`` as integers (Azure's wire order)."""
    box = face.box
    left, top = round(box.left), round(box.top)
    return {"top": int(top), "left": int(left), "width": int(round(box.width)),
            "height": int(round(box.height))}


def face_landmarks(face: Face) -> dict[str, dict[str, float]]:
    """Return Azure's 27 named landmarks as ``{"name": {"x", "y"}}`` with one decimal."""
    if face.landmarks is None:
        raise ValueError("the face was analysed without landmarks")
    return {name: {"x": _round(p.x), "y": _round(p.y)} for name, p in face.landmarks.items()}


def _head_pose(face: Face, v12: bool) -> dict[str, float]:
    if face.pose is None:
        raise ValueError("the face was analysed without head pose")
    return {"pitch": _round(face.pose.pitch), "roll": _round(face.pose.roll),
            "yaw": _round(face.pose.yaw)}


# name -> function(face, v12) producing the attribute's JSON value. Attribute modules add
# their formatters here, so each attribute's Azure spelling lives next to its name.
ATTRIBUTE_FORMATTERS: dict[str, Callable[[Face, bool], object]] = {
    "headPose": _head_pose,
}


def face_attributes(face: Face, names: Iterable[str], v12: bool = False) -> dict[str, object]:
    """Return the requested attributes in Azure's order and spelling (``v12``: lowercase enums)."""
    wanted = set(names)
    return {name: ATTRIBUTE_FORMATTERS[name](face, v12) for name in ATTRIBUTE_ORDER
            if name in wanted}


def detected_face(
    face: Face,
    face_id: str | None = None,
    recognition_model: str | None = None,
    landmarks: bool = False,
    attributes: Iterable[str] = (),
    v12: bool = False,
) -> dict[str, object]:
    """Return one DetectedFace object: faceId, recognitionModel, faceRectangle,
    faceLandmarks, faceAttributes, each only when asked for, in Azure's order."""
    body: dict[str, object] = {}
    if face_id is not None:
        body["faceId"] = face_id
    if recognition_model is not None:
        body["recognitionModel"] = recognition_model
    body["faceRectangle"] = face_rectangle(face)
    if landmarks:
        body["faceLandmarks"] = face_landmarks(face)
    attributes = list(attributes)
    if attributes:
        body["faceAttributes"] = face_attributes(face, attributes, v12)
    return body
