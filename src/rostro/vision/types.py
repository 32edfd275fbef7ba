"""Value types of the engine. Coordinates are pixels of the original image (x right, y down)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Box:
    """An axis-aligned face box: left/top corner, width and height, in pixels (floats)."""

    left: float
    top: float
    width: float
    height: float

    @property
    def area(self) -> float:
        return self.width * self.height

    def iou(self, other: Box) -> float:
        """Return intersection over union with ``other`` (0 when they do not overlap)."""
        x1, y1 = max(self.left, other.left), max(self.top, other.top)
        x2 = min(self.left + self.width, other.left + other.width)
        y2 = min(self.top + self.height, other.top + other.height)
        inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class HeadPose:
    """Head rotation in degrees, seen from the camera.

    roll > 0: the face is tilted clockwise in the image (Azure's convention: its docs rotate
    the face rectangle clockwise by roll). yaw > 0: the face turns towards the image's right
    (the person's left). pitch > 0: the face looks up. Tests pin these on real photos.
    """

    pitch: float
    roll: float
    yaw: float


@dataclass(frozen=True)
class Detection:
    """What the detector finds: box, score and five points.

    The five points are, in image terms: left eye, right eye (from the viewer's side), nose
    tip, left mouth corner, right mouth corner.
    """

    box: Box
    score: float
    points5: tuple[Point, Point, Point, Point, Point]


@dataclass(frozen=True)
class Face:
    """One analysed face. Optional parts are None when the request did not ask for them.

    ``rectangle`` is the face's rectangle as reported (rostro.vision.rectangle: Azure's shape,
    clipped to the image); ``box`` stays the detector's own box, which the models after the
    detector were tuned on.
    """

    detection: Detection
    rectangle: Box | None = None
    landmarks: dict[str, Point] | None = None  # Azure's 27 names, in Azure's order
    landmarks68: tuple[Point, ...] | None = None
    pose: HeadPose | None = None
    embedding: np.ndarray | None = field(default=None, compare=False)
    attributes: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def box(self) -> Box:
        return self.detection.box
