"""Build natural-photo training rows for the headwear head from Clothing Co-Parsing masks.

In: the CCP mirror (bearpaw/clothing-co-parsing at ``COMMIT``, read from ``--mirror``): photos
0001-1004 and their pixel-level masks (annotations/pixel-level/NNNN.mat, label 20 'hat' of
label_list.mat). Out: ``labels/hats_train.csv`` (face id, photo, detector box, group, split=train,
headwear 0/1) and ``labels/hats_train_features.npz`` in the format ``headfit.read_wild_train``
reads (the headwear recipe's blocks).

Why: the headwear head was trained on lab rows only and says "headwear" on bare heads with
long or voluminous hair (street fashion) and misses hats; CCP is street fashion with hat masks.

Rule per photo: the largest detected face (skip if none or narrower than ``MIN_WIDTH``); its head
band runs from ``ABOVE`` x box height above the box top to ``INTO`` x box height into the box, over
the box widened by ``WIDEN`` each side. headwear=1 when hat pixels cover at least ``HAT_SHARE`` of
the band, 0 when the band has no hat pixel and next to nothing but hair/skin/background/glasses/
earrings (``BARE``), otherwise the face is skipped (ambiguous: hoods and headbands are often
marked as the garment or 'accessories'). Scarves and hoodies never make a positive: CCP's
'scarf' is almost always round the neck. Known residue: some caps are painted as 'hair'.

Leakage: CCP photos in ``wild/glasses_sources.csv`` are skipped, and a face whose SFace cosine to
any CCP face of ``labels/glasses_new.csv`` is at least ``glasses_build.SAME_PERSON`` is dropped, so
no person of the glasses val/test batch reaches these training rows. Kept faces of one person
(same threshold, union-find) share a group.

Run: ``python -m rostro_training.wild.hats_build --mirror /work/.mirror``
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rostro.evaluation.wild import load_photo, matching_detection, read_blob
from rostro_training import LABELS_DIR
from rostro_training.headfit import RECIPES
from rostro_training.wild.glasses_build import SAME_PERSON, person_roots

log = logging.getLogger(__name__)

REPO = "bearpaw/clothing-co-parsing"
COMMIT = "fe34fb77721a9973fbae92c05f7f12b664d10110"
SOURCE = "picked_clothing-co-parsing"
PHOTOS = range(1, 1005)  # the pixel-annotated photos
HAT = 20  # label_list.mat index (0-based, as the masks use it)
MIN_WIDTH = 48  # px, detector box width
ABOVE, INTO, WIDEN = 0.8, 0.2, 0.25  # head band, in box heights / widths
HAT_SHARE = 0.15  # share of the band covered by hat pixels for headwear=1
# Labels a bare head's band may hold: null, earrings, glasses, hair, skin, sunglasses. Anything
# else there (hoods marked 'coat'/'dress'/'scarf', headbands marked 'accessories') is covered
# headwear the hat label missed; the spot check found such faces among the negatives.
BARE = (0, 15, 17, 19, 41, 47)
OTHER_SHARE = 0.02  # share of other labels above which a hat-free band is ambiguous
BLOCK_NAMES = RECIPES["headwear"].blocks
GLASSES_SOURCES = Path(__file__).resolve().parent / "glasses_sources.csv"
GLASSES_LABELS = LABELS_DIR / "glasses_new.csv"
OUT_CSV = LABELS_DIR / "hats_train.csv"
OUT_NPZ = LABELS_DIR / "hats_train_features.npz"
FIELDS = ("face_id", "repo", "commit", "path", "x", "y", "w", "h", "group", "split", "headwear")


@dataclass(frozen=True)
class Candidate:
    """One labelled face: its photo path, detector box, label, embedding and feature blocks."""

    path: str
    box: tuple[int, int, int, int]
    headwear: int
    vector: np.ndarray
    blocks: dict[str, np.ndarray]


def read_mask(mirror: Path, number: int) -> np.ndarray:
    """Return the pixel-level label mask of photo ``number`` (label_list indices)."""
    import scipy.io

    blob = read_blob(mirror, REPO, COMMIT, f"annotations/pixel-level/{number:04d}.mat")
    return np.asarray(scipy.io.loadmat(io.BytesIO(blob))["groundtruth"])


def head_band(box: tuple[float, float, float, float], shape: tuple[int, ...]) -> tuple[slice, slice]:
    """Return the (rows, cols) slices of the head band above a face box, clipped to ``shape``."""
    x, y, w, h = box
    top, bottom = int(round(y - ABOVE * h)), int(round(y + INTO * h))
    left, right = int(round(x - WIDEN * w)), int(round(x + w + WIDEN * w))
    return (slice(max(top, 0), min(bottom, shape[0])), slice(max(left, 0), min(right, shape[1])))


def hat_label(mask: np.ndarray, box: tuple[float, float, float, float]) -> int | None:
    """Return 1 (hat covers the head band), 0 (no hat pixel in it) or None (ambiguous)."""
    band = mask[head_band(box, mask.shape)]
    if band.size == 0:
        return None
    share = float(np.mean(band == HAT))
    if share >= HAT_SHARE:
        return 1
    other = float(np.mean(~np.isin(band, BARE)))
    return 0 if share == 0.0 and other < OTHER_SHARE else None


def excluded_paths() -> set[str]:
    """Return the CCP photo paths of the glasses val/test batch (never used for training)."""
    with GLASSES_SOURCES.open(newline="") as fh:
        return {r["path"] for r in csv.DictReader(fh) if r["repo"] == REPO}


def anchor_vectors(analyzer, mirror: Path) -> np.ndarray:
    """Return unit SFace embeddings of the CCP faces of glasses_new.csv (matched by IoU >= 0.5)."""
    from rostro.vision.types import Box

    with GLASSES_LABELS.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["source"] == SOURCE]
    vectors = []
    for row in rows:
        image = load_photo(mirror, row["repo"], row["commit"], row["path"])
        box = Box(*(float(row[c]) for c in "xywh"))
        best = matching_detection(analyzer.detect(image), box)
        if best is None:
            log.warning("glasses face %s not found again", row["face_id"])
            continue
        vectors.append(unit(analyzer.embed(image, best)))
    log.info("%d of %d glasses CCP faces embedded", len(vectors), len(rows))
    return np.stack(vectors)


def unit(v: np.ndarray) -> np.ndarray:
    """Return ``v`` flattened to float32 and scaled to unit length."""
    v = np.asarray(v, dtype=np.float32).ravel()
    return v / np.linalg.norm(v)


def candidates(analyzer, mirror: Path, counts: dict[str, int]) -> list[Candidate]:
    """Label the largest face of every usable annotated photo; tally skips in ``counts``."""
    from rostro.vision.attributes.features import BLOCKS
    from rostro.vision.types import Face

    skip = excluded_paths()
    found = []
    for number in PHOTOS:
        path = f"photos/{number:04d}.jpg"
        if path in skip:
            counts["excluded_glasses_batch"] += 1
            continue
        image = load_photo(mirror, REPO, COMMIT, path)
        mask = read_mask(mirror, number)
        if mask.shape != image.shape[:2]:
            counts["mask_size_mismatch"] += 1
            continue
        dets = analyzer.detect(image)
        if not dets or dets[0].box.width < MIN_WIDTH:
            counts["no_face"] += 1
            continue
        det = dets[0]  # largest box first
        box = (det.box.left, det.box.top, det.box.width, det.box.height)
        label = hat_label(mask, box)
        if label is None:
            counts["ambiguous"] += 1
            continue
        ctx = analyzer.attributes.context(image, Face(detection=det))
        blocks = {n: np.ravel(BLOCKS[n](ctx)).astype(np.float32) for n in BLOCK_NAMES}
        found.append(Candidate(path, tuple(int(round(v)) for v in box), label,  # type: ignore[arg-type]
                               unit(analyzer.embed(image, det)), blocks))
        if number % 100 == 0:
            log.info("%d photos, %d faces", number, len(found))
    return found


def person_groups(faces: list[Candidate]) -> list[str]:
    """Return a group per face: the smallest photo path among faces of one person (union-find)."""
    root = person_roots(np.stack([f.vector for f in faces]))
    first: dict[int, str] = {}
    for k, face in enumerate(faces):
        first[root[k]] = min(first.get(root[k], face.path), face.path)
    return [f"{SOURCE}:{first[root[k]]}" for k in range(len(faces))]


def write(faces: list[Candidate], out_csv: Path = OUT_CSV, out_npz: Path = OUT_NPZ) -> None:
    """Write the training CSV and the feature table (read_wild_train's format)."""
    groups = person_groups(faces)
    ids = [f"h{k + 1:04d}" for k in range(len(faces))]
    with out_csv.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(FIELDS)
        for face_id, face, group in zip(ids, faces, groups):
            writer.writerow([face_id, REPO, COMMIT, face.path, *face.box, group, "train", face.headwear])
    arrays = {"face_id": np.array(ids), "group": np.array(groups),
              "split": np.array(["train"] * len(faces)),
              "label.headwear": np.array([str(f.headwear) for f in faces])}
    for name in BLOCK_NAMES:
        arrays[f"block.{name}"] = np.stack([f.blocks[name] for f in faces]).astype(np.float32)
    np.savez_compressed(out_npz, allow_pickle=False, **arrays)
    log.info("%d faces -> %s, %s (%d bytes)", len(faces), out_csv, out_npz, out_npz.stat().st_size)


def build(mirror: Path) -> dict[str, int]:
    """Run the whole build; return the counts (faces, positives, negatives, skips, drops)."""
    from collections import Counter

    from rostro.vision.analyzer import open_analyzer

    analyzer = open_analyzer()
    counts: Counter[str] = Counter()
    faces = candidates(analyzer, mirror, counts)
    anchors = anchor_vectors(analyzer, mirror)
    kept = [f for f in faces if float(np.max(anchors @ f.vector)) < SAME_PERSON]
    counts["dropped_same_person"] = len(faces) - len(kept)
    counts["faces"] = len(kept)
    counts["positives"] = sum(f.headwear for f in kept)
    counts["negatives"] = len(kept) - counts["positives"]
    write(kept)
    return dict(counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    log.info("counts: %s", build(args.mirror))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
