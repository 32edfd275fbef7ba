"""Build the glasses extension of the in-the-wild set (issue 12): sunglasses, clear glasses, hard negatives.

The wild set (``build.py``) holds too few sunglasses and thick-frame faces to measure the
sunglasses and eyeglasses bars. This script adds photos from more public repositories, pinned
by commit in ``glasses_sources.csv`` (same columns as ``sources.csv``), and draws numbered
contact sheets for the two labelling passes. It reuses ``build.py`` for listing, detection
(Rostro's own detector), splits and drawing; only the sheet layout, the near-duplicate filter,
the hard-negative mining and the same-person grouping are its own.

    python -m rostro_training.wild.glasses_build manifest --mirror /work/.mirror     # list the pools
    python -m rostro_training.wild.glasses_build mine --mirror /work/.mirror         # keep the hard negatives
    python -m rostro_training.wild.glasses_build build --mirror /work/.mirror --out /work/notes/glasses-sheets
    python -m rostro_training.wild.glasses_build regroup --mirror /work/.mirror --out /work/notes/glasses-sheets
    python -m rostro_training.wild.glasses_build extend --mirror /work/.mirror --out /work/notes/glasses2

``manifest`` rewrites glasses_sources.csv from ``SOURCES``. ``mine`` replaces the rows of the
hard-negative pools (photos from "no glasses" folders of repositories the wild set already
reads, minus the photos ``sources.csv`` lists) by the photos on which the shipped glasses
head answers something other than NoGlasses, plus a seeded share of the rest: the faces a
person would call "no glasses" that the head gets wrong (shadowed or squinting eyes, dark eye
regions, eye makeup) are the ones the bars need. ``build`` detects the faces, drops
near-duplicates (the same photo flipped, recoloured or re-cropped: one dHash of the face box,
mirror-invariant), numbers them g0001... in a seeded order, splits them by source group with
``build.split_of`` (the wild set's salt, so a group shared with the wild set lands in the same
split), and writes ``faces.csv``, ``index.csv`` (sheet, number -> face id) and ``sheets/``.
``regroup`` then joins faces of one person (the same celebrity or portrait under other file
names, here or in the wild set's ``training/labels/wild.csv``) into one split group with
Rostro's own face embedder, and rewrites the group and split columns only: face ids and
sheets stay. Labels follow GUIDE.md (section "Glasses sheets").

``extend`` adds a second batch (the sources in ``EXTENSION``: thick-frame clear eyeglasses and
sunglasses in natural scenes, for the val/test bars) without touching the first: it replaces
only the batch's rows of glasses_sources.csv, drops faces that repeat a face of the first
batch or of the wild set (the dHash filter, seeded with their boxes), numbers the rest from
g0934 on in a seeded order, joins same-person faces to the existing faces (``regroup``'s
embedder) and splits by ``measure_split_of``; it writes faces.csv, index.csv and sheets/ of
the new faces only. ``build`` and ``regroup`` read the first batch's sources only.

Sources (licences in glasses_sources.csv): the Kaggle "Sunglasses vs. No Sunglasses" crops as
committed in erostefano/humanSunglassesAnalyzer.js (sunglasses half only), SlinkoIgor's
glasses_detector sample photos, the Kaggle "Human Faces" portraits in the history of
logicdeveloperTR/Manually-Created-Face-Recognition-Model (mined), and more of the wild set's
no-mask folders (mined). None is one of the held-out repositories; the Kaggle sunglasses
crops do not say where they were scraped from, so check them against the held-out selfies
(perceptual hashes) before their val/test faces are trusted.
Second batch (``extend``): the Specs on Faces (SoF) originals and web photos of people in
glasses as committed in COSHW/Glasses_detector_v2 (history), the selfies of
denilv/people-with-glasses-classifier, and the street-fashion photos with sunglasses picked
from bearpaw/clothing-co-parsing (``glasses_picks.csv``, one row per picked photo).
"""

