"""``rostro eval verification --data DIR``: same/different-person accuracy of the embeddings.

Input: a folder with ``pairs.csv`` (``image_a,image_b,same,source,...``; image paths relative to
the folder, ``same`` 1 or 0), as in ``../shared/eval/identity``. ``source`` is grouped by its
part before any ``:`` (``deepface_tests:master.csv`` -> ``deepface_tests``).

Definitions (docs/accuracy.md, "Verification"):

- Each image is read once: its largest detected face is embedded (the analyzer's detector and
  embedder, as the service runs them) and the pair's score is the cosine similarity.
- An image where no face is found is a **failure**. A pair with a failure counts as **wrong**
  in accuracy whatever its label. In the ranking metrics (ROC AUC, TAR at FAR) it gets the
  lowest possible score, the usual failure-to-acquire convention (ISO/IEC 19795-1): a failed
  genuine pair is a false reject at every threshold, a failed impostor pair a correct reject.
  ``roc_auc_detected`` is the AUC over the pairs where both faces were found.
- Accuracy is at the shipped threshold (``SAME_PERSON_THRESHOLD``, or ``--threshold``):
  "same" when cosine >= threshold.
- TAR at FAR f: the highest true-accept rate among thresholds that accept at most
  floor(f x impostors) impostor pairs.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rostro.evaluation import publish
from rostro.evaluation.metrics import wilson_interval
from rostro.vision.image import read_image

FAR = 1e-2
# The engine takes any size (the detector shrinks large photos); the API's 4096 px limit is
# an input check, so the evaluation reads the few larger dev photos instead of failing them.
MAX_SIDE = 8192


@dataclass(frozen=True)
class Pair:
    """One labelled pair of images (paths relative to the data folder)."""

    image_a: str
    image_b: str
    same: bool
    source: str


def load_pairs(data_dir: Path, limit: int | None = None) -> list[Pair]:
    """Read ``pairs.csv`` of ``data_dir``; ``limit`` keeps the first N pairs."""
    path = Path(data_dir) / "pairs.csv"
    pairs = []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            same = row["same"].strip()
            if same not in ("0", "1"):
                raise ValueError(f"{path}: 'same' must be 0 or 1, got {same!r}")
            source = (row.get("source") or "unknown").split(":")[0]
            pairs.append(Pair(row["image_a"], row["image_b"], same == "1", source))
            if limit is not None and len(pairs) >= limit:
                break
    return pairs


# --------------------------------------------------------------------------- metrics


def roc_auc(scores: Sequence[float] | np.ndarray, same: Sequence[bool] | np.ndarray) -> float:
    """Return the area under the ROC curve: P(genuine score > impostor score), ties half.

    Scores may be ``-inf`` (failures). NaN when either class is empty.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(same, dtype=bool)
    genuine, impostor = s[y], np.sort(s[~y])
    if len(genuine) == 0 or len(impostor) == 0:
        return float("nan")
    below = np.searchsorted(impostor, genuine, side="left")
    ties = np.searchsorted(impostor, genuine, side="right") - below
    return float((below + 0.5 * ties).sum() / (len(genuine) * len(impostor)))


def tar_at_far(scores: Sequence[float] | np.ndarray, same: Sequence[bool] | np.ndarray,
               far: float = FAR) -> float:
    """Return the true-accept rate at the strictest operating point allowing ``far``.

    At most floor(far x impostors) impostor pairs may be accepted: the threshold sits just
    above the next-highest impostor score and a pair is accepted when its score is strictly
    greater. Failures (``-inf``) are never accepted. NaN when either class is empty.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(same, dtype=bool)
    genuine, impostor = s[y], np.sort(s[~y])[::-1]
    if len(genuine) == 0 or len(impostor) == 0:
        return float("nan")
    allowed = math.floor(far * len(impostor) + 1e-9)
    bar = impostor[allowed] if allowed < len(impostor) else -np.inf
    return float(np.mean(genuine > bar))


def accuracy(scores: Sequence[float], same: Sequence[bool], threshold: float,
             failed: Sequence[bool] | None = None) -> float:
    """Return the fraction of pairs decided right ("same" when score >= threshold).

    Pairs marked in ``failed`` are wrong whatever their label. NaN for no pairs.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(same, dtype=bool)
    if len(s) == 0:
        return float("nan")
    right = (s >= threshold) == y
    if failed is not None:
        right &= ~np.asarray(failed, dtype=bool)
    return float(right.mean())


