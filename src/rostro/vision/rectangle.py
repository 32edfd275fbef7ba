"""Azure-shaped face rectangles, from what the detector gives: five points and a box.

detection_01 (and detection_02): Azure's rectangle is a square, 2.19 times the mean of the
eye distance and the eye-to-mouth distance, centred half-way between the eyes and the mouth
(eyebrows to chin). ``SHAPES`` holds those constants, fitted on Azure's published responses
that carry both the rectangle and the landmarks (scripts/fit/fit_rectangle.py), and
``YUNET_POINTS`` the correction from YuNet's points to Azure's (YuNet's mouth corners sit a
little lower and wider), measured on photos published with Azure's answers
(scripts/fit/check_photos.py). Residuals are in docs/accuracy.md.

detection_03: Azure's rectangle is not square (taller than wide, forehead to chin) and on the
published photos it is YuNet's own box to within a few percent (IoU 0.89 median), closer than
any shape fitted on the points; so it is YuNet's box.

Either way the rectangle is clipped to the image, and it needs no landmark fit, so detect
without landmarks gets it at no cost. Only the reported rectangle (and what is measured on
it: the minimum size, the order by size, targetFace matching) uses it. The landmark fit, the
embedding's alignment and the attribute crops keep YuNet's own box and points: they were
tuned on them.
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


@dataclass(frozen=True)
class PointConvention:
    """How one detector's five points differ from Azure's: its face scale is ``scale`` times
    Azure's, and a rectangle placed from its points sits ``shift`` of the side too low."""

    scale: float
    shift: float


# Fitted by scripts/fit/fit_rectangle.py on azure_rectangles.json (see docs/accuracy.md).
_SQUARE = RectangleShape(along=0.4735, width_k=2.1891, height_k=2.1891)
# detection_02 returns no landmarks, so no published answer ties its rectangle to the face, and
# the spec says nothing of its shape: it is given detection_01's square (docs/api.md).
SHAPES = {"detection_01": _SQUARE, "detection_02": _SQUARE}
#: Models whose rectangle is the detector's own box (clipped).
BOX_MODELS = frozenset({"detection_03"})
#: YuNet's points against Azure's pupils and mouth corners, medians over the 12 faces of
#: scripts/fit/check_photos.py: scale 1.058 times, square centre 0.015 of its side lower.
YUNET_POINTS = PointConvention(scale=1.058, shift=0.015)

MIN_FACE = 36  # Azure's documented smallest detectable face, pixels, up to 1920x1080
#: The shortest rectangle side Rostro reports (up to 1920x1080; proportionally more above).
#: Azure's 36 px is the size it promises to detect, not a cut on what it reports: a published
#: Vision Studio answer holds a face 30 px wide, whose detection_01 square (from its landmarks)
#: is 30 px too (docs/api.md). And Rostro's square is an estimate from five points: on the
#: detection dev set its side is 0.88 times the labelled box's shorter side (median; 0.73-1.00
#: from the 10th to the 90th percentile), so a cut at 36 drops a fifth of the labelled faces of
#: 36 px and more (API recall 0.711 against the engine's 0.916); at 30 px, 0.887
#: (docs/accuracy.md).
REPORTED_MIN_SIDE = 30

#: The face scale (on YuNet's points) is trusted between these multiples of YuNet's box side
#: (sqrt(w*h)); outside them (a profile face folds the eye distance to nothing, a point flies
#: off) it is taken from the box, at the median ratio. On the detection dev set the ratio's
#: median is 0.384 and 99 % of faces lie in 0.25-0.46 (docs/accuracy.md).
SCALE_RANGE = (0.22, 0.60)
TYPICAL_SCALE = 0.384


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
    """Return the rectangle Azure's ``model`` would report for a YuNet ``detection`` in a
    ``width`` x ``height`` image, clipped to the image, in whole pixels (as on the wire, so
    the value filtered, sorted and matched on is the value the client sees)."""
    box = detection.box
    if model not in BOX_MODELS:
        side = (box.width * box.height) ** 0.5
        scale = face_frame(detection.points5).scale
        if not SCALE_RANGE[0] * side <= scale <= SCALE_RANGE[1] * side:
            scale = TYPICAL_SCALE * side
        placed = rectangle_from_points(detection.points5, SHAPES[model],
                                       scale / YUNET_POINTS.scale)
        box = Box(placed.left, placed.top - YUNET_POINTS.shift * placed.height, placed.width,
                  placed.height)
    # Round corner and sides before clipping, so a square stays square.
    rounded = Box(float(round(box.left)), float(round(box.top)), float(round(box.width)),
                  float(round(box.height)))
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


def minimum_face(width: int, height: int, side: float = REPORTED_MIN_SIDE) -> float:
    """The smallest face reported in a ``width`` x ``height`` image, on the reported
    rectangle's shorter side: ``side`` up to 1920x1080, proportionally more above (as Azure's
    36 px)."""
    scale = max(1.0, max(width, height) / 1920, min(width, height) / 1080)
    return side * scale
