"""``rostro eval identification --data DIR``: rank-1 identification, as Identify answers it.

Input: a folder with ``images.csv`` (``image,identity,source,split``; image paths relative to
the folder), as in ``../shared/eval/identity``.

Protocol (docs/accuracy.md, "Identification"):

- Every image goes through the engine as AddFace/Detect do: detect, keep the largest face,
  embed it. The API's minimum face (30 px on Detect's rectangle) is *not* applied: the CMU
  photos are 128x120 with faces of about 35 px, and this measures the engine on them.
- Enrollment: for each identity, the first ``enroll`` images (by path) with a detected face.
  Training: each person's template, the unit mean of its enrolled embeddings (the same
  ``rostro.vision.templates`` the service trains with; ``--match face`` scores persons by
  their best single face instead). Every identity is in the gallery, including those with
  no image left to identify (they are distractors).
- Probes: every other image. A probe is identified when the best-scoring person is its own.
  A probe without a detected face counts as a failure; ``rank-1 (detected)`` leaves those out.
  ``at 0.5`` also asks that the match's confidence reach Identify's default threshold.
- Rows: all probes, then each source. Intervals are 95 % Wilson intervals.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rostro.evaluation import markdown_table, publish
from rostro.evaluation.metrics import wilson_interval
from rostro.vision.image import read_image
from rostro.vision.templates import templates

ENROLL = 2
DECISION_CONFIDENCE = 0.5
MAX_SIDE = 10_000  # the engine, not the API's 4096 limit: a few source photos are larger


@dataclass(frozen=True)
class Labelled:
    path: str
    identity: str
    source: str


@dataclass(frozen=True)
class Outcome:
    """One probe: its source, whether a face was found, whether rank 1 was right, and the
    confidence of the top match (None without a face)."""

    source: str
    detected: bool
    correct: bool
    confidence: float | None


def read_labels(folder: Path, split: str | None = None) -> list[Labelled]:
    with open(folder / "images.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [Labelled(r["image"], r["identity"], r["source"]) for r in rows
            if split is None or r.get("split") == split]


def embed_all(analyzer, folder: Path, items: list[Labelled],
              min_face: float = 0.0) -> dict[str, np.ndarray | None]:
    """The largest face's embedding of each image (None when no face of at least ``min_face``
    px is found)."""
    found: dict[str, np.ndarray | None] = {}
    for item in tqdm(items, desc="embedding", unit="image", leave=False):
        image = read_image(str(folder / item.path), max_side=MAX_SIDE)
        detections = analyzer.detect(image, min_face=min_face)
        found[item.path] = analyzer.embed(image, detections[0]) if detections else None
    return found


def identify(items: list[Labelled], embeddings: dict[str, np.ndarray | None],
             enroll: int = ENROLL, match: str = "template") -> list[Outcome]:
    """Enroll ``enroll`` images per identity, identify the rest (see the module doc)."""
    from rostro.service.matching import confidence  # the service's mapping

    by_identity: dict[str, list[Labelled]] = defaultdict(list)
    for item in sorted(items, key=lambda i: i.path):
        by_identity[item.identity].append(item)
    owners: list[str] = []
    vectors: list[np.ndarray] = []
    probes: list[Labelled] = []
    for identity, members in sorted(by_identity.items()):
        usable = [(m, v) for m in members if (v := embeddings[m.path]) is not None][:enroll]
        enrolled = [m for m, _ in usable]
        owners += [identity] * len(usable)
        vectors += [v for _, v in usable]
        probes += [m for m in members if m not in enrolled]
    owners_array = np.array(owners)
    if match == "template":
        names, gallery = templates(owners_array, np.stack(vectors))
    elif match == "face":
        names, gallery = owners_array, np.stack(vectors)
    else:
        raise ValueError(f"unknown match {match!r}: template or face")
    outcomes = []
    for probe in probes:
        vector = embeddings[probe.path]
        if vector is None:
            outcomes.append(Outcome(probe.source, False, False, None))
            continue
        scores = gallery @ vector
        best = int(np.argmax(scores))
        outcomes.append(Outcome(probe.source, True, names[best] == probe.identity,
                                float(confidence(scores[best]))))
    return outcomes


def summarize(outcomes: list[Outcome]) -> list[dict[str, object]]:
    """One row for all probes, then one per source."""
    groups = {"all": outcomes}
    for source in sorted({o.source for o in outcomes}):
        groups[source] = [o for o in outcomes if o.source == source]
    rows = []
    for name, members in groups.items():
        total = len(members)
        detected = sum(o.detected for o in members)
        correct = sum(o.correct for o in members)
        confident = sum(o.correct and o.confidence is not None and o.confidence >= DECISION_CONFIDENCE
                        for o in members)
        rows.append({
            "group": name, "probes": total, "no_face": total - detected,
            "rank1": correct / total if total else None,
            "rank1_ci": list(wilson_interval(correct, total)),
            "rank1_detected": correct / detected if detected else None,
            "rank1_at_threshold": confident / total if total else None,
        })
    return rows


def evaluate_identification(analyzer, folder: Path, split: str | None = None,
                            enroll: int = ENROLL, match: str = "template",
                            min_face: float = 0.0) -> dict:
    """Run the protocol on ``folder``; return the report (JSON-ready). ``min_face`` drops
    faces whose shorter side is under that many px (36: the API's rule)."""
    items = read_labels(folder, split)
    started = time.process_time()
    embeddings = embed_all(analyzer, folder, items, min_face)
    seconds = time.process_time() - started
    outcomes = identify(items, embeddings, enroll, match)
    return {
        "data": str(folder), "split": split, "images": len(items),
        "identities": len({i.identity for i in items}), "enroll": enroll, "match": match,
        "min_face": min_face, "cpu_ms_per_image": 1000 * seconds / max(1, len(items)),
        "rows": summarize(outcomes),
    }


def _fmt(value: float | None, ci: list[float] | None = None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def format_table(report: dict) -> str:
    header = ("group", "probes", "no face", "rank-1 [95% CI]", "rank-1 (detected)", "at 0.5")
    lines = [header] + [(
        row["group"], str(row["probes"]), str(row["no_face"]), _fmt(row["rank1"], row["rank1_ci"]),
        _fmt(row["rank1_detected"]), _fmt(row["rank1_at_threshold"])) for row in report["rows"]]
    summary = (f"{report['images']} images of {report['identities']} identities; "
               f"{report['enroll']} enrolled per identity, matched by {report['match']}; ")
    if "enrollment" in report:
        counts = report["enrollment"]
        summary += (f"{counts['added']} faces added, {counts['refused']} refused, "
                    f"{counts['persons_without_face']} persons without a face")
    else:
        summary += f"CPU time {report['cpu_ms_per_image']:.1f} ms/image on this machine"
    return markdown_table(lines) + "\n\n" + summary


def evaluate_through_api(folder: Path, endpoint: str, key: str, split: str | None = None,
                         enroll: int = ENROLL) -> dict:
    """Run the protocol through a running service with the SDK (``rostro.evaluation.
    client_flow``); return the report (JSON-ready, with the enrollment counts)."""
    from rostro.evaluation.client_flow import identify_through_api

    items = read_labels(folder, split)
    started = time.monotonic()
    outcomes, counts = identify_through_api(folder, items, endpoint, key, enroll)
    return {
        "data": str(folder), "split": split, "images": len(items),
        "identities": len({i.identity for i in items}), "enroll": enroll,
        "match": "Identify through the API (detect, add face with targetFace, train)",
        "enrollment": counts, "wall_s": time.monotonic() - started,
        "rows": summarize(outcomes),
    }


def _run(args: argparse.Namespace) -> str:
    if args.endpoint:
        if not args.key:
            raise SystemExit("--endpoint needs --key")
        report = evaluate_through_api(args.data, args.endpoint, args.key, split=args.split,
                                      enroll=args.enroll)
        return publish(report, format_table(report), args.json)
    from rostro.vision.analyzer import Analyzer

    report = evaluate_identification(Analyzer(), args.data, split=args.split,
                                     enroll=args.enroll, match=args.match,
                                     min_face=args.min_face)
    return publish(report, format_table(report), args.json)


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``rostro eval identification``."""
    parser = subparsers.add_parser(
        "identification", help="rank-1 identification on images.csv (enroll N per person)")
    parser.add_argument("--data", type=Path, required=True, help="folder with images.csv")
    parser.add_argument("--split", help="only rows of this split (e.g. dev)")
    parser.add_argument("--enroll", type=int, default=ENROLL,
                        help="images enrolled per identity (default %(default)s)")
    parser.add_argument("--match", choices=("template", "face"), default="template",
                        help="score persons by their template (as Identify does) or best face")
    parser.add_argument("--json", metavar="OUT", help="also write the report as JSON to OUT")
    parser.add_argument("--min-face", type=float, default=0.0,
                        help="drop faces under this many px (36: the API's minimum; default: none)")
    parser.add_argument("--endpoint", help="run the protocol through this running service "
                        "(e.g. http://127.0.0.1:5000/) with the Azure SDK, as a client does")
    parser.add_argument("--key", help="a key of that service (with --endpoint)")
    parser.set_defaults(handler=_run)
