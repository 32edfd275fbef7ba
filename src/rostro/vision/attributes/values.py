"""Engine values of the face attributes: plain numbers, neutral words and frozen dataclasses.

Nothing here is spelled the Azure way; ``rostro.api.face_json`` maps these to the wire format.
Probabilities and scores are floats in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

# Glasses kinds (api: NoGlasses, ReadingGlasses, Sunglasses, SwimmingGoggles).
GLASSES_KINDS = ("none", "reading", "sunglasses", "swimming_goggles")

# Emotion names in Azure's order; the engine keeps that order so the sum is easy to check.
EMOTIONS = ("anger", "contempt", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")

# Hair colours the engine reports (Azure also has "unknown", which it never sends for a face
# whose hair shows).
HAIR_COLORS = ("black", "brown", "blond", "gray", "red", "white", "other")


@dataclass(frozen=True)
class Emotion:
    """Probabilities of the eight emotions; they sum to 1."""

    anger: float
    contempt: float
    disgust: float
    fear: float
    happiness: float
    neutral: float
    sadness: float
    surprise: float

    def as_dict(self) -> dict[str, float]:
        """Return ``{name: probability}`` in Azure's order."""
        return {name: getattr(self, name) for name in EMOTIONS}


@dataclass(frozen=True)
class FacialHair:
    """Scores in [0, 1] for each kind of facial hair."""

    moustache: float
    beard: float
    sideburns: float


@dataclass(frozen=True)
class HairColor:
    color: str  # one of HAIR_COLORS
    confidence: float


@dataclass(frozen=True)
class Hair:
    """Baldness score, whether the hair is hidden, and colours, most likely first."""

    bald: float
    invisible: bool
    colors: tuple[HairColor, ...]


@dataclass(frozen=True)
class Makeup:
    eye: bool
    lip: bool


@dataclass(frozen=True)
class Occlusion:
    forehead: bool
    eye: bool
    mouth: bool


@dataclass(frozen=True)
class Accessory:
    kind: str  # "headwear", "glasses" or "mask"
    confidence: float


@dataclass(frozen=True)
class Level:
    """A measured image property on [0, 1] and its level.

    level: "low" / "medium" / "high" for blur and noise; "under" / "good" / "over" for
    exposure.
    """

    level: str
    value: float


@dataclass(frozen=True)
class Mask:
    """kind: "none", "face_mask", "other" (another covering) or "uncertain"."""

    kind: str
    nose_and_mouth_covered: bool
