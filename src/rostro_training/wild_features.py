"""Feature blocks and plain-network outputs of the in-the-wild faces (issue 12), cached.

    python -m rostro_training.wild_features --faces /work/notes/wild/faces.csv \
        --mirror /work/.mirror --out /work/notes/wild/features

For every face of ``faces.csv`` (``rostro_training/wild/build.py``: source repo, commit, path and
the detector's box) the photo is read at its pinned commit from the git mirror, the detector
runs on the full photo and the detection matching the listed box (IoU >= 0.5, as
``rostro eval attributes --wild`` answers) is analysed exactly as the service answers it:
the engine's feature blocks (``rostro.vision.attributes.features.BLOCKS``, the code
``headfit.extract`` uses for the lab tables) plus the plain networks' own answers that are no
block (the dlib gender net's and FaceRes' P(male)). The images are never written; the cache is
one ``.npz`` keyed by faces.csv's content and ``headfit.FEATURES_VERSION`` (never committed).

``--export --labels wild.csv`` then writes the committed table the heads train on
(``headfit.WILD_TRAIN``: the wild **train** faces labelled for a head that trains on them, their
split group and labels, and the blocks those heads read, float32; numbers only, no image).

``read_wild_features`` returns the cached table as a ``headfit.FeatureTable`` whose rows are
the faces.csv rows, so the heads' recipes read it like any lab table.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
from pathlib import Path

import numpy as np

from rostro.evaluation.wild import load_photo, matching_detection
from rostro.threads import limit_threads
from rostro.vision.attributes.features import BLOCKS, DERIVED, age_gender, faceres
from rostro.vision.types import Box, Face
from rostro_training.headfit import (
    FEATURES_VERSION,
    HEAD_TABLES,
    WILD_FIELDS,
    WILD_TRAIN,
    FeatureTable,
    read_rows,
    stack_rows,
    table_blocks,
    wild_target,
)

log = logging.getLogger("wild_features")

# Plain-network outputs kept beside the blocks (one number per face).
EXTRA = ("ag.male", "fr.male")
NAMES = tuple(sorted(n for n in BLOCKS if n not in DERIVED))


def cache_path(faces_csv: Path, out: Path) -> Path:
    """The cache file of one faces.csv (its bytes, the block names and the feature version)."""
    digest = hashlib.sha256(faces_csv.read_bytes() + "|".join(NAMES + EXTRA).encode()
                            + FEATURES_VERSION.encode()).hexdigest()[:16]
    return out / f"wild-{digest}.npz"


def compute(analyzer, mirror: Path, rows: list[dict[str, str]]) -> dict[str, np.ndarray]:
    """Return ``{"found": (n,), block: (n, d), "ag.male": (n,), "fr.male": (n,)}`` for the rows
    (zeros where the listed box matched no detection)."""
    engine = analyzer.attributes
    found = np.zeros(len(rows), dtype=bool)
    values: dict[str, list[np.ndarray | None]] = {n: [] for n in NAMES + EXTRA}
    photo_key, image, detections = None, None, []
    for i, row in enumerate(rows):
        key = (row["repo"], row["commit"], row["path"])
        if key != photo_key:
            photo_key, image = key, load_photo(mirror, *key)
            detections = analyzer.detect(image)
        box = Box(*(float(row[c]) for c in "xywh"))
        best = matching_detection(detections, box)
        if best is None:
            for n in values:
                values[n].append(None)
            continue
        found[i] = True
        ctx = engine.context(image, Face(detection=best))
        for n in NAMES:
            values[n].append(np.ravel(BLOCKS[n](ctx)).astype(np.float64))
        values["ag.male"].append(np.array([age_gender(ctx).male_probability]))
        values["fr.male"].append(np.array([faceres(ctx).male_probability]))
        if i % 50 == 0:
            log.info("%d/%d", i, len(rows))
    return {"found": found, **{n: stack_rows(vs) for n, vs in values.items()}}


SOURCES_CSV = Path(__file__).resolve().parent / "wild" / "sources.csv"


def read_faces(faces_csv: Path) -> list[dict[str, str]]:
    """The rows of faces.csv, or of rostro_training/labels/wild.csv (same face columns, no split
    group: taken from rostro_training/wild/sources.csv by repo and path)."""
    rows = read_rows(faces_csv)
    if rows and "group" not in rows[0]:
        groups = {(r["repo"], r["path"]): r["group"] for r in read_rows(SOURCES_CSV)}
        rows = [{**row, "group": groups[(row["repo"], row["path"])]} for row in rows]
    return rows


def read_wild_features(faces_csv: Path, out: Path) -> FeatureTable:
    """The cached table of ``faces_csv`` (rows in faces.csv order; extras as 1-column blocks).

    Raises FileNotFoundError when it was not computed (run this script)."""
    path = cache_path(faces_csv, out)
    if not path.is_file():
        raise FileNotFoundError(f"no wild feature cache at {path}: run python -m rostro_training.wild_features")
    with np.load(path) as data:
        blocks = {n: data[n] if data[n].ndim == 2 else data[n][:, None] for n in NAMES + EXTRA}
        return FeatureTable(read_faces(faces_csv), data["found"], blocks)


def export(table: FeatureTable, labels_csv: Path, out: Path = WILD_TRAIN) -> int:
    """Write the train faces of ``table`` labelled for a wild-trained head, with their labels
    and the blocks those heads read, to ``out``; return the number of faces written."""
    heads = [h for h, tables in HEAD_TABLES.items() if "wild_train" in tables]
    labels = {r["face_id"]: r for r in read_rows(labels_csv)}
    keep = [i for i, r in enumerate(table.rows)
            if r["split"] == "train" and table.found[i] and r["face_id"] in labels
            and any(wild_target(h, labels[r["face_id"]]) is not None for h in heads)]
    fields = sorted({WILD_FIELDS[h] for h in heads})
    arrays = {"face_id": np.array([table.rows[i]["face_id"] for i in keep]),
              "group": np.array([table.rows[i]["group"] for i in keep]),
              "split": np.array([table.rows[i]["split"] for i in keep])}
    for field in fields:
        arrays[f"label.{field}"] = np.array([labels[table.rows[i]["face_id"]][field] for i in keep])
    # derived blocks (regions.gray) are stored as their source block
    for block in sorted({DERIVED[b][0] if b in DERIVED else b
                         for b in table_blocks("wild_train", heads)}):
        arrays[f"block.{block}"] = table.matrix((block,))[keep].astype(np.float32)
    np.savez_compressed(out, allow_pickle=False, **arrays)
    log.info("%d wild train faces, blocks %s -> %s (%d bytes)", len(keep),
             table_blocks("wild_train", heads), out, out.stat().st_size)
    return len(keep)


def main(argv: list[str] | None = None) -> int:
    limit_threads()  # one BLAS thread: deterministic fits, and polite on 2 cores
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=Path("/work/notes/wild/faces.csv"),
                        help="the wild set's faces.csv, or rostro_training/labels/wild.csv")
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--out", type=Path, default=Path("/work/notes/wild/features"))
    parser.add_argument("--export", action="store_true",
                        help=f"write {WILD_TRAIN.name} from the cache (needs --labels)")
    parser.add_argument("--labels", type=Path, help="the merged labels (wild.csv)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = cache_path(args.faces, args.out)
    if args.export:
        if args.labels is None:
            parser.error("--export needs --labels")
        export(read_wild_features(args.faces, args.out), args.labels)
        return 0
    if path.is_file():
        log.info("already cached: %s", path)
        return 0
    from rostro.vision.analyzer import open_analyzer

    rows = read_faces(args.faces)
    # Photos with several faces are read and detected once: keep their rows adjacent.
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["repo"], rows[i]["path"]))
    data = compute(open_analyzer(), args.mirror, [rows[i] for i in order])
    inverse = np.argsort(order)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez(path, allow_pickle=False, **{n: v[inverse] for n, v in data.items()})
    log.info("%d faces (%d matched) -> %s", len(rows), int(data["found"].sum()), path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
