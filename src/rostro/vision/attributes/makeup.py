"""makeup: eye and lip makeup heads, trained on labels made for this project (one labeller,
rostro_training/labels/, weak evidence). Eyes: FaceRes descriptor + region statistics; lips: lip
colour relative to the cheeks (``cosmetics``) + the dlib gender features. Azure answers
booleans: each is true when its calibrated score is >= 0.5 (the balanced decision)."""

from __future__ import annotations

from rostro.vision.attributes import FaceContext, provides
from rostro.vision.attributes.features import head_output
from rostro.vision.attributes.values import Makeup


@provides("makeup")
def makeup(ctx: FaceContext) -> Makeup:
    return Makeup(eye=bool(head_output(ctx, "eye_makeup") >= 0.5),
                  lip=bool(head_output(ctx, "lip_makeup") >= 0.5))
