"""The shipped attributes against our in-the-wild labels (issue 12; ``rostro_training/labels/wild.csv``).

The labels name each face by a photo in a public repository pinned by commit and a box; the
photos are read from git mirrors (``--wild DIR`` holds ``owner+name/repo`` git directories,
see ``rostro_training/wild/build.py``) and never committed. Each labelled box is matched to the
detector's face on that photo (IoU >= ``MATCH_IOU``), and the service's answer for that face
is compared with the label, on the val and test splits separately, with 95 % intervals.

The pieces take plain lists of ``(image, box, labels)`` so that other reports (the HTML page)
reuse them: ``answer_faces`` runs the engine, ``attribute_pairs`` turns answers and labels
into (truth, answer) pairs per attribute, ``score_pairs`` scores them.
"""

from __future__ import annotations

import csv
import logging
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rostro.evaluation.metrics import wilson_interval
from rostro.vision.types import Box, Detection, Face
from rostro_training import LABELS_DIR

log = logging.getLogger(__name__)

# Our labels of the wild set ship with the training package (also for the wild train split).
WILD_LABELS = LABELS_DIR / "wild.csv"
SPLITS = ("val", "test")  # train rows are for fitting; test is never fitted, selected or tuned on
MATCH_IOU = 0.5
PHOTO_MAX_SIDE = 8192  # some phone photos are over the service's 4096 px limit
UNSURE = "unsure"
ATTRIBUTES = ("accessories", "age", "emotion", "facialHair", "gender", "glasses", "hair", "smile")
# The bars of issue 12 (wild validation), shown beside the figures.
BARS = {"sunglasses": "P >= 0.95, R >= 0.90", "eyeglasses": "bal >= 0.93",
        "emotion": ">= fer + 0.05", "gender": ">= 0.94", "moustache": "bal >= 0.88",
        "beard": "bal >= 0.88", "smile": "bal >= 0.88", "headwear": "bal >= 0.85",
        "adults_under_16": "<= 0.02"}
BOOTSTRAP = 1000


class WildDataMissing(FileNotFoundError):
    """The labels or a pinned repository's mirror is not here."""


@dataclass(frozen=True)
class Answers:
    """The service's answers for one labelled face (None everywhere when it was not detected)."""

    found: bool
    glasses: str | None = None  # none / reading / sunglasses / swimming_goggles
    smile: float | None = None
    moustache: float | None = None
    beard: float | None = None
    headwear: bool | None = None
    gender: str | None = None
    age: float | None = None
    emotion: str | None = None  # the shipped emotion's top class
    emotion_fer: str | None = None  # the plain fer network's argmax (the emotion head reads it)
    emotion_faceapi: str | None = None  # face-api.js's expression net's argmax
    hair: str | None = None  # hidden / bald / the top colour


def git_dir(mirror: Path, repo: str) -> Path:
    """Return the git directory of ``repo`` under a mirror root (``owner+name/repo``)."""
    path = mirror / repo.replace("/", "+") / "repo"
    if not path.is_dir():
        raise WildDataMissing(f"{repo} is not mirrored under {mirror} (expected {path})")
    return path


def read_blob(mirror: Path, repo: str, commit: str, path: str) -> bytes:
    """Return the bytes of one file at a pinned commit of a mirrored repository."""
    return subprocess.run(["git", f"--git-dir={git_dir(mirror, repo)}", "show", f"{commit}:{path}"],
                          check=True, capture_output=True).stdout


def load_photo(mirror: Path, repo: str, commit: str, path: str) -> np.ndarray:
    """Return one pinned photo as a BGR array (EXIF orientation applied)."""
    from rostro.vision.image import decode_image

    return decode_image(read_blob(mirror, repo, commit, path), max_side=PHOTO_MAX_SIDE)


