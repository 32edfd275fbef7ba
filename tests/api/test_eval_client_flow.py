"""`rostro eval identification --endpoint`: the identification protocol through a running
server with the Azure SDK (detect, add face with targetFace, train, identify), on three Yale
subjects of identity dev. Skipped without ../shared/eval."""

from __future__ import annotations

import csv

from rostro.evaluation.identification import evaluate_through_api, format_table


def test_client_flow_identifies_through_the_api(eval_data, service, tmp_path):
    root = eval_data("identity")
    rows = [r for r in csv.DictReader(open(root / "images.csv", newline=""))
            if r["identity"] in ("yale_subject01", "yale_subject03", "yale_subject08")
            and r["image"].endswith((".normal.png", ".happy.png", ".sad.png"))]
    with open(tmp_path / "images.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["image", "identity", "source", "split"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "image": str(root / row["image"])})
    report = evaluate_through_api(tmp_path, service.base, service.key)
    assert report["enrollment"] == {"added": 6, "refused": 0, "persons_without_face": 0}
    overall = report["rows"][0]
    assert (overall["probes"], overall["no_face"], overall["rank1"]) == (3, 0, 1.0)
    assert "6 faces added, 0 refused" in format_table(report)
