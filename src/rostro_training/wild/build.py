"""Build the in-the-wild attribute set (issue 12): face boxes, splits and contact sheets.

The photos come from public repositories pinned by commit in ``sources.csv`` (one row per
photo: source, repo, commit, path, licence, group). They are read straight from git mirrors
(``--mirror DIR`` holds ``owner+name/repo`` git directories, as the project's fetch tool lays
them out) and are never committed.

    python -m rostro_training.wild.build manifest --mirror /work/.mirror   # rewrite sources.csv
    python -m rostro_training.wild.build build --mirror /work/.mirror --out /work/notes/wild
    python -m rostro_training.wild.build resplit --mirror /work/.mirror --out /work/notes/wild

``build`` detects faces with Rostro's own analyzer, keeps faces whose shorter box side is at
least 60 px (at most ``PER_IMAGE`` per photo, largest first, at most the source's cap), gives
each a face id in a seeded shuffled order, assigns a split by source group and writes
``faces.csv`` and 3x3 contact sheets for the labellers. It is deterministic.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import logging
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rostro.evaluation.wild import git_dir, load_photo, read_blob
from rostro.vision.errors import ImageError

if TYPE_CHECKING:  # PIL loads only when a sheet is drawn
    from PIL import Image

log = logging.getLogger("wild.build")

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "sources.csv"
MANIFEST_FIELDS = ["source", "repo", "commit", "path", "licence", "group"]
FACE_FIELDS = ["face_id", "source", "repo", "commit", "path", "x", "y", "w", "h", "score",
               "group", "split", "sheet"]

MIN_FACE = 60  # px, shorter side of the detector's box (the issue asks for faces of 60-600 px)
PER_IMAGE = 6  # faces kept per photo, largest first: one crowd photo must not fill a sheet
PER_GROUP = 4  # photos listed per person/session: one celebrity must not fill a source
CROP_SCALE = 1.6  # the sheet shows the whole head: 1.6x the face box, centred
CELL = 300
GRID = 3  # 3 columns x 3 rows per sheet
BAND = 44  # px of white band above each cell for the face id
IMAGE_EXT = (".jpg", ".jpeg", ".png", ".webp")


@dataclass(frozen=True)
class Source:
    """One pinned folder of photos: which files to take and how many faces at most."""

    name: str
    repo: str
    commit: str
    folders: tuple[str, ...]
    licence: str
    max_images: int  # photos listed in the manifest (seeded order)
    max_faces: int  # faces kept after detection
    exclude: str = r"$^"  # regex on the path: files that are not real photos
    group: str = r"(?P<g>.*)"  # regex on the path: the person/session, for PER_GROUP
    # (regex, key) on the path: photos that show the same people share a split group (keys
    # may name the regex's groups, \1); a path matching none keeps its PER_GROUP group.
    people: tuple[tuple[str, str], ...] = ()
    per_group: int = PER_GROUP  # 1 where a folder holds augmented copies of one photo


# Every folder was looked at before it was listed. Off limits (held-out evaluation data and
# their copies, see the brief): LFW, CK+, UTKFace, FER2013, CMU, Yale, the Kaggle face-mask
# set and MaskON, deepface's test photos, and the repositories named in the house rules.
# Masked and unmasked crops of the same named people (RMFD-style names 0_0_<name>_0001.jpg).
RMFD_PEOPLE = ((r".*/\d_\d_([a-z]+)_\d+\.", r"rmfd:\1"),)
SOURCES: tuple[Source, ...] = (
    Source("faceapi", "justadudewhohacks/face-api.js", "a86f011d72124e5fb93e59d5c4ab98f699dd5c9c",
           ("examples/images", "test/images"), "MIT (repository)", 200, 80,
           exclude=r"public/",
           group=r"examples/images/(?P<g>[a-z]+)/|(?P<g2>.*)",
           # the per-actor folders and the bbt group photos show the same eight actors
           people=((r"examples/images/([a-z]+/|bbt)", "faceapi:bbt-cast"),
                   (r"(?:examples|test)/images/([a-z]+?)(?:_cropped)?\.", r"faceapi:\1"))),
    Source("human", "vladmandic/human", "151df64d6143db8d0cf14df39e69be2f655f9f34",
           ("samples/in",), "MIT (repository)", 200, 170,
           exclude=r"/(cgi-|ai-|background|solvay)",
           group=r"samples/in/(?P<g>stock-emotions-[ab]|person-vlado)|(?P<g2>.*)"),
    Source("ultralight", "Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB",
           "dffdddda9794a50607cba8f318507a28c1c27cab", ("imgs",), "MIT (repository)", 100, 110),
    Source("compreface", "exadel-inc/CompreFace", "ddf32da8245e2e6688c3ab6f60587fd3e31538c2",
           ("embedding-calculator/sample_images",), "Apache-2.0 (repository)", 100, 60,
           people=((r".*/(\d+)_", r"compreface:\1"),)),
    Source("faceclass", "oarriaga/face_classification", "b861d21b0e76ca5514cdeb5b56a689b7318584f4",
           ("images",), "MIT (repository)", 20, 20, exclude=r"(emotion|gender|solver|color)"),
    Source("facerec", "ageitgey/face_recognition", "2e2dccea9dd0ce730c8d464d0f67c6eebb40c9d1",
           ("examples", "tests/test_images"), "MIT (repository)", 40, 40,
           group=r"examples/knn_examples/train/(?P<g>[a-z_]+)/|(?P<g2>.*)",
           people=((r".*", "facerec:all"),)),  # a few public figures recur across its photos
    Source("maskdet_nomask", "chandrikadeb7/Face-Mask-Detection",
           "7e500749401bad4bb338790fbdb89b58e41ef2d9", ("dataset/without_mask",),
           "MIT (repository); web photos", 420, 260,
           exclude=r"(augmented|copy|Screenshot)", group=r".*/\d_\d_(?P<g>[a-z]+)_\d+\.|(?P<g2>.*)",
           people=RMFD_PEOPLE),
    Source("maskdet_mask", "chandrikadeb7/Face-Mask-Detection",
           "7e500749401bad4bb338790fbdb89b58e41ef2d9", ("dataset/with_mask",),
           "MIT (repository); web photos", 150, 80,
           exclude=r"(augmented|copy|Screenshot)", group=r".*/\d_\d_(?P<g>[a-z]+)_\d+\.|(?P<g2>.*)",
           people=RMFD_PEOPLE),
    Source("observations", "prajnasb/observations", "cdcf4501bf7fdec7ac8a4ee245e343b187fa53c7",
           ("experiements/data/without_mask",), "none stated; web photos (internal evaluation only)",
           200, 120),
)


def digest(text: str) -> str:
    """Return the hex sha256 of ``text``: the seeded order everything here is sorted by."""
    return hashlib.sha256(text.encode()).hexdigest()


# Groups, not faces, are split 2:1:1, so face counts vary with the hash; this salt was picked
# among ten for the closest face counts to 50/25/25, before any label existed.
SPLIT_SALT = "wild-split-3:"


def split_of(group_key: str) -> str:
    """Return train (50 %), val (25 %) or test (25 %) for a source group, from its hash."""
    bucket = int(digest(SPLIT_SALT + group_key)[:8], 16) % 4
    return ("train", "train", "val", "test")[bucket]


def group_of(source: Source, path: str) -> str:
    """Return the PER_GROUP group of one photo: the person or session where the path names one."""
    m = re.match(source.group, path)
    key = next((v for v in (m.groupdict().values() if m else ()) if v), path)
    return f"{source.name}:{key}"


def split_group_of(source: Source, path: str) -> str:
    """Return the split group of one photo: all photos of the same known people share one."""
    for pattern, key in source.people:
        m = re.match(pattern, path)
        if m:
            return m.expand(key)
    return group_of(source, path)


def list_source(mirror: Path, source: Source) -> list[dict[str, str]]:
    """Return the manifest rows of one source: its photos in seeded order, capped."""
    out = subprocess.run(["git", f"--git-dir={git_dir(mirror, source.repo)}", "ls-tree", "-r",
                          "--name-only", source.commit, *source.folders],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    paths = [p for p in out if p.lower().endswith(IMAGE_EXT) and not re.search(source.exclude, p)]
    paths.sort(key=lambda p: digest(f"{source.name}:{p}"))
    rows: list[dict[str, str]] = []
    per_group: dict[str, int] = {}
    for p in paths:
        group = group_of(source, p)
        per_group[group] = per_group.get(group, 0) + 1
        if per_group[group] <= source.per_group and len(rows) < source.max_images:
            rows.append({"source": source.name, "repo": source.repo, "commit": source.commit,
                         "path": p, "licence": source.licence,
                         "group": split_group_of(source, p)})
    return rows


def write_manifest(mirror: Path, sources: tuple[Source, ...] = SOURCES,
                   manifest: Path = MANIFEST) -> int:
    """Rewrite a manifest (sources.csv) from a SOURCES table; return the number of photos listed."""
    rows = [row for source in sources for row in list_source(mirror, source)]
    with manifest.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def read_manifest(path: Path = MANIFEST) -> list[dict[str, str]]:
    """Return the manifest rows (one per photo)."""
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def head_crop(image: np.ndarray, box: tuple[float, float, float, float],
              scale: float = CROP_SCALE, size: int = CELL) -> np.ndarray:
    """Return a size x size BGR crop of ``scale`` x the face box, centred, black outside."""
    import cv2

    x, y, w, h = box
    side = scale * max(w, h)
    cx, cy = x + w / 2, y + h / 2
    # One affine warp does the crop, the padding and the resize together.
    s = size / side
    m = np.array([[s, 0, size / 2 - s * cx], [0, s, size / 2 - s * cy]], dtype=np.float32)
    return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))


def detect_faces(analyzer, mirror: Path, rows: list[dict[str, str]],
                 sources: tuple[Source, ...] = SOURCES) -> list[dict[str, str]]:
    """Return one record per kept face (photo row + box + score), applying every cap.

    Photos whose bytes repeat an earlier photo (the same picture in two sources) are skipped.
    """
    caps = {s.name: s.max_faces for s in sources}
    kept: dict[str, int] = {}
    seen: set[str] = set()
    faces = []
    for row in rows:
        if kept.get(row["source"], 0) >= caps.get(row["source"], 0):
            continue
        blob = read_blob(mirror, row["repo"], row["commit"], row["path"])
        sha = hashlib.sha256(blob).hexdigest()
        if sha in seen:
            log.info("duplicate photo skipped: %s", row["path"])
            continue
        seen.add(sha)
        try:
            image = load_photo(mirror, row["repo"], row["commit"], row["path"])
        except ImageError as err:  # a broken file in a third-party folder must not stop the build
            log.warning("unreadable photo %s: %s", row["path"], err)
            continue
        for det in analyzer.detect(image, max_faces=PER_IMAGE, min_face=MIN_FACE):
            if kept.get(row["source"], 0) >= caps[row["source"]]:
                break
            b = det.box
            faces.append({**row, "x": round(b.left), "y": round(b.top), "w": round(b.width),
                          "h": round(b.height), "score": f"{det.score:.3f}",
                          "split": split_of(row["group"])})
            kept[row["source"]] = kept.get(row["source"], 0) + 1
    log.info("faces per source: %s", kept)
    return faces


def draw_sheet(cells: list[tuple[str, np.ndarray]], grid: int = GRID, cell: int = CELL,
               band: int = BAND) -> Image.Image:
    """Return a grid x grid contact sheet: each cell a crop (cell px) under a band with its caption."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("DejaVuSans-Bold.ttf", round(band * 0.77))
    sheet = Image.new("RGB", (grid * cell + (grid + 1) * 6, grid * (cell + band) + (grid + 1) * 6),
                      (128, 128, 128))
    draw = ImageDraw.Draw(sheet)
    for k, (caption, crop) in enumerate(cells):
        col, row = k % grid, k // grid
        x0, y0 = 6 + col * (cell + 6), 6 + row * (cell + band + 6)
        draw.rectangle([x0, y0, x0 + cell - 1, y0 + band - 1], fill=(255, 255, 255))
        draw.text((x0 + 8, y0 + 2), caption, font=font, fill=(200, 0, 0))
        sheet.paste(Image.fromarray(crop[:, :, ::-1]), (x0, y0 + band))
    return sheet