from __future__ import annotations

import csv
import logging
import random
import sys
from pathlib import Path

import numpy as np

from rostro.evaluation.wild import load_photo, matching_detection
from rostro.vision.errors import ImageError
from rostro_training import LABELS_DIR
from rostro_training.wild import build as wild  # one implementation of every step

log = logging.getLogger("wild.glasses")

MANIFEST = wild.HERE / "glasses_sources.csv"
FACE_FIELDS = [*wild.FACE_FIELDS, "number"]
INDEX_FIELDS = ["sheet", "number", "face_id", "split"]
GRID = 5  # 5 x 5 = 25 faces per sheet
CELL = 200  # px per crop: the lenses of a 60 px face still show at about 3x
BAND = 30
CROP_SCALE = 1.5  # the whole head and a little context, the eyes large enough to judge lenses
SAME_PERSON = 0.5  # SFace cosine; lower (0.45) chains sunglasses faces of different people into one group of 50+
DHASH_MAX = 6  # bits: two face crops closer than this are one photo
MINE_SEED = 12

# Kaggle "Sunglasses vs. No Sunglasses" (amol07) as committed in this repository before its
# renaming commit: 224 px tight crops of web/stock photos, file names "<n>.<original name>";
# the same original appears up to 8 times (augmented copies), so the original name is the
# group and one photo per group is listed. Its "no_glass" half is StyleGAN faces (not photos):
# never listed.
SUNGLASSES_GROUP = r".*/(?:\d+\.)?(?P<g>[^/]+?)(?:\.[A-Za-z]+)?$"
PREVIOUS = {row["path"] for row in wild.read_manifest()}  # photos the wild set already lists
# Hard-negative pools -> the share of their photos answered NoGlasses that is kept anyway
# (seeded draw): plain negatives beside the head's mistakes.
MINED = {"negatives_maskdet": 0.25, "negatives_observations": 0.25, "humans": 0.045}
SOURCES: tuple[wild.Source, ...] = (
    wild.Source("sunglasses_kaggle", "erostefano/humanSunglassesAnalyzer.js",
                "321c1d351d5405609a2b022493b4b4945315f280",
                ("Feature Engineering/Train/with_glasses", "Feature Engineering/Test/with_glasses"),
                "MIT (repository); web/stock photos of the Kaggle set amol07/sunglasses-no-sunglasses, "
                "origin not stated (internal evaluation only)", 460, 380,
                group=SUNGLASSES_GROUP, people=((SUNGLASSES_GROUP, r"sunglasses_kaggle:\g<g>"),),
                per_group=1),
    wild.Source("slinko", "SlinkoIgor/glasses_detector", "56af647c9bfcb54f5b1a4ebd9a24a690dde14698",
                ("test_data/sample_test",), "Apache-2.0 (repository); web photos (internal evaluation only)",
                60, 80),
    # Pools for ``mine``: the folders the wild set reads, more photos than it lists.
    wild.Source("negatives_maskdet", "chandrikadeb7/Face-Mask-Detection",
                "7e500749401bad4bb338790fbdb89b58e41ef2d9", ("dataset/without_mask",),
                "MIT (repository); web photos", 2000, 150,
                exclude=r"(augmented|copy|Screenshot)", group=r".*/\d_\d_(?P<g>[a-z]+)_\d+\.|(?P<g2>.*)",
                people=wild.RMFD_PEOPLE, per_group=2),
    wild.Source("negatives_observations", "prajnasb/observations",
                "cdcf4501bf7fdec7ac8a4ee245e343b187fa53c7", ("experiements/data/without_mask",),
                "none stated; web photos (internal evaluation only)", 800, 100,
                exclude=r"augmented"),
    # Kaggle "Human Faces" (ashwingupta3012): 7,219 web portraits, all ages and skin tones,
    # much studio light and eye makeup, a few drawings and GAN faces (labelled unsure).
    # Committed in this repository's history only (removed at HEAD).
    wild.Source("humans", "logicdeveloperTR/Manually-Created-Face-Recognition-Model",
                "d16b490b0788e3322bc9c05f46cb970922e004da", ("Humans",),
                "none stated; Kaggle ashwingupta3012/human-faces, web photos (internal evaluation only)",
                7300, 520),
)
# Second batch (``extend``): measuring only. Specs on Faces (SoF, Afifi & Abdelhamed 2017): all
# 2,662 originals of 112 people who wear their own glasses (many thick dark frames, some
# sunglasses outdoors), 640x480, named <person>_<n>_<gender>_<age>_...; two photos a person.
SOF_PERSON = r".*/(?P<g>[A-Z][a-z]{2}[A-Z])_\d{5}_"
COSHW = ("COSHW/Glasses_detector_v2", "c9946a18fd5e3983a4befe7308a2951064734aaf")  # v1.8, before
# the folder was replaced by CelebA crops
PICKS = wild.HERE / "glasses_picks.csv"  # single photos picked from public repositories