def summarize_group(name: str, scores: np.ndarray, same: np.ndarray, failed: np.ndarray,
                    threshold: float, far: float = FAR) -> dict:
    """Return the metrics row of one group of pairs (failures already scored ``-inf``)."""
    detected = ~failed
    accepted = (scores >= threshold) & detected
    right = int(((accepted == same) & detected).sum())
    impostors, genuines = int((~same).sum()), int(same.sum())
    return {
        "group": name,
        "pairs": int(len(scores)),
        "genuine": genuines,
        "impostor": impostors,
        "failed_pairs": int(failed.sum()),
        "accuracy": right / len(scores) if len(scores) else float("nan"),
        "accuracy_ci": list(wilson_interval(right, len(scores))),
        "roc_auc": roc_auc(scores, same),
        "roc_auc_detected": roc_auc(scores[detected], same[detected]),
        "tar_at_far": tar_at_far(scores, same, far),
        "false_accept_rate": float((accepted & ~same).sum() / impostors) if impostors else float("nan"),
        "false_reject_rate": float((~accepted & same).sum() / genuines) if genuines else float("nan"),
    }


def summarize(pairs: Sequence[Pair], scores: Sequence[float | None], threshold: float,
              far: float = FAR) -> list[dict]:
    """Return the metric rows: all pairs first, then one per source (sorted).

    ``scores[i]`` is the cosine of pair i, or None when a face was not found in either image.
    """
    failed = np.array([s is None for s in scores], dtype=bool)
    values = np.array([-np.inf if s is None else s for s in scores], dtype=np.float64)
    same = np.array([p.same for p in pairs], dtype=bool)
    sources = np.array([p.source for p in pairs])
    rows = [summarize_group("all", values, same, failed, threshold, far)]
    for source in sorted(set(sources)):
        keep = sources == source
        rows.append(summarize_group(source, values[keep], same[keep], failed[keep], threshold, far))
    return rows


# --------------------------------------------------------------------------- running


def embed_images(analyzer, data_dir: Path, images: Iterable[str], progress: bool = True
                 ) -> tuple[dict[str, np.ndarray | None], float]:
    """Embed the largest face of each image; return ({image: embedding or None}, CPU seconds
    spent embedding). Each image is read, detected and embedded once."""
    embeddings: dict[str, np.ndarray | None] = {}
    seconds = 0.0
    for name in tqdm(sorted(set(images)), desc="images", unit="img", disable=not progress):
        picture = read_image(str(Path(data_dir) / name), max_side=MAX_SIDE)
        faces = analyzer.detect(picture, max_faces=1)  # largest first
        if not faces:
            embeddings[name] = None
            continue
        start = time.process_time()
        embeddings[name] = analyzer.embed(picture, faces[0])
        seconds += time.process_time() - start
    return embeddings, seconds


def pair_scores(pairs: Sequence[Pair], embeddings: dict[str, np.ndarray | None]) -> list[float | None]:
    """Return each pair's cosine similarity (None when either face is missing)."""
    scores: list[float | None] = []
    for pair in pairs:
        a, b = embeddings[pair.image_a], embeddings[pair.image_b]
        scores.append(None if a is None or b is None else float(np.dot(a, b)))
    return scores


