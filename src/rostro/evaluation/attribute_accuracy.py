"""``rostro eval attributes --data DIR``: accuracy of the face attributes on labelled data.

Uses the ``../shared/eval`` layout (age_gender, emotion, glasses, face_attributes, train_pool).
Heads trained only on the train pool (age, gender, emotion) are measured as shipped on the
dev sets. Heads trained on dev rows (glasses, smile, facial hair, headwear, hair) are
measured by 5-fold cross-validation: each dev row's answer comes from the same recipe fitted
without that row's fold (``rostro_training.headfit``). The shipped networks' own answers
are reported beside them as the baseline. mask is measured on the detection set's faces the
service would serve (folds keep the faces of one image together), occlusion part by part
with the heads it rests on (``rostro.vision.attributes.occlusion.EVIDENCE``).

The recipes, label tables and fitting are the training package's (``rostro_training``), imported
inside the functions that use them: ``rostro`` loads this module for its parser on every
command, and the runtime never loads training code (tests/test_layout.py).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rostro.config import settings
from rostro.evaluation import publish
from rostro.evaluation.detection import MASKED
from rostro.threads import limit_threads
from rostro.vision.attributes.accessories import HEADWEAR_THRESHOLD
from rostro.vision.attributes.demographics import faceres_years, served_age
from rostro.vision.attributes.glasses import glasses_decision
from rostro.vision.attributes.heads import load_head
from rostro.vision.attributes.mask import mask_decision
from rostro.vision.attributes.nets import AGE_CLASS_YEARS, FACEAPI_CLASSES, FER_CLASSES
from rostro.vision.attributes.occlusion import EVIDENCE, THRESHOLDS
from rostro.vision.attributes.values import Mask

if TYPE_CHECKING:
    from rostro_training.headfit import FeatureTable

log = logging.getLogger(__name__)

AGE_BINS = ("0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+")
# Heads measured by cross-validation on dev rows, with the face_attributes label they answer.
CV_HEADS = ("sunglasses", "eyeglasses", "moustache", "beard", "smile", "headwear",
            "hair_color", "bald", "hair_invisible", "eye_makeup", "lip_makeup")
# Heads served at another threshold than the balanced 0.5 (sunglasses' P >= 0.95 rule is
# measured by select_glasses and the glasses rows, not here).
SERVED_THRESHOLDS = {"headwear": HEADWEAR_THRESHOLD}
# Heads on labels made for this project: the report gives their label counts and per gender.
LABEL_COUNT_HEADS = ("eye_makeup", "lip_makeup")


def _balanced(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean([np.mean(predicted[y == c] == c) for c in np.unique(y)]))


def _demographics(table: FeatureTable) -> dict:
    age_head, gender_head = load_head("age"), load_head("gender")
    found = table.found
    rows = [r for r, ok in zip(table.rows, found) if ok]
    true_age = np.array([float(r["age"]) for r in rows])
    male = np.array([r["gender"] == "male" for r in rows])
    bins = np.array([r["age_bin"] for r in rows])
    # The served age: the head, arbitrated by FaceRes' age where it answers a child's age
    age = served_age(age_head(table.matrix(age_head.features)[found]),
                     faceres_years(table.blocks["fr.age_probs"][found]))
    p_male = gender_head(table.matrix(gender_head.features)[found])
    # Baseline: the dlib age net's own expected age (its probabilities are a feature block).
    base_age = table.blocks["ag.age_probs"][found] @ AGE_CLASS_YEARS
    per_bin = {b: {"n": int((bins == b).sum()),
                   "mae": float(np.abs(age - true_age)[bins == b].mean()),
                   "baseline_mae": float(np.abs(base_age - true_age)[bins == b].mean()),
                   "gender_accuracy": float(((p_male >= 0.5) == male)[bins == b].mean())}
               for b in AGE_BINS if (bins == b).any()}
    adults = true_age >= 20
    return {
        "n": len(rows), "missed": int((~found).sum()),
        "age_mae": float(np.abs(age - true_age).mean()),
        "age_mae_baseline_dlib_net": float(np.abs(base_age - true_age).mean()),
        "gender_accuracy": float(((p_male >= 0.5) == male).mean()),
        "gender_accuracy_adults": float(((p_male >= 0.5) == male)[adults].mean()),
        "per_bin": per_bin,
    }


def _emotion(table: FeatureTable) -> dict:
    from rostro_training.headfit import EMOTION_CLASSES

    head = load_head("emotion")
    found = table.found
    rows = [r for r, ok in zip(table.rows, found) if ok]
    keep = np.array([r["emotion"] in EMOTION_CLASSES for r in rows])
    truth = np.array([EMOTION_CLASSES.index(r["emotion"]) for r, k in zip(rows, keep) if k])
    sources = np.array([r["source"] for r, k in zip(rows, keep) if k])
    predicted = head(table.matrix(head.features)[found][keep]).argmax(axis=1)

    def alone(block: str, classes: tuple[str, ...]) -> np.ndarray:
        """One of the nets the head combines, answering alone (argmax of its crop average)."""
        logp = table.blocks[block][found][keep]
        return np.array([EMOTION_CLASSES.index(classes[i]) for i in logp.argmax(axis=1)])

    baseline, faceapi = alone("fer.logp", FER_CLASSES), alone("faceapi.logp", FACEAPI_CLASSES)
    confusion = np.zeros((len(EMOTION_CLASSES), len(EMOTION_CLASSES)), dtype=int)
    for t, p in zip(truth, predicted):
        confusion[t, p] += 1
    labelled = sum(r["emotion"] in EMOTION_CLASSES for r in table.rows)
    return {
        "n": int(len(truth)), "missed": int(labelled - len(truth)),
        "accuracy": float((predicted == truth).mean()),
        "accuracy_counting_missed_as_wrong": float((predicted == truth).sum() / labelled),
        "baseline_fer_net": float((baseline == truth).mean()),
        "baseline_faceapi_net": float((faceapi == truth).mean()),
        "per_source": {s: {"n": int((sources == s).sum()),
                           "accuracy": float((predicted == truth)[sources == s].mean()),
                           "baseline": float((baseline == truth)[sources == s].mean()),
                           "baseline_faceapi": float((faceapi == truth)[sources == s].mean())}
                       for s in sorted(set(sources))},
        "classes": list(EMOTION_CLASSES),
        "confusion": confusion.tolist(),
    }


def _cross_validated(tables: dict[str, FeatureTable], kept: dict | None = None) -> dict:
    """Cross-validated rows of CV_HEADS; ``kept`` receives {head: (HeadData, dev outputs)}."""
    from rostro_training.headfit import (
        HAIR_CLASSES,
        HEAD_TABLES,
        OPTIONAL_TABLES,
        RECIPES,
        cross_validated_outputs,
        head_data,
    )

    report = {}
    for name in CV_HEADS:
        if not all(t in tables or t in OPTIONAL_TABLES for t in HEAD_TABLES[name]):
            log.warning("%s: its label tables are not here (rostro_training/labels/); skipped", name)
            continue
        data = head_data(name, tables)
        outputs = cross_validated_outputs(RECIPES[name], data.x, data.y, data.is_dev,
                                          groups=data.groups)
        if kept is not None:
            kept[name] = (data, outputs)
        y = data.y[data.is_dev]
        rows = [r for r, dev in zip(data.rows, data.is_dev) if dev]
        if RECIPES[name].link == "softmax":
            predicted = outputs.argmax(axis=1)
        else:  # the served threshold where it is not the balanced 0.5
            predicted = (outputs >= SERVED_THRESHOLDS.get(name, 0.5)).astype(int)
        entry: dict[str, Any] = {"n": int(len(y)), "positives": int(y.sum()) if predicted.ndim == 1 and
                 RECIPES[name].link == "sigmoid" else None,
                 "balanced_accuracy": _balanced(y, predicted),
                 "accuracy": float((predicted == y).mean()), "per_source": {}}
        sources = np.array([f"{table}:{row['source']}" if "source" in row else table
                            for table, row in rows])
        for source in sorted(set(sources)):
            mask = sources == source
            entry["per_source"][source] = {
                "n": int(mask.sum()), "accuracy": float((predicted == y)[mask].mean()),
                "balanced_accuracy": _balanced(y[mask], predicted[mask])}
        if name == "hair_color":
            # Azure-style score: the top colour equals the label, over every row labelled with
            # a colour (red and other included, which the head never answers).
            table = tables["face_attributes"]
            coloured = sum(r["hair"] in HAIR_CLASSES + ("red", "other") for r, ok
                           in zip(table.rows, table.found) if ok)
            entry["top_color_accuracy"] = float((predicted == y).sum() / coloured)
            entry["always_black"] = float((y == HAIR_CLASSES.index("black")).sum() / coloured)
        if RECIPES[name].link == "sigmoid":
            entry["calibration"] = _calibration(outputs, y)
        if name in LABEL_COUNT_HEADS:
            entry.update(_label_counts(name, tables, y, predicted, rows))
        report[name] = entry
    return report


def _smile_served(table: FeatureTable) -> dict:
    """The served smile (the emotion head's P(happiness), ``emotion.SMILE_FROM_HEAD`` off) on
    the smile-labelled dev faces: that head trains on none of them, so it is measured directly."""
    from rostro_training.headfit import target

    rows = [i for i, r in enumerate(table.rows)
            if table.found[i] and target("smile", "face_attributes", r) is not None]
    y = np.array([target("smile", "face_attributes", table.rows[i]) for i in rows])
    emotion = load_head("emotion")
    p = emotion(table.matrix(emotion.features)[rows])[:, emotion.classes.index("happiness")]
    return {"n": len(rows), "positives": int(y.sum()),
            "balanced_accuracy": _balanced(y, (p >= 0.5).astype(int))}


def _utk_gender(image: str) -> str | None:
    """The gender in a UTKFace file name (``age_gender_race_date``; 0 male, 1 female)."""
    parts = Path(image).name.split("_")
    return {"0": "male", "1": "female"}.get(parts[1]) if len(parts) > 2 else None


def _label_counts(name: str, tables: dict[str, FeatureTable], y: np.ndarray,
                  predicted: np.ndarray, rows: list) -> dict:
    """Label counts of a head's dev tables and its balanced accuracy per (UTKFace) gender.

    ``unsure``: dev rows left blank by the labeller (not trained on, not measured);
    ``missed``: labelled dev rows where no face was detected.
    """
    from rostro_training.headfit import HEAD_TABLES, TABLES, target

    counts: dict[str, Any] = {"negatives": int((y == 0).sum()), "unsure": 0, "missed": 0}
    for table_name in HEAD_TABLES[name]:
        if not TABLES[table_name][2] or table_name not in tables:
            continue
        table = tables[table_name]
        for row, found in zip(table.rows, table.found):
            labelled = target(name, table_name, row) is not None
            counts["unsure"] += int(not labelled)
            counts["missed"] += int(labelled and not found)
    genders = np.array([_utk_gender(row["image"]) for _, row in rows])
    counts["per_gender"] = {
        g: {"n": int((genders == g).sum()), "positives": int(y[genders == g].sum()),
            "balanced_accuracy": _balanced(y[genders == g], predicted[genders == g]),
            "answered_yes": int(predicted[genders == g].sum())}
        for g in ("female", "male") if (genders == g).any()}
    return counts


# Unmasked faces of dev sets the mask heads never trained on (face_attributes: its UTKFace
# rows; its maskon rows are detection-set faces): how often a face without a mask gets one.
MASK_FREE_SETS = (("face_attributes", "utkface"), ("age_gender", None), ("glasses", None),
                  ("emotion", None))
# Truth and answer classes of the 3-class mask score (answers add "uncertain").
MASK_CLASSES = ("noMask", "covered", "notCovered", "uncertain")


def _mask_truth(face_class: str) -> int:
    return 0 if face_class not in MASKED else 1 if face_class == "with_mask" else 2


def _mask_answer(answer: Mask) -> int:
    if answer.kind in ("none", "uncertain"):
        return MASK_CLASSES.index("noMask" if answer.kind == "none" else "uncertain")
    return 1 if answer.nose_and_mouth_covered else 2


def _mask(tables: dict[str, FeatureTable], kept: dict) -> dict:
    """The mask attribute on the detection set's served faces (both heads cross-validated on
    the same image-grouped folds), and its false alarms on unmasked faces of other sets."""
    from rostro_training.headfit import (
        RECIPES,
        box_in_scope,
        cross_validated_outputs,
        head_data,
        target,
    )

    table = tables["detection"]
    data = head_data("mask", tables)
    p_mask = cross_validated_outputs(RECIPES["mask"], data.x, data.y, data.is_dev,
                                     groups=data.groups)
    kept["mask"] = (data, p_mask)
    # The covered head trains on masked faces only but answers every face, on the same folds.
    covered = [target("mask_covered", "detection", row) for _, row in data.rows]
    x_covered = table.matrix(RECIPES["mask_covered"].blocks)[table.found]
    if len(x_covered) != len(covered):
        raise ValueError("mask rows and detection faces disagree")
    p_covered = cross_validated_outputs(
        RECIPES["mask_covered"], x_covered, np.array([c or 0 for c in covered]), data.is_dev,
        groups=data.groups, trains=np.array([c is not None for c in covered]))
    truth = np.array([_mask_truth(row["face_class"]) for _, row in data.rows])
    answer = np.array([_mask_answer(mask_decision(float(a), float(b)))
                       for a, b in zip(p_mask, p_covered)])
    kept["mask_answers"] = (data.rows, truth, answer, p_mask)
    confusion = np.zeros((3, 4), dtype=int)
    for t, a in zip(truth, answer):
        confusion[t, a] += 1
    in_scope = [row for row in table.rows if box_in_scope(row)]
    scope = {c: {"labelled": sum(r["face_class"] == c for r in in_scope),
                 "served": sum(row["face_class"] == c for _, row in data.rows)}
             for c in sorted({r["face_class"] for r in in_scope})}
    masked_truth, masked_answer = truth > 0, np.isin(answer, (1, 2))
    answered = answer != MASK_CLASSES.index("uncertain")
    on_masked = truth > 0
    report: dict[str, Any] = {
        "labelled_in_scope": len(in_scope), "served": len(truth), "per_class": scope,
        "accuracy_3": float((answer == truth).mean()), "balanced_3": _balanced(truth, answer),
        "confusion": confusion.tolist(),
        "type_accuracy": float(((masked_answer == masked_truth) & answered).mean()),
        "type_balanced": _balanced(masked_truth.astype(int),
                                   np.where(answered, masked_answer.astype(int), -1)),
        "uncertain": int((~answered).sum()),
        "type_accuracy_answered": float((masked_answer == masked_truth)[answered].mean()),
        "covered_accuracy": float(((answer == 1) == (truth == 1)).mean()),
        "covered_balanced_masked": _balanced((truth[on_masked] == 1).astype(int),
                                             (answer[on_masked] == 1).astype(int)),
        "masked_faces": int(on_masked.sum()),
        "calibration": _calibration(p_mask, data.y),
        "unmasked_sets": {},
    }
    mask_head, covered_head = load_head("mask"), load_head("mask_covered")
    for name, source in MASK_FREE_SETS:
        other = tables[name]
        rows = other.found & np.array([source is None or r.get("source") == source
                                       for r in other.rows])
        kinds = [mask_decision(float(a), float(b)).kind for a, b in zip(
            mask_head(other.matrix(mask_head.features)[rows]),
            covered_head(other.matrix(covered_head.features)[rows]))]
        report["unmasked_sets"][f"{name}:{source}" if source else name] = {
            "n": len(kinds), **{k: kinds.count(k) for k in ("none", "face_mask", "uncertain")}}
    return report


def _occlusion(kept: dict) -> dict:
    """Each occlusion part scored with the cross-validated outputs of the head it rests on
    (``occlusion.EVIDENCE``), against that head's own labels."""
    report: dict[str, dict[str, Any]] = {}
    for part, head in EVIDENCE.items():
        data, outputs = kept[head]
        rows = [r for r, dev in zip(data.rows, data.is_dev) if dev]
        y, answered = data.y[data.is_dev], (outputs >= THRESHOLDS.get(part, 0.5)).astype(int)
        subsets = {"all": np.ones(len(y), dtype=bool)}
        if head == "mask":
            # A mask worn under the chin leaves the mouth free: those faces are left out.
            incorrect = np.array([row["face_class"] == "mask_weared_incorrect" for _, row in rows])
            subsets = {"all": ~incorrect}
            report[f"{part}:mask_weared_incorrect"] = {
                "n": int(incorrect.sum()), "answered_occluded": int(answered[incorrect].sum())}
        if head == "sunglasses":
            subsets["glasses set"] = np.array([t == "glasses" for t, _ in rows])
        for subset, keep in subsets.items():
            report[f"{part}:{subset}" if subset != "all" else part] = {
                "head": head, "n": int(keep.sum()), "positives": int(y[keep].sum()),
                "accuracy": float((answered == y)[keep].mean()),
                "balanced_accuracy": _balanced(y[keep], answered[keep])}
    return report


