"""``rostro detect PATH|URL|DIR...``: Azure DetectedFace JSON for local images."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from rostro.batch.records import DetectOptions, Record, expand_sources, save_annotated
from rostro.vision.attributes import supported_attributes

log = logging.getLogger(__name__)

EXIT_SOME_FAILED = 3
DEFAULT_SHARD_SIZE = 64  # files per Ray task: seconds to a minute of work on one core


def parse_attribute_list(text: str) -> list[str]:
    """Split a comma-separated attribute list; raise ValueError naming unknown attributes."""
    names = [name for name in text.split(",") if name]
    unknown = [name for name in names if name not in supported_attributes()]
    if unknown:
        known = ", ".join(sorted(supported_attributes()))
        raise ValueError(f"unknown attribute(s) {', '.join(unknown)}; supported: {known}")
    return names


def _csv_rows(source: str, faces: Iterable[dict]) -> Iterator[dict]:
    for index, face in enumerate(faces):
        row = {"image": source, "face": index, **face["faceRectangle"]}
        for name, value in face.get("faceAttributes", {}).items():
            row[name] = json.dumps(value) if isinstance(value, (dict, list)) else value
        yield row


def write_outputs(records: Iterable[Record], fmt: str, out: TextIO, annotate_dir: Path | None,
                  single: bool) -> int:
    """Write the records (in input order) as ``fmt`` to ``out`` and their annotated copies to
    ``annotate_dir``; report unreadable sources on stderr. Return how many were unreadable.
    ``single``: one source was asked for, so json prints its faces without the file name."""
    results: dict[str, tuple[dict, ...]] = {}
    failures = 0
    for record in records:
        if record.faces is None:
            failures += 1
            print(f"rostro: skipped {record.source}: {record.error}", file=sys.stderr)
            continue
        results[record.source] = record.faces
        if fmt == "jsonl":
            print(json.dumps({"image": record.source, "faces": record.faces}), file=out, flush=True)
        if annotate_dir is not None:
            save_annotated(annotate_dir, record)
    if fmt == "json":
        body = next(iter(results.values())) if single and results else results
        print(json.dumps(body, indent=2), file=out)
    elif fmt == "csv":
        rows = [row for source, faces in results.items() for row in _csv_rows(source, faces)]
        columns = list(dict.fromkeys(key for row in rows for key in row)) or [
            "image", "face", "top", "left", "width", "height"]
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        print(text.getvalue(), end="", file=out)
    return failures


def _progress_dir(args: argparse.Namespace, fingerprint: str) -> Path:
    """Where the Ray backend keeps its progress: --resume-dir, else next to --output, else a
    folder named after the command in the current directory."""
    if args.resume_dir:
        return args.resume_dir
    if args.output:
        return args.output.with_name(args.output.name + ".progress")
    return Path(f".rostro-detect-{fingerprint[:12]}.progress")


def _records(args: argparse.Namespace, sources: list[str], options: DetectOptions,
             show_progress: bool):
    """The records of ``sources`` in input order from the chosen backend, and the progress
    folder to delete once the outputs are complete (None for the local backend)."""
    if not args.ray:
        from rostro.batch.local import analyse_locally
        from rostro.vision.analyzer import Analyzer

        return analyse_locally(Analyzer(), sources, options, show_progress), None
    from rostro.batch.ray_backend import analyse_on_ray, import_ray
    from rostro.batch.shards import ShardStore, batch_fingerprint, make_shards

    import_ray()  # before any folder is made: without Ray, only the one-line hint
    shards = make_shards(sources, args.shard_size)
    fingerprint = batch_fingerprint(sources, options, args.shard_size, args.annotate)
    store = ShardStore(_progress_dir(args, fingerprint), fingerprint, len(shards))
    finished = store.open()
    if finished:
        print(f"rostro: resuming from {store.directory}: {finished} of {len(shards)} shards "
              "already done", file=sys.stderr)
    records = analyse_on_ray(shards, store, options, args.ray, args.annotate, show_progress,
                             args.ray_cpus)
    return records, store


def _run(args: argparse.Namespace) -> int:
    attributes = parse_attribute_list(args.attributes) if args.attributes else []
    options = DetectOptions(landmarks=args.landmarks, attributes=tuple(attributes),
                            annotate=args.annotate is not None)
    sources = expand_sources(args.sources)
    if not sources:
        print("rostro: no images found", file=sys.stderr)
        return EXIT_SOME_FAILED
    if args.annotate:
        args.annotate.mkdir(parents=True, exist_ok=True)
    show_progress = len(sources) > 1 and sys.stderr.isatty() or args.progress
    records, store = _records(args, sources, options, show_progress)
    # With --ray the workers' annotated copies are written as shards finish (records here
    # carry none), so the annotate folder is passed to write_outputs in both cases.
    if args.output is None:
        failures = write_outputs(records, args.format, sys.stdout, args.annotate, len(sources) == 1)
    else:
        partial = args.output.with_name(args.output.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as out:
                failures = write_outputs(records, args.format, out, args.annotate,
                                         len(sources) == 1)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, args.output)
    if store is not None:
        store.remove()
    if failures:
        print(f"rostro: {failures} of {len(sources)} images could not be read", file=sys.stderr)
        return EXIT_SOME_FAILED
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


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
    parser.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write the JSON / JSON lines / CSV to FILE (complete or not at all) "
                             "instead of stdout")
    parser.add_argument("--progress", action="store_true",
                        help="show the progress bar even when stderr is not a terminal")
    ray = parser.add_argument_group(
        "Ray (pip install 'rostro[ray]')",
        "Shard the files over a Ray cluster's workers; same outputs as without --ray. Every node "
        "needs Rostro, its models (`rostro models pull`) and the input paths. Finished shards "
        "are kept in a progress folder: rerunning the same command after a failure resumes.")
    ray.add_argument("--ray", metavar="auto|ADDRESS",
                     help="'auto': $RAY_ADDRESS, a cluster started here with `ray start`, or a new "
                          "local Ray instance; or the head node's HOST:PORT")
    ray.add_argument("--shard-size", type=_positive, default=DEFAULT_SHARD_SIZE, metavar="N",
                     help=f"files per Ray task (default {DEFAULT_SHARD_SIZE})")
    ray.add_argument("--ray-cpus", type=_positive, metavar="N",
                     help="CPUs of the local instance that --ray auto starts (default: all)")
    ray.add_argument("--resume-dir", type=Path, metavar="DIR",
                     help="progress folder (default: FILE.progress next to --output, else "
                          ".rostro-detect-<hash>.progress here); deleted when the outputs are "
                          "complete")
    parser.set_defaults(handler=_run)