def picked_sources(path: Path = PICKS) -> tuple[wild.Source, ...]:
    """Return one Source per (repo, commit, licence) of a picks file: its photos, every face."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_key: dict[tuple[str, str, str], list[str]] = {}
    for row in rows:
        by_key.setdefault((row["repo"], row["commit"], row["licence"]), []).append(row["path"])
    return tuple(wild.Source(f"picked_{repo.split('/')[1].lower()}", repo, commit, tuple(paths),
                             licence, len(paths), 2 * len(paths))
                 for (repo, commit, licence), paths in sorted(by_key.items()))


EXTENSION: tuple[wild.Source, ...] = (
    wild.Source("sof", *COSHW, ("images/FaceWithGlasses",),
                "none stated (repository); photos of the Specs on Faces (SoF) research dataset, "
                "its terms not checked (internal evaluation only)", 224, 240,
                exclude=r".*/(?![A-Z][a-z]{2}[A-Z]_\d{5}_)[^/]*$", group=SOF_PERSON,
                people=((SOF_PERSON, r"sof:\g<g>"),), per_group=2),
    wild.Source("glasses_web", *COSHW, ("images/FaceWithGlasses",),
                "none stated; web photos of people in glasses, origin not stated "
                "(internal evaluation only)", 200, 240,
                exclude=r"/[A-Z][a-z]{2}[A-Z]_\d{5}_"),
    wild.Source("selfies_denilv", "denilv/people-with-glasses-classifier",
                "39f8076b8d55d5748bc78569357a60d0222a76ad", ("examples/with_glasses",),
                "none stated; phone selfies (internal evaluation only)", 20, 30),
    *picked_sources(),
)
SOURCES = SOURCES + EXTENSION
FIRST_ID = 934  # the first batch holds g0001..g0933
SETTLED = LABELS_DIR / "glasses_new.csv"  # the first batch's settled labels, groups and splits
# Salt of the measuring split; a new group shared with no existing face gets val or test.
MEASURE_SALT = "glasses-measure-2:"


def read_manifest() -> list[dict[str, str]]:
    """Return the rows of glasses_sources.csv."""
    return wild.read_manifest(MANIFEST)


def write_pools(mirror: Path) -> int:
    """Rewrite glasses_sources.csv from SOURCES, leaving out photos the wild set lists."""
    n = wild.write_manifest(mirror, SOURCES, MANIFEST)
    rows = [r for r in read_manifest() if r["path"] not in PREVIOUS or r["source"] not in MINED]
    write_rows(rows)
    log.info("listed %d photos (%d already in the wild set left out)", len(rows), n - len(rows))
    return len(rows)


def write_rows(rows: list[dict[str, str]]) -> None:
    """Write manifest rows to glasses_sources.csv."""
    wild.write_csv(MANIFEST, wild.MANIFEST_FIELDS, rows)


def mine(mirror: Path) -> dict[str, int]:
    """Keep, in the hard-negative pools, the photos the shipped glasses head gets "wrong".

    A pool photo is kept when the head answers anything but NoGlasses on one of its faces
    (in "no glasses" folders these are the likely false positives; real glasses among them
    are welcome too), or by a seeded draw with the pool's share in ``MINED``.
    Returns the kept photo count per source and answer.
    """
    from rostro.vision.analyzer import open_analyzer
    from rostro.vision.types import Face

    analyzer = open_analyzer()
    engine = analyzer.attributes
    rng = random.Random(MINE_SEED)
    kept_rows: list[dict[str, str]] = []
    counts: dict[str, int] = {}
    for row in read_manifest():
        if row["source"] not in MINED:
            kept_rows.append(row)
            continue
        try:
            image = load_photo(mirror, row["repo"], row["commit"], row["path"])
        except ImageError:
            continue
        answers = []
        for det in analyzer.detect(image, max_faces=wild.PER_IMAGE, min_face=wild.MIN_FACE):
            face = Face(detection=det)
            answers.append(engine.run(image, face, ("glasses",), engine.context(image, face))["glasses"])
        if not answers:
            continue
        hit = next((a for a in answers if a != "none"), None)
        draw = rng.random() < MINED[row["source"]]
        if hit or draw:
            key = f"{row['source']}:{hit or 'random'}"
            counts[key] = counts.get(key, 0) + 1
            kept_rows.append(row)
    write_rows(kept_rows)
    return counts


def blob_ids(mirror: Path, rows: list[dict[str, str]]) -> dict[tuple[str, str], str]:
    """Return {(repo, path): git blob id} for manifest rows: equal ids are equal bytes, any repo."""
    import subprocess

    ids: dict[tuple[str, str], str] = {}
    for repo, commit in sorted({(r["repo"], r["commit"]) for r in rows}):
        out = subprocess.run(["git", f"--git-dir={wild.git_dir(mirror, repo)}", "ls-tree", "-r",
                              commit], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            meta, path = line.split("\t", 1)
            ids[(repo, path)] = meta.split()[2]
    return ids


def present(mirror: Path, rows: list[dict[str, str]],
            ids: dict[tuple[str, str], str]) -> list[dict[str, str]]:
    """Return the rows whose blob the mirror holds (a snapshot may list large files it lacks)."""
    import subprocess

    kept = []
    for repo in sorted({r["repo"] for r in rows}):
        mine = [r for r in rows if r["repo"] == repo]
        query = "".join(f"{ids[(repo, r['path'])]}\n" for r in mine)
        answers = subprocess.run(["git", f"--git-dir={wild.git_dir(mirror, repo)}", "cat-file",
                                  "--batch-check"], input=query, check=True, capture_output=True,
                                 text=True).stdout.splitlines()
        kept += [r for r, answer in zip(mine, answers) if not answer.endswith(" missing")]
    log.info("%d listed photos absent from the mirrors left out", len(rows) - len(kept))
    return kept


def new_photos(mirror: Path, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Return the rows whose bytes are in no photo the wild set (sources.csv) lists."""
    previous = wild.read_manifest()
    ids = blob_ids(mirror, rows + previous)
    known = {ids.get((r["repo"], r["path"])) for r in previous}
    fresh = [r for r in rows if ids.get((r["repo"], r["path"])) not in known]
    log.info("%d photos already in the wild set (same bytes) left out", len(rows) - len(fresh))
    return fresh


