"""Lens statistics: is the eye itself visible, or hidden behind a dark lens?

The region statistics (``regions``) look at 16 x 12 px eye boxes of a 128 px crop, where a
thick black frame, a shadowed eye socket and a dark lens all read as "dark eye region".
What tells them apart is *inside* and *just below* the eye, at the resolution of the
ArcFace-aligned 160 px face (``crops.face_crop``, about 50 px between the eyes):

* a visible eye has structure: bright sclera beside a dark iris, a wide spread of lightness
  inside the eye opening; a dark lens is a uniform dark patch (save for reflections);
* a lens covers the skin under the eye too: under a dark lens that band is as dark as the
  eye, under a clear lens (or none) it is skin like the cheeks, whatever the frame's colour
  (a frame is a thin line, and medians ignore it);
* a shadow or a squint darkens the lid and the eye, seldom the band under the eye and the
  outer corner together.

Every window is placed relative to the eye centres in units of the eye distance D, one set
per eye, averaged over both eyes; lightness is relative to the cheeks below the lens (so skin
tone and exposure cancel to first order). The first ``GRAY_COUNT`` features use lightness
only (heads trained on grey photos read those); the rest compare colour with the cheeks (a
tinted lens shifts the skin's hue). The windows are part of the trained heads: changing one
means retraining (rostro_training/train_heads.py).
"""

from __future__ import annotations

import cv2
import numpy as np

from rostro.vision.align import ARCFACE_112

CROP_SIZE = 160
_EYES = ARCFACE_112[:2] * (CROP_SIZE / 112.0)
_D = float(np.linalg.norm(_EYES[1] - _EYES[0]))

# name -> (x0, x1, y0, y1) in units of D around an eye centre; x grows outwards (towards
# the temple) for both eyes.
WINDOWS: dict[str, tuple[float, float, float, float]] = {
    "iris": (-0.10, 0.10, -0.07, 0.07),
    "eye": (-0.26, 0.26, -0.11, 0.11),
    "under": (-0.24, 0.24, 0.19, 0.36),
    "lid": (-0.24, 0.24, -0.30, -0.16),
    "outer": (0.33, 0.48, -0.10, 0.20),
    "cheek": (-0.20, 0.20, 0.68, 0.92),
}
# Between and above the brows, shared by both eyes: the skin reference when a face mask
# covers the cheeks (x from the middle of the eyes, y from the eye line, in units of D).
FOREHEAD = (-0.25, 0.25, -0.80, -0.55)
# The central face, for contrast and fine-detail normalisation (a dim, flat photo has low
# contrast everywhere; a lens is flat against the face's own contrast).
FACE = (-0.75, 0.75, -0.55, 0.95)

GRAY_NAMES = (
    "eye.p10", "eye.p50", "eye.p90", "eye.spread", "iris-sclera", "under.p50", "under.spread",
    "lid.p50", "outer.p50", "eye-under", "eye.grad", "under.grad", "lens.dark_share",
    "eye.bright_share", "under.ratio", "eye.ratio", "eye.spread/face", "eye.detail/face",
    "under.spread/face", "eye.asymmetry",
)
COLOR_NAMES = ("under.a", "under.b", "under.chroma", "eye.chroma", "outer.chroma",
               "lid.chroma")
FEATURE_NAMES: tuple[str, ...] = GRAY_NAMES + COLOR_NAMES
GRAY_COUNT = len(GRAY_NAMES)


def _window(name: str, side: int) -> tuple[slice, slice]:
    """Pixel slice of window ``name`` around eye ``side`` (0: image left, 1: image right)."""
    x0, x1, y0, y1 = WINDOWS[name]
    cx, cy = _EYES[side]
    if side == 0:  # outwards is towards smaller x for the eye on the image's left
        x0, x1 = -x1, -x0
    left, right = int(round(cx + x0 * _D)), int(round(cx + x1 * _D))
    top, bottom = int(round(cy + y0 * _D)), int(round(cy + y1 * _D))
    return np.s_[max(top, 0):bottom, max(left, 0):right]


def _middle(box: tuple[float, float, float, float]) -> tuple[slice, slice]:
    """Pixel slice of a window placed around the midpoint of the two eyes."""
    x0, x1, y0, y1 = box
    cx, cy = _EYES.mean(axis=0)
    return np.s_[max(int(round(cy + y0 * _D)), 0):int(round(cy + y1 * _D)),
                 max(int(round(cx + x0 * _D)), 0):int(round(cx + x1 * _D))]


