"""DetectedFace JSON exactly as Azure's live service writes it (field order and spelling).

The engine's values (``rostro.vision.types.Face``) know nothing of Azure; this module is the
one place that maps them to Azure's wire format. The CLI and the HTTP service both use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rostro.vision.rectangle import whole_pixels
from rostro.vision.types import Box, Face

# Order of faceAttributes in live responses (MS docs quickstart output); attributes not in
# that sample (mask, qualityForRecognition) follow in the spec's order.
ATTRIBUTE_ORDER = (
    "smile", "headPose", "gender", "age", "facialHair", "glasses", "emotion", "blur",
    "exposure", "noise", "makeup", "accessories", "occlusion", "hair", "mask",
    "qualityForRecognition",
)


def _round(value: float, digits: int = 1) -> float:
    return round(float(value), digits)


def rectangle_json(box: Box) -> dict[str, int]:
    """Return a box as ``{"top", "left", "width", "height"}`` integers (Azure's wire order)."""
    box = whole_pixels(box)
    return {"top": int(box.top), "left": int(box.left), "width": int(box.width),
            "height": int(box.height)}


def face_rectangle(face: Face) -> dict[str, int]:
    """Return the face's reported rectangle (the detector's box for a face analysed without
    one) in Azure's wire format."""
    return rectangle_json(face.rectangle if face.rectangle is not None else face.box)


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


def _value(face: Face, name: str):
    if name not in face.attributes:
        raise ValueError(f"the face was analysed without {name}")
    return face.attributes[name]


def _score(value: float) -> float:
    """Scores and probabilities: 3 decimals, as the live service."""
    return round(min(max(float(value), 0.0), 1.0), 3)


def _age(face: Face, v12: bool) -> float:
    return _round(_value(face, "age"))


def _gender(face: Face, v12: bool) -> str:
    return str(_value(face, "gender"))  # "male" / "female" on both versions


def _smile(face: Face, v12: bool) -> float:
    return _score(_value(face, "smile"))


_GLASSES = {"none": "NoGlasses", "reading": "ReadingGlasses", "sunglasses": "Sunglasses",
            "swimming_goggles": "SwimmingGoggles"}


def _lower_first(word: str) -> str:
    return word[:1].lower() + word[1:]


def _glasses(face: Face, v12: bool) -> str:
    """v1.0: "NoGlasses" (live service); v1.2: "noGlasses"."""
    word = _GLASSES[_value(face, "glasses")]
    return _lower_first(word) if v12 else word


def _emotion(face: Face, v12: bool) -> dict[str, float]:
    """Azure's 8 keys in Azure's order, 3 decimals; rounding slack goes to the largest so
    the values still sum to 1."""
    values = {name: _score(p) for name, p in _value(face, "emotion").as_dict().items()}
    top = max(values, key=values.__getitem__)
    values[top] = round(values[top] + 1.0 - sum(values.values()), 3)
    return values


def _facial_hair(face: Face, v12: bool) -> dict[str, float]:
    hair = _value(face, "facialHair")
    return {"moustache": _score(hair.moustache), "beard": _score(hair.beard),
            "sideburns": _score(hair.sideburns)}


def _level(name: str, key: str, words: dict[str, str]):
    def format_level(face: Face, v12: bool) -> dict[str, object]:
        level = _value(face, name)
        return {key: words[level.level], "value": round(float(level.value), 2)}
    return format_level


_LOW_MEDIUM_HIGH = {"low": "low", "medium": "medium", "high": "high"}
_EXPOSURE = {"under": "underExposure", "good": "goodExposure", "over": "overExposure"}


def _hair(face: Face, v12: bool) -> dict[str, object]:
    hair = _value(face, "hair")
    return {"bald": _score(hair.bald), "invisible": bool(hair.invisible),
            "hairColor": [{"color": c.color, "confidence": round(float(c.confidence), 2)}
                          for c in hair.colors]}


_ACCESSORY = {"headwear": "headWear", "glasses": "glasses", "mask": "mask"}


def _accessories(face: Face, v12: bool) -> list[dict[str, object]]:
    """v1.0: type "headWear"; v1.2: "headwear". [] when none."""
    return [{"type": a.kind if v12 else _ACCESSORY[a.kind], "confidence": _score(a.confidence)}
            for a in _value(face, "accessories")]


def _makeup(face: Face, v12: bool) -> dict[str, bool]:
    makeup = _value(face, "makeup")
    return {"eyeMakeup": bool(makeup.eye), "lipMakeup": bool(makeup.lip)}


def _occlusion(face: Face, v12: bool) -> dict[str, bool]:
    occlusion = _value(face, "occlusion")
    return {"foreheadOccluded": bool(occlusion.forehead), "eyeOccluded": bool(occlusion.eye),
            "mouthOccluded": bool(occlusion.mouth)}


_MASK = {"none": "noMask", "face_mask": "faceMask", "other": "otherMaskOrOcclusion",
         "uncertain": "uncertain"}


def _mask(face: Face, v12: bool) -> dict[str, object]:
    mask = _value(face, "mask")
    return {"type": _MASK[mask.kind], "noseAndMouthCovered": bool(mask.nose_and_mouth_covered)}


def _quality(face: Face, v12: bool) -> str:
    """v1.0: "High" (the v1.0 spec's enum); v1.2: "high" (the v1.2 SDK compares lowercase)."""
    word = str(_value(face, "qualityForRecognition"))
    return word if v12 else word.capitalize()


# name -> function(face, v12) producing the attribute's JSON value.
ATTRIBUTE_FORMATTERS: dict[str, Callable[[Face, bool], object]] = {
    "headPose": _head_pose,
    "age": _age,
    "gender": _gender,
    "smile": _smile,
    "glasses": _glasses,
    "emotion": _emotion,
    "facialHair": _facial_hair,
    "blur": _level("blur", "blurLevel", _LOW_MEDIUM_HIGH),
    "exposure": _level("exposure", "exposureLevel", _EXPOSURE),
    "noise": _level("noise", "noiseLevel", _LOW_MEDIUM_HIGH),
    "hair": _hair,
    "accessories": _accessories,
    "makeup": _makeup,
    "occlusion": _occlusion,
    "mask": _mask,
    "qualityForRecognition": _quality,
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
