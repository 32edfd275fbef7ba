"""accessories: headwear (a head on FaceRes over a wide crop that takes in the top of the head,
plus region statistics of the forehead, crown and the band above the head), glasses (the
glasses heads) and mask (the mask head, on the same features). Listed when their score is
>= 0.5, most confident first; an empty tuple when none."""

from __future__ import annotations

from rostro.vision.attributes import FaceContext, provides
from rostro.vision.attributes.features import head_output
from rostro.vision.attributes.glasses import glasses_scores
from rostro.vision.attributes.mask import mask_probability
from rostro.vision.attributes.values import Accessory


@provides("accessories")
def accessories(ctx: FaceContext) -> tuple[Accessory, ...]:
    found = []
    headwear = float(head_output(ctx, "headwear"))
    if headwear >= 0.5:
        found.append(Accessory("headwear", headwear))
    glasses = max(glasses_scores(ctx))
    if glasses >= 0.5:
        found.append(Accessory("glasses", glasses))
    mask = mask_probability(ctx)
    if mask >= 0.5:
        found.append(Accessory("mask", mask))
    return tuple(sorted(found, key=lambda a: -a.confidence))