def dhash(crop: np.ndarray) -> int:
    """Return a 64-bit difference hash of a BGR crop, the smaller of it and its mirror's."""
    import cv2

    gray = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), (9, 8), interpolation=cv2.INTER_AREA)
    values = []
    for g in (gray, gray[:, ::-1]):
        bits = (g[:, 1:] > g[:, :-1]).flatten()
        values.append(int("".join("1" if b else "0" for b in bits), 2))
    return min(values)


def box_pixels(image: np.ndarray, face: dict[str, str]) -> np.ndarray:
    """Return the pixels of a face's box, clipped to the photo (no padding: padding looks alike)."""
    x, y, w, h = (int(face[c]) for c in "xywh")
    return image[max(y, 0):max(y + h, 1), max(x, 0):max(x + w, 1)]


def drop_near_duplicates(faces: list[dict[str, str]], boxes: list[np.ndarray],
                         known: tuple[int, ...] = ()) -> list[int]:
    """Return the indices of the faces to keep: the first of every set of near-identical boxes.

    ``known`` holds the dHashes of faces kept earlier (another batch): a box close to one of
    them is dropped too.
    """
    kept: list[int] = []
    hashes: list[int] = list(known)
    for k, pixels in enumerate(boxes):
        h = dhash(pixels)
        if any((h ^ other).bit_count() <= DHASH_MAX for other in hashes):
            log.info("near-duplicate face skipped: %s", faces[k]["path"])
            continue
        hashes.append(h)
        kept.append(k)
    return kept