# The served glasses answer (glasses.glasses_decision) against three-way labels: the glasses
# set's CMU "no_sunglasses" rows may show clear glasses, so they have no three-way label.
GLASSES_TRUTH = {"sunglasses": "sunglasses", "eyeglasses": "reading", "no_glasses": "none",
                 "none": "none"}


def _glasses_rows(tables: dict[str, FeatureTable], kept: dict) -> list[tuple]:
    """(table, row, truth, P(sun), P(eye)) of the dev rows with a three-way glasses label.

    P(sun) is the sunglasses head's cross-validated output. P(eye) is the eyeglasses head's
    cross-validated output where the row trains that head, else (sunglasses rows, which it
    never trains on) the shipped eyeglasses head's answer."""
    sun_data, p_sun = kept["sunglasses"]
    eye_data, p_eye = kept["eyeglasses"]
    eye_dev = [key for key, dev in zip(eye_data.rows, eye_data.is_dev) if dev]
    eye_cv = {(t, r["image"]): float(p) for (t, r), p in zip(eye_dev, p_eye)}
    shipped = load_head("eyeglasses")
    out = []
    sun_dev = [key for key, dev in zip(sun_data.rows, sun_data.is_dev) if dev]
    for (table, row), sun in zip(sun_dev, p_sun):
        truth = GLASSES_TRUTH.get(row["glasses"])
        if truth is None:
            continue
        eye = eye_cv.get((table, row["image"]))
        if eye is None:
            t = tables[table]
            i = t.rows.index(row)
            eye = float(shipped(t.matrix(shipped.features)[i]))
        out.append((table, row, truth, float(sun), eye))
    return out


