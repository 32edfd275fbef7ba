"""accessories: headwear (a head on FaceRes' mid-level layer over the band above the forehead,
on a wide crop that takes in the top of the head), glasses (the glasses heads) and mask (the
mask head). Listed when their score is at or above their threshold (headwear
``HEADWEAR_THRESHOLD``, the others 0.5), most confident first; an empty tuple when none."""

from __future__ import annotations

from rostro.vision.attributes import FaceContext, provides
from rostro.vision.attributes.features import head_output
from rostro.vision.attributes.glasses import glasses_scores
from rostro.vision.attributes.mask import mask_probability
from rostro.vision.attributes.values import Accessory

# P(headwear) at or above which a face wears headwear (accessories and occlusion.forehead):
# among 0.30-0.90 (0.05 steps), the best mean balanced accuracy over lab dev (cross-validated)
# and the two wild val sets (python -m rostro_training.select_headwear): 0.5 gives 0.827 /
# 0.955 / 0.874, 0.55 gives 0.826 / 0.960 / 0.895, with fewer bare heads answered headwear.
HEADWEAR_THRESHOLD = 0.55


@provides("accessories")
def accessories(ctx: FaceContext) -> tuple[Accessory, ...]:
    found = []
    headwear = float(head_output(ctx, "headwear"))
    if headwear >= HEADWEAR_THRESHOLD:
        found.append(Accessory("headwear", headwear))
    glasses = max(glasses_scores(ctx))
    if glasses >= 0.5:
        found.append(Accessory("glasses", glasses))
    mask = mask_probability(ctx)
    if mask >= 0.5:
        found.append(Accessory("mask", mask))
    return tuple(sorted(found, key=lambda a: -a.confidence))
