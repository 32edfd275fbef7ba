"""facialHair: moustache and beard heads (FaceRes descriptor + lower-face region statistics),
trained on the hand-labelled UTKFace rows of face_attributes. Sideburns have no labels: the
beard score stands in for them (weak evidence, documented)."""

from __future__ import annotations

from rostro.vision.attributes import FaceContext, provides
from rostro.vision.attributes.features import head_output
from rostro.vision.attributes.values import FacialHair


@provides("facialHair")
def facial_hair(ctx: FaceContext) -> FacialHair:
    moustache = float(head_output(ctx, "moustache"))
    beard = float(head_output(ctx, "beard"))
    return FacialHair(moustache=moustache, beard=beard, sideburns=beard)
