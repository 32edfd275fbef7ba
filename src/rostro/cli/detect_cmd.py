"""``rostro detect PATH|URL|DIR...``: Azure DetectedFace JSON for local images."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from rostro.api.face_json import detected_face
from rostro.service.url_fetch import FetchError, FetchPolicy, fetch_bytes
from rostro.vision.analyzer import Analyzer, Request
from rostro.vision.attributes import supported_attributes
from rostro.vision.draw import annotate
from rostro.vision.errors import ImageError
from rostro.vision.image import decode_image
from rostro.vision.types import Face

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp"}
EXIT_SOME_FAILED = 3


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def expand_sources(sources: list[str]) -> list[str]:
    """Return URLs and files as given, and the images inside folders (recursively, sorted)."""
    expanded = []
    for source in sources:
        path = Path(source)
        if not _is_url(source) and path.is_dir():
            expanded += sorted(str(p) for p in path.rglob("*")
                               if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            expanded.append(source)
    return expanded


def parse_attribute_list(text: str) -> list[str]:
    """Split a comma-separated attribute list; raise ValueError naming unknown attributes."""
    names = [name for name in text.split(",") if name]
    unknown = [name for name in names if name not in supported_attributes()]
    if unknown:
        known = ", ".join(sorted(supported_attributes()))
        raise ValueError(f"unknown attribute(s) {', '.join(unknown)}; supported: {known}")
    return names


def _load(source: str):
    data = fetch_bytes(source, FetchPolicy(allow_private=True)) if _is_url(source) else Path(source).read_bytes()
    return decode_image(data)


def analyse_sources(analyzer: Analyzer, sources: list[str], request: Request,
                    show_progress: bool) -> Iterator[tuple[str, np.ndarray | None, list[Face] | None, str | None]]:
    """Yield (source, image, faces, error) per source; unreadable sources carry the error
    (and no image or faces)."""
    for source in tqdm(sources, desc="images", unit="img", disable=not show_progress):
        try:
            image = _load(source)
        except (OSError, ImageError, FetchError) as exc:
            yield source, None, None, str(exc)
            continue
        yield source, image, analyzer.analyze(image, request), None


def _label(index: int, face, body: dict) -> str:
    parts = [f"#{index + 1}", f"{face.detection.score:.2f}"]
    attributes = body.get("faceAttributes", {})
    for key in ("gender", "age"):
        if key in attributes:
            parts.append(str(attributes[key]))
    if "headPose" in attributes:
        parts.append("yaw {yaw:+.0f}".format(**attributes["headPose"]))
    return " ".join(parts)


def _csv_rows(source: str, faces: list[dict]) -> Iterator[dict]:
    for index, face in enumerate(faces):
        row = {"image": source, "face": index, **face["faceRectangle"]}
        for name, value in face.get("faceAttributes", {}).items():
            row[name] = json.dumps(value) if isinstance(value, (dict, list)) else value
        yield row


def _run(args: argparse.Namespace) -> int:
    attributes = parse_attribute_list(args.attributes) if args.attributes else []
    request = Request(landmarks=args.landmarks, attributes=frozenset(attributes))
    sources = expand_sources(args.sources)
    if not sources:
        print("rostro: no images found", file=sys.stderr)
        return EXIT_SOME_FAILED
    if args.annotate:
        args.annotate.mkdir(parents=True, exist_ok=True)
    analyzer = Analyzer()
    results: dict[str, list[dict]] = {}
    failures = 0
    show_progress = len(sources) > 1 and sys.stderr.isatty() or args.progress
    for source, image, faces, error in analyse_sources(analyzer, sources, request, show_progress):
        if image is None or faces is None:
            failures += 1
            print(f"rostro: skipped {source}: {error}", file=sys.stderr)
            continue
        bodies = [detected_face(f, landmarks=args.landmarks, attributes=attributes) for f in faces]
        results[source] = bodies
        if args.format == "jsonl":
            print(json.dumps({"image": source, "faces": bodies}), flush=True)
        if args.annotate:
            labels = [_label(i, f, b) for i, (f, b) in enumerate(zip(faces, bodies))]
            name = Path(source.rstrip("/").split("/")[-1] if _is_url(source) else source).stem
            target = args.annotate / f"{name}.annotated.png"
            cv2.imwrite(str(target), annotate(image, faces, labels))
    if args.format == "json":
        body = next(iter(results.values())) if len(sources) == 1 and results else results
        print(json.dumps(body, indent=2))
    elif args.format == "csv":
        rows = [row for source, faces in results.items() for row in _csv_rows(source, faces)]
        columns = list(dict.fromkeys(key for row in rows for key in row)) or [
            "image", "face", "top", "left", "width", "height"]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        print(out.getvalue(), end="")
    if failures:
        print(f"rostro: {failures} of {len(sources)} images could not be read", file=sys.stderr)
        return EXIT_SOME_FAILED
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "detect", help="detect and analyse faces in images, print Azure DetectedFace JSON",
        description="Detect faces in files, folders or URLs. Prints Azure's DetectedFace JSON "
                    "(largest face first, at most 100 per image). Exit code 3 if some images "
                    "could not be read.")
    parser.add_argument("sources", nargs="+", metavar="PATH|URL|DIR")
    parser.add_argument("--attributes", default="", metavar="LIST",
                        help="comma-separated Azure attribute names, e.g. headPose")
    parser.add_argument("--landmarks", action="store_true", help="include the 27 landmarks")
    parser.add_argument("--format", choices=("json", "jsonl", "csv"), default="json")
    parser.add_argument("--annotate", type=Path, metavar="OUTDIR",
                        help="write a copy of each image with boxes, landmarks and labels")
    parser.add_argument("--progress", action="store_true",
                        help="show the progress bar even when stderr is not a terminal")
    parser.set_defaults(handler=_run)