def _glasses(tables: dict[str, FeatureTable], kept: dict) -> dict:
    """The served three-way glasses answer on the dev rows that have a three-way label."""
    rows = _glasses_rows(tables, kept)
    classes = ("none", "reading", "sunglasses")
    truth = np.array([classes.index(r[2]) for r in rows])
    answer = np.array([classes.index(glasses_decision(r[3], r[4])) for r in rows])
    confusion = np.zeros((3, 3), dtype=int)
    for t, a in zip(truth, answer):
        confusion[t, a] += 1
    sun_true, sun_said = truth == 2, answer == 2
    return {"n": len(rows), "classes": list(classes), "confusion": confusion.tolist(),
            "accuracy": float((truth == answer).mean()), "balanced_accuracy": _balanced(truth, answer),
            "sunglasses_precision": float(sun_true[sun_said].mean()) if sun_said.any() else 0.0,
            "sunglasses_recall": float(sun_said[sun_true].mean()) if sun_true.any() else 0.0}


def _mask_lines(report: dict) -> list[str]:
    """The mask and occlusion tables of a report (empty when it has none)."""
    if "mask" not in report:
        return []
    m = report["mask"]
    counts = ", ".join(f"{c} {v['served']}/{v['labelled']}" for c, v in m["per_class"].items())
    lines = ["", (f"mask: {m['served']} of {m['labelled_in_scope']} labelled detection-set "
                  f"faces large enough to be served were detected and served ({counts}); "
                  "5 folds by image"),
             "", "| score | value |", "|---|---|",
             f"| 3 classes (noMask / covered / not covered), accuracy | {m['accuracy_3']:.3f} |",
             f"| 3 classes, balanced | {m['balanced_3']:.3f} |",
             (f"| type (faceMask vs noMask), accuracy | {m['type_accuracy']:.3f} "
              f"(answered: {m['type_accuracy_answered']:.3f}) |"),
             f"| type, balanced | {m['type_balanced']:.3f} |",
             f"| uncertain | {m['uncertain']} of {m['served']} |",
             f"| noseAndMouthCovered, accuracy (all faces) | {m['covered_accuracy']:.3f} |",
             (f"| noseAndMouthCovered, balanced over the {m['masked_faces']} masked faces "
              f"| {m['covered_balanced_masked']:.3f} |"),
             f"| mask head ECE | {m['calibration']['ece']:.3f} |",
             "", "confusion (rows: truth, columns: answer)", "",
             "| truth | " + " | ".join(MASK_CLASSES) + " |", "|---" * 5 + "|"]
    for name, row in zip(MASK_CLASSES, m["confusion"]):
        lines.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
    lines += ["", "unmasked faces of other dev sets (the shipped mask heads never saw them):", "",
              "| set | n | noMask | faceMask | uncertain |", "|---|---|---|---|---|"]
    for name, v in m["unmasked_sets"].items():
        lines.append(f"| {name} | {v['n']} | {v['none']} | {v['face_mask']} | {v['uncertain']} |")
    lines += ["", "occlusion, part by part (cross-validated outputs of the head each part rests on):",
              "", "| part | head | n | positives | accuracy | balanced accuracy |",
              "|---|---|---|---|---|---|"]
    for part, v in report["occlusion"].items():
        if "head" in v:
            lines.append(f"| {part} | {v['head']} | {v['n']} | {v['positives']} | "
                         f"{v['accuracy']:.3f} | {v['balanced_accuracy']:.3f} |")
        else:
            lines.append(f"| {part} | mask | {v['n']} | - | answered occluded: "
                         f"{v['answered_occluded']} | - |")
    return lines


