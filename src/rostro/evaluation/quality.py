"""``rostro eval quality --data DIR``: does qualityForRecognition predict recognition?

Input: a folder with ``images.csv`` and ``pairs.csv`` as in ``../shared/eval/identity``.

Protocol (docs/attributes.md, "qualityForRecognition"):

- Every image of the split is analysed as Detect does (largest face: box, 3D pose, blur,
  exposure, noise, detector score, embedding) and rated by ``recognition_quality``.
- **Synthetic degradations** give the low and medium examples real photos lack: every image
  whose face is at least ``DEGRADE_FROM`` px is cut to the face with a margin of one face
  size (faces over ``DEGRADE_MAX`` px shrunk to it) and also analysed shrunk (faces of
  24-100 px), blurred (Gaussian sigma 1-8 % of the face), darkened, over-exposed and with
  added Gaussian noise.
- Pairs: each pair of ``pairs.csv`` as it is, plus, for each degraded version of either
  image, that version against the other image untouched. A pair's level is the **worse** of
  its two faces' levels (a comparison is only as good as its worse sample). A pair where a
  face is not found counts in the ``no face`` column, not in a level.
- Acceptance is at the shipped threshold (``SAME_PERSON_THRESHOLD``, cosine >=).
- Rows: per level, for the identities of each half of a fixed identity split (``fit``: the
  half the cuts were chosen on; ``check``: the half kept untouched) and for all.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from rostro.evaluation import markdown_table, publish
from rostro.evaluation.identification import MAX_SIDE, read_labels
from rostro.evaluation.metrics import wilson_interval
from rostro.evaluation.verification import load_pairs
from rostro.vision.attributes.face_quality import RecognitionFeatures, recognition_quality
from rostro.vision.image import read_image

LEVELS = ("high", "medium", "low")
DEGRADE_FROM = 64  # px: faces smaller than this are not degraded further
DEGRADE_MAX = 256  # px: larger faces are shrunk to this before they are degraded
SHRINK_TO = (24, 32, 40, 48, 64, 80, 100)  # face sizes (px) of the shrunk versions
BLUR_PERCENT = (1, 2, 4, 8)  # Gaussian sigma as a percentage of the face size
DARKEN = (0.35, 0.15)  # pixel values multiplied by this
BRIGHTEN = (2.5,)  # pixel values multiplied by this, clipped at 255
NOISE_SIGMA = (8, 20, 40)  # grey levels


@dataclass(frozen=True)
class Sample:
    """One analysed image version: its path, degradation (``""`` for the photo itself),
    the face's features and embedding (None when no face was found)."""

    image: str
    variant: str
    features: RecognitionFeatures | None
    embedding: np.ndarray | None


def identity_half(identity: str) -> str:
    """``fit`` or ``check``: a fixed split of identities (the cuts were read off ``fit`` only)."""
    digest = hashlib.sha256(f"quality-v1:{identity}".encode()).hexdigest()
    return "fit" if int(digest[:8], 16) % 2 == 0 else "check"


def degradations(image: np.ndarray, face_size: float) -> dict[str, np.ndarray]:
    """Return the degraded versions of ``image`` (BGR uint8) whose face is ``face_size`` px."""
    out: dict[str, np.ndarray] = {}
    h, w = image.shape[:2]
    for target in SHRINK_TO:
        scale = target / face_size
        if scale < 0.9:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            out[f"face {target}px"] = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    for percent in BLUR_PERCENT:
        sigma = face_size * percent / 100
        out[f"blur {percent}%"] = cv2.GaussianBlur(image, (0, 0), sigma)
    for factor in DARKEN + BRIGHTEN:
        name = "darken" if factor < 1 else "brighten"
        out[f"{name} x{factor:g}"] = np.clip(image.astype(np.float32) * factor, 0, 255
                                             ).astype(np.uint8)
    rng = np.random.default_rng(0)
    for sigma in NOISE_SIGMA:
        noisy = image.astype(np.float32) + rng.normal(0, sigma, image.shape)
        out[f"noise {sigma}"] = np.clip(noisy, 0, 255).astype(np.uint8)
    return out


