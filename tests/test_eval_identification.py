"""Identification evaluation: the protocol on synthetic embeddings, and a real run on a few
identity dev photos (skipped without ../shared/eval)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from rostro.evaluation.identification import (
    Labelled,
    evaluate_identification,
    format_table,
    identify,
    summarize,
)


def unit(vector) -> np.ndarray:
    vector = np.asarray(vector, np.float32)
    return vector / np.linalg.norm(vector)


def test_protocol_enrolls_first_detected_and_counts_missing_faces_as_failures():
    items = [Labelled(f"{who}/{i}.png", who, "synthetic") for who in ("a", "b") for i in range(4)]
    base = {"a": unit([1, 0, 0, 0]), "b": unit([0, 1, 0, 0])}
    embeddings = {item.path: unit(base[item.identity] + 0.1 * np.eye(4)[int(item.path[-5])])
                  for item in items}
    embeddings["a/0.png"] = None  # not detected: a/1 and a/2 are enrolled instead
    embeddings["b/3.png"] = None  # a probe without a face: a failure
    embeddings["b/2.png"] = unit([1, 0.2, 0, 0])  # looks like a: identified wrongly
    outcomes = identify(items, embeddings, enroll=2)
    assert len(outcomes) == 4  # a/0, a/3, b/2, b/3
    assert sum(o.correct for o in outcomes) == 1  # only a/3
    row = summarize(outcomes)[0]
    assert (row["probes"], row["no_face"], row["rank1"]) == (4, 2, 0.25)
    assert row["rank1_detected"] == 0.5
    with pytest.raises(ValueError):
        identify(items, embeddings, match="nearest")


def test_real_photos_and_cli(eval_data, tmp_path, analyzer):
    root = eval_data("identity")
    rows = [r for r in csv.DictReader(open(root / "images.csv", newline=""))
            if r["identity"] in ("yale_subject01", "yale_subject03", "yale_subject08")]
    rows = [r for r in rows if r["image"].endswith((".normal.png", ".happy.png", ".sad.png",
                                                     ".glasses.png"))]
    with open(tmp_path / "images.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["image", "identity", "source", "split"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "image": str(root / row["image"])})
    report = evaluate_identification(analyzer, tmp_path)
    assert report["images"] == 12 and report["identities"] == 3
    overall = report["rows"][0]
    assert overall["probes"] == 6 and overall["rank1"] == 1.0
    assert "yalefaces" in format_table(report)
    help_text = subprocess.run([sys.executable, "-m", "rostro.cli", "eval", "identification",
                                "--help"], capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0 and "--enroll" in help_text.stdout
    json.dumps(report)