def read_wild_labels(path: Path = WILD_LABELS) -> list[dict[str, str]]:
    """Return the rows of wild.csv (face id, source photo, box, split, labels)."""
    if not path.is_file():
        raise WildDataMissing(f"no wild labels at {path}")
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def load_items(mirror: Path, rows: Sequence[Mapping[str, str]],
               splits: Sequence[str] = SPLITS) -> list[tuple[str, np.ndarray, Box, Mapping[str, str]]]:
    """Return ``(split, image, box, labels)`` for the rows of ``splits`` (photos read once)."""
    photos: dict[tuple[str, str, str], np.ndarray] = {}
    items = []
    for row in rows:
        if row["split"] not in splits:
            continue
        key = (row["repo"], row["commit"], row["path"])
        if key not in photos:
            photos[key] = load_photo(mirror, *key)
        box = Box(*(float(row[c]) for c in "xywh"))
        items.append((row["split"], photos[key], box, row))
    return items


def _top_emotion(logp: np.ndarray, classes: Sequence[str]) -> str:
    return classes[int(np.argmax(logp))]


def _hair_answer(hair) -> str:
    if hair.invisible:
        return "hidden"
    if hair.bald >= 0.5:
        return "bald"
    return hair.colors[0].color if hair.colors else UNSURE


def matching_detection(detections: Sequence[Detection], box: Box) -> Detection | None:
    """The detection that overlaps the labelled ``box`` most, if its IoU is >= MATCH_IOU
    (how every wild table finds its labelled faces again); None otherwise."""
    best = max(detections, key=lambda d: d.box.iou(box), default=None)
    return best if best is not None and best.box.iou(box) >= MATCH_IOU else None


def answer_face(analyzer, image: np.ndarray, box: Box) -> Answers:
    """Return the service's answers for the detected face that matches ``box``."""
    from rostro.vision.attributes.features import BLOCKS
    from rostro.vision.attributes.nets import FACEAPI_CLASSES, FER_CLASSES

    best = matching_detection(analyzer.detect(image), box)
    if best is None:
        return Answers(found=False)
    engine = analyzer.attributes
    face = Face(detection=best)
    ctx = engine.context(image, face)
    values = engine.run(image, face, ATTRIBUTES, ctx)
    emotion = values["emotion"].as_dict()
    return Answers(
        found=True, glasses=values["glasses"], smile=values["smile"],
        moustache=values["facialHair"].moustache, beard=values["facialHair"].beard,
        headwear=any(a.kind == "headwear" for a in values["accessories"]),
        gender=values["gender"], age=values["age"], emotion=max(emotion, key=emotion.get),
        emotion_fer=_top_emotion(BLOCKS["fer.logp"](ctx), FER_CLASSES),
        emotion_faceapi=_top_emotion(BLOCKS["faceapi.logp"](ctx), FACEAPI_CLASSES),
        hair=_hair_answer(values["hair"]))


def answer_faces(analyzer, items: Sequence[tuple[np.ndarray, Box, Mapping[str, str]]]) -> list[Answers]:
    """Return the answers for each ``(image, box, labels)`` item, in order."""
    return [answer_face(analyzer, image, box) for image, box, _ in items]


def _age_bin(years: float) -> str:
    return "child" if years < 13 else "teen" if years < 18 else "adult" if years < 65 else "senior"


EMOTIONS_7 = ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")


