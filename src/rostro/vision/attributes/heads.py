"""Small linear heads trained by ``rostro_training/train_heads.py`` and shipped in ``heads/*.npz``.

A head maps a feature vector to an answer in three steps: standardize (``mean``, ``scale``),
one linear map (``weights`` (d, k), ``bias`` (k,)), then a link:

* ``softmax``: k class probabilities; ``temperature`` divides the logits (calibration).
* ``sigmoid``: k = 1, the probability of the positive class, with Platt's ``calibration``
  (a, b): p = sigmoid(a * z + b).
* ``linear``: k = 1, a regression output (``calibration`` unused).

The file also names its ``classes`` and the ``features`` it reads (keys of the per-face
feature dict, concatenated in that order), so the training script and the engine cannot
disagree about the input layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

HEADS_DIR = Path(__file__).resolve().parent / "heads"


class HeadMissing(FileNotFoundError):
    """A head file is not in the package (run python -m rostro_training.train_heads)."""


@dataclass(frozen=True)
class LinearHead:
    name: str
    link: str  # "softmax", "sigmoid" or "linear"
    features: tuple[str, ...]
    classes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    temperature: float = 1.0
    calibration: tuple[float, float] = (1.0, 0.0)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Return the linear outputs for one feature vector (d,) or a batch (n, d)."""
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.weights + self.bias

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Return probabilities (softmax: (k,), sigmoid: scalar array) or the regression value."""
        z = self.logits(x)
        if self.link == "softmax":
            z = z / self.temperature
            z = z - z.max(axis=-1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=-1, keepdims=True)
        if self.link == "sigmoid":
            a, b = self.calibration
            return 1.0 / (1.0 + np.exp(-np.clip(a * z[..., 0] + b, -50.0, 50.0)))
        return z[..., 0]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Return the head as the arrays ``save`` writes."""
        return {
            "link": np.array(self.link), "features": np.array(self.features),
            "classes": np.array(self.classes), "mean": self.mean, "scale": self.scale,
            "weights": self.weights, "bias": self.bias,
            "temperature": np.array(self.temperature),
            "calibration": np.array(self.calibration, dtype=np.float64),
        }

    def save(self, folder: Path = HEADS_DIR) -> Path:
        """Write ``<folder>/<name>.npz`` (float64, compressed: a few tens of KB)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}.npz"
        np.savez_compressed(path, allow_pickle=False, **self.to_arrays())  # loaded without pickles
        return path


def load_head(name: str, folder: Path = HEADS_DIR) -> LinearHead:
    """Read ``<folder>/<name>.npz``; raise HeadMissing when it is not there."""
    path = folder / f"{name}.npz"
    if not path.is_file():
        raise HeadMissing(f"attribute head {name} is missing: {path} (run python -m rostro_training.train_heads)")
    with np.load(path, allow_pickle=False) as data:
        return LinearHead(
            name=name,
            link=str(data["link"]),
            features=tuple(str(f) for f in data["features"]),
            classes=tuple(str(c) for c in data["classes"]),
            mean=data["mean"].astype(np.float64),
            scale=data["scale"].astype(np.float64),
            weights=data["weights"].astype(np.float64),
            bias=data["bias"].astype(np.float64),
            temperature=float(data["temperature"]),
            calibration=(float(data["calibration"][0]), float(data["calibration"][1])),
        )
