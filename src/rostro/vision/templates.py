"""A person's template: the unit-length mean of its face embeddings.

Identification compares a face with each person's template rather than with each of the
person's faces: on the identity dev set the template ranked the right person first more often
than the best single face did (docs/accuracy.md, "Identification"), and a gallery of templates
holds one row per person.
"""

from __future__ import annotations

import numpy as np


def templates(owners: np.ndarray, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group unit ``embeddings`` (n × dim) by ``owners`` (n ids) and return
    ``(ids, templates)``: the distinct owners in order of first appearance and the unit mean
    embedding of each (float32)."""
    owners = np.asarray(owners)
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if len(owners) == 0:
        return owners[:0].copy(), np.empty((0, embeddings.shape[-1] if embeddings.ndim == 2 else 0),
                                           np.float32)
    unique, first, inverse = np.unique(owners, return_index=True, return_inverse=True)
    sums = np.zeros((len(unique), embeddings.shape[1]), np.float64)
    np.add.at(sums, inverse, embeddings)
    order = np.argsort(first, kind="stable")
    sums = sums[order]
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # opposite embeddings cancelling out: keep a zero row, never NaN
    return unique[order], (sums / norms).astype(np.float32)


def template(embeddings: np.ndarray) -> np.ndarray:
    """The unit mean of one person's embeddings (n × dim, n ≥ 1)."""
    _, rows = templates(np.zeros(len(embeddings), np.int64), embeddings)
    return rows[0]
