"""glasses: sunglasses and eyeglasses heads, and the three-way answer.

sunglasses: lightness-only region statistics (dark, low-texture eye regions against the
cheeks), trained on the glasses set (CMU, Yale) and face_attributes. A lens-aware head (the
``lenses`` statistics: is the eye visible through the lens?) fixes thick black frames but
raised false alarms on wild test photos, so it is not shipped (docs/attributes.md).
eyeglasses: FaceRes' descriptor plus region statistics, trained on face_attributes (both
sources), Yale's glasses rows and the wild train faces. The intended answer: clear lenses in
any frame (thick black ones included) -> reading glasses; tinted lenses that hide the eyes -> sunglasses; shadowed eyes without glasses ->
none (thick black frames are still often taken for sunglasses: a known failure).
Swimming goggles have no examples anywhere: never answered.
"""

from __future__ import annotations

from rostro.vision.attributes import FaceContext, provides
from rostro.vision.attributes.features import head_output


def glasses_scores(ctx: FaceContext) -> tuple[float, float]:
    """Return (P(sunglasses), P(eyeglasses)) for the face."""
    return float(head_output(ctx, "sunglasses")), float(head_output(ctx, "eyeglasses"))


# P(sunglasses) at or above which the eyes count as behind dark lenses (the glasses answer
# and occlusion.eye): chosen on lab dev + wild val (rostro_training/select_glasses.py).
SUNGLASSES_THRESHOLD = 0.9


def glasses_decision(sun: float, eye: float) -> str:
    """One of values.GLASSES_KINDS from P(sunglasses) and P(eyeglasses) (the evaluation
    scores this same rule)."""
    if sun >= SUNGLASSES_THRESHOLD:
        return "sunglasses"
    if eye >= 0.5:
        return "reading"
    return "none"


@provides("glasses")
def glasses(ctx: FaceContext) -> str:
    """One of values.GLASSES_KINDS."""
    return glasses_decision(*glasses_scores(ctx))
