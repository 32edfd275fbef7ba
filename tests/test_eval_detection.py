"""Detection evaluation: matching, AP and the report, on synthetic boxes and on the dev data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rostro.evaluation.detection import (
    LabelledImage,
    _settings,
    api_detections,
    evaluate_detection,
    format_table,
    load_labels,
    match_image,
    size_bin,
    summarize,
)
from rostro.evaluation.metrics import FP, IGNORED, TP, average_precision, match_detections, wilson_interval
from rostro.vision.types import Box, Detection, Point

NO_POINTS = (Point(0, 0),) * 5
# ../shared/eval/detection next to the repository (never copied into it).
DETECTION_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "detection"


def detection_data() -> Path:
    if not (DETECTION_DATA / "labels.csv").is_file():
        pytest.skip(f"evaluation data not available: {DETECTION_DATA}")
    return DETECTION_DATA


def det(x, y, w, h, score):
    return Detection(Box(x, y, w, h), score, NO_POINTS)


# --- matching --------------------------------------------------------------------------------

def test_best_score_matches_first_and_a_duplicate_is_a_false_positive():
    faces = [Box(0, 0, 40, 40)]
    boxes = [Box(2, 2, 40, 40), Box(0, 0, 40, 40)]  # IoU with the face: 0.83 and 1.0
    match = match_detections(faces, [True], boxes, [0.7, 0.9])
    assert match.outcomes == (FP, TP)
    assert match.matched_face == (None, 0)
    assert match.face_score == (0.9,)


def test_iou_threshold_is_inclusive():
    # Box(0,0,40,40) vs Box(0,0,40,20): IoU exactly 0.5.
    assert match_detections([Box(0, 0, 40, 40)], [True], [Box(0, 0, 40, 20)], [0.8]).outcomes == (TP,)
    assert match_detections([Box(0, 0, 40, 40)], [True], [Box(0, 0, 40, 19)], [0.8]).outcomes == (FP,)


def test_boxes_on_faces_under_the_floor_and_small_leftovers_are_ignored():
    faces = [Box(0, 0, 10, 10), Box(100, 100, 40, 40)]
    boxes = [Box(0, 0, 10, 10), Box(300, 300, 12, 12), Box(200, 200, 30, 30), Box(100, 100, 40, 40)]
    match = match_detections(faces, [False, True], boxes, [0.9, 0.8, 0.7, 0.6],
                             leftover_counts=lambda box: min(box.width, box.height) >= 20)
    assert match.outcomes == (IGNORED, IGNORED, FP, TP)
    assert match.face_score == (0.9, 0.6)


def test_a_counted_face_is_preferred_over_an_ignored_one_it_overlaps_more():
    faces = [Box(0, 0, 20, 20), Box(0, 0, 30, 30)]  # ignored tiny face, counted face
    match = match_detections(faces, [False, True], [Box(0, 0, 22, 22)], [0.9])
    # IoU 0.83 with the ignored face, 0.54 with the counted one: the counted face wins.
    assert match.outcomes == (TP,) and match.matched_face == (1,)


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError):
        match_detections([Box(0, 0, 1, 1)], [], [], [])


# --- AP, intervals ---------------------------------------------------------------------------

def test_average_precision_all_point_interpolation():
    # Ranked: TP, FP, TP, FP with 3 faces -> recall steps 1/3 at precision 1, 2/3 at 2/3.
    assert average_precision([0.9, 0.8, 0.7, 0.6], [True, False, True, False], 3) == pytest.approx(5 / 9)
    assert average_precision([0.6, 0.9, 0.8, 0.7], [False, True, False, True], 3) == pytest.approx(5 / 9)
    assert average_precision([0.5, 0.4], [True, True], 2) == pytest.approx(1.0)
    assert average_precision([0.5, 0.4], [False, True], 2) == pytest.approx(0.25)
    assert average_precision([], [], 4) == 0.0
    assert average_precision([0.5], [True], 0) == 0.0


def test_wilson_interval():
    low, high = wilson_interval(8, 10)
    assert (low, high) == (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)


# --- report ----------------------------------------------------------------------------------

def test_size_bins():
    assert [size_bin(s) for s in (0, 19.9, 20, 35.9, 36, 64, 500)] == [
        "<20 px", "<20 px", "20-36 px", "20-36 px", "36-64 px", ">=64 px", ">=64 px"]


def _synthetic_results():
    one = LabelledImage("a.jpg", 400, 300, "set1",
                        faces=(Box(10, 10, 30, 30), Box(100, 10, 50, 50), Box(200, 10, 10, 10)),
                        classes=("with_mask", "without_mask", "with_mask"))
    two = LabelledImage("b.jpg", 400, 300, "set2",
                        faces=(Box(10, 10, 100, 100),), classes=("face",))
    return [
        match_image(one, [det(10, 10, 30, 30, 0.9),      # TP, 20-36, masked
                          det(100, 10, 50, 50, 0.5),     # TP but under an operating threshold of 0.6
                          det(200, 10, 10, 10, 0.95),    # on a face under 20 px: ignored
                          det(300, 200, 40, 40, 0.8),    # FP, 36-64
                          det(300, 100, 12, 12, 0.99)]),  # leftover under 20 px: ignored
        match_image(two, [det(10, 10, 100, 100, 0.7)]),  # TP, >=64, unmasked
    ]


def test_summarize_rows_have_exact_values():
    rows = {row["group"]: row for row in summarize(_synthetic_results(), threshold=0.6)}
    assert list(rows) == ["all >=20 px", "<20 px", "20-36 px", "36-64 px", ">=64 px",
                          "all >=36 px", "masked >=20 px", "unmasked >=20 px", "source set1",
                          "source set2"]
    every = rows["all >=20 px"]
    assert (every["faces"], every["found"], every["detections"], every["false_positives"]) == (3, 2, 3, 1)
    assert every["recall"] == pytest.approx(2 / 3)
    assert every["precision"] == pytest.approx(2 / 3)
    # Ranked counted boxes: 0.9 TP, 0.8 FP, 0.7 TP, 0.5 TP over 3 faces: precision 1 up to
    # recall 1/3, then the envelope is 3/4 (reached at recall 1).
    assert every["ap"] == pytest.approx(1 / 3 + (2 / 3) * (3 / 4))
    assert rows["<20 px"]["faces"] == 1 and rows["<20 px"]["recall"] == 1.0
    assert rows["<20 px"]["precision"] is None
    assert rows["20-36 px"]["recall"] == 1.0 and rows["20-36 px"]["precision"] == 1.0
    assert rows["36-64 px"]["recall"] == 0.0 and rows["36-64 px"]["precision"] == 0.0
    assert rows["36-64 px"]["false_positives"] == 1
    assert rows[">=64 px"]["recall"] == 1.0
    assert rows["all >=36 px"]["faces"] == 2 and rows["all >=36 px"]["recall"] == 0.5
    assert rows["all >=36 px"]["false_positives"] == 1
    assert rows["masked >=20 px"]["recall"] == 1.0 and rows["masked >=20 px"]["precision"] is None
    assert rows["unmasked >=20 px"]["faces"] == 2 and rows["unmasked >=20 px"]["recall"] == 0.5
    assert rows["source set1"]["precision"] == pytest.approx(0.5)
    assert rows["source set2"]["precision"] == 1.0


def face_at(cx: float, cy: float, scale: float, score: float = 0.9) -> Detection:
    """A detection whose five points make a frontal face of ``scale`` (eye distance and
    eye-to-mouth distance), eyes at ``cy``; its detector box is the labelled-looking box."""
    points = (Point(cx - scale / 2, cy), Point(cx + scale / 2, cy), Point(cx, cy + scale / 2),
              Point(cx - scale / 2, cy + scale), Point(cx + scale / 2, cy + scale))
    side = 2.4 * scale
    return Detection(Box(cx - side / 2, cy - 0.9 * scale, side, side * 1.2), score, points)


def test_api_columns_drop_what_detect_would_not_report():
    """The API's rules apply to Detect's rectangle (a square about 2.07 x the face scale), not
    to the detector's box: a face whose rectangle is under 30 px is found by the engine and
    not by the API; one over it is found by both, matched by its detector box to the label."""
    small, large = face_at(50, 50, 12), face_at(200, 100, 20)  # squares of 25 and 41 px
    image = LabelledImage("c.jpg", 400, 300, "set3", faces=(small.box, large.box),
                          classes=("face", "face"))
    kept = api_detections([small, large, face_at(300, 200, 30, score=0.5)], 0.6, image)
    assert kept == [large]
    engine = {r["group"]: r for r in summarize([match_image(image, [small, large])], 0.6)}
    api = {r["group"]: r for r in summarize([match_image(image, kept)], 0.6)}
    assert engine["all >=20 px"]["recall"] == 1.0 and api["all >=20 px"]["recall"] == 0.5
    assert api["all >=36 px"]["recall"] == 1.0 and api["all >=36 px"]["precision"] == 1.0


def test_lower_threshold_trades_precision_for_recall():
    rows = {row["group"]: row for row in summarize(_synthetic_results(), threshold=0.3)}
    assert rows["all >=20 px"]["recall"] == 1.0
    assert rows["all >=20 px"]["precision"] == pytest.approx(3 / 4)


def test_load_labels_groups_rows_per_image(tmp_path):
    (tmp_path / "labels.csv").write_text(
        "image,width,height,face,x,y,w,h,face_class,source,split\n"
        "dev/a.jpg,400,300,0,1,2,30,40,with_mask,facemask,dev\n"
        "dev/a.jpg,400,300,1,100,2,20,20,without_mask,facemask,dev\n"
        "holdout/b.jpg,640,480,0,5,6,70,80,face,dlib,holdout\n")
    images = load_labels(tmp_path)
    assert [i.path for i in images] == ["dev/a.jpg", "holdout/b.jpg"]
    assert images[0].faces == (Box(1, 2, 30, 40), Box(100, 2, 20, 20))
    assert images[0].classes == ("with_mask", "without_mask")
    assert (images[1].width, images[1].height, images[1].source) == (640, 480, "dlib")
    assert [i.path for i in load_labels(tmp_path, split="dev")] == ["dev/a.jpg"]
    assert len(load_labels(tmp_path, limit=1)) == 1
    with pytest.raises(FileNotFoundError):
        load_labels(tmp_path / "missing")


def test_detector_overrides_are_typed():
    from rostro.vision.analyzer import DetectorSettings

    settings = _settings(DetectorSettings(), ["score_threshold=0.5", "upscale_below=0"])
    assert settings.score_threshold == 0.5 and settings.upscale_below == 0
    with pytest.raises(ValueError, match="NAME=VALUE"):
        _settings(DetectorSettings(), ["nonsense=1"])


# --- on the dev data -------------------------------------------------------------------------

@pytest.mark.eval
@pytest.mark.models
def test_evaluation_on_a_dev_subset(analyzer):
    data = detection_data()
    report = evaluate_detection(analyzer, data, limit=25, progress=False)
    assert report["images"] == 25 and report["faces"] > 50
    assert report["passes_per_image"] == 1 and report["network_input_vs_640x480"] > 0.5
    rows = {row["group"]: row for row in report["rows"]}
    every = rows["all >=20 px"]
    assert every["faces"] == sum(rows[name]["faces"] for name in ("20-36 px", "36-64 px", ">=64 px"))
    assert every["faces"] == rows["masked >=20 px"]["faces"] + rows["unmasked >=20 px"]["faces"]
    assert 0.7 <= every["recall"] <= 1.0 and 0.7 <= every["precision"] <= 1.0
    assert every["recall_ci"][0] <= every["recall"] <= every["recall_ci"][1]
    assert 0.6 <= every["ap"] <= 1.0
    # Through the API's rules (30 px on Detect's rectangle...), the faces of 36 px and more are
    # found nearly as often as by the engine.
    api = {row["group"]: row for row in report["api_rows"]}
    assert api["all >=36 px"]["faces"] == rows["all >=36 px"]["faces"] > 10
    # (a 46-face subset: one face is 2 points; the whole set's gap is 2.9 points)
    assert api["all >=36 px"]["recall"] >= rows["all >=36 px"]["recall"] - 0.05
    assert api["all >=20 px"]["recall"] < every["recall"]  # the 20-30 px faces are dropped
    json.dumps(report)  # JSON-ready
    table = format_table(report)
    assert "all >=20 px" in table and "recall [95% CI]" in table and "API recall" in table


@pytest.mark.eval
@pytest.mark.models
def test_cli_writes_the_report(models_root, tmp_path, capsys):
    from rostro.cli import main

    data = detection_data()
    out = tmp_path / "report.json"
    assert main(["eval", "detection", "--data", str(data), "--limit", "3", "--json", str(out)]) == 0
    assert "all >=20 px" in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["images"] == 3 and report["detector"]["score_threshold"] == 0.6
