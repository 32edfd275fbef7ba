"""age and gender: heads on the dlib age/gender nets' features and FaceRes' descriptor.

Both heads were trained on the train_pool UTKFace faces only (rostro_training/train_heads.py), so the
dev sets measure them as unseen data (docs/attributes.md). On full-resolution photos the age
head sometimes answers a child's age for an adult; FaceRes' own age output then arbitrates
(``age``).
"""

from __future__ import annotations

import numpy as np

from rostro.vision.attributes import FaceContext, provides
from rostro.vision.attributes.features import faceres, head_output

# Issue 12 (adults must not be answered as children). On the wild photos the age head answers
# 5.3 % of adults under 16 (9 of 171, val; 25 of 289, train), mostly tight web crops where the
# dlib age net it reads collapses to 3-8 years; FaceRes' own age (read by the head anyway) puts
# every one of them at 19+. So when the head says under CHILD_AGE but FaceRes says at least
# ADULT_AGE, the answer is the mean of the two. Chosen among five such rules on the wild train
# and val splits and the lab dev ages: adults under 16 1 of 171 (val) and 2 of 289 (train);
# lab dev MAE 5.55 -> 5.85 years (bar 6.0), lab children under 13 answered 18+ 1 -> 2 of 37.
CHILD_AGE = 16.0
ADULT_AGE = 18.0


def faceres_years(age_probabilities: np.ndarray) -> np.ndarray:
    """FaceRes' expected age in years from its 100 age bins (bin i ~ age i); (..., 100) -> (...)."""
    p = np.asarray(age_probabilities, dtype=np.float64)
    return p @ np.arange(p.shape[-1]) / np.maximum(p.sum(axis=-1), 1e-9)


def served_age(head_years: np.ndarray | float, faceres_age: np.ndarray | float) -> np.ndarray:
    """The age answered from the age head's output and FaceRes' age (scalars or arrays)."""
    years = np.clip(head_years, 0.0, 100.0)
    return np.where((years < CHILD_AGE) & (faceres_age >= ADULT_AGE),
                    (years + faceres_age) / 2, years)


@provides("age")
def age(ctx: FaceContext) -> float:
    """Estimated age in years (0..100)."""
    return float(served_age(float(head_output(ctx, "age")),
                            float(faceres_years(faceres(ctx).age_probabilities))))


@provides("gender")
def gender(ctx: FaceContext) -> str:
    """"male" or "female" (the head's P(male) >= 0.5 decides)."""
    return "male" if float(head_output(ctx, "gender")) >= 0.5 else "female"
