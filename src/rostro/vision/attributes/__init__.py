"""Face attributes beyond detection, landmarks and pose (age, gender, emotion, glasses, ...).

``AttributeEngine.run`` computes only the attributes asked for. Each attribute family lives
in its own module and registers the attribute names it answers in ``PROVIDERS`` with
``@provides(name)``. A provider gets a ``FaceContext``: the image, the face, and a per-face
memo, so that models shared by several attributes (FaceRes feeds glasses, facial hair and
headwear) run once per face, and models no requested attribute needs never run or load.

Values are engine values (floats, plain words, the dataclasses in ``values``);
``rostro.api.face_json`` spells them the way Azure does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar, cast

import numpy as np

from rostro.vision.runtime import LoadOnce
from rostro.vision.types import Face

T = TypeVar("T")


class UnknownAttribute(ValueError):
    """An attribute name the engine does not provide."""


@dataclass
class FaceContext:
    """One face being analysed: what providers read, plus a memo of shared intermediate results."""

    engine: AttributeEngine
    image: np.ndarray
    face: Face
    memo: dict[str, object] = field(default_factory=dict)

    def once(self, key: str, compute: Callable[[], T]) -> T:
        """Return ``compute()``, computed at most once for this face under ``key``."""
        if key not in self.memo:
            self.memo[key] = compute()
        return cast(T, self.memo[key])  # one key, one computation: the value is its result


Provider = Callable[[FaceContext], object]

# attribute name -> provider. Filled by the attribute modules imported at the bottom.
PROVIDERS: dict[str, Provider] = {}


def provides(name: str) -> Callable[[Provider], Provider]:
    """Register the decorated function as the provider of attribute ``name``."""

    def register(function: Provider) -> Provider:
        PROVIDERS[name] = function
        return function

    return register


def supported_attributes() -> frozenset[str]:
    """Return the attribute names the engine can compute (headPose comes from landmarks)."""
    return frozenset(PROVIDERS) | {"headPose"}


class AttributeEngine:
    """Computes attributes for faces. Networks and heads load lazily, once, thread-safely."""

    def __init__(self, analyzer) -> None:
        self.analyzer = analyzer
        self._loaded = LoadOnce()

    def load(self, key: str, build: Callable[[], T]) -> T:
        """Return the shared object ``key`` (a network or head), building it on first use."""
        return self._loaded.get(key, build)

    def loaded(self) -> frozenset[str]:
        """Return the keys of the networks and heads loaded so far (for tests and benchmarks)."""
        return self._loaded.keys()

    def context(self, image: np.ndarray, face: Face) -> FaceContext:
        """Return a fresh per-face context (features computed through it are shared)."""
        return FaceContext(self, image, face)

    def run(self, image: np.ndarray, face: Face, names: Iterable[str],
            context: FaceContext | None = None) -> dict[str, object]:
        """Return ``{name: value}`` for each requested attribute other than headPose."""
        ctx = context or self.context(image, face)
        values = {}
        for name in names:
            if name == "headPose":
                continue
            provider = PROVIDERS.get(name)
            if provider is None:
                raise UnknownAttribute(name)
            values[name] = provider(ctx)
        return values


# The attribute families register their providers on import.
from rostro.vision.attributes import (  # noqa: E402,F401
    accessories,
    demographics,
    emotion,
    face_quality,
    facialhair,
    glasses,
    hair,
    makeup,
    mask,
    occlusion,
)
