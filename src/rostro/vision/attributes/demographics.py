"""age and gender: heads on the dlib age/gender nets' features and FaceRes' descriptor.

Both heads were trained on the train_pool UTKFace faces only (training/train_heads.py), so the
dev sets measure them as unseen data (docs/attributes.md).
"""

from __future__ import annotations

from rostro.vision.attributes import FaceContext, provides
from rostro.vision.attributes.features import head_output


@provides("age")
def age(ctx: FaceContext) -> float:
    """Estimated age in years (>= 0)."""
    return float(min(max(float(head_output(ctx, "age")), 0.0), 100.0))


@provides("gender")
def gender(ctx: FaceContext) -> str:
    """"male" or "female" (the head's P(male) >= 0.5 decides)."""
    return "male" if float(head_output(ctx, "gender")) >= 0.5 else "female"