def build(mirror: Path, out: Path) -> list[dict[str, str]]:
    """Detect, de-duplicate, number, split and draw: write faces.csv, index.csv and sheets/."""
    from rostro.vision.analyzer import open_analyzer

    extension = {s.name for s in EXTENSION}
    rows = [r for r in read_manifest() if r["source"] not in extension]
    faces = wild.detect_faces(open_analyzer(), mirror, new_photos(mirror, rows), SOURCES)
    faces.sort(key=lambda f: wild.digest(f"glasses:{f['repo']}:{f['path']}:{f['x']}:{f['y']}"))
    faces, crops = unique_faces(mirror, faces)
    number_and_draw(faces, crops, out, first=1)
    return faces


def unique_faces(mirror: Path, faces: list[dict[str, str]], known: tuple[int, ...] = ()
                 ) -> tuple[list[dict[str, str]], list[np.ndarray]]:
    """Return the faces left by ``drop_near_duplicates`` (in order) and their sheet crops."""
    photos: dict[tuple[str, str, str], np.ndarray] = {}
    crops, boxes = [], []
    for face in faces:
        key = (face["repo"], face["commit"], face["path"])
        if key not in photos:
            photos[key] = load_photo(mirror, *key)
        x, y, w, h = (float(face[c]) for c in "xywh")
        box = (x, y, w, h)
        crops.append(wild.head_crop(photos[key], box, CROP_SCALE, CELL))
        boxes.append(box_pixels(photos[key], face))
    keep = drop_near_duplicates(faces, boxes, known)
    return [faces[k] for k in keep], [crops[k] for k in keep]


def number_and_draw(faces: list[dict[str, str]], crops: list[np.ndarray], out: Path,
                    first: int) -> None:
    """Give the faces ids g<first>, ... and sheet places; write sheets/, faces.csv and index.csv."""
    per_sheet = GRID * GRID
    (out / "sheets").mkdir(parents=True, exist_ok=True)
    for k, face in enumerate(faces):
        face["face_id"] = f"g{first + k:04d}"
        face["sheet"] = f"sheets/sheet_{k // per_sheet + 1:03d}.png"
        face["number"] = str(k % per_sheet + 1)
    for start in range(0, len(faces), per_sheet):
        cells = [(f"{f['number']}  {f['face_id']}", crop)
                 for f, crop in zip(faces[start:start + per_sheet], crops[start:start + per_sheet])]
        wild.draw_sheet(cells, GRID, CELL, BAND).save(out / faces[start]["sheet"])
    write_faces(out, faces)


def write_faces(out: Path, faces: list[dict[str, str]]) -> None:
    """Write ``out``/faces.csv and ``out``/index.csv (sheet, number -> face id)."""
    wild.write_csv(out / "faces.csv", FACE_FIELDS, faces)
    wild.write_csv(out / "index.csv", INDEX_FIELDS, faces)


