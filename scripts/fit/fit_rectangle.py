"""Fit the mapping from five face points to Azure's faceRectangle (rostro.vision.rectangle).

Input: azure_rectangles.json (Azure responses published with both faceRectangle and the 27
landmarks; the five points used are pupils, nose tip and mouth corners). Output: the fitted
constants per detection model and their residuals, each face predicted by a fit on the others
(leave-one-out) and by the fit on all.

    python scripts/fit/fit_rectangle.py

The model works in the face's own frame: ``axis`` runs from the eye midpoint to the mouth
midpoint, ``scale`` is the mean of the eye distance and the eye-to-mouth distance (the eye
distance shrinks with yaw, the other with pitch; their mean varied least on the examples).
Each constant is the median over the faces. The centre is the eye midpoint moved ``along``
times the axis; the face-frame box is ``width_k`` x ``height_k`` times ``scale``; the reported
rectangle is that box upright, or (``rolled``) the axis-aligned bounds of it turned by the face's roll. Both are fitted;
detection_01's upright square (smaller leave-one-out error) is rostro.vision.rectangle.SHAPES.
detection_03's fitted shape is reported for comparison only: YuNet's own box matches Azure's
detection_03 rectangles better (scripts/fit/check_photos.py), and is what Rostro reports.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "src"))

from rostro.vision.rectangle import RectangleShape, face_frame, rectangle_from_points  # noqa: E402
from rostro.vision.types import Box, Point  # noqa: E402


def _load(model: str) -> list[tuple[Box, tuple[Point, ...]]]:
    data = json.loads((HERE / "azure_rectangles.json").read_text())
    return [(Box(*map(float, e["rect"])), tuple(Point(x, y) for x, y in e["points"]))
            for e in data[model]]


def fit(samples: list[tuple[Box, tuple[Point, ...]]], square: bool,
        rolled: bool) -> RectangleShape:
    """Each constant is the median of its per-face values (a handful of faces, one of them
    turned by 49 degrees: the median keeps one odd face from moving the rest)."""
    along, widths, heights = [], [], []
    for box, points in samples:
        frame = face_frame(points)
        centre = np.array([box.left + box.width / 2, box.top + box.height / 2])
        along.append(float((centre - frame.eye) @ frame.axis / (frame.axis @ frame.axis)))
        c, s = (abs(frame.cos), abs(frame.sin)) if rolled else (1.0, 0.0)
        # width = scale * (w_k c + h_k s), height = scale * (w_k s + h_k c): solve per face.
        if square:
            widths.append((box.width + box.height) / 2 / (frame.scale * (c + s)))
            heights.append(widths[-1])
        else:
            w_k, h_k = np.linalg.solve([[c, s], [s, c]], [box.width / frame.scale,
                                                          box.height / frame.scale])
            widths.append(float(w_k))
            heights.append(float(h_k))
    return RectangleShape(along=float(np.median(along)), width_k=float(np.median(widths)),
                          height_k=float(np.median(heights)), rolled=rolled)


def _errors(shape: RectangleShape, box: Box, points: tuple[Point, ...]) -> dict[str, float]:
    got = rectangle_from_points(points, shape)
    side = (box.width + box.height) / 2
    return {"left": abs(got.left - box.left) / side, "top": abs(got.top - box.top) / side,
            "width": abs(got.width - box.width) / side, "height": abs(got.height - box.height) / side,
            "iou": got.iou(box)}


def report(model: str, square: bool, rolled: bool) -> None:
    samples = _load(model)
    shape = fit(samples, square, rolled)
    print(f"{model} (rolled={rolled}): n={len(samples)} along={shape.along:.4f} "
          f"width_k={shape.width_k:.4f} height_k={shape.height_k:.4f}")
    for label, errors in (
        ("in-sample", [_errors(shape, b, p) for b, p in samples]),
        ("leave-one-out", [_errors(fit(samples[:i] + samples[i + 1:], square, rolled), b, p)
                           for i, (b, p) in enumerate(samples)]),
    ):
        table = {k: np.array([e[k] for e in errors]) for k in errors[0]}
        print(f"  {label:14s} " + "  ".join(
            f"{k} mean {100 * v.mean():.1f}% max {100 * v.max():.1f}%" for k, v in table.items()
            if k != "iou") + f"  IoU mean {table['iou'].mean():.3f} min {table['iou'].min():.3f}")


if __name__ == "__main__":
    for rolled in (False, True):
        report("detection_01", square=True, rolled=rolled)
        report("detection_03", square=False, rolled=rolled)
