"""Choosing the one face to add to a person or a face list, and its embedding.

Without a target rectangle the image must hold exactly one face (NoFace or SeveralFaces
otherwise). With a target ``(left, top, width, height)`` the detected face whose reported
rectangle (the one Detect returns, rostro.vision.rectangle) overlaps it most is kept; if the
detector found none there, it looks again inside the rectangle (with a margin), so a face too
small or too blurred for the whole-image pass can still be enrolled where the client says it
is. A target reaching past the image is clipped to it (Detect's rectangles are clipped the
same way); only one with no part inside the image is refused (TargetOutsideImage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rostro.service.errors import NoFace, SeveralFaces, TargetOutsideImage
from rostro.store.groups import NewFace
from rostro.vision.analyzer import MAX_FACES, Analyzer
from rostro.vision.image import decode_image
from rostro.vision.rectangle import azure_rectangle, clip_box, minimum_face, whole_pixels
from rostro.vision.types import Box, Detection, Point

#: Smallest overlap (IoU) between the target and a detected face for that face to be it.
TARGET_IOU = 0.3
#: Margin added around the target, as a fraction of its size, when detecting inside it.
TARGET_MARGIN = 0.5


@dataclass(frozen=True)
class AddFaceParams:
    """What AddFace asks: the face's userData, the target rectangle (left, top, width,
    height) if any, and the detection model."""

    user_data: str | None
    target: tuple[int, int, int, int] | None
    detection_model: str


def _inside(target: tuple[int, int, int, int], width: int, height: int) -> Box:
    """Return the part of ``target`` inside the image; TargetOutsideImage when no part is."""
    box = clip_box(Box(*(float(v) for v in target)), width, height)
    if box.width <= 0 or box.height <= 0:
        raise TargetOutsideImage("the target rectangle is outside the image")
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
    a, b, c, d, e = (Point(p.x + dx, p.y + dy) for p in detection.points5)
    return Detection(Box(box.left + dx, box.top + dy, box.width, box.height), detection.score,
                     (a, b, c, d, e))


def enroll_face(analyzer: Analyzer, data: bytes, params: AddFaceParams) -> NewFace:
    """Decode ``data``, choose the face to add and embed it (runs in an inference thread).
    Raises ImageError/ImageTooLarge (decoding), NoFace, SeveralFaces or TargetOutsideImage."""
    image = decode_image(data)
    height, width = image.shape[:2]
    target = _inside(params.target, width, height) if params.target else None
    shape = params.detection_model
    # Matched against the rectangles Detect reports (same shape, same minimum size), so any
    # rectangle Detect returned comes back to the face it was returned for.
    located = analyzer.locate(image, shape, MAX_FACES, minimum_face(width, height))
    chosen: tuple[Detection, Box] | None
    if target is None:
        if not located:
            raise NoFace("no face detected in the image")
        if len(located) > 1:
            raise SeveralFaces("more than one face in the image")
        chosen = located[0]
    else:
        chosen = (_best_overlap(located, target, minimum=TARGET_IOU - 1e-9)
                  or _search_inside(analyzer, image, target, shape))
        if chosen is None:
            raise NoFace("no face at the target rectangle")
    detection, rectangle = chosen
    # The stored rectangle is the client's target (clipped), as Azure keeps it; without
    # one, the rectangle Detect would have reported.
    kept = whole_pixels(target if target is not None else rectangle)
    return NewFace(embedding=analyzer.embed(image, detection),
                   rectangle=(int(kept.left), int(kept.top), int(kept.width), int(kept.height)),
                   detection_model=params.detection_model, user_data=params.user_data)
