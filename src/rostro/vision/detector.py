"""Face detection with YuNet (OpenCV Zoo, 2023mar), run in ONNX Runtime."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from rostro.vision.runtime import session
from rostro.vision.types import Box, Detection, Point

_STRIDES = (8, 16, 32)


def _decode(outputs: dict[str, np.ndarray], height: int, width: int) -> np.ndarray:
    """Turn YuNet's per-stride outputs into rows of [x, y, w, h, 10 point coords, score]."""
    rows = []
    for stride in _STRIDES:
        cols_n, rows_n = width // stride, height // stride
        cls = np.clip(outputs[f"cls_{stride}"][0, :, 0], 0, 1)
        obj = np.clip(outputs[f"obj_{stride}"][0, :, 0], 0, 1)
        bbox = outputs[f"bbox_{stride}"][0]
        kps = outputs[f"kps_{stride}"][0]
        grid_y, grid_x = np.divmod(np.arange(rows_n * cols_n), cols_n)
        cx = (grid_x + bbox[:, 0]) * stride
        cy = (grid_y + bbox[:, 1]) * stride
        w = np.exp(bbox[:, 2]) * stride
        h = np.exp(bbox[:, 3]) * stride
        points = np.empty((len(cx), 10), dtype=np.float32)
        points[:, 0::2] = (kps[:, 0::2] + grid_x[:, None]) * stride
        points[:, 1::2] = (kps[:, 1::2] + grid_y[:, None]) * stride
        score = np.sqrt(cls * obj)
        rows.append(np.column_stack([cx - w / 2, cy - h / 2, w, h, points, score]))
    return np.concatenate(rows).astype(np.float32)


def nms(rows: np.ndarray, threshold: float) -> np.ndarray:
    """Keep the best-scoring rows ([x, y, w, h, ..., score]) whose boxes overlap less than
    ``threshold`` IoU with a better one; return them best first."""
    order = np.argsort(-rows[:, -1])
    rows = rows[order]
    x1, y1 = rows[:, 0], rows[:, 1]
    x2, y2 = x1 + rows[:, 2], y1 + rows[:, 3]
    area = rows[:, 2] * rows[:, 3]
    keep, alive = [], np.ones(len(rows), dtype=bool)
    for i in range(len(rows)):
        if not alive[i]:
            continue
        keep.append(i)
        iw = np.clip(np.minimum(x2[i], x2) - np.maximum(x1[i], x1), 0, None)
        ih = np.clip(np.minimum(y2[i], y2) - np.maximum(y1[i], y1), 0, None)
        inter = iw * ih
        iou = inter / (area[i] + area - inter + 1e-9)
        alive &= iou <= threshold
    return rows[keep]


class YuNetDetector:
    """Find faces: boxes, five landmarks and a score per face.

    ``detect`` runs the network at one or more scales and merges the results. Small images
    are also run enlarged (``upscale_below``) because YuNet misses faces under ~20 px.
    """

    def __init__(
        self,
        model_path: Path,
        score_threshold: float = 0.6,
        nms_threshold: float = 0.3,
        max_side: int = 1280,
        upscale_below: int = 0,
    ) -> None:
        self._session = session(model_path)
        self._outputs = [o.name for o in self._session.get_outputs()]
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.max_side = max_side
        self.upscale_below = upscale_below

    def _scales(self, height: int, width: int) -> Sequence[float]:
        longest = max(height, width)
        base = min(1.0, self.max_side / longest)
        scales = [base]
        if self.upscale_below and longest < self.upscale_below:
            scales.append(self.upscale_below / longest)
        return scales

    def _run(self, image: np.ndarray, scale: float) -> np.ndarray:
        if scale != 1.0:
            interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation)
        height, width = image.shape[:2]
        pad_h, pad_w = -(-height // 32) * 32, -(-width // 32) * 32
        blob = np.zeros((1, 3, pad_h, pad_w), dtype=np.float32)
        blob[0, :, :height, :width] = image.transpose(2, 0, 1)
        outputs = dict(zip(self._outputs, self._session.run(self._outputs, {"input": blob})))
        rows = _decode(outputs, pad_h, pad_w)
        rows = rows[rows[:, -1] >= self.score_threshold]
        rows[:, :14] /= scale
        return rows

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Return the faces in a BGR uint8 image, best score first."""
        height, width = image.shape[:2]
        rows = np.concatenate([self._run(image, s) for s in self._scales(height, width)])
        if len(rows) == 0:
            return []
        detections = []
        for row in nms(rows, self.nms_threshold):
            x, y, w, h = (float(v) for v in row[:4])
            points = tuple(Point(float(row[4 + 2 * i]), float(row[5 + 2 * i])) for i in range(5))
            detections.append(Detection(Box(x, y, w, h), float(row[-1]), points))
        return detections
