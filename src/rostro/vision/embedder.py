"""Face embeddings for recognition: SFace (OpenCV Zoo, 2021dec), 128-d, unit length.

What the embedding is, and why (measured on ``../shared/eval/identity`` dev, see
docs/accuracy.md, "Verification"):

* **Alignment from the 3D landmark fit.** The five alignment points (eye centres, nose tip,
  mouth corners) come from the 3DDFA_V2 68-point fit of the detected box, not from the
  detector's own five points. On small, turned, raised or sunglassed faces YuNet's points
  wander; the 3D fit keeps a consistent face geometry (it also places a hidden eye), and the
  aligned crop is then what SFace was trained on. This moved verification ROC AUC from 0.918
  to 0.941 on dev, all of it on the low-resolution CMU source (deepface and Yale are perfect
  either way). Without a landmarker the detector's points are used.
* **Bicubic warp** to the 112x112 ArcFace template (about half a point better than bilinear
  on the 40-px CMU faces, free).
* **One crop, no flip averaging** by default: with the 3D alignment the mirrored crop changed
  nothing measurable (accuracy within one pair, AUC within 0.001) and doubled the cost.
  ``flip_average=True`` keeps the option.

The cosine similarity of two embeddings is the score; ``SAME_PERSON_THRESHOLD`` is the
shipped decision threshold (see its comment).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from rostro.vision.align import align_face
from rostro.vision.runtime import session
from rostro.vision.types import Box, Detection, HeadPose

#: The shipped verification threshold: cosine >= this means "same person". Chosen by
#: identity-disjoint cross-validation on identity dev (each pair decided by the accuracy-best
#: threshold of the pairs sharing neither of its identities), which picks 0.335-0.345 with
#: the shipped detector and alignment; OpenCV Zoo's published 0.363 (tuned on LFW) lies on
#: the same plateau. Accuracy, false-accept and false-reject rates are in docs/accuracy.md.
SAME_PERSON_THRESHOLD = 0.34


class Landmarker(Protocol):
    """What the embedder needs from a landmark model (rostro.vision.landmarks)."""

    def fit(self, image: np.ndarray, box: Box) -> tuple[np.ndarray, HeadPose]: ...


def points_array(detection: Detection) -> np.ndarray:
    """Return a detection's five points as a (5, 2) float array."""
    return np.array([[p.x, p.y] for p in detection.points5], dtype=np.float64)


def points5_from_68(landmarks68: np.ndarray) -> np.ndarray:
    """Return the five alignment points from 68 iBUG landmarks ((68, 2), image pixels).

    In the detector's order: left eye centre, right eye centre (viewer's side), nose tip,
    left and right mouth corners. Eye centres are the mean of each eye's six contour points.
    """
    p = np.asarray(landmarks68, dtype=np.float64)
    if p.shape != (68, 2):
        raise ValueError(f"expected (68, 2) landmarks, got {p.shape}")
    return np.stack([p[36:42].mean(axis=0), p[42:48].mean(axis=0), p[30], p[48], p[54]])


class SFaceEmbedder:
    """Compute a unit-length 128-d embedding of a detected face (see the module docstring).

    ``landmarker`` (optional) provides the 68-point fit the alignment uses; without it the
    detection's five points are used. ``flip_average`` also embeds the mirrored crop and
    averages the two.
    """

    dimension = 128

    def __init__(self, model_path: Path, landmarker: Landmarker | None = None,
                 flip_average: bool = False) -> None:
        self._session = session(model_path)
        self._input = self._session.get_inputs()[0].name
        # A symbolic batch dimension (the provisioned SFace has one) runs N crops in one call.
        self._batched = not isinstance(self._session.get_inputs()[0].shape[0], int)
        self.landmarker = landmarker
        self.flip_average = flip_average

    def alignment_points(self, image: np.ndarray, detection: Detection,
                         landmarks68: np.ndarray | None = None) -> np.ndarray:
        """Return the (5, 2) points the face is aligned by.

        ``landmarks68`` (the face's 68 points, when the caller already fitted them) saves the
        landmark pass; otherwise the landmarker fits them, or, without one, the detector's
        five points are used.
        """
        if landmarks68 is None and self.landmarker is not None:
            landmarks68, _ = self.landmarker.fit(image, detection.box)
        if landmarks68 is None:
            return points_array(detection)
        return points5_from_68(landmarks68)

    def align(self, image: np.ndarray, detection: Detection,
              landmarks68: np.ndarray | None = None) -> np.ndarray:
        """Return the 112x112 BGR crop of the face that the network embeds."""
        points = self.alignment_points(image, detection, landmarks68)
        return align_face(image, points, interpolation=cv2.INTER_CUBIC)

    def embed_aligned(self, crops: np.ndarray) -> np.ndarray:
        """Embed BGR 112x112 aligned crops, shape (N, 112, 112, 3); return (N, 128) unit rows."""
        rgb = crops[..., ::-1].astype(np.float32).transpose(0, 3, 1, 2)
        if self._batched:
            features = self._session.run(None, {self._input: rgb})[0]
        else:
            features = np.concatenate(
                [self._session.run(None, {self._input: rgb[i : i + 1]})[0] for i in range(len(rgb))]
            )
        return features / np.linalg.norm(features, axis=1, keepdims=True)

    def embed(self, image: np.ndarray, detection: Detection,
              landmarks68: np.ndarray | None = None) -> np.ndarray:
        """Return the unit-length float32 embedding of one detected face in a BGR image."""
        crop = self.align(image, detection, landmarks68)
        crops = np.stack([crop, crop[:, ::-1]]) if self.flip_average else crop[None]
        mean = self.embed_aligned(crops).mean(axis=0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)
