"""occlusion: forehead, eyes and mouth hidden, each from the head that sees what hides it.

No data set labels occlusion, and Azure does not document what counts (AWS Rekognition's
FaceOccluded counts masks and dark sunglasses, not clear glasses or strands of hair). Rostro
answers each part from a measured head, and says so (docs/attributes.md, occlusion):

* mouth: a face mask (the ``mask`` head), measured on the detection set's mask labels;
* eyes: dark sunglasses (the ``sunglasses`` head), measured on the glasses set; a hand or an
  object over the eyes has no examples and is not seen (weak evidence);
* forehead: headwear (the ``headwear`` head at ``HEADWEAR_THRESHOLD``: foreheadOccluded
  exactly when headwear is listed), measured on face_attributes' and real photos' labels;
  a cap worn high or a fringe of hair is not told apart (weak evidence).
"""

from __future__ import annotations

from rostro.vision.attributes import FaceContext, provides
from rostro.vision.attributes.accessories import HEADWEAR_THRESHOLD
from rostro.vision.attributes.features import head_output
from rostro.vision.attributes.glasses import SUNGLASSES_THRESHOLD
from rostro.vision.attributes.values import Occlusion

# Part -> the head whose probability at or above THRESHOLDS (0.5 unless named) says the part
# is hidden (the evaluation reads both, so the measured rule is the served one). The eyes
# follow the glasses answer: hidden exactly when it is Sunglasses.
EVIDENCE = {"forehead": "headwear", "eye": "sunglasses", "mouth": "mask"}
THRESHOLDS = {"eye": SUNGLASSES_THRESHOLD, "forehead": HEADWEAR_THRESHOLD}


@provides("occlusion")
def occlusion(ctx: FaceContext) -> Occlusion:
    return Occlusion(**{part: float(head_output(ctx, head)) >= THRESHOLDS.get(part, 0.5)
                        for part, head in EVIDENCE.items()})