def attribute_pairs(labels: Sequence[Mapping[str, str]],
                    answers: Sequence[Answers]) -> dict[str, list[tuple[str, str]]]:
    """Return ``{measure: [(truth, answer), ...]}`` over the faces labelled for each measure.

    Binary measures use "1"/"0". Faces the detector missed answer "missed" (counted wrong).
    Unsure labels are left out. Measures: sunglasses, eyeglasses (faces labelled none or
    eyeglasses only), eyeglasses_thick (the eyeglasses labelled ``thick_frame`` 1, where the
    label file has that column: recall only), glasses (3 classes), smile, moustache, beard, headwear, gender, age
    (4 bins), adults_under_16 (adults only: "1" when answered under 16), emotion, emotion_fer,
    emotion_faceapi (the 7 classes the fer network knows), hair.
    """
    pairs: dict[str, list[tuple[str, str]]] = {}

    def add(measure: str, truth: str, answer: str | None) -> None:
        pairs.setdefault(measure, []).append((truth, "missed" if answer is None else answer))

    def flag(value: bool | None) -> str | None:
        return None if value is None else "1" if value else "0"

    def answered(kind: str) -> str | None:
        return None if a.glasses is None else flag(a.glasses == kind)

    for label, a in zip(labels, answers):
        g = label.get("glasses", UNSURE)
        if g in ("none", "eyeglasses", "sunglasses"):
            # The engine calls clear glasses "reading" (Azure's ReadingGlasses).
            add("glasses", g, None if a.glasses is None
                else {"reading": "eyeglasses"}.get(a.glasses, a.glasses))
            add("sunglasses", "1" if g == "sunglasses" else "0", answered("sunglasses"))
        if g in ("none", "eyeglasses"):
            add("eyeglasses", "1" if g == "eyeglasses" else "0", answered("reading"))
        if g == "eyeglasses" and label.get("thick_frame") == "1":
            # Clear lenses in thick dark frames: the course photo's case, once read as sunglasses.
            add("eyeglasses_thick", "1", answered("reading"))
        for measure, score in (("smile", a.smile), ("moustache", a.moustache), ("beard", a.beard)):
            if label.get(measure) in ("0", "1"):
                add(measure, label[measure], flag(None if score is None else score >= 0.5))
        if label.get("headwear") in ("0", "1"):
            add("headwear", label["headwear"], flag(a.headwear))
        if label.get("gender") in ("male", "female"):
            add("gender", label["gender"], a.gender)
        if label.get("age") in ("child", "teen", "adult", "senior"):
            add("age", label["age"], None if a.age is None else _age_bin(a.age))
            if label["age"] == "adult":
                add("adults_under_16", "0", flag(None if a.age is None else a.age < 16))
        if label.get("emotion") in EMOTIONS_7:
            add("emotion", label["emotion"], a.emotion)
            add("emotion_fer", label["emotion"], a.emotion_fer)
            add("emotion_faceapi", label["emotion"], a.emotion_faceapi)
        if label.get("hair") not in (None, "", UNSURE):
            add("hair", label["hair"], a.hair)
    return pairs


def _balanced(truth: np.ndarray, answer: np.ndarray) -> float:
    return float(np.mean([np.mean(answer[truth == c] == c) for c in np.unique(truth)]))


def _bootstrap_balanced(truth: np.ndarray, answer: np.ndarray) -> tuple[float, float]:
    """95 % percentile interval of balanced accuracy (resampling faces, seeded)."""
    rng = np.random.default_rng(12)
    stats = []
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, len(truth), len(truth))
        if len(np.unique(truth[pick])) == len(np.unique(truth)):
            stats.append(_balanced(truth[pick], answer[pick]))
    lo, hi = np.percentile(stats, [2.5, 97.5]) if stats else (0.0, 1.0)
    return float(lo), float(hi)


def score_pairs(pairs: Sequence[tuple[str, str]], binary: bool) -> dict:
    """Accuracy and balanced accuracy (with 95 % intervals) of (truth, answer) pairs.

    Binary measures add precision and recall of "1" with Wilson intervals.
    """
    truth = np.array([t for t, _ in pairs])
    answer = np.array([a for _, a in pairs])
    n, right = len(truth), int((truth == answer).sum())
    out = {"n": n, "missed": int((answer == "missed").sum()),
           "accuracy": right / n if n else float("nan"), "accuracy_ci": list(wilson_interval(right, n))}
    if n and len(np.unique(truth)) > 1:
        out["balanced"] = _balanced(truth, answer)
        out["balanced_ci"] = list(_bootstrap_balanced(truth, answer))
    if binary:
        tp = int(((truth == "1") & (answer == "1")).sum())
        said, positives = int((answer == "1").sum()), int((truth == "1").sum())
        out.update(positives=positives, answered_yes=said, true_positives=tp,
                   precision=tp / said if said else float("nan"),
                   precision_ci=list(wilson_interval(tp, said)),
                   recall=tp / positives if positives else float("nan"),
                   recall_ci=list(wilson_interval(tp, positives)))
    classes = sorted(set(truth) | set(answer))
    out["confusion"] = {"classes": classes, "rows": [
        [int(((truth == t) & (answer == a)).sum()) for a in classes] for t in classes]}
    return out


