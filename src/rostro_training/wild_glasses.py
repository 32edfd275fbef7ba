"""Lay out the in-the-wild faces' glasses labels as tables the head code reads (issue 12).

    python -m rostro_training.wild_glasses --mirror /work/.mirror \
        --faces /work/notes/wild/faces.csv rostro_training/labels/extra_glasses.csv \
        --labels rostro_training/labels/wild_glasses_train_self.csv rostro_training/labels/extra_glasses.csv

Reads face lists (one face per row: face_id, source, repo, commit, path, box, split: the wild
set's ``faces.csv`` built by rostro_training/wild/build.py, and ``rostro_training/labels/extra_glasses.csv``,
a few more public photos with their labels) and glasses labels (CSV with ``face_id`` and ``glasses`` columns:
none / eyeglasses / sunglasses / unsure / goggles), copies each labelled photo out of the git
mirror into ``$ROSTRO_HOME/wild-glasses/photos/`` (never into the repository) and writes one
table per split there, ``wild_<split>.csv``, in the detection set's layout (image, width,
height, x, y, w, h, glasses, source, split, face_id), so ``rostro_training.headfit`` reads
them like any other table of labelled boxes (``TABLES["wild_glasses_train"]`` and so on).

Labels are merged in the order given; a later file overrides an earlier one for a face it
labels. Faces left ``unsure``, without a label, or labelled with anything else are left out.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import logging
from pathlib import Path

import cv2
import numpy as np

from rostro.evaluation.wild import read_blob
from rostro_training.headfit import wild_folder

log = logging.getLogger("wild_glasses")

LABELS = ("none", "eyeglasses", "sunglasses")
FIELDS = ["image", "width", "height", "x", "y", "w", "h", "glasses", "source", "split", "face_id"]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def merged_labels(paths: list[Path]) -> dict[str, str]:
    """face_id -> glasses label, later files overriding earlier ones."""
    labels: dict[str, str] = {}
    for path in paths:
        for row in read_csv(path):
            value = (row.get("glasses") or "").strip()
            if value:
                labels[row["face_id"]] = value
    return labels


def lay_out(faces: list[dict[str, str]], labels: dict[str, str], mirror: Path,
            out: Path) -> dict[str, int]:
    """Write the photos and one ``wild_<split>.csv`` per split; return rows per split."""
    photos = out / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    tables: dict[str, list[dict[str, str]]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for face in faces:
        label = labels.get(face["face_id"])
        if label not in LABELS:
            continue
        key = hashlib.sha256(f"{face['repo']}@{face['commit']}:{face['path']}".encode()).hexdigest()[:20]
        name = f"photos/{key}{Path(face['path']).suffix.lower()}"
        if name not in sizes:
            target = out / name
            if not target.is_file():
                target.write_bytes(read_blob(mirror, face["repo"], face["commit"], face["path"]))
            image = cv2.imdecode(np.frombuffer(target.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                log.warning("unreadable photo %s", face["path"])
                sizes[name] = (0, 0)
                continue
            sizes[name] = (image.shape[1], image.shape[0])
        width, height = sizes[name]
        if not width:
            continue
        tables.setdefault(face["split"], []).append({
            "image": name, "width": str(width), "height": str(height),
            **{k: face[k] for k in ("x", "y", "w", "h")}, "glasses": label,
            "source": face["source"], "split": face["split"], "face_id": face["face_id"]})
    for split, rows in tables.items():
        rows.sort(key=lambda r: (r["image"], r["face_id"]))  # one image's faces adjacent
        with (out / f"wild_{split}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows)
    return {split: len(rows) for split, rows in tables.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, nargs="+", required=True,
                        help="face lists (faces.csv of the wild set, extra_glasses.csv)")
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--labels", type=Path, nargs="+", required=True)
    parser.add_argument("--out", type=Path, default=wild_folder())
    parser.add_argument("--splits", default="train,val,test",
                        help="the splits to write (the others' tables are left as they are)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    splits = set(args.splits.split(","))
    faces = [row for path in args.faces for row in read_csv(path) if row["split"] in splits]
    counts = lay_out(faces, merged_labels(args.labels), args.mirror, args.out)
    print(f"wrote {counts} under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
