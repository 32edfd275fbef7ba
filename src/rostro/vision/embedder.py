"""Face embeddings for recognition: SFace (OpenCV Zoo, 2021dec), 128-d, unit length."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rostro.vision.align import align_face
from rostro.vision.runtime import session
from rostro.vision.types import Detection

# Cosine similarity at which OpenCV Zoo declares two SFace embeddings the same person.
SFACE_COSINE_THRESHOLD = 0.363


def points_array(detection: Detection) -> np.ndarray:
    """Return a detection's five points as a (5, 2) float array."""
    return np.array([[p.x, p.y] for p in detection.points5], dtype=np.float64)


class SFaceEmbedder:
    """Compute a unit-length 128-d embedding of a detected face.

    The face is aligned to the ArcFace template from its five points. The embedding of the
    aligned crop and of its mirror image are averaged: the mirror sees the same person, and
    the average is steadier under pose and lighting.
    """

    dimension = 128

    def __init__(self, model_path: Path, flip_average: bool = True) -> None:
        self._session = session(model_path)
        self._input = self._session.get_inputs()[0].name
        self.flip_average = flip_average

    def embed_aligned(self, crops: np.ndarray) -> np.ndarray:
        """Embed BGR 112x112 aligned crops, shape (N, 112, 112, 3); return (N, 128) unit rows."""
        rgb = crops[..., ::-1].astype(np.float32).transpose(0, 3, 1, 2)
        features = np.concatenate(
            [self._session.run(None, {self._input: rgb[i : i + 1]})[0] for i in range(len(rgb))]
        )
        return features / np.linalg.norm(features, axis=1, keepdims=True)

    def embed(self, image: np.ndarray, detection: Detection) -> np.ndarray:
        """Return the unit-length embedding of one detected face in a BGR image."""
        crop = align_face(image, points_array(detection))
        crops = np.stack([crop, crop[:, ::-1]]) if self.flip_average else crop[None]
        mean = self.embed_aligned(crops).mean(axis=0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)