def build(mirror: Path, out: Path) -> list[dict[str, str]]:
    """Detect, number, split and draw: write faces.csv and sheets/ under ``out``."""
    from rostro.vision.analyzer import open_analyzer

    analyzer = open_analyzer()
    faces = detect_faces(analyzer, mirror, read_manifest())
    faces.sort(key=lambda f: digest(f"{f['repo']}:{f['path']}:{f['x']}:{f['y']}"))
    per_sheet = GRID * GRID
    sheets = out / "sheets"
    sheets.mkdir(parents=True, exist_ok=True)
    for k, face in enumerate(faces):
        face["face_id"] = f"w{k + 1:04d}"
        face["sheet"] = f"sheets/sheet_{k // per_sheet + 1:03d}.png"
    for start in range(0, len(faces), per_sheet):
        chunk = faces[start:start + per_sheet]
        cells = []
        for face in chunk:
            image = load_photo(mirror, face["repo"], face["commit"], face["path"])
            x, y, w, h = (float(face[c]) for c in "xywh")
            box = (x, y, w, h)
            cells.append((face["face_id"], head_crop(image, box)))
        draw_sheet(cells).save(out / chunk[0]["sheet"])
    with (out / "faces.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, FACE_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(faces)
    return faces


def resplit(out: Path) -> list[dict[str, str]]:
    """Rewrite the group and split columns of ``out``/faces.csv from the manifest.

    For split rules changed after the sheets went out: face ids, boxes and sheets stay as
    they are (a fresh ``build`` gives the same file).
    """
    groups = {(r["repo"], r["path"]): r["group"] for r in read_manifest()}
    with (out / "faces.csv").open(newline="") as fh:
        faces = list(csv.DictReader(fh))
    for face in faces:
        face["group"] = groups[(face["repo"], face["path"])]
        face["split"] = split_of(face["group"])
    with (out / "faces.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, FACE_FIELDS)
        writer.writeheader()
        writer.writerows(faces)
    return faces


def write_csv(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    """Write ``rows`` to ``path`` with header ``fields`` (other keys of the rows are left out)."""
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def parse_command(doc: str, commands: list[str], out: Path,
                  argv: list[str] | None) -> argparse.Namespace:
    """Return the parsed ``command --mirror DIR [--out DIR]`` line of a builder; set up logging."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("command", choices=commands)
    parser.add_argument("--mirror", type=Path, required=True,
                        help="folder holding owner+name/repo git mirrors of the pinned sources")
    parser.add_argument("--out", type=Path, default=out)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_command(__doc__, ["manifest", "build", "resplit"], Path("/work/notes/wild"), argv)
    if args.command == "manifest":
        log.info("listed %d photos in %s", write_manifest(args.mirror), MANIFEST)
        return 0
    faces = build(args.mirror, args.out) if args.command == "build" else resplit(args.out)
    splits = {s: sum(f["split"] == s for f in faces) for s in ("train", "val", "test")}
    log.info("%d faces, splits %s, written to %s", len(faces), splits, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
