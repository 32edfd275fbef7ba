"""The source-stated age check (issue 12.4): its pinned manifest and its scoring."""

from __future__ import annotations

from collections import Counter

import pytest

from rostro_training import age_check
from rostro_training.age_check import AgeAnswer, band_of, read_manifest, score_answers


def test_manifest_is_pinned_and_covers_every_band():
    rows = read_manifest()
    assert len({(r["repo"], r["path"]) for r in rows}) == len(rows)  # no photo twice
    bands = Counter(band_of(int(r["age"])) for r in rows)
    assert all(bands[name] >= 40 for name, _, _ in age_check.BANDS)
    assert all(r["licence"] and r["age_known_by"] for r in rows)


def test_bad_manifest_rows_are_refused(tmp_path):
    path = tmp_path / "ages.csv"
    path.write_text(",".join(age_check.FIELDS) + "\naaf,o/r,main,a.jpg,30,male,x,y\n")
    with pytest.raises(age_check.AgeManifestError, match="not pinned"):
        read_manifest(path)


def test_scores_count_adults_answered_as_children_and_leave_misses_out():
    def answer(true_age, age, gender="male"):
        return AgeAnswer(path="p", true_age=true_age, true_gender="male", age=age,
                         gender=gender, face_px=0.0 if age is None else 120.0,
                         head_age=age, faceres_age=None if age is None else 40.0)

    scores = score_answers([answer(30, 12.0), answer(30, 34.0, "female"), answer(8, 19.0),
                            answer(8, 10.0), answer(70, None)])
    assert scores["found"]["hits"] == 4 and scores["found"]["n"] == 5
    assert scores["adults_under_16"]["hits"] == 1 and scores["adults_under_16"]["n"] == 2
    assert scores["children_18_plus"]["hits"] == 1 and scores["children_18_plus"]["n"] == 2
    assert scores["age_mae"]["mae"] == pytest.approx((18 + 4 + 11 + 2) / 4)
    assert scores["age_mae_by_band"]["65+"]["n"] == 0
    assert scores["gender_accuracy"]["hits"] == 3
    assert scores["parts_mae"]["faceres_age"]["mae"] == pytest.approx((10 + 10 + 32 + 32) / 4)
    assert "adults (18+) answered under 16: 1 of 2" in age_check.format_report(scores)


def test_picking_is_balanced_and_skips_refused_photos():
    paths = [f"d/{serial:05d}A{age:02d}.jpg" for serial, age in
             [(1, 5), (2, 6), (3, 7), (7400, 5), (7401, 8), (9000, 40)]]
    source = age_check.SOURCES[0]
    small = age_check.AgeSource(**{**source.__dict__, "per_band": (2, 0, 0, 0, 0)})
    rows = age_check.pick_rows(small, paths, keep=lambda p: p != "d/00001A05.jpg")
    assert Counter(r["gender"] for r in rows) == {"female": 1, "male": 1}
    assert "d/00001A05.jpg" not in {r["path"] for r in rows}