def same_person_groups(mirror: Path, faces: list[dict[str, str]],
                       anchors: list[dict[str, str]]) -> list[str]:
    """Return a split group per face that joins faces of one person (Rostro's own embedder).

    Web folders repeat celebrities and re-crops of one portrait under other names; faces whose
    SFace cosine is at least ``SAME_PERSON`` are joined (union-find), also across the wild
    set's faces (``anchors``, rows with their ``group``), so a person never straddles two
    splits of the two sets together. A group with a wild face takes the smallest wild group
    (hence the wild set's split), otherwise the smallest member key. A face the detector does
    not find again keeps its own group.
    """
    from rostro.vision.analyzer import open_analyzer
    from rostro.vision.types import Box

    analyzer = open_analyzer()
    vectors: dict[int, np.ndarray] = {}
    everyone = faces + anchors
    for k, face in enumerate(everyone):
        image = load_photo(mirror, face["repo"], face["commit"], face["path"])
        box = Box(*(float(face[c]) for c in "xywh"))
        dets = analyzer.detect(image, max_faces=wild.PER_IMAGE, min_face=wild.MIN_FACE)
        best = matching_detection(dets, box)
        if best is not None:
            v = np.asarray(analyzer.embed(image, best), dtype=np.float32).ravel()
            vectors[k] = v / np.linalg.norm(v)
    keys = sorted(vectors)
    root = list(range(len(everyone)))  # a face the embedder never saw is its own person
    for k, r in zip(keys, person_roots(np.stack([vectors[k] for k in keys]))):
        root[k] = keys[r]
    members: dict[int, list[tuple[bool, str]]] = {}
    for k, face in enumerate(everyone):
        members.setdefault(root[k], []).append((k < len(faces), face["group"]))
    return [min(members[root[k]])[1] for k in range(len(faces))]


