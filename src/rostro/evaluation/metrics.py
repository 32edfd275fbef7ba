"""Metric helpers shared by the evaluations: box matching, precision/recall, AP, intervals.

Detection conventions (see docs/accuracy.md, "Detection"):

- A ground-truth face is *counted* or *ignored* (for example: smaller than the size floor).
- Detections are matched best score first. Each takes the unmatched counted face it overlaps
  most (IoU >= threshold) and is a true positive; failing that, an unmatched ignored face,
  and it is ignored (neither true nor false positive); failing that it is a false positive,
  unless the caller says such a leftover box is out of scope (for example: itself smaller than
  the size floor), in which case it is ignored too. Every face is matched at most once, so a
  duplicate box on one face is a false positive.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rostro.vision.types import Box

TP, FP, IGNORED = "tp", "fp", "ignored"


@dataclass(frozen=True)
class ImageMatch:
    """The outcome of matching one image's detections to its ground truth.

    ``outcomes[i]`` is TP, FP or IGNORED for the i-th detection as given (not sorted);
    ``matched_face[i]`` is the index of the face it matched, or None. ``face_score[j]`` is the
    score of the detection that matched face j, or None when no detection did.
    """

    outcomes: tuple[str, ...]
    matched_face: tuple[int | None, ...]
    face_score: tuple[float | None, ...]


def match_detections(
    faces: Sequence[Box],
    counted: Sequence[bool],
    detections: Sequence[Box],
    scores: Sequence[float],
    iou_threshold: float = 0.5,
    leftover_counts: Callable[[Box], bool] = lambda box: True,
) -> ImageMatch:
    """Match one image's detections (boxes + scores) to its faces (see the module docstring).

    ``counted[j]`` says whether face j counts; ``leftover_counts(box)`` whether a detection
    that matches no face is a false positive (True) or out of scope (False).
    """
    if len(faces) != len(counted) or len(detections) != len(scores):
        raise ValueError("faces/counted and detections/scores must have equal lengths")
    outcomes: list[str] = [FP] * len(detections)
    matched_face: list[int | None] = [None] * len(detections)
    face_score: list[float | None] = [None] * len(faces)
    # Stable sort: equal scores keep the caller's order, so results are deterministic.
    order = sorted(range(len(detections)), key=lambda i: -scores[i])
    for i in order:
        best: int | None = None
        for want_counted in (True, False):
            best_iou = iou_threshold
            for j, face in enumerate(faces):
                if counted[j] != want_counted or face_score[j] is not None:
                    continue
                iou = detections[i].iou(face)
                if iou >= best_iou:
                    best, best_iou = j, iou
            if best is not None:
                break
        if best is None:
            outcomes[i] = FP if leftover_counts(detections[i]) else IGNORED
            continue
        face_score[best] = float(scores[i])
        matched_face[i] = best
        outcomes[i] = TP if counted[best] else IGNORED
    return ImageMatch(tuple(outcomes), tuple(matched_face), tuple(face_score))


def average_precision(scores: Sequence[float], is_tp: Sequence[bool], positives: int) -> float:
    """Return the area under the precision-recall curve (all-point interpolation, as VOC 2010+
    and WIDER FACE do): detections ranked by score; precision made monotone from the right.

    ``positives`` is the number of counted faces; faces never detected cap the reachable
    recall, so a detector that finds half the faces perfectly scores 0.5. 0.0 when
    ``positives`` is 0.
    """
    if len(scores) != len(is_tp):
        raise ValueError("scores and is_tp must have equal lengths")
    if positives <= 0:
        return 0.0
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    recalls, precisions, tp = [], [], 0
    for rank, i in enumerate(order, start=1):
        tp += bool(is_tp[i])
        recalls.append(tp / positives)
        precisions.append(tp / rank)
    for k in range(len(precisions) - 2, -1, -1):
        precisions[k] = max(precisions[k], precisions[k + 1])
    ap, previous = 0.0, 0.0
    for recall, precision in zip(recalls, precisions):
        ap += (recall - previous) * precision
        previous = recall
    return ap


def wilson_interval(successes: int, total: int, z: float = 1.959964) -> tuple[float, float]:
    """Return the Wilson score interval (95 % by default) of a proportion; (0, 1) if total is 0."""
    if total <= 0:
        return 0.0, 1.0
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