# np.median and np.percentile cost ~15-30 us a call in argument handling alone, and this
# vector takes ~40 of them per face on windows of a few hundred pixels: one sort per window
# and the same arithmetic as numpy's (float32 mean of the middle pair; linear interpolation
# in float64) give the same numbers at a fraction of the cost.
def _median(values: np.ndarray) -> float:
    """np.median of a float32 array, bit for bit."""
    v = np.sort(values, axis=None)
    middle = len(v) // 2
    if len(v) % 2:
        return float(v[middle])
    return float((v[middle - 1] + v[middle]) / np.float32(2.0))


def _percentiles(values: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """np.percentile(values, qs) (linear interpolation), bit for bit, from one sort."""
    v = np.sort(values, axis=None).astype(np.float64)
    out = []
    for q in qs:
        position = q / 100.0 * (len(v) - 1)
        low = int(np.floor(position))
        high = min(low + 1, len(v) - 1)
        t = position - low
        diff = v[high] - v[low]
        out.append(float(v[high] - diff * (1.0 - t) if t >= 0.5 else v[low] + diff * t))
    return out


def _skinness(a: np.ndarray, b: np.ndarray, window: tuple[slice, slice]) -> float:
    """How skin-like a window's colour is: skin is both red and yellow (a > 0 and b > 0);
    white and blue masks, hair and grey photos are not."""
    return min(_median(a[window]), _median(b[window]))


def lens_statistics(crop: np.ndarray) -> np.ndarray:
    """Return the lens feature vector (see FEATURE_NAMES) of a CROP_SIZE BGR face crop."""
    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB).astype(np.float32)
    lightness = lab[..., 0] * (100.0 / 255.0)
    a = lab[..., 1] - 128.0
    b = lab[..., 2] - 128.0
    chroma = np.hypot(a, b)
    gx = cv2.Sobel(lightness, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lightness, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.sqrt(gx * gx + gy * gy)
    detail = np.abs(cv2.Laplacian(lightness, cv2.CV_32F, ksize=1))
    forehead, face = _middle(FOREHEAD), _middle(FACE)
    f10, f90 = _percentiles(lightness[face], (10, 90))
    face_spread = max(float(f90 - f10), 1.0)
    face_detail = max(float(detail[face].mean()), 1e-3)

    per_eye = []
    for side in (0, 1):
        w = {name: _window(name, side) for name in WINDOWS}
        if _skinness(a, b, forehead) > _skinness(a, b, w["cheek"]) + 2.0:
            w["cheek"] = forehead  # a mask (or a hand) covers the cheek: use the forehead
        cheek = lightness[w["cheek"]]
        skin = _median(cheek)
        skin_a, skin_b = _median(a[w["cheek"]]), _median(b[w["cheek"]])
        skin_chroma = _median(chroma[w["cheek"]])
        cheek_grad = float(grad[w["cheek"]].mean())
        eye, under = lightness[w["eye"]], lightness[w["under"]]
        e10, e50, e90 = _percentiles(eye, (10, 50, 90))
        u10, u50, u90 = _percentiles(under, (10, 50, 90))
        lens = np.concatenate([eye.ravel(), under.ravel(), lightness[w["outer"]].ravel()])
        gray = [
            e10 - skin, e50 - skin, e90 - skin, e90 - e10,
            _median(lightness[w["iris"]]) - e90,
            u50 - skin, u90 - u10,
            _median(lightness[w["lid"]]) - skin,
            _median(lightness[w["outer"]]) - skin,
            e50 - u50,
            float(grad[w["eye"]].mean()) - cheek_grad,
            float(grad[w["under"]].mean()) - cheek_grad,
            float((lens < skin - 35.0).mean()),
            float((eye > skin + 3.0).mean()),
            u50 / max(skin, 1.0),
            e50 / max(skin, 1.0),
            (e90 - e10) / face_spread,
            float(detail[w["eye"]].mean()) / face_detail,
            (u90 - u10) / face_spread,
        ]
        color = [
            _median(a[w["under"]]) - skin_a,
            _median(b[w["under"]]) - skin_b,
            _median(chroma[w["under"]]) - skin_chroma,
            _median(chroma[w["eye"]]) - skin_chroma,
            _median(chroma[w["outer"]]) - skin_chroma,
            _median(chroma[w["lid"]]) - skin_chroma,
        ]
        per_eye.append((gray, color, e50 - skin))
    gray = np.mean([g for g, _, _ in per_eye], axis=0)
    color = np.mean([c for _, c, _ in per_eye], axis=0)
    asymmetry = abs(per_eye[0][2] - per_eye[1][2])
    return np.concatenate([gray, [asymmetry], color]).astype(np.float64)