def person_roots(vectors: np.ndarray) -> list[int]:
    """Return, for each row of ``vectors`` (unit face embeddings), the row that stands for its
    person: rows whose cosine is at least ``SAME_PERSON`` are joined, transitively (union-find)."""
    parent = list(range(len(vectors)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for a, b in zip(*np.nonzero(np.triu(vectors @ vectors.T, 1) >= SAME_PERSON)):
        parent[root(int(a))] = root(int(b))
    return [root(k) for k in range(len(vectors))]


def wild_faces() -> list[dict[str, str]]:
    """Return the wild set's labelled faces (training/labels/wild.csv) with their split group."""
    from rostro.evaluation.wild import read_wild_labels

    groups = {(r["repo"], r["path"]): r["group"] for r in wild.read_manifest()}
    return [{**r, "group": groups[(r["repo"], r["path"])]} for r in read_wild_labels()]


def regroup(mirror: Path, out: Path) -> list[dict[str, str]]:
    """Rewrite the group and split columns of faces.csv and index.csv by ``same_person_groups``.

    Face ids, boxes and sheets stay as they are (``build`` numbers faces independently of groups).
    """
    with (out / "faces.csv").open(newline="") as fh:
        faces = list(csv.DictReader(fh))
    for face, group in zip(faces, same_person_groups(mirror, faces, wild_faces())):
        face["group"], face["split"] = group, wild.split_of(group)
    write_faces(out, faces)
    return faces


def measure_split_of(group_key: str) -> str:
    """Return val or test (50/50) for a new group of the second batch, from its salted hash.

    The second batch exists to measure heads that are already fitted (the eyeglasses and
    sunglasses bars lacked val/test evidence), so none of its groups may train: a train share
    would only shrink what can be measured. As ``build.split_of`` does, the hash of a salt and
    the group key decides, so a group's split never depends on which other photos are listed.
    A group that already exists keeps its split (``extend`` looks that up first).
    """
    bucket = int(wild.digest(MEASURE_SALT + group_key)[:8], 16) % 2
    return ("val", "test")[bucket]


def settled_faces() -> list[dict[str, str]]:
    """Return the first batch's faces with their settled group and split (labels/glasses_new.csv,
    which also holds the second batch's labelled faces, g0934 on: left out, so ``extend``
    rebuilds the same batch)."""
    with SETTLED.open(newline="") as fh:
        return [row for row in csv.DictReader(fh) if int(row["face_id"][1:]) < FIRST_ID]


def face_hashes(mirror: Path, faces: list[dict[str, str]]) -> tuple[int, ...]:
    """Return the dHash of every face box (rows with repo, commit, path and x, y, w, h)."""
    photos: dict[tuple[str, str, str], np.ndarray] = {}
    hashes = []
    for face in faces:
        key = (face["repo"], face["commit"], face["path"])
        if key not in photos:
            photos[key] = load_photo(mirror, *key)
        hashes.append(dhash(box_pixels(photos[key], face)))
    return tuple(hashes)


def extend(mirror: Path, out: Path) -> list[dict[str, str]]:
    """Add the second batch (``EXTENSION``) without touching the first; return its faces.

    Lists the batch's photos into glasses_sources.csv (its rows only), leaves out photos whose
    bytes the wild set or the first batch already list and faces that repeat one of their
    faces, numbers the rest from g0934 on in a seeded order, joins faces of one person to
    the existing ones and splits: an existing group keeps its split, a new one gets
    ``measure_split_of``. Writes faces.csv, index.csv and sheets/ of the new faces under ``out``.
    """
    from rostro.vision.analyzer import open_analyzer

    extension = {s.name for s in EXTENSION}
    first = [r for r in read_manifest() if r["source"] not in extension]
    listed = [row for source in EXTENSION for row in wild.list_source(mirror, source)]
    ids = blob_ids(mirror, first + listed)
    listed = present(mirror, listed, ids)
    write_rows(first + listed)
    known = {ids.get((r["repo"], r["path"])) for r in first}
    fresh = [r for r in new_photos(mirror, listed) if ids.get((r["repo"], r["path"])) not in known]
    faces = wild.detect_faces(open_analyzer(), mirror, fresh, SOURCES)
    faces.sort(key=lambda f: wild.digest(f"glasses2:{f['repo']}:{f['path']}:{f['x']}:{f['y']}"))
    settled, wilds = settled_faces(), wild_faces()
    faces, crops = unique_faces(mirror, faces, face_hashes(mirror, settled + wilds))
    splits = {r["group"]: r["split"] for r in wilds}
    splits.update({r["group"]: r["split"] for r in settled})
    for face, group in zip(faces, same_person_groups(mirror, faces, settled + wilds)):
        face["group"] = group
        face["split"] = splits.get(group) or measure_split_of(group)
    number_and_draw(faces, crops, out, first=FIRST_ID)
    return faces


def main(argv: list[str] | None = None) -> int:
    args = wild.parse_command(__doc__, ["manifest", "mine", "build", "regroup", "extend"],
                              Path("/work/notes/glasses-sheets"), argv)
    if args.command == "manifest":
        write_pools(args.mirror)
    elif args.command == "mine":
        log.info("hard-negative photos kept, by the head's answer: %s", mine(args.mirror))
    else:
        step = {"build": build, "regroup": regroup, "extend": extend}[args.command]
        faces = step(args.mirror, args.out)
        per: dict[str, dict[str, int]] = {}
        for f in faces:
            per.setdefault(f["source"], {}).setdefault(f["split"], 0)
            per[f["source"]][f["split"]] += 1
        log.info("%d faces on %d sheets; per source and split %s", len(faces),
                 len({f["sheet"] for f in faces}), per)
    return 0


if __name__ == "__main__":
    sys.exit(main())