def evaluate_verification(analyzer, data_dir: Path, threshold: float | None = None, *,
                          far: float = FAR, limit: int | None = None, progress: bool = True) -> dict:
    """Verify every pair of ``data_dir/pairs.csv`` with ``analyzer``; return the report.

    ``threshold`` defaults to the shipped ``SAME_PERSON_THRESHOLD``. The report (a JSON-ready
    dict) holds the metric rows (all pairs, then per source), the images where no face was
    found, and the mean CPU time of one embedding on this machine.
    """
    from rostro.vision.embedder import SAME_PERSON_THRESHOLD  # imported late: loads cv2/ORT

    data_dir = Path(data_dir)
    threshold = SAME_PERSON_THRESHOLD if threshold is None else float(threshold)
    pairs = load_pairs(data_dir, limit)
    names = [name for pair in pairs for name in (pair.image_a, pair.image_b)]
    embeddings, seconds = embed_images(analyzer, data_dir, names, progress)
    scores = pair_scores(pairs, embeddings)
    embedded = sum(e is not None for e in embeddings.values())
    embedder = analyzer.embedder
    return {
        "data": str(data_dir),
        "threshold": threshold,
        "far": far,
        "images": len(embeddings),
        "images_without_face": sorted(k for k, e in embeddings.items() if e is None),
        "embedding": {
            "model": type(embedder).__name__,
            "alignment": "3D landmark fit" if getattr(embedder, "landmarker", None) else "detector points",
            "flip_average": bool(getattr(embedder, "flip_average", False)),
        },
        "detector": dataclasses.asdict(analyzer.detector_settings),
        "cpu_ms_per_embedding": 1000 * seconds / max(1, embedded),
        "rows": summarize(pairs, scores, threshold, far),
        "scores": [
            {"image_a": p.image_a, "image_b": p.image_b, "same": p.same, "source": p.source,
             "score": s}
            for p, s in zip(pairs, scores)
        ],
    }


def _fmt(value: float, ci: Sequence[float] | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    text = f"{value:.3f}"
    if ci:
        text += f" [{ci[0]:.3f}, {ci[1]:.3f}]"
    return text


def format_table(report: dict) -> str:
    """Return the report as a Markdown-compatible table with a summary underneath."""
    header = ("group", "pairs", "same/diff", "failed", "accuracy [95% CI]", "ROC AUC",
              "AUC detected", f"TAR@FAR={report['far']:g}", "FAR", "FRR")
    lines = [header]
    for row in report["rows"]:
        lines.append((
            row["group"], str(row["pairs"]), f"{row['genuine']}/{row['impostor']}",
            str(row["failed_pairs"]), _fmt(row["accuracy"], row["accuracy_ci"]),
            _fmt(row["roc_auc"]), _fmt(row["roc_auc_detected"]), _fmt(row["tar_at_far"]),
            _fmt(row["false_accept_rate"]), _fmt(row["false_reject_rate"])))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths)) + " |" for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    missing = report["images_without_face"]
    embedding = ", ".join(f"{k}={v}" for k, v in report["embedding"].items())
    summary = (f"{report['images']} images, {len(missing)} without a detected face "
               f"(their pairs count as wrong); threshold {report['threshold']:g} (cosine)\n"
               f"embedding: {embedding}; CPU time {report['cpu_ms_per_embedding']:.1f} ms per "
               f"embedding on this machine")
    if missing:
        summary += "\nno face found: " + ", ".join(missing)
    return "\n".join(out) + "\n\n" + summary


def _run(args: argparse.Namespace) -> str:
    from rostro.vision.analyzer import Analyzer

    report = evaluate_verification(Analyzer(), args.data, args.threshold, far=args.far,
                                   limit=args.limit, progress=sys.stderr.isatty() or args.progress)
    return publish(report, format_table(report), args.json)


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``rostro eval verification``."""
    parser = subparsers.add_parser(
        "verification", help="same/different-person accuracy, ROC AUC, TAR@FAR on pairs.csv",
        description="Embed the largest face of every image in pairs.csv and score each pair by "
                    "cosine similarity. A pair with an image where no face is found counts as "
                    "wrong.")
    parser.add_argument("--data", type=Path, required=True, help="folder with pairs.csv and the images")
    parser.add_argument("--json", metavar="OUT",
                        help="also write the report (with every pair's score) as JSON")
    parser.add_argument("--threshold", type=float,
                        help="cosine threshold for 'same person' (default: the shipped one)")
    parser.add_argument("--far", type=float, default=FAR, help="FAR for TAR@FAR (default %(default)g)")
    parser.add_argument("--limit", type=int, help="only the first N pairs")
    parser.add_argument("--progress", action="store_true",
                        help="show the progress bar even when stderr is not a terminal")
    parser.set_defaults(handler=_run)
