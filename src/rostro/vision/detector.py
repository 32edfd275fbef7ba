"""Face detection with YuNet (OpenCV Zoo, 2023mar), run in ONNX Runtime."""

from __future__ import annotations

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

    ``detect`` runs the network once per image. Large images are shrunk so their longer side is
    at most ``max_side``. Small images (longer side under ``upscale_below``) are enlarged by up
    to ``max_upscale`` times, and to at most ``upscale_area`` pixels (800x600 by default, so no
    image costs more than ~1.6 times a 640x480 one). YuNet finds faces from ~20 px of network
    input, so a 2x enlargement brings the 10-20 px faces of small photos into range. The factor
    is capped because a face that fills a small crop (a 200x200 portrait, a 48x48 thumbnail)
    is lost or split once it is enlarged far past ~600 px. The enlarged pass replaces the
    native one instead of adding to it: running both cost 25 % more and bought no significant
    recall on the dev set (docs/accuracy.md). ``upscale_below=0`` turns enlarging off.

    When that pass finds nothing in a small image, the network runs again at
    ``fallback_scales`` (within the same area cap) and the single best face found is kept:
    faces of tiny photos (CMU's 128x120, FER thumbnails) are found at one scale and missed at
    another, and a faceless small image is cheap to scan again. The retry never adds faces to
    an image where the first pass found one, so it cannot cost precision there.
    """

    fallback_scales = (1.0, 1.5, 2.5, 3.0, 4.0)

    def __init__(
        self,
        model_path: Path,
        score_threshold: float = 0.6,
        nms_threshold: float = 0.3,
        max_side: int = 1280,
        upscale_below: int = 0,
        upscale_area: int = 800 * 600,
        max_upscale: float = 2.0,
    ) -> None:
        self._session = session(model_path)
        self._outputs = [o.name for o in self._session.get_outputs()]
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.max_side = max_side
        self.upscale_below = upscale_below
        self.upscale_area = upscale_area
        self.max_upscale = max_upscale

    def scale(self, height: int, width: int) -> float:
        """Return the factor an image of this size is resized by before the network runs."""
        longest = max(height, width)
        if self.upscale_below and longest < self.upscale_below:
            return max(1.0, min(self.max_upscale, (self.upscale_area / (height * width)) ** 0.5))
        return min(1.0, self.max_side / longest)

    def input_shape(self, height: int, width: int) -> tuple[int, int]:
        """Return the (height, width) the network runs at for an image of this size: the
        resized image padded to multiples of 32. Its area is what the cost scales with."""
        factor = self.scale(height, width)
        resized_h, resized_w = _resized(height, factor), _resized(width, factor)
        return -(-resized_h // 32) * 32, -(-resized_w // 32) * 32

    def _run(self, image: np.ndarray, scale: float) -> np.ndarray:
        """Return all rows the network scores at ``scale`` (before threshold and NMS), in
        original image coordinates."""
        height, width = image.shape[:2]
        scale_x = scale_y = 1.0
        if scale != 1.0:
            size = (_resized(width, scale), _resized(height, scale))
            interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            image = cv2.resize(image, size, interpolation=interpolation)
            # Sides are rounded to whole pixels: map back with the exact per-axis ratios.
            scale_x, scale_y = size[0] / width, size[1] / height
            height, width = size[1], size[0]
        pad_h, pad_w = -(-height // 32) * 32, -(-width // 32) * 32
        blob = np.zeros((1, 3, pad_h, pad_w), dtype=np.float32)
        blob[0, :, :height, :width] = image.transpose(2, 0, 1)
        outputs = dict(zip(self._outputs, self._session.run(self._outputs, {"input": blob})))
        rows = _decode(outputs, pad_h, pad_w)
        rows[:, 0:14:2] /= scale_x  # x, w and the points' x
        rows[:, 1:14:2] /= scale_y  # y, h and the points' y
        return rows

    def detect(self, image: np.ndarray, score_threshold: float | None = None) -> list[Detection]:
        """Return the faces in a BGR uint8 image, best score first.

        ``score_threshold`` overrides the detector's own for this call (the evaluation ranks
        detections below the operating threshold to compute AP). NMS is greedy by score, so the
        faces above a threshold do not depend on which lower one was used.
        """
        threshold = self.score_threshold if score_threshold is None else score_threshold
        first_scale = self.scale(*image.shape[:2])
        rows = self._run(image, first_scale)
        rows = rows[rows[:, -1] >= threshold]
        if not (rows[:, -1] >= self.score_threshold).any():
            rows = np.concatenate([rows, self._fallback(image, first_scale, threshold)])
        if len(rows) == 0:
            return []
        detections = []
        for row in nms(rows, self.nms_threshold):
            x, y, w, h = (float(v) for v in row[:4])
            p = [Point(float(row[4 + 2 * i]), float(row[5 + 2 * i])) for i in range(5)]
            detections.append(Detection(Box(x, y, w, h), float(row[-1]), (p[0], p[1], p[2], p[3], p[4])))
        return detections


    def _fallback(self, image: np.ndarray, tried: float, threshold: float) -> np.ndarray:
        """Return the best row above the operating threshold over the fallback scales of a
        small image (empty when the image is not small or nothing is found)."""
        height, width = image.shape[:2]
        if not (self.upscale_below and max(height, width) < self.upscale_below):
            return np.empty((0, 15), dtype=np.float32)
        best = None
        for factor in self.fallback_scales:
            if factor == tried or (factor > 1 and height * width * factor**2 > self.upscale_area):
                continue
            rows = self._run(image, factor)
            top = rows[np.argmax(rows[:, -1])]
            if top[-1] >= max(threshold, self.score_threshold) and (best is None or top[-1] > best[-1]):
                best = top
        return np.empty((0, 15), dtype=np.float32) if best is None else best[None]


def _resized(length: int, factor: float) -> int:
    return max(1, int(round(length * factor)))
