"""Colour and texture statistics of face regions on the wide aligned crop.

The wide crop (``crops.wide_crop``, 128 x 128) puts every face in the same place: eye centres
near (54, 69) and (74, 69), the mouth near y = 92. Fixed rectangles therefore cover the same
part of every face. For each region the statistics are: Lab means (lightness, a, b), the
lightness spread, the mean gradient magnitude (edges: glasses frames, beard texture) and
the share of very dark pixels. Differences from the cheeks make them independent of skin
tone and lighting. The heads in ``heads/`` (glasses, facial hair, hair, mask) read
this vector; the rectangles are part of the trained model, so changing one means
retraining (rostro_training/train_heads.py).
"""

from __future__ import annotations

import cv2
import numpy as np

# name -> (x0, y0, x1, y1) in the 128 x 128 wide crop.
REGIONS: dict[str, tuple[int, int, int, int]] = {
    "eye_left": (46, 63, 62, 75),
    "eye_right": (66, 63, 82, 75),
    "bridge": (61, 63, 67, 72),
    "brow": (46, 56, 82, 63),
    "forehead": (50, 44, 78, 56),
    "cheek_left": (44, 77, 56, 88),
    "cheek_right": (72, 77, 84, 88),
    "nose": (59, 74, 69, 84),
    "upper_lip": (56, 84, 72, 90),
    "mouth": (54, 88, 74, 97),
    "chin": (56, 97, 72, 108),
    "jaw_left": (40, 84, 50, 102),
    "jaw_right": (78, 84, 88, 102),
    "temple_left": (34, 55, 44, 78),
    "temple_right": (84, 55, 94, 78),
    "crown": (44, 16, 84, 38),
    "above": (34, 2, 94, 16),
}
_STATS = ("L", "a", "b", "L_std", "grad", "dark")
_RELATIVE = ("eye_left", "eye_right", "bridge", "brow", "forehead", "upper_lip", "mouth",
             "chin", "jaw_left", "jaw_right", "temple_left", "temple_right", "crown", "above")

FEATURE_NAMES: tuple[str, ...] = tuple(
    [f"{r}.{s}" for r in REGIONS for s in _STATS]
    + [f"{r}-cheeks.{s}" for r in _RELATIVE for s in ("L", "a", "b", "grad")]
)


def region_statistics(crop: np.ndarray) -> np.ndarray:
    """Return the region feature vector (see FEATURE_NAMES) of a 128 x 128 BGR wide crop."""
    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB).astype(np.float32)
    lightness = lab[..., 0] * (100.0 / 255.0)
    a = lab[..., 1] - 128.0
    b = lab[..., 2] - 128.0
    gx = cv2.Sobel(lightness, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lightness, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.sqrt(gx * gx + gy * gy)
    stats: dict[str, np.ndarray] = {}
    for name, (x0, y0, x1, y1) in REGIONS.items():
        window = np.s_[y0:y1, x0:x1]
        lw = lightness[window]
        stats[name] = np.array([lw.mean(), a[window].mean(), b[window].mean(), lw.std(),
                                grad[window].mean(), (lw < 20.0).mean()])
    cheeks = (stats["cheek_left"] + stats["cheek_right"]) / 2
    picks = [0, 1, 2, 4]
    relative = [stats[name][picks] - cheeks[picks] for name in _RELATIVE]
    return np.concatenate([stats[name] for name in REGIONS] + relative).astype(np.float64)
