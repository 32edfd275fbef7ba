"""Face attributes beyond detection, landmarks and pose (age, gender, emotion, glasses, ...).

``AttributeEngine.run`` computes only the attributes asked for. Each attribute family lives
in its own module and registers the attribute names it answers in ``PROVIDERS``. Values are
engine values (floats, plain strings, small dataclasses); ``rostro.api.faces`` spells them
the way Azure does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from rostro.vision.types import Face

# attribute name -> function(engine, image, face) -> value. Filled by attribute modules.
PROVIDERS: dict[str, Callable[["AttributeEngine", np.ndarray, Face], object]] = {}


class UnknownAttribute(ValueError):
    """An attribute name the engine does not provide."""


def supported_attributes() -> frozenset[str]:
    """Return the attribute names the engine can compute (headPose comes from landmarks)."""
    return frozenset(PROVIDERS) | {"headPose"}


class AttributeEngine:
    """Computes attributes for faces, sharing the analyzer's lazily loaded models."""

    def __init__(self, analyzer) -> None:
        self.analyzer = analyzer

    def run(self, image: np.ndarray, face: Face, names: Iterable[str]) -> dict[str, object]:
        """Return ``{name: value}`` for each requested attribute other than headPose."""
        values = {}
        for name in names:
            if name == "headPose":
                continue
            provider = PROVIDERS.get(name)
            if provider is None:
                raise UnknownAttribute(name)
            values[name] = provider(self, image, face)
        return values