def _calibration(p: np.ndarray, y: np.ndarray, bins: int = 5) -> dict:
    """Expected calibration error and the reliability table of sigmoid outputs."""
    edges = np.linspace(0, 1, bins + 1)
    table, ece = [], 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        mask = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
        if mask.any():
            table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": int(mask.sum()),
                          "mean_score": float(p[mask].mean()), "positive_rate": float(y[mask].mean())})
            ece += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return {"ece": float(ece), "bins": table}


def lab_table_names() -> list[str]:
    """The feature tables the lab report reads (the glasses heads' optional wild tables,
    laid out by rostro_training.wild_glasses, are loaded apart)."""
    from rostro_training.headfit import NUMBER_TABLES, TABLES

    names = ["age_gender", "emotion", "glasses", "face_attributes"]
    # The makeup labels ship with the training package (rostro_training/labels/), not the data.
    names += [t for t in ("makeup", "pool_makeup") if Path(TABLES[t][1]).is_file()]
    names += ["detection"]
    # The real-photo numbers (rostro_training/labels/: the wild train split, the street-fashion
    # headwear rows) train some heads beside the dev rows.
    return names + [name for name, path in NUMBER_TABLES.items() if path.is_file()]


def evaluate_attributes(data: Path, analyzer=None, cache: Path | None = None,
                        sections: list | None = None) -> dict:
    """Measure every attribute head on the dev sets under ``data``; return a plain dict.

    ``sections``: when given, receives one ``html_report.Section`` per attribute (the
    answered faces, for ``--report``)."""
    from rostro_training.headfit import load_tables, load_wild_glasses

    limit_threads()
    if analyzer is None:
        from rostro.vision.analyzer import open_analyzer

        analyzer = open_analyzer()
    tables = load_tables(analyzer, data, lab_table_names(), cache)
    tables.update(load_wild_glasses(analyzer, data, ["wild_glasses_train"] + (
        ["wild_glasses_val"] if sections is not None else []), cache))
    kept: dict = {}
    report = {
        "age_gender": _demographics(tables["age_gender"]),
        "emotion": _emotion(tables["emotion"]),
        "cross_validated": _cross_validated(tables, kept),
        "smile_served": _smile_served(tables["face_attributes"]),
        "mask": _mask(tables, kept),
    }
    report["occlusion"] = _occlusion(kept)
    report["glasses"] = _glasses(tables, kept)
    if sections is not None:
        from rostro.evaluation.attribute_sections import lab_sections

        sections += lab_sections(data, analyzer, tables, kept)
    return report


