"""Colour statistics of the lips and eyes relative to the cheeks (the makeup heads' input).

The face is warped onto the ArcFace template (``crops.face_crop``) at 160 px, so the eyes,
lids, cheeks and lips fall in fixed boxes at about the resolution of a 200 px face photo
(the wide crop of ``regions`` is too coarse for eyeliner). Every statistic is taken relative
to the cheeks, so skin tone and white balance cancel to first order:

* lips: the redder part of the mouth box (lipstick colours the lips, not the skin around
  them): Lab means, chroma, hue angle and HSV saturation minus the cheeks', the bright tail
  (gloss) and the red contrast between the lips and the rest of the mouth box;
* eyes (both eyes averaged): the dark tail of the eye box (eyeliner, mascara), the share of
  pixels far darker than the cheeks, edge energy; the lid between eye and brow (eyeshadow):
  Lab means, chroma and lightness spread minus the cheeks'.

The boxes are part of the trained heads (``heads/eye_makeup.npz``, ``heads/lip_makeup.npz``):
changing one means retraining (rostro_training/train_heads.py).
"""

from __future__ import annotations

import cv2
import numpy as np

CROP_SIZE = 160

# (x0, y0, x1, y1) on the 112 px ArcFace template (eye centres (38, 52) and (74, 52), mouth
# corners (42, 92) and (71, 92)); scaled to CROP_SIZE.
BOXES_112: dict[str, tuple[int, int, int, int]] = {
    "eye_left": (28, 46, 49, 57),
    "eye_right": (63, 46, 84, 57),
    "lid_left": (28, 39, 49, 47),
    "lid_right": (63, 39, 84, 47),
    "cheek_left": (26, 62, 42, 78),
    "cheek_right": (70, 62, 86, 78),
    "mouth": (42, 83, 70, 101),
}

LIP_NAMES = ("lip.L", "lip.a", "lip.b", "lip.chroma", "lip.hue", "lip.saturation",
             "lip.L_p90", "lip.a_p90", "lip.red_contrast", "lip.L_ratio")
EYE_NAMES = ("eye.L_p5", "eye.L_p20", "eye.dark_share", "eye.grad", "lid.L", "lid.a", "lid.b",
             "lid.chroma", "lid.L_std", "lid.saturation")
FEATURE_NAMES: tuple[str, ...] = LIP_NAMES + EYE_NAMES


def _box(name: str) -> tuple[slice, slice]:
    x0, y0, x1, y1 = (round(v * CROP_SIZE / 112) for v in BOXES_112[name])
    return np.s_[y0:y1, x0:x1]


def _hue(a: np.ndarray | np.floating, b: np.ndarray | np.floating) -> np.ndarray:
    return np.degrees(np.arctan2(b, a))


def cosmetic_statistics(crop: np.ndarray) -> np.ndarray:
    """Return the makeup feature vector (see FEATURE_NAMES) of a CROP_SIZE BGR face crop."""
    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB).astype(np.float32)
    lightness = lab[..., 0] * (100.0 / 255.0)
    a = lab[..., 1] - 128.0
    b = lab[..., 2] - 128.0
    saturation = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)[..., 1].astype(np.float32) / 255.0
    gx = cv2.Sobel(lightness, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lightness, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.sqrt(gx * gx + gy * gy)

    cheek = {key: np.concatenate([plane[_box("cheek_left")].ravel(), plane[_box("cheek_right")].ravel()])
             for key, plane in (("L", lightness), ("a", a), ("b", b), ("s", saturation))}
    skin_l, skin_a, skin_b = (float(np.median(cheek[k])) for k in ("L", "a", "b"))
    skin_s = float(np.median(cheek["s"]))
    skin_chroma = float(np.hypot(skin_a, skin_b))
    skin_hue = float(_hue(np.float32(skin_a), np.float32(skin_b)))

    # Lips: the redder 40 % of the mouth box, leaving out the mouth gap and teeth (very dark,
    # or bright and colourless).
    window = _box("mouth")
    ml, ma, mb, ms = lightness[window].ravel(), a[window].ravel(), b[window].ravel(), saturation[window].ravel()
    usable = (ml > 15.0) & ~((ml > skin_l + 10.0) & (np.hypot(ma, mb) < 0.5 * skin_chroma))
    if usable.sum() < 20:
        usable = np.ones_like(ml, dtype=bool)
    ul, ua, ub, us = ml[usable], ma[usable], mb[usable], ms[usable]
    order = np.argsort(ua)
    cut = max(1, int(0.4 * len(order)))
    lips, rest = order[-cut:], order[:cut]
    lip_a, lip_b = float(ua[lips].mean()), float(ub[lips].mean())
    lip_features = [
        float(ul[lips].mean()) - skin_l,
        lip_a - skin_a,
        lip_b - skin_b,
        float(np.hypot(lip_a, lip_b)) - skin_chroma,
        float(_hue(np.float32(lip_a), np.float32(lip_b))) - skin_hue,
        float(us[lips].mean()) - skin_s,
        float(np.percentile(ml, 90)) - skin_l,
        float(np.percentile(ma, 90)) - skin_a,
        lip_a - float(ua[rest].mean()),
        float(ul[lips].mean()) / max(skin_l, 1.0),
    ]

    eyes = []
    for side in ("left", "right"):
        eye, lid = _box(f"eye_{side}"), _box(f"lid_{side}")
        el = lightness[eye]
        la, lb = float(a[lid].mean()), float(b[lid].mean())
        eyes.append([
            float(np.percentile(el, 5)) - skin_l,
            float(np.percentile(el, 20)) - skin_l,
            float((el < skin_l - 40.0).mean()),
            float(grad[eye].mean()),
            float(lightness[lid].mean()) - skin_l,
            la - skin_a,
            lb - skin_b,
            float(np.hypot(la, lb)) - skin_chroma,
            float(lightness[lid].std()),
            float(saturation[lid].mean()) - skin_s,
        ])
    return np.array(lip_features + list(np.mean(eyes, axis=0)), dtype=np.float64)
