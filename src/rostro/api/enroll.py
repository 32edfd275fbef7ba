"""Adding a face to a person or a face list ("AddFace"): the query parameters, the choice of
the one face to keep, and its embedding.

Without ``targetFace`` the image must hold exactly one face (InvalidImage otherwise, as on
Azure). With ``targetFace=left,top,width,height`` the detected face whose reported rectangle
(the one Detect returns, rostro.vision.rectangle) overlaps that rectangle most is kept; if the
detector found none there, it looks again inside the rectangle (with a margin), so a face too
small or too blurred for the whole-image pass can still be enrolled where the client says it
is. A targetFace reaching past the image is clipped to it (Detect's rectangles are clipped
the same way, and the spec sets no bound); only one with no part inside the image is out of
range.
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
from rostro.service.state import service_state
from rostro.store.groups import NewFace
from rostro.vision.analyzer import MAX_FACES, Analyzer
from rostro.vision.errors import ImageError, ImageTooLarge
from rostro.vision.image import decode_image
from rostro.vision.rectangle import azure_rectangle, clip_box, whole_pixels
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
    """Return the part of ``target`` inside the image; 400 when no part is."""
    box = clip_box(Box(*(float(v) for v in target)), width, height)
    if box.width <= 0 or box.height <= 0:
        raise bad_argument("Argument targetFace out of range.")
    return box


def _search_inside(analyzer: Analyzer, image: np.ndarray, box: Box,
                   shape: str) -> tuple[Detection, Box] | None:
    """Detect in the region of ``box`` (with a margin); return the face whose reported
    rectangle overlaps ``box`` most, and that rectangle, in image coordinates, or None."""
    height, width = image.shape[:2]
    x0 = max(0, int(box.left - TARGET_MARGIN * box.width))
    y0 = max(0, int(box.top - TARGET_MARGIN * box.height))
    x1 = min(width, int(box.left + box.width * (1 + TARGET_MARGIN)))
    y1 = min(height, int(box.top + box.height * (1 + TARGET_MARGIN)))
    shifted = [_shift(d, x0, y0) for d in analyzer.detect(np.ascontiguousarray(image[y0:y1, x0:x1]))]
    found = [(d, azure_rectangle(d, shape, width, height)) for d in shifted]
    return _best_overlap(found, box, minimum=0.0)


def _best_overlap(found: list[tuple[Detection, Box]], target: Box,
                  minimum: float) -> tuple[Detection, Box] | None:
    """Return the (detection, rectangle) whose rectangle overlaps ``target`` most, if that
    overlap (IoU) is above ``minimum``."""
    best = max(found, key=lambda pair: pair[1].iou(target), default=None)
    return best if best is not None and best[1].iou(target) > minimum else None


def _shift(detection: Detection, dx: int, dy: int) -> Detection:
    box = detection.box
    return Detection(Box(box.left + dx, box.top + dy, box.width, box.height), detection.score,
                     tuple(Point(p.x + dx, p.y + dy) for p in detection.points5))


def enroll_face(analyzer: Analyzer, data: bytes, params: AddFaceParams) -> NewFace:
    """Decode ``data``, choose the face to add and embed it (runs in an inference thread)."""
    image = _decode(data)
    height, width = image.shape[:2]
    target = _inside(params.target, width, height) if params.target else None
    shape = params.detection_model
    # Matched against the rectangles Detect reports (same shape, same minimum size), so any
    # rectangle Detect returned comes back to the face it was returned for.
    located = analyzer.locate(image, shape, MAX_FACES, minimum_face(width, height))
    if target is None:
        if not located:
            raise no_face()
        if len(located) > 1:
            raise several_faces()
        chosen = located[0]
    else:
        chosen = (_best_overlap(located, target, minimum=TARGET_IOU - 1e-9)
                  or _search_inside(analyzer, image, target, shape))
        if chosen is None:
            raise no_face()
    detection, rectangle = chosen
    # The stored rectangle is the client's targetFace (clipped), as Azure keeps it; without
    # one, the rectangle Detect would have reported.
    kept = whole_pixels(target if target is not None else rectangle)
    return NewFace(embedding=analyzer.embed(image, detection),
                   rectangle=(int(kept.left), int(kept.top), int(kept.width), int(kept.height)),
                   detection_model=params.detection_model, user_data=params.user_data)


async def face_from_request(request: Request, params: AddFaceParams) -> NewFace:
    """Read the request's image (bytes or URL) and return the face to persist."""
    state = service_state(request)
    data = await request_image(request, state)
    return await analyse_image(state, data, enroll_face, state.analyzer, data, params)
