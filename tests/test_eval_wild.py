"""The in-the-wild measurement (issue 12): label merging, scoring, and the answers it scores."""

from __future__ import annotations

import csv

import pytest

from rostro.evaluation.wild import (
    WILD_LABELS,
    Answers,
    WildDataMissing,
    answer_face,
    attribute_pairs,
    evaluate_wild,
    format_wild,
    score_pairs,
)
from rostro.vision.attributes.nets import FER_CLASSES
from rostro.vision.types import Box
from rostro_training.wild import merge_labels


def test_kappa_settle_and_merge():
    # Two raters, 10 items: 8 agree; marginals 5/5 and 5/5 -> expected 0.5, kappa 0.6.
    a = list("1111100000")
    b = list("1111000001")
    assert merge_labels.cohen_kappa(a, b) == pytest.approx(0.6)
    assert merge_labels.settle(["eyeglasses", "sunglasses", "eyeglasses"]) == "eyeglasses"
    # unsure never wins; one vote is not two
    assert merge_labels.settle(["unsure", "unsure", "none"]) == "unsure"
    assert merge_labels.settle(["none", "eyeglasses", "sunglasses"]) == "unsure"
    row = {f: "unsure" for f in merge_labels.FIELDS}
    a = {"w0001": {**row, "glasses": "eyeglasses", "smile": "1"}}
    b = {"w0001": {**row, "glasses": "sunglasses", "smile": "1"}}
    assert merge_labels.disputed_fields(a["w0001"], b["w0001"]) == ["glasses"]
    assert merge_labels.merge(a, b, {})["w0001"]["glasses"] == "unsure"  # no third pass yet
    c = {"w0001": {**row, "glasses": "eyeglasses"}}
    final = merge_labels.merge(a, b, c)["w0001"]
    assert final["glasses"] == "eyeglasses" and final["smile"] == "1"


def test_label_files_are_checked(tmp_path):
    path = tmp_path / "labels_A.csv"
    path.write_text("face_id," + ",".join(merge_labels.FIELDS) + "\n"
                    "w0001,Sunglasses,yes,0,0,0,F,adult,happy,grey\n")
    labels = merge_labels.read_labels(path, {"w0001"})
    assert labels["w0001"]["glasses"] == "sunglasses" and labels["w0001"]["hair"] == "gray"
    assert labels["w0001"]["smile"] == "1" and labels["w0001"]["gender"] == "female"
    path.write_text("face_id," + ",".join(merge_labels.FIELDS)
                    + "\nw0001,shades,1,0,0,0,male,adult,happiness,black\n")
    with pytest.raises(merge_labels.LabelFileError, match="shades"):
        merge_labels.read_labels(path, {"w0001"})


def test_pairs_leave_unsure_out_and_count_misses_wrong():
    labels = [
        {"glasses": "sunglasses", "smile": "1", "age": "adult", "emotion": "happiness", "hair": "unsure"},
        {"glasses": "eyeglasses", "smile": "unsure", "age": "adult", "emotion": "contempt"},
        {"glasses": "none", "smile": "0", "age": "child", "emotion": "neutral"},
        {"glasses": "sunglasses", "smile": "1", "age": "adult"},
    ]
    answers = [
        Answers(found=True, glasses="sunglasses", smile=0.9, age=30.0, emotion="happiness",
                emotion_fer="neutral", emotion_faceapi="happiness"),
        Answers(found=True, glasses="sunglasses", smile=0.1, age=12.0, emotion="contempt"),
        Answers(found=True, glasses="none", smile=0.2, age=8.0, emotion="neutral",
                emotion_fer="neutral", emotion_faceapi="sadness"),
        Answers(found=False),
    ]
    pairs = attribute_pairs(labels, answers)
    assert pairs["sunglasses"] == [("1", "1"), ("0", "1"), ("0", "0"), ("1", "missed")]
    assert pairs["eyeglasses"] == [("1", "0"), ("0", "0")]
    assert pairs["smile"] == [("1", "1"), ("0", "0"), ("1", "missed")]
    assert pairs["adults_under_16"] == [("0", "0"), ("0", "1"), ("0", "missed")]
    # contempt is outside the fer network's 7 classes: left out of all three emotion rows
    assert pairs["emotion"] == [("happiness", "happiness"), ("neutral", "neutral")]
    assert pairs["emotion_fer"] == [("happiness", "neutral"), ("neutral", "neutral")]
    assert "hair" not in pairs
    assert "eyeglasses_thick" not in pairs  # these labels have no thick_frame column
    thick = attribute_pairs([{"glasses": "eyeglasses", "thick_frame": "1"},
                             {"glasses": "eyeglasses", "thick_frame": "0"},
                             {"glasses": "sunglasses", "thick_frame": "1"}],
                            [Answers(found=True, glasses="sunglasses")] * 3)
    assert thick["eyeglasses_thick"] == [("1", "0")]  # clear lenses in a thick frame, missed
    sun = score_pairs(pairs["sunglasses"], binary=True)
    assert (sun["precision"], sun["recall"], sun["missed"]) == (0.5, 0.5, 1)
    assert sun["balanced"] == pytest.approx(0.5)
    assert 0 <= sun["balanced_ci"][0] <= sun["balanced_ci"][1] <= 1