BINARY = ("sunglasses", "eyeglasses", "eyeglasses_thick", "smile", "moustache", "beard",
          "headwear", "adults_under_16")


def score_items(items: Sequence[tuple[np.ndarray, Box, Mapping[str, str]]],
                answers: Sequence[Answers]) -> dict:
    """Return ``{measure: score}`` for one list of ``(image, box, labels)`` items and the
    service's answers for them (``answer_faces``)."""
    labels = [labels for _, _, labels in items]
    pairs = attribute_pairs(labels, answers)
    report = {m: score_pairs(p, m in BINARY) for m, p in sorted(pairs.items())}
    report["faces"] = {"n": len(items), "missed": sum(not a.found for a in answers)}
    # Per source: the sources differ in kind (tight web crops, stock portraits, crowds).
    report["per_source"] = {}
    for source in sorted({label.get("source", "") for label in labels}):
        keep = [k for k, label in enumerate(labels) if label.get("source", "") == source]
        subset = attribute_pairs([labels[k] for k in keep], [answers[k] for k in keep])
        report["per_source"][source] = {
            m: {key: v for key, v in score_pairs(p, m in BINARY).items()
                if key in ("n", "accuracy", "balanced", "precision", "recall")}
            for m, p in sorted(subset.items())}
    return report


def evaluate_wild(mirror: Path, analyzer=None, labels: Path = WILD_LABELS,
                  splits: Sequence[str] = SPLITS, sections: list | None = None) -> dict:
    """Return ``{split: {measure: score}}`` of the shipped attributes on the wild labels; with
    ``sections``, append the val split's answers to it as HTML report sections."""
    if analyzer is None:
        from rostro.vision.analyzer import open_analyzer

        analyzer = open_analyzer()
    items = load_items(mirror, read_wild_labels(labels), splits)
    report = {}
    for split in splits:
        split_items = [(img, box, lab) for s, img, box, lab in items if s == split]
        answers = answer_faces(analyzer, split_items)
        report[split] = score_items(split_items, answers)
        if sections is not None and split == "val":
            sections.extend(wild_sections(split_items, answers, f"wild {split}"))
    return report


def wild_sections(items: Sequence[tuple[np.ndarray, Box, Mapping[str, str]]],
                  answers: Sequence[Answers], dataset: str) -> list:
    """One HTML report section per measure (``attribute_pairs``' names): each labelled face's
    answer against its label, with its thumbnail. The answers carry no confidence, so every
    mistake weighs the same (the page shows them in the labels' order)."""
    from rostro.evaluation.html_report import Outcome, Section, face_thumbnail

    outcomes: dict[str, list[Outcome]] = {}
    for (image, box, label), answer in zip(items, answers):
        def thumbnail(image=image, box=box):
            return face_thumbnail(image, (box.left, box.top, box.width, box.height))
        note = f"{label.get('face_id', '')} {label.get('source', '')}".strip()
        for measure, pairs in attribute_pairs([label], [answer]).items():
            truth, said = pairs[0]
            outcomes.setdefault(measure, []).append(Outcome(said, truth, 1.0, note, thumbnail))
    return [Section(measure, dataset, tuple(rows)) for measure, rows in sorted(outcomes.items())]


