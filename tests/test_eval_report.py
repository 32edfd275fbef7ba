"""The HTML page of ``rostro eval attributes --report``: confusion tables and worst mistakes."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from rostro.evaluation.html_report import Outcome, Section, render, write_report


def test_confusion_counts_and_worst_mistakes_first():
    outcomes = (Outcome("yes", "yes", 0.9), Outcome("no", "yes", 0.6), Outcome("yes", "no", 0.95),
                Outcome("no", "no", 0.8), Outcome("yes", "no", 0.7))
    section = Section("sunglasses", "toy", outcomes, ("no", "yes"))
    labels, answers, counts = section.confusion()
    assert labels == ("no", "yes") and answers == ("no", "yes")
    np.testing.assert_array_equal(counts, [[1, 2], [1, 1]])
    assert [o.score for o in section.mistakes()] == [0.95, 0.7, 0.6]
    # An answer no label has (a class the data never labels) gets its own column.
    odd = Section("glasses", "toy", (Outcome("swimming", "none", 0.5),), ("none",))
    assert odd.confusion()[1] == ("none", "swimming")
    page = render([section])
    assert "accuracy 0.400" in page and "balanced 0.417" in page
    assert page.count("<table") == 1 and "(no image)" in page


@pytest.mark.models
def test_report_of_real_faces_has_tables_and_thumbnails(analyzer, eval_data, tmp_path):
    """A small run on the glasses dev set: the served answer of six faces, their thumbnails
    cut again by the evaluation's own loader, one self-contained page."""
    from rostro.evaluation.attribute_sections import _loader
    from rostro.vision.types import Face
    from rostro_training.headfit import central_face

    folder = eval_data("glasses")
    with open(folder / "labels.csv", newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["glasses"] in ("sunglasses", "no_sunglasses")]
    outcomes = []
    for row in rows[:3] + rows[-3:]:
        image, detection = central_face(analyzer, __import__("cv2").imread(str(folder / row["image"])))
        answer = analyzer.attributes.run(image, Face(detection=detection), ["glasses"])["glasses"]
        outcomes.append(Outcome("sunglasses" if answer == "sunglasses" else "no_sunglasses",
                                row["glasses"], 0.9, row["source"],
                                _loader(analyzer, eval_data(), "glasses", row)))
    # One deliberately wrong row, so that the strip of mistakes has a face to show.
    outcomes.append(Outcome("sunglasses", "no_sunglasses", 0.99, "made up", outcomes[0].thumbnail))
    path = write_report(tmp_path / "report", [Section("glasses", "lab dev", tuple(outcomes))])
    page = path.read_text(encoding="utf-8")
    assert path.name == "index.html" and "<style>" in page
    assert page.count('<table class="confusion">') == 1
    thumbnails = re.findall(r'<img src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', page)
    assert thumbnails and all(len(t) > 500 for t in thumbnails)
    assert "made up" in page


def test_lab_sections_read_only_the_columns_their_tables_have(tmp_path):
    """The age/gender and emotion sections run on tables without a glasses column (both once
    filtered their rows on it, and ``rostro eval attributes --report`` stopped with KeyError)."""
    import numpy as np

    from rostro.evaluation.attribute_sections import _demographic_sections, _emotion_section
    from rostro.vision.attributes.heads import load_head
    from rostro_training.headfit import FeatureTable

    def table(rows: list[dict[str, str]], head: str) -> FeatureTable:
        """Zero features: the head's whole width in its first block, its other blocks empty
        (the age and gender heads read the same blocks)."""
        model = load_head(head)
        blocks = {name: np.zeros((len(rows), 0)) for name in model.features}
        blocks[model.features[0]] = np.zeros((len(rows), len(model.mean)))
        return FeatureTable(rows, np.ones(len(rows), dtype=bool), blocks)

    ages = [{"image": "a.jpg", "age": "34", "age_bin": "30-39", "gender": "female"}]
    sections = _demographic_sections(None, tmp_path, table(ages, "age"))
    assert [s.attribute.split()[0] for s in sections] == ["age", "gender"]
    emotions = [{"image": "e.jpg", "emotion": "happiness", "source": "fer2013"}]
    assert len(_emotion_section(None, tmp_path, table(emotions, "emotion")).outcomes) == 1


def test_lab_report_loads_every_table_its_cross_validated_heads_train_on():
    """Each head the lab report cross-validates finds all its training tables (a head whose
    table is missing is skipped with a warning: headwear was, once it also trained on the
    street-fashion rows)."""
    from rostro.evaluation.attribute_accuracy import CV_HEADS, lab_table_names
    from rostro_training.headfit import HEAD_TABLES, OPTIONAL_TABLES

    loaded = set(lab_table_names())
    for head in CV_HEADS:
        assert {t for t in HEAD_TABLES[head] if t not in OPTIONAL_TABLES} <= loaded, head
