"""``rostro eval detection --data DIR``: recall, precision and AP of the face detector.

Input: a folder with ``labels.csv`` (``image,width,height,face,x,y,w,h,face_class,source,
split``; one row per face, boxes x,y,w,h in pixels, image paths relative to the folder), as in
``../shared/eval/detection``.

Definitions (docs/accuracy.md, "Detection"):

- Face size is the shorter side of its labelled box, min(w, h). Faces under ``min_size``
  (20 px) are not counted: their labels are inconsistent (many tiny crowd faces are left out).
- A detection is a true positive when it matches a counted face at IoU >= 0.5, ignored when it
  matches a face under the size floor or, matching nothing, is itself under the floor, and a
  false positive otherwise (including a second box on one face). See
  ``rostro.evaluation.metrics``.
- Recall and precision are taken at the detector's operating score threshold; AP at IoU 0.5
  over the ranked detections down to ``ap_floor`` (an AP below the operating threshold shows
  what a different threshold could buy).
- Rows split the counted faces by size, by mask (masked: with_mask, mask_weared_incorrect;
  unmasked: without_mask, face) and by source. A leftover box has a size and an image but no
  mask, so the mask rows report recall only.
- "API" columns: the same detections (at the operating threshold) after the rules Detect
  applies (``rostro.vision.rectangle.select_faces``): the detection_01 rectangle clipped to the
  image, the minimum face (``rostro.vision.rectangle.minimum_face``) on that rectangle's
  shorter side, and the 100 largest. The row "all >=36 px" (Azure's documented minimum) is
  where the two must agree. The faces kept are matched by their detector boxes, exactly as the engine's:
  the labels are the dataset's own boxes (taller than wide, cut to its annotators' taste), and
  scoring Azure's squares against them by IoU would measure the shape convention, not what
  was found. So the two columns differ only by the faces the API's rules drop. Face sizes (the
  rows) stay those of the labelled boxes.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rostro.evaluation import publish
from rostro.evaluation.metrics import FP, TP, average_precision, match_detections, wilson_interval
from rostro.vision.analyzer import MAX_FACES
from rostro.vision.image import read_image
from rostro.vision.rectangle import REPORTED_MIN_SIDE, azure_rectangle, minimum_face, select_faces
from rostro.vision.types import Box, Detection

MIN_SIZE = 20.0
AZURE_MIN = 36.0  # the row Azure's documented minimum face is judged on
IOU = 0.5
AP_FLOOR = 0.3
SIZE_BINS = ((0.0, 20.0), (20.0, 36.0), (36.0, 64.0), (64.0, float("inf")))
MASKED = frozenset({"with_mask", "mask_weared_incorrect"})
UNMASKED = frozenset({"without_mask", "face"})


@dataclass(frozen=True)
class LabelledImage:
    """One image of the set and its labelled faces."""

    path: str  # relative to the data folder
    width: int
    height: int
    source: str
    faces: tuple[Box, ...]
    classes: tuple[str, ...]


@dataclass(frozen=True)
class ImageResult:
    """Detections of one image and their match to its faces (scores at or above ap_floor)."""

    image: LabelledImage
    detections: tuple[Detection, ...]
    outcomes: tuple[str, ...]
    matched_face: tuple[int | None, ...]
    face_score: tuple[float | None, ...]


def face_size(box: Box) -> float:
    """The size a face is binned by: the shorter side of its box, in pixels."""
    return min(box.width, box.height)


def size_bin(size: float) -> str:
    """Name of the size row a face of ``size`` pixels falls in, e.g. ``"20-36 px"``."""
    for low, high in SIZE_BINS:
        if low <= size < high:
            if high == float("inf"):
                return f">={low:g} px"
            return f"<{high:g} px" if low == 0 else f"{low:g}-{high:g} px"
    raise ValueError(f"negative face size {size}")


def load_labels(data_dir: Path, split: str | None = None, limit: int | None = None) -> list[LabelledImage]:
    """Read ``labels.csv`` of ``data_dir``: images in file order, each with its faces.

    ``split`` keeps only rows of that split; ``limit`` keeps the first N images.
    """
    path = Path(data_dir) / "labels.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no labels.csv in {data_dir}")
    grouped: dict[str, list[dict[str, str]]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if split and row.get("split") != split:
                continue
            grouped.setdefault(row["image"], []).append(row)
    images = []
    for name, rows in grouped.items():
        faces = tuple(Box(float(r["x"]), float(r["y"]), float(r["w"]), float(r["h"])) for r in rows)
        images.append(LabelledImage(
            path=name, width=int(rows[0]["width"]), height=int(rows[0]["height"]),
            source=rows[0]["source"], faces=faces, classes=tuple(r["face_class"] for r in rows)))
    return images[:limit] if limit else images


def match_image(image: LabelledImage, detections: Sequence[Detection], iou: float = IOU,
                min_size: float = MIN_SIZE) -> ImageResult:
    """Match one image's detections to its faces under this module's conventions."""
    match = match_detections(
        image.faces, [face_size(f) >= min_size for f in image.faces],
        [d.box for d in detections], [d.score for d in detections], iou,
        leftover_counts=lambda box: face_size(box) >= min_size)
    return ImageResult(image, tuple(detections), match.outcomes, match.matched_face, match.face_score)


@dataclass
class _Tally:
    faces: int = 0
    found: int = 0
    scores: list[float] = field(default_factory=list)  # counted detections (TP or FP)
    hits: list[bool] = field(default_factory=list)

    def row(self, name: str, threshold: float, with_precision: bool) -> dict:
        recall = self.found / self.faces if self.faces else None
        kept = [hit for score, hit in zip(self.scores, self.hits) if score >= threshold]
        row = {
            "group": name, "faces": self.faces, "found": self.found,
            "recall": recall, "recall_ci": list(wilson_interval(self.found, self.faces)),
            "detections": None, "false_positives": None, "precision": None,
            "precision_ci": None, "ap": None,
        }
        if with_precision:
            tp = sum(kept)
            row.update(
                detections=len(kept), false_positives=len(kept) - tp,
                precision=tp / len(kept) if kept else None,
                precision_ci=list(wilson_interval(tp, len(kept))),
                ap=average_precision(self.scores, self.hits, self.faces) if self.faces else None)
        return row


def _row_order(min_size: float) -> list[str]:
    floor = f">={min_size:g} px"
    sizes = [size_bin(low) for low, _ in SIZE_BINS]
    return [f"all {floor}", *sizes, f"all >={AZURE_MIN:g} px", f"masked {floor}",
            f"unmasked {floor}"]


def summarize(results: Iterable[ImageResult], threshold: float, min_size: float = MIN_SIZE) -> list[dict]:
    """Return the report rows (see the module docstring) for matched images at ``threshold``."""
    floor = f">={min_size:g} px"
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for result in results:
        image = result.image
        for j, face in enumerate(image.faces):
            score = result.face_score[j]
            groups = [size_bin(face_size(face))]
            if face_size(face) >= AZURE_MIN:
                groups.append(f"all >={AZURE_MIN:g} px")
            if face_size(face) >= min_size:
                groups += [f"all {floor}", f"source {image.source}"]
                if image.classes[j] in MASKED:
                    groups.append(f"masked {floor}")
                elif image.classes[j] in UNMASKED:
                    groups.append(f"unmasked {floor}")
            for group in groups:
                tallies[group].faces += 1
                tallies[group].found += score is not None and score >= threshold
        for detection, outcome, matched in zip(result.detections, result.outcomes, result.matched_face):
            if outcome in (TP, FP):
                # A true positive always has its matched face.
                size = face_size(image.faces[matched] if outcome == TP and matched is not None
                                 else detection.box)
                groups = [f"all {floor}", size_bin(size), f"source {image.source}"]
                if size >= AZURE_MIN:
                    groups.append(f"all >={AZURE_MIN:g} px")
                for group in groups:
                    tallies[group].scores.append(detection.score)
                    tallies[group].hits.append(outcome == TP)
    rows = []
    for name in _row_order(min_size) + sorted(n for n in tallies if n.startswith("source ")):
        # A leftover box has no mask class; bins wholly under the floor hold no counted box.
        with_precision = not name.startswith(("masked", "unmasked")) and _bin_counted(name, min_size)
        rows.append(tallies.get(name, _Tally()).row(name, threshold, with_precision))
    return rows


def _bin_counted(name: str, min_size: float) -> bool:
    """Whether the size row ``name`` covers faces at or above the floor."""
    for low, high in SIZE_BINS:
        if size_bin(low) == name:
            return high > min_size
    return True


def evaluate_detection(analyzer, data_dir: Path, *, limit: int | None = None, split: str | None = None,
                       iou: float = IOU, min_size: float = MIN_SIZE, ap_floor: float = AP_FLOOR,
                       api_min_side: float = REPORTED_MIN_SIDE, progress: bool = True) -> dict:
    """Run ``analyzer``'s detector on the images of ``data_dir`` and return the report.

    The report (a JSON-ready dict) holds the settings, the rows of ``summarize``, the mean
    network input area relative to one 640x480 pass (the cost driver: small images run
    enlarged) and the mean detection CPU time per image on this machine; and the same rows
    through the API's rules with ``api_min_side`` as the smallest rectangle side, with the
    spread of the API's rectangle side over the labelled size of the faces it matched.
    """
    data_dir = Path(data_dir)
    images = load_labels(data_dir, split=split, limit=limit)
    detector = analyzer.detector
    threshold = analyzer.detector_settings.score_threshold
    floor = min(ap_floor, threshold)
    results, api_results, pixels, seconds = [], [], 0, 0.0
    for image in tqdm(images, desc="images", unit="img", disable=not progress):
        picture = read_image(str(data_dir / image.path))
        if picture.shape[:2] != (image.height, image.width):
            raise ValueError(f"{image.path}: decoded as {picture.shape[1]}x{picture.shape[0]}, "
                             f"labels say {image.width}x{image.height}")
        start = time.process_time()
        detections = detector.detect(picture, score_threshold=floor)
        seconds += time.process_time() - start
        input_h, input_w = detector.input_shape(image.height, image.width)
        pixels += input_h * input_w
        results.append(match_image(image, detections, iou, min_size))
        api_results.append(match_image(image, api_detections(detections, threshold, image,
                                                             api_min_side), iou, min_size))
    count = max(1, len(images))
    return {
        "data": str(data_dir),
        "images": len(images),
        "faces": sum(len(i.faces) for i in images),
        "iou": iou,
        "min_size": min_size,
        "size_measure": "min(w, h) of the labelled box",
        "score_threshold": threshold,
        "ap_floor": floor,
        "detector": dataclasses.asdict(analyzer.detector_settings),
        "passes_per_image": 1,  # the detector runs the network once per image
        "network_input_vs_640x480": pixels / count / (640 * 480),
        "cpu_ms_per_image": 1000 * seconds / count,
        "rows": summarize(results, threshold, min_size),
        "api_rules": f"detection_01 rectangle clipped to the image, shorter side >= "
                     f"{api_min_side:g} px up to 1920x1080, 100 largest",
        "api_rows": summarize(api_results, threshold, min_size),
        "rectangle_vs_label": rectangle_spread(results, threshold, min_size),
    }


def api_detections(detections: Sequence[Detection], threshold: float, image: LabelledImage,
                   min_side: float = REPORTED_MIN_SIDE) -> list[Detection]:
    """Return the detections at or above ``threshold`` that Detect would report for ``image``
    (its rules: rostro.vision.rectangle.select_faces with detection_01's rectangle, and
    ``min_side`` as the smallest side up to 1920x1080)."""
    kept = [d for d in detections if d.score >= threshold]
    chosen = select_faces(kept, "detection_01", image.width, image.height, MAX_FACES,
                          minimum_face(image.width, image.height, min_side))
    return sorted((d for d, _ in chosen), key=lambda d: -d.score)


def rectangle_spread(results: Iterable[ImageResult], threshold: float,
                     min_size: float = MIN_SIZE) -> dict[str, float]:
    """Percentiles (10th, 50th, 90th) of the detection_01 rectangle's side over the labelled
    face's size, over the true positives at ``threshold`` (unclipped rectangles)."""
    ratios = [azure_rectangle(d, "detection_01", 10**9, 10**9).width / face_size(r.image.faces[j])
              for r in results
              for d, outcome, j in zip(r.detections, r.outcomes, r.matched_face)
              if outcome == TP and j is not None and d.score >= threshold
              and face_size(r.image.faces[j]) >= min_size]
    if not ratios:
        return {}
    return {f"p{q}": float(v) for q, v in zip((10, 50, 90), np.percentile(ratios, (10, 50, 90)))}