def around_face(image: np.ndarray, box) -> tuple[np.ndarray, float]:
    """The part of ``image`` within one face-size margin of the face ``box``, shrunk so that
    the face is at most ``DEGRADE_MAX`` px; and the face's size in it. (A photo of a few
    thousand pixels is then degraded and analysed in seconds instead of minutes.)"""
    h, w = image.shape[:2]
    margin = max(box.width, box.height)
    x0, y0 = max(0, int(box.left - margin)), max(0, int(box.top - margin))
    x1 = min(w, int(box.left + box.width + margin))
    y1 = min(h, int(box.top + box.height + margin))
    crop = image[y0:y1, x0:x1]
    size = min(box.width, box.height)
    if size > DEGRADE_MAX:
        scale = DEGRADE_MAX / size
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)),
                                 max(1, round(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
        size = DEGRADE_MAX
    return np.ascontiguousarray(crop), float(size)


def analyse(analyzer, image: np.ndarray):
    """The largest face's recognition features, embedding and box (Nones without a face)."""
    from rostro.vision.analyzer import Request
    from rostro.vision.attributes.face_quality import recognition_features

    faces = analyzer.analyze(image, Request(landmarks=True, pose=True, embedding=True,
                                            max_faces=1))
    if not faces:
        return None, None, None
    face = faces[0]
    ctx = analyzer.attributes.context(image, face)
    return recognition_features(ctx), face.embedding, face.box


def collect(analyzer, folder: Path, images: Iterable[str], progress: bool = False) -> list[Sample]:
    """Analyse every image and its degraded versions (see the module doc)."""
    samples = []
    for name in tqdm(sorted(set(images)), desc="images", unit="img", disable=not progress):
        picture = read_image(str(folder / name), max_side=MAX_SIDE)
        features, embedding, box = analyse(analyzer, picture)
        samples.append(Sample(name, "", features, embedding))
        if features is None or features.size < DEGRADE_FROM:
            continue
        for variant, degraded in degradations(*around_face(picture, box)).items():
            samples.append(Sample(name, variant, *analyse(analyzer, degraded)[:2]))
    return samples


@dataclass(frozen=True)
class PairOutcome:
    """One compared pair: genuine or not, the worse level (None: a face missing), accepted,
    which identity half it belongs to (by its first image) and the degradation used."""

    same: bool
    level: str | None
    accepted: bool
    half: str
    variant: str


def pair_outcomes(samples: list[Sample], pairs, identity_of: dict[str, str], threshold: float,
                  rate: Callable[[RecognitionFeatures], str] = recognition_quality
                  ) -> list[PairOutcome]:
    """Compare each pair as it is and with each degraded version of either side."""
    versions: dict[str, dict[str, Sample]] = {}
    for sample in samples:
        versions.setdefault(sample.image, {})[sample.variant] = sample
    rank = {name: i for i, name in enumerate(LEVELS)}
    outcomes = []

    def compare(a: Sample, b: Sample, half: str, same: bool, variant: str) -> None:
        if a.features is None or b.features is None or a.embedding is None or b.embedding is None:
            outcomes.append(PairOutcome(same, None, False, half, variant))
            return
        level = max(rate(a.features), rate(b.features), key=rank.__getitem__)
        accepted = float(np.dot(a.embedding, b.embedding)) >= threshold
        outcomes.append(PairOutcome(same, level, accepted, half, variant))

    for pair in pairs:
        half = identity_half(identity_of[pair.image_a])
        a_all, b_all = versions[pair.image_a], versions[pair.image_b]
        compare(a_all[""], b_all[""], half, pair.same, "")
        for variant, a in a_all.items():
            if variant:
                compare(a, b_all[""], half, pair.same, variant)
        for variant, b in b_all.items():
            if variant:
                compare(a_all[""], b, half, pair.same, variant)
    return outcomes


def summarize(outcomes: list[PairOutcome]) -> list[dict]:
    """Rows per (half, level): genuine and impostor pairs and their acceptance rates."""
    rows = []
    for half in ("fit", "check", "all"):
        chosen = [o for o in outcomes if half == "all" or o.half == half]
        for level in LEVELS + (None,):
            group = [o for o in chosen if o.level == level]
            genuine = [o for o in group if o.same]
            impostor = [o for o in group if not o.same]
            accepted_g = sum(o.accepted for o in genuine)
            accepted_i = sum(o.accepted for o in impostor)
            rows.append({
                "half": half, "level": level or "no face",
                "genuine": len(genuine), "impostor": len(impostor),
                "genuine_acceptance": accepted_g / len(genuine) if genuine else None,
                "genuine_acceptance_ci": list(wilson_interval(accepted_g, len(genuine)))
                if genuine else None,
                "impostor_acceptance": accepted_i / len(impostor) if impostor else None,
                "photos_only_genuine": sum(1 for o in genuine if not o.variant),
                "photos_only_genuine_acceptance": _rate([o for o in genuine if not o.variant]),
            })
    return rows


def _rate(outcomes: list[PairOutcome]) -> float | None:
    return sum(o.accepted for o in outcomes) / len(outcomes) if outcomes else None


def level_counts(samples: list[Sample],
                 rate: Callable[[RecognitionFeatures], str] = recognition_quality) -> dict:
    """How many faces of each version kind (photo / degradation family) got each level."""
    counts: dict[str, dict[str, int]] = {}
    for sample in samples:
        family = sample.variant.split(" ")[0] if sample.variant else "photo"
        level = rate(sample.features) if sample.features is not None else "no face"
        row = counts.setdefault(family, {})
        row[level] = row.get(level, 0) + 1
    return counts


def evaluate_quality(analyzer, folder: Path, split: str | None = "dev",
                     progress: bool = False) -> dict:
    """Run the protocol on ``folder``; return the report (JSON-ready)."""
    from rostro.vision.embedder import SAME_PERSON_THRESHOLD

    folder = Path(folder)
    labels = read_labels(folder, split)
    identity_of = {item.path: item.identity for item in labels}
    pairs = [p for p in load_pairs(folder) if p.image_a in identity_of and p.image_b in identity_of]
    started = time.process_time()
    samples = collect(analyzer, folder, [n for p in pairs for n in (p.image_a, p.image_b)],
                      progress)
    seconds = time.process_time() - started
    outcomes = pair_outcomes(samples, pairs, identity_of, SAME_PERSON_THRESHOLD)
    return {
        "data": str(folder), "split": split, "threshold": SAME_PERSON_THRESHOLD,
        "pairs": len(pairs), "faces_analysed": len(samples),
        "cpu_s": seconds,
        "levels_by_version": level_counts(samples),
        "rows": summarize(outcomes),
    }


def _fmt(value: float | None, ci: list[float] | None = None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def format_table(report: dict) -> str:
    """The rows as a Markdown table, then the level counts per version kind."""
    header = ("identities", "level", "genuine pairs", "genuine accepted [95% CI]",
              "impostor pairs", "impostor accepted", "photos only: genuine", "accepted")
    lines = [header] + [(
        row["half"], row["level"], str(row["genuine"]),
        _fmt(row["genuine_acceptance"], row["genuine_acceptance_ci"]), str(row["impostor"]),
        _fmt(row["impostor_acceptance"]), str(row["photos_only_genuine"]),
        _fmt(row["photos_only_genuine_acceptance"])) for row in report["rows"]]
    counts = "; ".join(
        f"{family}: " + ", ".join(f"{level} {n}" for level, n in sorted(levels.items()))
        for family, levels in sorted(report["levels_by_version"].items()))
    summary = (f"{report['pairs']} pairs, {report['faces_analysed']} face versions analysed; "
               f"threshold {report['threshold']:g} (cosine); levels per version: {counts}")
    return markdown_table(lines) + "\n\n" + summary


def _run(args: argparse.Namespace) -> str:
    from rostro.vision.analyzer import Analyzer

    report = evaluate_quality(Analyzer(), args.data, split=args.split,
                              progress=sys.stderr.isatty() or args.progress)
    return publish(report, format_table(report), args.json)


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``rostro eval quality``."""
    parser = subparsers.add_parser(
        "quality", help="genuine/impostor acceptance per qualityForRecognition level on pairs.csv",
        description="Rate every face of pairs.csv and synthetic degradations of the sharp ones, "
                    "and measure acceptance at the shipped threshold per level.")
    parser.add_argument("--data", type=Path, required=True, help="folder with images.csv, pairs.csv")
    parser.add_argument("--split", default="dev", help="rows of this split (default %(default)s)")
    parser.add_argument("--json", metavar="OUT", help="also write the report as JSON to OUT")
    parser.add_argument("--progress", action="store_true",
                        help="show the progress bar even when stderr is not a terminal")
    parser.set_defaults(handler=_run)
