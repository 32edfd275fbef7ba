"""hair: colour (a softmax head), baldness and hidden hair (sigmoid heads) trained on the
hand-labelled face_attributes faces. Bald has ~12 labelled examples: its score rests on weak
evidence and is calibrated to stay modest (docs/attributes.md)."""

from __future__ import annotations

from rostro.vision.attributes import FaceContext, provides
from rostro.vision.attributes.features import head, head_output
from rostro.vision.attributes.values import Hair, HairColor


@provides("hair")
def hair(ctx: FaceContext) -> Hair:
    bald = float(head_output(ctx, "bald"))
    invisible = float(head_output(ctx, "hair_invisible")) >= 0.5
    if invisible:
        return Hair(bald=bald, invisible=True, colors=())
    probabilities = head_output(ctx, "hair_color")
    colors = sorted(zip(head(ctx, "hair_color").classes, probabilities), key=lambda c: -c[1])
    return Hair(bald=bald, invisible=False,
                colors=tuple(HairColor(name, float(p)) for name, p in colors))
