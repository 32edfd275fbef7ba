"""Azure-shaped face rectangles from the detector's five points.

YuNet's own box is not the box Azure reports: it is taller than wide, sits lower and can reach
past the image. Azure's detection_01 rectangle is a square 2.19 times the mean of the eye
distance and the eye-to-mouth distance, centred half-way between the eyes and the mouth;
detection_03's is not square: 1.24 times taller than wide, and higher (it takes in the
forehead) -- every published detection_03 response with landmarks shows that. ``rectangle_from_points`` places that
rectangle from the five points alone, with constants fitted on Azure's published responses
(scripts/fit/fit_rectangle.py; residuals in docs/accuracy.md), so detect without landmarks
gets it at no cost.

Only the reported rectangle (and what is measured on it: the 36 px minimum, the order by
size, targetFace matching) uses this shape. The landmark fit, the embedding's alignment and
the attribute crops keep YuNet's own box and points: they were tuned on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import hypot

import numpy as np

from rostro.vision.types import Box, Detection, Point


@dataclass(frozen=True)
class RectangleShape:
    """How a detection model's rectangle sits on the face.

    The centre is the eye midpoint moved ``along`` times the eye-to-mouth vector; in the face's
    own frame the box is ``width_k`` x ``height_k`` times the face scale. ``rolled``: the
    reported rectangle is that box turned by the face's roll and bounded by an axis-aligned
    one; otherwise it stays upright whatever the roll (detection_01's does: its side did not
    grow with roll on the published examples).
    """

    along: float
    width_k: float
    height_k: float
    rolled: bool = False


@dataclass(frozen=True)
class FaceFrame:
    """The face's own frame from five points: eye midpoint, eye-to-mouth vector, scale (mean of
    eye distance and eye-to-mouth distance) and the roll as cos/sin of the eye line's angle."""

    eye: np.ndarray
    axis: np.ndarray
    scale: float
    cos: float
    sin: float


# Fitted by scripts/fit/fit_rectangle.py on azure_rectangles.json (see docs/accuracy.md).
SHAPES = {
    "detection_01": RectangleShape(along=0.4869, width_k=2.1891, height_k=2.1891),
    "detection_03": RectangleShape(along=0.2812, width_k=2.3560, height_k=2.9242),
}
# detection_02 is documented as the same rectangles as detection_01 without landmarks or
# attributes; no published detection_02 response carries landmarks to fit it on.
SHAPES["detection_02"] = SHAPES["detection_01"]

MIN_FACE = 36  # Azure's documented smallest detectable face, pixels, up to 1920x1080
#: The shortest rectangle side Rostro reports (up to 1920x1080). Azure's 36 px is the size it
#: promises to detect, not a cut on what it reports: its published responses include a face
#: rectangle 30 px wide (docs/api.md). And the rectangle here is an estimate from five points:
#: against the detection set's labels its side spreads 0.84-1.20x (10th-90th percentile), so a
#: cut at 36 would drop faces that are 36 px and more (API recall on them 0.82 against the
#: engine's 0.92; docs/accuracy.md). 30 px, the smallest Azure has been seen to report, keeps them.
REPORTED_MIN_SIDE = 30

#: The face scale is trusted between these multiples of YuNet's box side (sqrt(w*h)); outside
#: them (a profile face folds the eye distance to nothing, a bad point flies off) the scale is
#: taken from the box instead, at the ratio typical of frontal faces.
SCALE_RANGE = (0.35, 0.75)
TYPICAL_SCALE = 0.5


def face_frame(points: tuple[Point, ...]) -> FaceFrame:
    """Return the face frame of five points (pupil/eye left, right, nose tip, mouth left,
    right, in image terms)."""
    p = np.array([[q.x, q.y] for q in points[:5]], dtype=np.float64)
    eye = (p[0] + p[1]) / 2
    axis = (p[3] + p[4]) / 2 - eye
    eye_line = p[1] - p[0]
    eye_distance = float(hypot(*eye_line))
    if eye_distance > 0:
        cos, sin = eye_line[0] / eye_distance, eye_line[1] / eye_distance
    else:
        cos, sin = 1.0, 0.0
    scale = (eye_distance + float(hypot(*axis))) / 2
    return FaceFrame(eye=eye, axis=axis, scale=scale, cos=float(cos), sin=float(sin))


