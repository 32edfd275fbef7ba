"""Verification evaluation: ROC AUC, TAR at FAR and accuracy on synthetic scores, and a small
run on the identity dev pairs (skipped when ../shared/eval is absent)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from rostro.evaluation.verification import (
    Pair,
    accuracy,
    evaluate_verification,
    format_table,
    load_pairs,
    roc_auc,
    summarize,
    tar_at_far,
)

IDENTITY_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "identity"


# --- metrics on synthetic scores -------------------------------------------------------------

def test_roc_auc_counts_ordered_pairs_and_ties_as_half():
    scores = [0.9, 0.8, 0.4, 0.5, 0.3, 0.1, 0.8]
    same = [True, True, True, False, False, False, False]
    # genuine 0.9 beats 4 impostors, 0.8 beats 3 and ties 1, 0.4 beats 2: 9.5 of 12.
    assert roc_auc(scores, same) == pytest.approx(9.5 / 12)
    assert roc_auc([1, 2], [False, True]) == 1.0
    assert roc_auc([2, 1], [False, True]) == 0.0
    assert math.isnan(roc_auc([0.5], [True]))


def test_roc_auc_puts_failures_below_everything():
    # A failed genuine pair (-inf) loses to every impostor, and ties a failed impostor.
    scores = [0.9, -math.inf, 0.2, -math.inf]
    same = [True, True, False, False]
    # 0.9 beats both impostors (2); -inf ties the failed impostor (0.5): 2.5 of 4.
    assert roc_auc(scores, same) == pytest.approx(2.5 / 4)


def test_tar_at_far_allows_floor_of_far_times_impostors():
    impostor = np.round(np.linspace(0.0, 0.99, 100), 2)  # 0.00 ... 0.99
    genuine = [0.985, 0.99, 0.5, 1.0]
    scores = list(genuine) + list(impostor)
    same = [True] * 4 + [False] * 100
    # FAR 1e-2 of 100 impostors: one may pass (0.99); the bar is the next one, 0.98.
    assert tar_at_far(scores, same, 1e-2) == pytest.approx(3 / 4)
    # FAR 0: no impostor may pass; only scores above 0.99 are accepted.
    assert tar_at_far(scores, same, 0.0) == pytest.approx(1 / 4)
    # FAR 5e-2: five may pass (0.95 ... 0.99); the bar is 0.94.
    assert tar_at_far(scores, same, 5e-2) == pytest.approx(3 / 4)
    assert tar_at_far(scores + [-math.inf], same + [True], 1.0) == pytest.approx(4 / 5)


def test_accuracy_is_inclusive_at_the_threshold_and_failures_are_wrong():
    scores = [0.5, 0.49, 0.7, 0.1, -math.inf, -math.inf]
    same = [True, True, False, False, True, False]
    failed = [False, False, False, False, True, True]
    # right: 0.5 (same, accepted), 0.1 (different, rejected); 0.49 and 0.7 wrong; failures wrong.
    assert accuracy(scores, same, 0.5, failed) == pytest.approx(2 / 6)
    assert accuracy(scores[:4], same[:4], 0.5) == pytest.approx(2 / 4)


def test_summarize_reports_all_pairs_then_each_source():
    pairs = [Pair("a", "b", True, "x"), Pair("a", "c", False, "x"),
             Pair("d", "e", True, "y"), Pair("d", "f", False, "y")]
    scores = [0.8, 0.2, None, 0.5]
    rows = summarize(pairs, scores, threshold=0.4)
    assert [r["group"] for r in rows] == ["all", "x", "y"]
    total, x, y = rows
    assert (total["pairs"], total["genuine"], total["impostor"], total["failed_pairs"]) == (4, 2, 2, 1)
    assert total["accuracy"] == pytest.approx(2 / 4)  # the failed pair and 0.5 impostor are wrong
    assert x["accuracy"] == 1.0 and x["roc_auc"] == 1.0
    assert y["accuracy"] == 0.0 and y["failed_pairs"] == 1
    assert y["false_accept_rate"] == 1.0 and y["false_reject_rate"] == 1.0
    assert math.isnan(y["roc_auc_detected"])  # no detected genuine pair left in y


def test_load_pairs_groups_sources_by_their_prefix(tmp_path):
    (tmp_path / "pairs.csv").write_text(
        "image_a,image_b,same,source,split\n"
        "a.jpg,b.jpg,1,deepface_tests:master.csv,dev\n"
        "a.jpg,c.jpg,0,cmu_faces,dev\n")
    pairs = load_pairs(tmp_path)
    assert pairs == [Pair("a.jpg", "b.jpg", True, "deepface_tests"),
                     Pair("a.jpg", "c.jpg", False, "cmu_faces")]
    assert load_pairs(tmp_path, limit=1) == pairs[:1]
    (tmp_path / "pairs.csv").write_text("image_a,image_b,same,source\na,b,yes,x\n")
    with pytest.raises(ValueError, match="same"):
        load_pairs(tmp_path)


# --- a small run on the identity dev pairs ---------------------------------------------------

@pytest.fixture(scope="module")
def small_identity_set(tmp_path_factory) -> Path:
    """Two genuine and two impostor pairs per source, frontal or sideways without sunglasses
    for CMU, written as a pairs.csv next to a link to the dev images."""
    if not (IDENTITY_DATA / "pairs.csv").is_file():
        pytest.skip(f"evaluation data not available: {IDENTITY_DATA}")
    with open(IDENTITY_DATA / "pairs.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    chosen, taken = [], {}
    for row in rows:
        key = (row["source"].split(":")[0], row["same"])
        image = row["image_b"]
        easy = "cmufaces" not in image or ("_open" in image and "_up_" not in image)
        if easy and taken.get(key, 0) < 2:
            taken[key] = taken.get(key, 0) + 1
            chosen.append(row)
    folder = tmp_path_factory.mktemp("identity")
    (folder / "dev").symlink_to(IDENTITY_DATA / "dev", target_is_directory=True)
    with open(folder / "pairs.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(chosen)
    return folder


def test_small_run_on_identity_dev_is_right_on_easy_pairs(analyzer, small_identity_set):
    report = evaluate_verification(analyzer, small_identity_set, progress=False)
    rows = {row["group"]: row for row in report["rows"]}
    assert set(rows) == {"all", "cmu_faces", "deepface_tests", "yalefaces"}
    assert rows["all"]["pairs"] == 12 and rows["all"]["genuine"] == 6
    assert report["images_without_face"] == []
    assert rows["all"]["accuracy"] == 1.0 and rows["all"]["roc_auc"] == 1.0
    assert len(report["scores"]) == 12
    assert all(-1.0 <= s["score"] <= 1.0 for s in report["scores"])
    table = format_table(report)
    from rostro.vision.embedder import SAME_PERSON_THRESHOLD

    assert "cmu_faces" in table and f"threshold {SAME_PERSON_THRESHOLD}" in table
    json.dumps(report)  # the report is JSON-ready


def test_cli_prints_the_table_and_writes_json(models_root, small_identity_set, tmp_path, capsys):
    from rostro.cli import main

    out = tmp_path / "verification.json"
    assert main(["eval", "verification", "--data", str(small_identity_set), "--limit", "4",
                 "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| all" in printed and "ROC AUC" in printed
    report = json.loads(out.read_text())
    assert report["rows"][0]["pairs"] == 4
    assert report["embedding"]["alignment"] == "3D landmark fit"