def _fmt(value: float | None, ci: list[float] | None = None) -> str:
    if value is None:
        return "-"
    text = f"{value:.3f}"
    if ci:
        text += f" [{ci[0]:.3f}, {ci[1]:.3f}]"
    return text


def format_table(report: dict) -> str:
    """Return the report as a fixed-width text table (Markdown-compatible), with a header."""
    header = ("group", "faces", "recall [95% CI]", "precision [95% CI]", "FP", f"AP@{report['iou']:g}",
              "API recall", "API precision", "API FP")
    lines = [header]
    api_rows = {row["group"]: row for row in report.get("api_rows", [])}
    for row in report["rows"]:
        api = api_rows.get(row["group"], {})
        lines.append((
            row["group"], str(row["faces"]), _fmt(row["recall"], row["recall_ci"]),
            _fmt(row["precision"], row["precision_ci"]),
            "-" if row["false_positives"] is None else str(row["false_positives"]), _fmt(row["ap"]),
            _fmt(api.get("recall")), _fmt(api.get("precision")),
            "-" if api.get("false_positives") is None else str(api["false_positives"])))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths)) + " |" for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    settings = ", ".join(f"{k}={v}" for k, v in report["detector"].items())
    summary = (f"{report['images']} images, {report['faces']} labelled faces; IoU {report['iou']:g}; "
               f"faces under {report['min_size']:g} px ({report['size_measure']}) not counted; "
               f"AP over scores >= {report['ap_floor']:g}\n"
               f"API columns: {report.get('api_rules', '-')}; faces matched by their detector "
               f"boxes, sizes are the labelled boxes'\n"
               f"API rectangle side / labelled size (10th, 50th, 90th percentile): "
               f"{', '.join(f'{v:.3f}' for v in report.get('rectangle_vs_label', {}).values())}\n"
               f"detector: {settings}\n"
               f"network passes per image: {report['passes_per_image']}, input area "
               f"{report['network_input_vs_640x480']:.2f}x that of a 640x480 image; "
               f"CPU time {report['cpu_ms_per_image']:.1f} ms/image on this machine")
    return "\n".join(out) + "\n\n" + summary


