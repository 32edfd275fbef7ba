"""Drawing analysed faces onto a copy of the image (for ``rostro detect --annotate``)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from rostro.vision.types import Face

_BOX = (80, 220, 80)
_POINT = (40, 200, 255)
_TEXT_BG = (30, 30, 30)


def annotate(image: np.ndarray, faces: Sequence[Face], labels: Sequence[str] | None = None) -> np.ndarray:
    """Return a BGR copy of ``image`` with each face's reported rectangle (the detector's box
    when it has none), landmarks and label drawn."""
    canvas = image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 400))
    for index, face in enumerate(faces):
        box = face.rectangle if face.rectangle is not None else face.box
        top_left = (round(box.left), round(box.top))
        bottom_right = (round(box.left + box.width), round(box.top + box.height))
        cv2.rectangle(canvas, top_left, bottom_right, _BOX, thickness, cv2.LINE_AA)
        points = face.landmarks.values() if face.landmarks else face.detection.points5
        for point in points:
            cv2.circle(canvas, (round(point.x), round(point.y)), thickness + 1, _POINT, -1, cv2.LINE_AA)
        label = labels[index] if labels else f"#{index + 1}"
        scale = 0.4 * thickness
        (width, height), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        y = max(top_left[1], height + base + 2)
        cv2.rectangle(canvas, (top_left[0], y - height - base - 2), (top_left[0] + width + 2, y), _TEXT_BG, -1)
        cv2.putText(canvas, label, (top_left[0] + 1, y - base), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), thickness, cv2.LINE_AA)
    return canvas