def _cell(score: dict | None, key: str) -> str:
    """One table cell: the figure, its 95 % interval and what it was counted over."""
    if not score or key not in score or score[key] != score[key]:
        return "-"
    lo, hi = score.get(f"{key}_ci", (float("nan"), float("nan")))
    if key == "precision":
        counted = f"{score['true_positives']}/{score['answered_yes']}"
    elif key == "recall":
        counted = f"{score['true_positives']}/{score['positives']}"
    elif "positives" in score:
        counted = f"n={score['n']}, {score['positives']} pos."
    else:
        counted = f"n={score['n']}"
    return f"{score[key]:.3f} [{lo:.2f}, {hi:.2f}] ({counted})"


# The figure each measure is judged by, and the lab dev figure beside it: (what it is, its path
# in the lab report of rostro.evaluation.attribute_accuracy), or None where the lab sets have none.
_CV = "balanced, 5-fold CV"
HEADLINE = (
    ("sunglasses", "precision", (_CV, ("cross_validated", "sunglasses", "balanced_accuracy"))),
    ("sunglasses", "recall", None),
    ("eyeglasses", "balanced", (_CV, ("cross_validated", "eyeglasses", "balanced_accuracy"))),
    ("eyeglasses_thick", "recall", None),
    ("glasses", "accuracy", None),
    ("smile", "balanced", (_CV, ("cross_validated", "smile", "balanced_accuracy"))),
    ("moustache", "balanced", (_CV, ("cross_validated", "moustache", "balanced_accuracy"))),
    ("beard", "balanced", (_CV, ("cross_validated", "beard", "balanced_accuracy"))),
    ("headwear", "balanced", (_CV, ("cross_validated", "headwear", "balanced_accuracy"))),
    ("gender", "accuracy", ("accuracy", ("age_gender", "gender_accuracy"))),
    ("age", "accuracy", None),
    ("adults_under_16", "share", None),
    ("emotion", "accuracy", ("accuracy", ("emotion", "accuracy"))),
    ("emotion_fer", "accuracy", ("accuracy", ("emotion", "baseline_fer_net"))),
    ("emotion_faceapi", "accuracy", ("accuracy", ("emotion", "baseline_faceapi_net"))),
    ("hair", "accuracy", ("top colour", ("cross_validated", "hair_color", "top_color_accuracy"))),
)


def _lab(lab: dict | None, figure: tuple[str, tuple[str, ...]] | None) -> str:
    if not figure or not lab:
        return "-"
    value: object = lab
    for key in figure[1]:
        value = value.get(key) if isinstance(value, dict) else None
    return f"{value:.3f} ({figure[0]})" if isinstance(value, float) else "-"


def format_wild(wild: dict, lab: dict | None = None) -> str:
    """Markdown: lab dev figure beside wild val and test (95 % intervals) per measure."""
    splits = list(wild)
    lines = ["wild (in-the-wild labels; rostro_training/labels/wild.csv unless --wild-labels): "
             + "; ".join(f"{s} {wild[s]['faces']['n']} faces ({wild[s]['faces']['missed']} not "
                         "detected, counted wrong)" for s in splits),
             "emotion_fer / emotion_faceapi: the plain networks the emotion head reads, "
             "answering alone (argmax) on the same faces",
             "", "| measure | figure | lab dev | " + " | ".join(f"wild {s}" for s in splits)
             + " | bar (wild val) |", "|---|---|---|" + "---|" * len(splits) + "---|"]
    for measure, key, lab_figure in HEADLINE:
        figure = "share answered < 16" if measure == "adults_under_16" else key
        cells = []
        for s in splits:
            score = wild[s].get(measure)
            if key == "share" and score:
                # accuracy here is the share answered 16+; the bar is on its complement.
                lo, hi = score["accuracy_ci"]
                cells.append(f"{1 - score['accuracy']:.3f} [{1 - hi:.2f}, {1 - lo:.2f}] "
                             f"(n={score['n']})")
            else:
                cells.append(_cell(score, key))
        bar = BARS.get(measure, "") if key != "recall" else ""
        lines.append(f"| {measure} | {figure} | {_lab(lab, lab_figure)} | " + " | ".join(cells)
                     + f" | {bar} |")
    return "\n".join(lines)
