"""Face alignment: a similarity transform from five detected points to a canonical template."""

from __future__ import annotations

import cv2
import numpy as np

# The 112x112 template SFace and ArcFace were trained on (left eye, right eye, nose tip,
# left and right mouth corners, viewer's side).
ARCFACE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
     [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Return the 2x3 least-squares similarity (Umeyama, no reflection) mapping src to dst.

    src, dst: (N, 2) point arrays.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(covariance)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1] = -1
    rotation = u @ np.diag(d) @ vt
    variance = (src_c**2).sum() / len(src)
    scale = (s * d).sum() / variance if variance > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def align_face(image: np.ndarray, points5: np.ndarray, size: int = 112,
               interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Warp a face to the ``size``x``size`` ArcFace template given its five points (pixels).

    ``interpolation`` is an OpenCV flag (the embedder uses bicubic, see rostro.vision.embedder).
    """
    template = ARCFACE_112 * (size / 112.0)
    matrix = similarity_transform(points5, template)
    return cv2.warpAffine(image, matrix, (size, size), flags=interpolation,
                          borderMode=cv2.BORDER_CONSTANT)