def format_report(report: dict) -> str:
    """Markdown tables of a report from ``evaluate_attributes``."""
    lines = []
    ag = report["age_gender"]
    lines += [f"age_gender: {ag['n']} faces ({ag['missed']} not detected)",
              f"age MAE {ag['age_mae']:.2f} years (dlib age net alone {ag['age_mae_baseline_dlib_net']:.2f}); "
              f"gender accuracy {ag['gender_accuracy']:.3f} (adults {ag['gender_accuracy_adults']:.3f})",
              "", "| age bin | n | age MAE | dlib net MAE | gender accuracy |", "|---|---|---|---|---|"]
    for b, v in ag["per_bin"].items():
        lines.append(f"| {b} | {v['n']} | {v['mae']:.2f} | {v['baseline_mae']:.2f} | {v['gender_accuracy']:.3f} |")
    em = report["emotion"]
    lines += ["", f"emotion: {em['n']} faces ({em['missed']} not detected); accuracy {em['accuracy']:.3f} "
              f"(missed counted wrong: {em['accuracy_counting_missed_as_wrong']:.3f}; "
              f"fer net alone {em['baseline_fer_net']:.3f}; "
              f"face-api.js net alone {em['baseline_faceapi_net']:.3f})", "",
              "| source | n | accuracy | fer net alone | face-api.js net alone |",
              "|---|---|---|---|---|"]
    for s, v in em["per_source"].items():
        lines.append(f"| {s} | {v['n']} | {v['accuracy']:.3f} | {v['baseline']:.3f} | "
                     f"{v['baseline_faceapi']:.3f} |")
    lines += ["", "confusion (rows: truth, columns: answer): " + ", ".join(em["classes"]), ""]
    lines += ["| truth | " + " | ".join(c[:4] for c in em["classes"]) + " |",
              "|---" * (len(em["classes"]) + 1) + "|"]
    for c, row in zip(em["classes"], em["confusion"]):
        lines.append(f"| {c} | " + " | ".join(str(v) for v in row) + " |")
    lines += ["", "cross-validated heads (5 folds over dev rows):", "",
              "| head | n | positives | balanced accuracy | accuracy | ECE | per source (balanced) |",
              "|---|---|---|---|---|---|---|"]
    for name, v in report["cross_validated"].items():
        per = "; ".join(f"{s} {p['balanced_accuracy']:.3f} (n={p['n']})" for s, p in v["per_source"].items())
        ece = f"{v['calibration']['ece']:.3f}" if "calibration" in v else "-"
        lines.append(f"| {name} | {v['n']} | {v['positives'] if v['positives'] is not None else '-'} | "
                     f"{v['balanced_accuracy']:.3f} | {v['accuracy']:.3f} | {ece} | {per} |")
    served = report.get("smile_served")
    if served:
        lines += ["", (f"smile as served (the emotion head's P(happiness) >= 0.5, no smile head): balanced "
                       f"{served['balanced_accuracy']:.3f} on the {served['n']} smile-labelled dev "
                       f"faces ({served['positives']} smiling)")]
    counted = {n: v for n, v in report["cross_validated"].items() if "unsure" in v}
    if counted:
        lines += ["", ("labels made for this project (one labeller; UTKFace dev rows, pool rows "
                       "train only):"), "",
                  ("| head | positives | negatives | unsure (left out) | no face | women: n, "
                   "balanced | men: n, answered yes |"), "|---|---|---|---|---|---|---|"]
        for name, v in counted.items():
            women, men = v["per_gender"].get("female"), v["per_gender"].get("male")
            lines.append(
                f"| {name} | {v['positives']} | {v['negatives']} | {v['unsure']} | {v['missed']} | "
                + (f"{women['n']}, {women['balanced_accuracy']:.3f}" if women else "-") + " | "
                + (f"{men['n']}, {men['answered_yes']}" if men else "-") + " |")
    hc = report["cross_validated"].get("hair_color")
    if hc:
        lines += ["", f"top hairColor equals the label: {hc['top_color_accuracy']:.3f} "
                  f"(always black: {hc['always_black']:.3f})"]
    lines += _glasses_lines(report)
    lines += _mask_lines(report)
    return "\n".join(lines)


