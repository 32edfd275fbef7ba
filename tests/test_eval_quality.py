"""Quality evaluation (`rostro eval quality`): the pair protocol on synthetic features and
embeddings, and the degradations it applies."""

from __future__ import annotations

import json

import numpy as np

from rostro.evaluation.quality import (
    Sample,
    degradations,
    format_table,
    level_counts,
    pair_outcomes,
    summarize,
)
from rostro.evaluation.verification import Pair
from rostro.vision.attributes.face_quality import RecognitionFeatures, recognition_quality

SHARP = RecognitionFeatures(size=150, blur=0.0, exposure=0.5, noise=0.1, yaw=2, pitch=3,
                            score=0.95)
SMALL = RecognitionFeatures(size=50, blur=0.0, exposure=0.5, noise=0.1, yaw=2, pitch=3,
                            score=0.95)
BLURRED = RecognitionFeatures(size=150, blur=0.6, exposure=0.5, noise=0.1, yaw=2, pitch=3,
                              score=0.9)


def unit(vector) -> np.ndarray:
    vector = np.asarray(vector, np.float32)
    return vector / np.linalg.norm(vector)


def test_the_cuts_on_features():
    assert [recognition_quality(f) for f in (SHARP, SMALL, BLURRED)] == ["high", "medium", "low"]


def test_a_pair_takes_its_worse_level_and_each_degraded_side_is_compared():
    same = unit([1, 0.1, 0])
    samples = [
        Sample("a.png", "", SHARP, unit([1, 0, 0])),
        Sample("a.png", "face 50px", SMALL, same),  # still accepted: medium
        Sample("a.png", "blur 8%", BLURRED, unit([0, 1, 0])),  # rejected: low
        Sample("b.png", "", SHARP, unit([1, 0.05, 0])),
        Sample("c.png", "", None, None),  # no face
    ]
    pairs = [Pair("a.png", "b.png", True, "s"), Pair("b.png", "c.png", False, "s")]
    outcomes = pair_outcomes(samples, pairs, {"a.png": "x", "b.png": "x", "c.png": "y"}, 0.34)
    assert [(o.level, o.accepted, o.variant) for o in outcomes] == [
        ("high", True, ""), ("medium", True, "face 50px"), ("low", False, "blur 8%"),
        (None, False, "")]
    rows = {(r["half"], r["level"]): r for r in summarize(outcomes)}
    assert rows[("all", "high")]["genuine_acceptance"] == 1.0
    assert rows[("all", "low")]["genuine_acceptance"] == 0.0
    assert rows[("all", "no face")]["impostor"] == 1
    report = {"pairs": 2, "faces_analysed": 5, "threshold": 0.34, "rows": summarize(outcomes),
              "levels_by_version": level_counts(samples)}
    assert "| all" in format_table(report) and json.dumps(report)


def test_degradations_shrink_blur_darken_and_add_noise(astronaut):
    versions = degradations(astronaut, face_size=100)
    assert "face 100px" not in versions  # not smaller than the face already is
    assert versions["face 64px"].shape[:2] == (328, 328)  # 512 px x 0.64
    assert versions["darken x0.15"].mean() < 0.2 * astronaut.mean()
    assert versions["blur 8%"].std() < astronaut.std()
    assert all(v.dtype == np.uint8 for v in versions.values())
