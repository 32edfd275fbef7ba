"""Lay out the in-the-wild faces' glasses labels as tables the head code reads (issue 12).

    python -m rostro_training.wild_glasses --mirror /work/.mirror --tight \
        --faces /work/notes/wild/faces.csv rostro_training/labels/extra_glasses.csv \
                rostro_training/labels/glasses_new.csv \
        --labels rostro_training/labels/wild.csv rostro_training/labels/extra_glasses.csv \
                 rostro_training/labels/glasses_new.csv

Reads face lists (one face per row: face_id, source, repo, commit, path, box, split: the wild
set's ``faces.csv`` built by rostro_training/wild/build.py, and ``rostro_training/labels/extra_glasses.csv``,
a few more public photos with their labels) and glasses labels (CSV with ``face_id`` and ``glasses`` columns:
none / eyeglasses / sunglasses / unsure / goggles), copies each labelled photo out of the git
mirror into ``$ROSTRO_HOME/wild-glasses/photos/`` (never into the repository) and writes one
table per split there, ``wild_<split>.csv``, in the detection set's layout (image, width,
height, x, y, w, h, glasses, source, split, face_id), so ``rostro_training.headfit`` reads
them like any other table of labelled boxes (``TABLES["wild_glasses_train"]`` and so on).

Labels are merged in the order given; a later file overrides an earlier one for a face it
labels. Faces without a label are left out; faces left ``unsure`` (or ``goggles``) stay in the
tables, where no head trains or is scored on them (``headfit.target``), so that relabelling a
face changes no row and the feature cache keeps its rows.
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
FIELDS = ["image", "width", "height", "x", "y", "w", "h", "glasses", "source", "split", "face_id",
          "group"]
# Sources whose photos are tight face crops (the face box fills the 224 px photo): the
# engine's crops (FaceRes at 1.2 x the box, the 2 x region canvas) then see black beyond the
# photo's edge, and nearly every such face wears sunglasses, so "black border -> sunglasses"
# is a shortcut a head can learn. ``tight_copy`` cuts the other sources' faces the same way.
TIGHT_SOURCES = frozenset({"sunglasses_kaggle"})
TIGHT_SIZE = 224
TIGHT_SUFFIX = ":tight"


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


def tight_copy(image: np.ndarray, box: tuple[float, float, float, float],
               key: str) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Cut ``box`` out of ``image`` as the tight-crop sources do: a square of 0.95-1.15 x the
    box's longer side around its centre (shifted up to 6 % of the side), resized to
    TIGHT_SIZE px, with black where the square leaves the photo. Seeded by ``key`` (the same
    face always gets the same copy). Returns (copy, the box in the copy's pixels)."""
    x, y, w, h = box
    rng = np.random.RandomState(int(hashlib.sha256(key.encode()).hexdigest()[:8], 16))
    side = max(w, h) * rng.uniform(0.95, 1.15)
    cx = x + w / 2 + rng.uniform(-0.06, 0.06) * side
    cy = y + h / 2 + rng.uniform(-0.06, 0.06) * side
    scale = TIGHT_SIZE / side
    matrix = np.array([[scale, 0.0, TIGHT_SIZE / 2 - cx * scale],
                       [0.0, scale, TIGHT_SIZE / 2 - cy * scale]])
    copy = cv2.warpAffine(image, matrix, (TIGHT_SIZE, TIGHT_SIZE), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_CONSTANT)
    left, top = x * scale + matrix[0, 2], y * scale + matrix[1, 2]
    return copy, (round(left), round(top), round(w * scale), round(h * scale))


def tight_rows(rows: list[dict[str, str]], out: Path) -> list[dict[str, str]]:
    """Tight-crop copies (``tight_copy``) of the faces of ``rows`` from the other sources
    (whatever their label, so the rows do not hang on the labels): written under
    ``out/photos/``, returned as table rows (source and face id marked with TIGHT_SUFFIX, the
    original's label and split group)."""
    copies = []
    for row in rows:
        if row["source"] in TIGHT_SOURCES:
            continue
        name = f"photos/{row['face_id']}-tight.png"
        target = out / name
        box = (float(row["x"]), float(row["y"]), float(row["w"]), float(row["h"]))
        image = cv2.imread(str(out / row["image"]), cv2.IMREAD_COLOR)
        if image is None:
            continue
        copy, (x, y, w, h) = tight_copy(image, box, row["face_id"])
        if not target.is_file():
            cv2.imwrite(str(target), copy)
        copies.append({**row, "image": name, "width": str(TIGHT_SIZE), "height": str(TIGHT_SIZE),
                       "x": str(x), "y": str(y), "w": str(w), "h": str(h),
                       "source": row["source"] + TIGHT_SUFFIX,
                       "face_id": row["face_id"] + TIGHT_SUFFIX})
    return copies


def lay_out(faces: list[dict[str, str]], labels: dict[str, str], mirror: Path,
            out: Path, tight: bool = False) -> dict[str, int]:
    """Write the photos and one ``wild_<split>.csv`` per split; return rows per split.

    ``tight``: the train table also holds a tight-crop copy of every face of the other
    sources (augmentation against the tight-crop shortcut, ``tight_rows``), and the
    val and test copies go to tables of their own, ``wild_<split>_tight.csv`` (a check of the
    shortcut, never fitted on)."""
    photos = out / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    tables: dict[str, list[dict[str, str]]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for face in faces:
        # Faces left unsure (or goggles) stay in the tables, trained and scored on by no head
        # (headfit.target): the rows, and so the cached features, do not hang on the labels.
        label = labels.get(face["face_id"])
        if not label:
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
            "source": face["source"], "split": face["split"], "face_id": face["face_id"],
            # one person or session (wild/build.py); the photo where a list has no groups
            "group": face.get("group") or name})
    if tight:
        for split in list(tables):
            copies = tight_rows(tables[split], out)
            if split == "train":
                tables[split] += copies
            else:
                tables[f"{split}_tight"] = copies
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
    parser.add_argument("--tight", action="store_true",
                        help="add tight-crop copies of the faces of the other sources (tight_rows)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    splits = set(args.splits.split(","))
    faces = [row for path in args.faces for row in read_csv(path) if row["split"] in splits]
    counts = lay_out(faces, merged_labels(args.labels), args.mirror, args.out, args.tight)
    print(f"wrote {counts} under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