def rectangle_from_points(points: tuple[Point, ...], shape: RectangleShape,
                          scale: float | None = None) -> Box:
    """Return the (unclipped, float) rectangle ``shape`` puts on the face of ``points``;
    ``scale`` overrides the scale measured on the points."""
    frame = face_frame(points)
    scale = frame.scale if scale is None else scale
    cx, cy = frame.eye + shape.along * frame.axis
    c, s = (abs(frame.cos), abs(frame.sin)) if shape.rolled else (1.0, 0.0)
    width = scale * (shape.width_k * c + shape.height_k * s)
    height = scale * (shape.width_k * s + shape.height_k * c)
    return Box(float(cx - width / 2), float(cy - height / 2), float(width), float(height))


def clip_box(box: Box, width: int, height: int) -> Box:
    """Return the part of ``box`` inside a ``width`` x ``height`` image (zero-sized when none)."""
    left, top = min(max(box.left, 0.0), width), min(max(box.top, 0.0), height)
    right = min(max(box.left + box.width, 0.0), width)
    bottom = min(max(box.top + box.height, 0.0), height)
    return Box(left, top, right - left, bottom - top)


def azure_rectangle(detection: Detection, model: str, width: int, height: int) -> Box:
    """Return the rectangle Azure's ``model`` would report for ``detection`` in a ``width`` x
    ``height`` image: placed from the five points, clipped to the image. Whole pixels, as on
    the wire, so the value filtered, sorted and matched on is the value the client sees."""
    box = detection.box
    side = (box.width * box.height) ** 0.5
    scale = face_frame(detection.points5).scale
    if not SCALE_RANGE[0] * side <= scale <= SCALE_RANGE[1] * side:
        scale = TYPICAL_SCALE * side
    shape = rectangle_from_points(detection.points5, SHAPES[model], scale)
    # Round corner and sides before clipping, so a square stays square.
    rounded = Box(float(round(shape.left)), float(round(shape.top)), float(round(shape.width)),
                  float(round(shape.height)))
    return clip_box(rounded, width, height)


def whole_pixels(box: Box) -> Box:
    """Round a box's edges to whole pixels (edges, not sizes, so it stays inside the image)."""
    left, top = round(box.left), round(box.top)
    right, bottom = round(box.left + box.width), round(box.top + box.height)
    return Box(float(left), float(top), float(right - left), float(bottom - top))


def reading_order(rectangles: list[Box]) -> list[int]:
    """Return the indices of ``rectangles`` largest area first, ties by top then left: Azure's
    "ranked by face rectangle size", made strict so the same image always gives the same
    order."""
    return sorted(range(len(rectangles)),
                  key=lambda i: (-rectangles[i].area, rectangles[i].top, rectangles[i].left))


def select_faces(detections: list[Detection], shape: str, width: int, height: int,
                 max_faces: int, min_face: float = 0.0) -> list[tuple[Detection, Box]]:
    """Return (detection, reported rectangle) pairs of a ``width`` x ``height`` image: each
    detection's rectangle of ``shape``, those whose shorter side is under ``min_face`` dropped,
    the rest largest rectangle first (``reading_order``) and then cut to ``max_faces``. The size
    rule, the order and the cap all apply to the rectangle the client sees."""
    found = [(d, azure_rectangle(d, shape, width, height)) for d in detections]
    found = [pair for pair in found if min(pair[1].width, pair[1].height) >= min_face]
    order = reading_order([rectangle for _, rectangle in found])
    return [found[i] for i in order[:max_faces]]


def minimum_face(width: int, height: int) -> float:
    """The smallest face reported in a ``width`` x ``height`` image, on the reported
    rectangle's shorter side: ``REPORTED_MIN_SIDE`` up to 1920x1080, proportionally more above
    (as Azure's 36 px)."""
    scale = max(1.0, max(width, height) / 1920, min(width, height) / 1080)
    return REPORTED_MIN_SIDE * scale
