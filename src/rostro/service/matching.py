"""Matching faces: the ``confidence`` of a cosine similarity (one mapping, used by verify,
identify, find similar and group, built so that 0.5 is the decision threshold) and the
clustering behind Group.

The threshold lives in one place, beside the embedder
(``rostro.vision.embedder.SAME_PERSON_THRESHOLD``, chosen on identity dev: see its comment and
docs/accuracy.md, "Verification"); ``SAME_PERSON_COSINE`` below reads it.
The mapping is piecewise linear and monotonic:

* cosine <= 0 maps to 0; cosine ``t`` (the threshold) maps to 0.5; cosine 1 maps to 1;
* linear in between: ``0.5 * s / t`` below the threshold, ``0.5 + 0.5 * (s - t) / (1 - t)``
  above it.

So ``confidence >= 0.5`` exactly when the two faces are the same person by the engine's
threshold: verify's ``isIdentical`` is ``confidence >= 0.5``, identify's default
``confidenceThreshold`` is 0.5, and find similar's ``matchPerson`` keeps candidates at or
above 0.5. See docs/api.md ("Confidence").
"""

from __future__ import annotations

import numpy as np

from rostro.vision.embedder import SAME_PERSON_THRESHOLD

#: Cosine similarity at which two faces are declared the same person.
SAME_PERSON_COSINE = float(SAME_PERSON_THRESHOLD)
#: The confidence that SAME_PERSON_COSINE maps to.
DECISION_CONFIDENCE = 0.5
#: Digits kept in the JSON answers (Azure answers with up to five).
DIGITS = 5


def confidence(similarity, threshold: float = SAME_PERSON_COSINE):
    """Map cosine similarity (a number or an array) to confidence in [0, 1]."""
    s = np.clip(np.asarray(similarity, dtype=np.float64), 0.0, 1.0)
    low = DECISION_CONFIDENCE * s / threshold
    high = DECISION_CONFIDENCE + (1 - DECISION_CONFIDENCE) * (s - threshold) / (1 - threshold)
    value = np.round(np.where(s < threshold, low, high), DIGITS)
    return float(value) if value.ndim == 0 else value


def similarity_for(conf: float, threshold: float = SAME_PERSON_COSINE) -> float:
    """The inverse mapping: the cosine similarity that gives confidence ``conf`` (0..1)."""
    conf = min(max(float(conf), 0.0), 1.0)
    if conf < DECISION_CONFIDENCE:
        return conf / DECISION_CONFIDENCE * threshold
    return threshold + (conf - DECISION_CONFIDENCE) / (1 - DECISION_CONFIDENCE) * (1 - threshold)


def is_identical(conf: float) -> bool:
    """Verify's verdict for a confidence."""
    return conf >= DECISION_CONFIDENCE


def cluster(embeddings: np.ndarray, threshold: float = SAME_PERSON_COSINE) -> list[list[int]]:
    """Average-linkage agglomerative clustering of unit embeddings: clusters merge while the
    mean cosine similarity between their members is at least ``threshold``. Returns clusters
    as lists of row indices (each in input order)."""
    n = len(embeddings)
    sims = (embeddings @ embeddings.T).astype(np.float64)
    np.fill_diagonal(sims, -np.inf)
    members = [[i] for i in range(n)]
    active = np.ones(n, bool)
    while True:
        masked = np.where(active[:, None] & active[None, :], sims, -np.inf)
        flat = int(np.argmax(masked))
        i, j = divmod(flat, n)
        if masked[i, j] < threshold:
            break
        ni, nj = len(members[i]), len(members[j])
        merged = (ni * sims[i] + nj * sims[j]) / (ni + nj)
        sims[i, :] = merged
        sims[:, i] = merged
        sims[i, i] = -np.inf
        members[i] = sorted(members[i] + members[j])
        members[j] = []
        active[j] = False
    return [m for m in members if m]
