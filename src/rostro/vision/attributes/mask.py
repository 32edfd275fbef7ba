"""mask: whether a face mask is worn, and whether it covers the nose and mouth.

Two sigmoid heads trained on the detection set's labelled faces (Kaggle Face Mask Detection,
faces the service would serve, cross-validated with the faces of one image kept together):

* ``mask``: any mask vs none, on FaceRes' descriptor + region statistics;
* ``mask_covered``: among masked faces, nose and mouth covered (``with_mask``) vs a mask
  worn below the nose or under the chin (``mask_weared_incorrect``), on region statistics.

The type is ``uncertain`` when the mask head's calibrated probability of its answer is under
``UNCERTAIN_BELOW``. ``other`` (Azure's otherMaskOrOcclusion: a hand, a scarf) is never
answered: no labelled example of it exists in the data (docs/attributes.md).
"""

from __future__ import annotations

from rostro.vision.attributes import FaceContext, provides
from rostro.vision.attributes.features import head_output
from rostro.vision.attributes.values import Mask

# Chosen on the cross-validated detection faces: answers whose probability was under 0.75
# were right about 3 times in 4, the others 98 % of the time (docs/attributes.md, mask).
UNCERTAIN_BELOW = 0.75


def mask_decision(p_mask: float, p_covered: float) -> Mask:
    """The Mask answer for P(mask) and P(nose and mouth covered | mask), both in [0, 1]."""
    if max(p_mask, 1.0 - p_mask) < UNCERTAIN_BELOW:
        return Mask("uncertain", False)
    if p_mask < 0.5:
        return Mask("none", False)
    return Mask("face_mask", p_covered >= 0.5)


def mask_probability(ctx: FaceContext) -> float:
    """P(the face wears a mask), calibrated for equal priors (also the mouth's occlusion)."""
    return float(head_output(ctx, "mask"))


@provides("mask")
def mask(ctx: FaceContext) -> Mask:
    p_mask = mask_probability(ctx)
    p_covered = float(head_output(ctx, "mask_covered")) if p_mask >= 0.5 else 0.0
    return mask_decision(p_mask, p_covered)