def test_answer_face_matches_the_labelled_box(analyzer, astronaut):
    box = analyzer.detect(astronaut)[0].box
    answers = answer_face(analyzer, astronaut, box)
    assert answers.found and answers.gender == "female" and answers.emotion_fer in FER_CLASSES
    assert answers.glasses == "none" and answers.hair not in (None, "hidden")
    elsewhere = Box(box.left + 2 * box.width, box.top, box.width, box.height)
    assert not answer_face(analyzer, astronaut, elsewhere).found


def test_missing_mirror_is_reported(tmp_path):
    labels = tmp_path / "wild.csv"
    labels.write_text("face_id,source,repo,commit,path,x,y,w,h,split\n"
                      "w0001,s,owner/name,0000,a.jpg,1,1,60,60,val\n")
    with pytest.raises(WildDataMissing):
        evaluate_wild(tmp_path / "no-mirror", analyzer=object(), labels=labels)


def test_committed_wild_labels_are_well_formed():
    if not WILD_LABELS.is_file():
        pytest.skip("rostro_training/labels/wild.csv not written yet")
    with WILD_LABELS.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len({r["face_id"] for r in rows}) == len(rows)
    for row in rows:
        assert row["split"] in ("train", "val", "test")
        assert min(int(row["w"]), int(row["h"])) >= 60
        for field, values in merge_labels.FIELDS.items():
            assert row[field] in values + ("unsure",), (row["face_id"], field)
    # Splits follow the source photo: one photo's faces never straddle two splits.
    split_of = {}
    for row in rows:
        assert split_of.setdefault((row["repo"], row["path"]), row["split"]) == row["split"]


def test_wild_table_sits_beside_the_lab_figures():
    pairs = {"gender": [("male", "male"), ("female", "male")],
             "sunglasses": [("1", "1"), ("0", "1"), ("0", "0")]}
    split = {m: score_pairs(p, m == "sunglasses") for m, p in pairs.items()}
    split["faces"] = {"n": 3, "missed": 0}
    lab = {"age_gender": {"gender_accuracy": 0.906},
           "cross_validated": {"sunglasses": {"balanced_accuracy": 0.966}}}
    table = format_wild({"val": split, "test": split}, lab)
    gender = next(line for line in table.splitlines() if line.startswith("| gender |"))
    assert "0.906 (accuracy)" in gender and "0.500 [" in gender
    precision = next(line for line in table.splitlines() if line.startswith("| sunglasses | precision"))
    assert "0.966 (balanced, 5-fold CV)" in precision and "(1/2)" in precision


def test_wild_sections_show_each_labelled_face_per_measure(astronaut):
    """The HTML report's wild sections: one per measure, one outcome per labelled face, with
    the face's thumbnail cut from its photo."""
    from rostro.evaluation.wild import wild_sections

    box = Box(180.0, 60.0, 120.0, 150.0)
    items = [(astronaut, box, {"face_id": "w1", "source": "s", "glasses": "none", "smile": "1"}),
             (astronaut, box, {"face_id": "w2", "source": "s", "glasses": "sunglasses"})]
    answers = [Answers(found=True, glasses="none", smile=0.2), Answers(found=False)]
    sections = {s.attribute: s for s in wild_sections(items, answers, "wild val")}
    assert sections["smile"].outcomes[0].answer == "0" and sections["smile"].outcomes[0].label == "1"
    assert [o.answer for o in sections["sunglasses"].outcomes] == ["0", "missed"]
    thumb = sections["glasses"].outcomes[0].thumbnail()
    assert thumb is not None and thumb.shape[0] > 100 and sections["glasses"].dataset == "wild val"


def test_second_batch_headwear_and_facial_hair_labels_match_the_glasses_batch():
    """batch2_headwear_facialhair.csv: the glasses second batch's faces (same photo, box and
    split as glasses_new.csv), val and test only, the guide's values."""
    folder = WILD_LABELS.parent

    def rows(name: str) -> dict[str, dict[str, str]]:
        with (folder / name).open(newline="") as fh:
            return {r["face_id"]: r for r in csv.DictReader(fh)}

    batch, glasses = rows("batch2_headwear_facialhair.csv"), rows("glasses_new.csv")
    assert len(batch) > 600
    for face_id, row in batch.items():
        same = glasses[face_id]
        assert all(row[k] == same[k] for k in ("repo", "commit", "path", "x", "y", "w", "h", "split"))
        assert row["split"] in ("val", "test")
        assert {row["headwear"], row["moustache"], row["beard"]} <= {"0", "1", "unsure"}