def _wild_dir(args: argparse.Namespace) -> Path | None:
    """The mirror folder of the wild photos: --wild, else $ROSTRO_WILD (None: not measured)."""
    return Path(args.wild) if args.wild else settings().wild


def _glasses_lines(report: dict) -> list[str]:
    """The served three-way glasses answer (empty when the report has none)."""
    g = report.get("glasses")
    if not g:
        return []
    lines = ["", (f"glasses, the served answer (none / reading / sunglasses) on {g['n']} dev faces "
                  f"with a three-way label: accuracy {g['accuracy']:.3f}, balanced "
                  f"{g['balanced_accuracy']:.3f}; sunglasses precision "
                  f"{g['sunglasses_precision']:.3f}, recall {g['sunglasses_recall']:.3f}"), "",
             "| truth | " + " | ".join(g["classes"]) + " |", "|---" * 4 + "|"]
    for name, row in zip(g["classes"], g["confusion"]):
        lines.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
    return lines


def _run(args: argparse.Namespace) -> str:
    from rostro.config import rostro_home
    from rostro.evaluation.wild import WILD_LABELS, WildDataMissing, evaluate_wild, format_wild
    from rostro.vision.analyzer import open_analyzer

    if args.data is None and _wild_dir(args) is None:
        raise SystemExit("give --data (lab dev sets) and/or --wild (in-the-wild photos)")
    analyzer = open_analyzer()
    cache = None if args.no_cache else (args.cache or rostro_home() / "attribute-features")
    sections: list | None = [] if args.report else None
    report = (evaluate_attributes(args.data, analyzer, cache=cache, sections=sections)
              if args.data else {})
    tables = [format_report(report)] if report else []
    wild_dir = _wild_dir(args)
    if wild_dir is not None:
        try:
            report["wild"] = evaluate_wild(wild_dir, analyzer, args.wild_labels or WILD_LABELS,
                                           sections=sections)
        except WildDataMissing as err:
            # The photos live outside the repository; without them the lab figures still stand.
            log.warning("wild photos skipped: %s", err)
        else:
            tables.append(format_wild(report["wild"], report))
    text = publish(report, "\n\n".join(tables), args.json)
    if args.report:
        from rostro.evaluation.html_report import write_report

        text += f"\nHTML report written to {write_report(args.report, sections or [])}"
    return text


def add_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("attributes", help="face attributes on age_gender, emotion, "
                                   "glasses and face_attributes (dev)")
    parser.add_argument("--data", type=Path, help="the ../shared/eval folder (lab dev sets)")
    parser.add_argument("--wild", help="folder of git mirrors holding the in-the-wild photos "
                        "(rostro_training.wild.build; default $ROSTRO_WILD): adds the wild val "
                        "and test columns (rostro_training/labels/wild.csv)")
    parser.add_argument("--wild-labels", type=Path,
                        help="another label file in wild.csv's format (default "
                        "rostro_training/labels/wild.csv)")
    parser.add_argument("--json", help="also write the full report here")
    parser.add_argument("--cache", type=Path, help="feature cache folder "
                        "(default $ROSTRO_HOME/attribute-features)")
    parser.add_argument("--no-cache", action="store_true", help="recompute every feature")
    parser.add_argument("--report", type=Path, metavar="DIR", help="also write an HTML page "
                        "(DIR/index.html): confusion tables and the worst mistakes per attribute")
    parser.set_defaults(handler=_run)
