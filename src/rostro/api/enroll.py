"""Adding a face to a person or a face list ("AddFace"): the query parameters, the choice of
the one face to keep, and its embedding.

Without ``targetFace`` the image must hold exactly one face (InvalidImage otherwise, as on
Azure). With ``targetFace=left,top,width,height`` the detected face that overlaps that
rectangle most is kept; if the detector found none there, it looks again inside the
rectangle (with a margin), so a face too small or too blurred for the whole-image pass can
still be enrolled where the client says it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from starlette.requests import Request

from rostro.api.containers import MAX_FACE_USER_DATA
from rostro.api.detect import DETECTION_MODEL, minimum_face
from rostro.api.errors import ApiError, bad_argument, image_too_big, invalid_image
from rostro.api.images import analyse_image, request_image
from rostro.api.params import Query, QueryParam
from rostro.api.state import service_state
from rostro.store.groups import NewFace
from rostro.vision.analyzer import MAX_FACES, Analyzer
from rostro.vision.errors import ImageError, ImageTooLarge
from rostro.vision.image import decode_image
from rostro.vision.types import Box, Detection, Point

USER_DATA = QueryParam("userData", "string", None,
                       "Data attached to the face (at most 1 KB).")
TARGET_FACE = QueryParam(
    "targetFace", "csv", None,
    "left,top,width,height of the face to add, when the image has several faces.")
ADD_FACE_PARAMS = (USER_DATA, TARGET_FACE, DETECTION_MODEL)

#: Smallest overlap (IoU) between targetFace and a detected face for that face to be it.
TARGET_IOU = 0.3
#: Margin added around targetFace, as a fraction of its size, when detecting inside it.
TARGET_MARGIN = 0.5


def no_face() -> ApiError:
    return ApiError(400, "InvalidImage", "No face detected in the image.")


def several_faces() -> ApiError:
    return ApiError(400, "InvalidImage", "There is more than 1 face in the image.")


@dataclass(frozen=True)
class AddFaceParams:
    user_data: str | None
    target: tuple[int, int, int, int] | None
    detection_model: str


def parse_add_face_params(request: Request) -> AddFaceParams:
    """userData (at most 1 KB), targetFace (four integers) and detectionModel."""
    query = Query(request.query_params)
    user_data = query.raw(USER_DATA.name)
    if user_data is not None and len(user_data.encode("utf-8")) > MAX_FACE_USER_DATA:
        raise bad_argument("'userData' is too long.")
    target = None
    raw = query.raw(TARGET_FACE.name)
    if raw is not None:
        try:
            values = tuple(int(part) for part in raw.split(","))
        except ValueError:
            raise bad_argument("Invalid argument targetFace.") from None
        if len(values) != 4 or values[2] <= 0 or values[3] <= 0:
            raise bad_argument("Invalid argument targetFace.")
        target = values
    return AddFaceParams(user_data, target, query.get(DETECTION_MODEL))


def _decode(data: bytes) -> np.ndarray:
    try:
        return decode_image(data)
    except ImageTooLarge:
        raise image_too_big() from None
    except ImageError:
        raise invalid_image() from None


def _inside(target: tuple[int, int, int, int], width: int, height: int) -> Box:
    left, top, w, h = target
    if left < 0 or top < 0 or left + w > width or top + h > height:
        raise bad_argument("Argument targetFace out of range.")
    return Box(float(left), float(top), float(w), float(h))


def _search_inside(analyzer: Analyzer, image: np.ndarray, box: Box) -> Detection | None:
    """Detect in the region of ``box`` (with a margin); return the best face, in image
    coordinates, or None."""
    height, width = image.shape[:2]
    x0 = max(0, int(box.left - TARGET_MARGIN * box.width))
    y0 = max(0, int(box.top - TARGET_MARGIN * box.height))
    x1 = min(width, int(box.left + box.width * (1 + TARGET_MARGIN)))
    y1 = min(height, int(box.top + box.height * (1 + TARGET_MARGIN)))
    found = [d for d in analyzer.detect(np.ascontiguousarray(image[y0:y1, x0:x1]))
             if _shift(d, x0, y0).box.iou(box) > 0]
    if not found:
        return None
    best = max(found, key=lambda d: _shift(d, x0, y0).box.iou(box))
    return _shift(best, x0, y0)


def _shift(detection: Detection, dx: int, dy: int) -> Detection:
    box = detection.box
    return Detection(Box(box.left + dx, box.top + dy, box.width, box.height), detection.score,
                     tuple(Point(p.x + dx, p.y + dy) for p in detection.points5))


def enroll_face(analyzer: Analyzer, data: bytes, params: AddFaceParams) -> NewFace:
    """Decode ``data``, choose the face to add and embed it (runs in an inference thread)."""
    image = _decode(data)
    height, width = image.shape[:2]
    target = _inside(params.target, width, height) if params.target else None
    detections = analyzer.detect(image, MAX_FACES, minimum_face(width, height))
    if target is None:
        if not detections:
            raise no_face()
        if len(detections) > 1:
            raise several_faces()
        chosen = detections[0]
    else:
        overlaps = [(d.box.iou(target), d) for d in detections]
        best = max(overlaps, key=lambda pair: pair[0], default=(0.0, None))
        chosen = best[1] if best[0] >= TARGET_IOU else _search_inside(analyzer, image, target)
        if chosen is None:
            raise no_face()
    box = chosen.box
    rectangle = params.target or (round(box.left), round(box.top), round(box.width),
                                  round(box.height))
    return NewFace(embedding=analyzer.embed(image, chosen), rectangle=rectangle,
                   detection_model=params.detection_model, user_data=params.user_data)


async def face_from_request(request: Request, params: AddFaceParams) -> NewFace:
    """Read the request's image (bytes or URL) and return the face to persist."""
    state = service_state(request)
    data = await request_image(request, state)
    return await analyse_image(state, data, enroll_face, state.analyzer, data, params)
