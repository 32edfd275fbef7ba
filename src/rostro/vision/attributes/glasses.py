"""glasses: sunglasses and eyeglasses heads, and the three-way answer.

sunglasses: FaceRes' descriptor, lightness-only region statistics and the lens statistics
(``lenses``: is the eye visible through the lens, or is the lens a flat dark patch that
covers the skin under the eye too?), trained on the glasses set (CMU, Yale), face_attributes
and the train split of our in-the-wild faces. eyeglasses: FaceRes' descriptor plus region
statistics, trained on face_attributes (both sources), Yale's glasses rows and the wild
train faces. Clear lenses in any frame (thick black ones included) -> reading glasses; tinted
lenses that hide the eyes -> sunglasses; shadowed or squinting eyes without glasses -> none.
Swimming goggles have no examples anywhere: never answered.
"""

from __future__ import annotations

from rostro.vision.attributes import FaceContext, provides
from rostro.vision.attributes.features import head_output


def glasses_scores(ctx: FaceContext) -> tuple[float, float]:
    """Return (P(sunglasses), P(eyeglasses)) for the face."""
    return float(head_output(ctx, "sunglasses")), float(head_output(ctx, "eyeglasses"))


def glasses_decision(sun: float, eye: float) -> str:
    """One of values.GLASSES_KINDS from P(sunglasses) and P(eyeglasses) (the evaluation
    scores this same rule)."""
    if sun >= 0.5:
        return "sunglasses"
    if eye >= 0.5:
        return "reading"
    return "none"


@provides("glasses")
def glasses(ctx: FaceContext) -> str:
    """One of values.GLASSES_KINDS."""
    return glasses_decision(*glasses_scores(ctx))
