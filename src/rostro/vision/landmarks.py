"""68 landmarks, Azure's 27 named landmarks and head pose from 3DDFA_V2 (MobileNet, 120x120)."""

from __future__ import annotations

from math import asin, atan2, cos, degrees
from pathlib import Path

import cv2
import numpy as np

from rostro.vision.runtime import session
from rostro.vision.types import Box, HeadPose, Point

_SIZE = 120


def _roi(box: Box) -> tuple[float, float, float, float]:
    """The square crop 3DDFA_V2 was trained on: 1.58x the box, shifted down by 14%."""
    old = (box.width + box.height) / 2
    cx = box.left + box.width / 2
    cy = box.top + box.height / 2 + old * 0.14
    size = round(old * 1.58)
    return cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2


def _crop(image: np.ndarray, roi: tuple[float, float, float, float]) -> np.ndarray:
    """Cut ``roi`` out of ``image`` and resize it to 120x120, padding outside with black."""
    sx, sy, ex, ey = roi
    scale = _SIZE / (ex - sx)
    matrix = np.array([[scale, 0, -sx * scale], [0, scale, -sy * scale]], dtype=np.float64)
    return cv2.warpAffine(image, matrix, (_SIZE, _SIZE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)


def _angles(rotation: np.ndarray) -> tuple[float, float, float]:
    """Return 3DDFA's (yaw, pitch, roll) in degrees from a 3x3 rotation matrix."""
    r20 = float(np.clip(rotation[2, 0], -1.0, 1.0))
    if abs(r20) > 0.998:
        yaw = np.pi / 2 if r20 > 0 else -np.pi / 2
        pitch = atan2(-rotation[0, 1], -rotation[0, 2]) if r20 > 0 else atan2(rotation[0, 1], rotation[0, 2])
        roll = 0.0
    else:
        yaw = asin(r20)
        pitch = atan2(rotation[2, 1] / cos(yaw), rotation[2, 2] / cos(yaw))
        roll = atan2(rotation[1, 0] / cos(yaw), rotation[0, 0] / cos(yaw))
    return degrees(yaw), degrees(pitch), degrees(roll)


def _mean(points: np.ndarray, *indices: int) -> np.ndarray:
    return points[list(indices)].mean(axis=0)


def azure_landmarks(p: np.ndarray) -> dict[str, Point]:
    """Map 68 iBUG points (image coordinates, (68, 2)) to Azure's 27 named landmarks.

    Azure's "Left" is the side on the image's left. Points Azure has and iBUG lacks (pupils,
    nose root and alar points) are interpolated from their neighbours.
    """
    nose_up = p[29] - p[33]
    named = {
        "pupilLeft": _mean(p, 36, 37, 38, 39, 40, 41),
        "pupilRight": _mean(p, 42, 43, 44, 45, 46, 47),
        "noseTip": p[30],
        "mouthLeft": p[48],
        "mouthRight": p[54],
        "eyebrowLeftOuter": p[17],
        "eyebrowLeftInner": p[21],
        "eyeLeftOuter": p[36],
        "eyeLeftTop": _mean(p, 37, 38),
        "eyeLeftBottom": _mean(p, 40, 41),
        "eyeLeftInner": p[39],
        "eyebrowRightInner": p[22],
        "eyebrowRightOuter": p[26],
        "eyeRightInner": p[42],
        "eyeRightTop": _mean(p, 43, 44),
        "eyeRightBottom": _mean(p, 46, 47),
        "eyeRightOuter": p[45],
        "noseRootLeft": p[27] + (p[39] - p[27]) * 0.3,
        "noseRootRight": p[27] + (p[42] - p[27]) * 0.3,
        "noseLeftAlarTop": p[31] + nose_up * 0.5,
        "noseRightAlarTop": p[35] + nose_up * 0.5,
        "noseLeftAlarOutTip": p[31] + (p[31] - p[33]) * 0.3,
        "noseRightAlarOutTip": p[35] + (p[35] - p[33]) * 0.3,
        "upperLipTop": p[51],
        "upperLipBottom": p[62],
        "underLipTop": p[66],
        "underLipBottom": p[57],
    }
    return {name: Point(float(xy[0]), float(xy[1])) for name, xy in named.items()}


class TDDFALandmarker:
    """Fit a 3D face model to a detected face: 68 landmarks (image pixels) and head pose."""

    def __init__(self, model_path: Path, bases_path: Path) -> None:
        self._session = session(model_path)
        self._input = self._session.get_inputs()[0].name
        with np.load(bases_path) as bases:
            self._mean = bases["param_mean"]
            self._std = bases["param_std"]
            self._u = bases["u_base"].reshape(-1, 1)
            self._w_shp = bases["w_shp_base"]
            self._w_exp = bases["w_exp_base"]

    def fit(self, image: np.ndarray, box: Box) -> tuple[np.ndarray, HeadPose]:
        """Return the (68, 2) landmarks in image pixels and the head pose of the face in ``box``."""
        roi = _roi(box)
        crop = _crop(image, roi)
        blob = ((crop.astype(np.float32) - 127.5) / 128.0).transpose(2, 0, 1)[None]
        param = self._session.run(None, {self._input: blob})[0].ravel() * self._std + self._mean
        camera = param[:12].reshape(3, 4)
        shape = self._u + self._w_shp @ param[12:52, None] + self._w_exp @ param[52:62, None]
        vertices = camera[:, :3] @ shape.reshape(3, -1, order="F") + camera[:, 3:]
        # From the model's 120x120 frame (y up, 1-based) to image pixels.
        scale = (roi[2] - roi[0]) / _SIZE
        xs = (vertices[0] - 1) * scale + roi[0]
        ys = (_SIZE - vertices[1]) * scale + roi[1]
        rows = camera[:2, :3]
        r1 = rows[0] / np.linalg.norm(rows[0])
        r2 = rows[1] / np.linalg.norm(rows[1])
        rotation = np.stack([r1, r2, np.cross(r1, r2)])
        yaw, pitch, roll = _angles(rotation)
        # 3DDFA's angles are in a y-up model frame; Azure's (see HeadPose) follow the image:
        # yaw > 0 turns towards the image's right, roll > 0 is clockwise, pitch > 0 looks up.
        pose = HeadPose(pitch=-pitch, roll=-roll, yaw=-yaw)
        return np.stack([xs, ys], axis=1), pose