def _settings(analyzer_settings, assignments: list[str]):
    """Apply ``NAME=VALUE`` overrides to a DetectorSettings (values cast to the field's type)."""
    fields = {f.name: f for f in dataclasses.fields(analyzer_settings)}
    changes = {}
    for text in assignments:
        name, _, value = text.partition("=")
        if name not in fields or not value:
            raise ValueError(f"--set expects NAME=VALUE with NAME one of {', '.join(fields)}")
        current = getattr(analyzer_settings, name)
        changes[name] = (value.lower() in ("1", "true", "yes")) if isinstance(current, bool) else type(current)(value)
    return dataclasses.replace(analyzer_settings, **changes)


def _run(args: argparse.Namespace) -> str:
    from rostro.vision.analyzer import Analyzer, DetectorSettings

    settings = _settings(DetectorSettings(), args.set or [])
    report = evaluate_detection(Analyzer(detector=settings), args.data, limit=args.limit,
                                split=args.split, iou=args.iou, min_size=args.min_size,
                                api_min_side=args.api_min_side)
    return publish(report, format_table(report), args.json)


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``rostro eval detection``."""
    parser = subparsers.add_parser("detection", help="detector recall/precision/AP on labels.csv")
    parser.add_argument("--data", type=Path, required=True, help="folder with labels.csv and the images")
    parser.add_argument("--json", metavar="OUT", help="also write the report as JSON to OUT")
    parser.add_argument("--limit", type=int, help="only the first N images")
    parser.add_argument("--split", help="only rows of this split (e.g. dev)")
    parser.add_argument("--iou", type=float, default=IOU, help="IoU for a match (default %(default)s)")
    parser.add_argument("--min-size", type=float, default=MIN_SIZE,
                        help="faces with a shorter side under this many px are not counted (default %(default)s)")
    parser.add_argument("--api-min-side", type=float, default=REPORTED_MIN_SIDE,
                        help="the API columns' smallest rectangle side, px up to 1920x1080 "
                             "(default: the service's, %(default)s)")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE",
                        help="override a detector setting, e.g. --set score_threshold=0.6 (repeatable)")
    parser.set_defaults(handler=_run)
