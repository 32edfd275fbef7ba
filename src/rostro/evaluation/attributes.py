"""``rostro eval attributes --data DIR``: accuracy of the face attributes on labelled data.

Uses the ``../shared/eval`` layout (age_gender, emotion, glasses, face_attributes, train_pool).
Heads trained only on the train pool (age, gender, emotion) are measured as shipped on the
dev sets. Heads trained on dev rows (glasses, smile, facial hair, headwear, hair) are
measured by 5-fold cross-validation: each dev row's answer comes from the same recipe fitted
without that row's fold (``rostro.evaluation.headfit``). The shipped networks' own answers
are reported beside them as the baseline.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import numpy as np

from rostro.evaluation.headfit import (
    EMOTION_CLASSES,
    HAIR_CLASSES,
    RECIPES,
    FeatureTable,
    cross_validated_outputs,
    head_data,
    load_tables,
)
from rostro.vision.attributes.heads import load_head
from rostro.vision.attributes.nets import AGE_CLASS_YEARS, FER_CLASSES
from rostro.evaluation import publish

log = logging.getLogger(__name__)

AGE_BINS = ("0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+")
# Heads measured by cross-validation on dev rows, with the face_attributes label they answer.
CV_HEADS = ("sunglasses", "eyeglasses", "moustache", "beard", "smile", "headwear",
            "hair_color", "bald", "hair_invisible")


def _balanced(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean([np.mean(predicted[y == c] == c) for c in np.unique(y)]))


def _demographics(table: FeatureTable) -> dict:
    age_head, gender_head = load_head("age"), load_head("gender")
    found = table.found
    rows = [r for r, ok in zip(table.rows, found) if ok]
    true_age = np.array([float(r["age"]) for r in rows])
    male = np.array([r["gender"] == "male" for r in rows])
    bins = np.array([r["age_bin"] for r in rows])
    age = np.clip(age_head(table.matrix(age_head.features)[found]), 0, 100)
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
    head = load_head("emotion")
    found = table.found
    rows = [r for r, ok in zip(table.rows, found) if ok]
    keep = np.array([r["emotion"] in EMOTION_CLASSES for r in rows])
    truth = np.array([EMOTION_CLASSES.index(r["emotion"]) for r, k in zip(rows, keep) if k])
    sources = np.array([r["source"] for r, k in zip(rows, keep) if k])
    predicted = head(table.matrix(head.features)[found][keep]).argmax(axis=1)
    fer = np.exp(table.blocks["emo.logp"][found][keep])
    baseline = np.array([EMOTION_CLASSES.index(FER_CLASSES[i]) for i in fer.argmax(axis=1)])
    confusion = np.zeros((len(EMOTION_CLASSES), len(EMOTION_CLASSES)), dtype=int)
    for t, p in zip(truth, predicted):
        confusion[t, p] += 1
    labelled = sum(r["emotion"] in EMOTION_CLASSES for r in table.rows)
    return {
        "n": int(len(truth)), "missed": int(labelled - len(truth)),
        "accuracy": float((predicted == truth).mean()),
        "accuracy_counting_missed_as_wrong": float((predicted == truth).sum() / labelled),
        "baseline_fer_net": float((baseline == truth).mean()),
        "per_source": {s: {"n": int((sources == s).sum()),
                           "accuracy": float((predicted == truth)[sources == s].mean()),
                           "baseline": float((baseline == truth)[sources == s].mean())}
                       for s in sorted(set(sources))},
        "classes": list(EMOTION_CLASSES),
        "confusion": confusion.tolist(),
    }


def _cross_validated(tables: dict[str, FeatureTable]) -> dict:
    report = {}
    for name in CV_HEADS:
        data = head_data(name, tables)
        outputs = cross_validated_outputs(RECIPES[name], data.x, data.y, data.is_dev)
        y = data.y[data.is_dev]
        rows = [r for r, dev in zip(data.rows, data.is_dev) if dev]
        if RECIPES[name].link == "softmax":
            predicted = outputs.argmax(axis=1)
        else:
            predicted = (outputs >= 0.5).astype(int)
        entry = {"n": int(len(y)), "positives": int(y.sum()) if predicted.ndim == 1 and
                 RECIPES[name].link == "sigmoid" else None,
                 "balanced_accuracy": _balanced(y, predicted),
                 "accuracy": float((predicted == y).mean()), "per_source": {}}
        sources = np.array([f"{table}:{row['source']}" for table, row in rows])
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
        report[name] = entry
    return report


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


def evaluate_attributes(data: Path, analyzer=None, cache: Path | None = None) -> dict:
    """Measure every attribute head on the dev sets under ``data``; return a plain dict."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if analyzer is None:
        from rostro.vision.analyzer import open_analyzer

        analyzer = open_analyzer()
    names = ["age_gender", "emotion", "glasses", "face_attributes"]
    tables = load_tables(analyzer, data, names, cache)
    return {
        "age_gender": _demographics(tables["age_gender"]),
        "emotion": _emotion(tables["emotion"]),
        "cross_validated": _cross_validated(tables),
    }


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
              f"FER net alone {em['baseline_fer_net']:.3f})", "",
              "| source | n | accuracy | FER net alone |", "|---|---|---|---|"]
    for s, v in em["per_source"].items():
        lines.append(f"| {s} | {v['n']} | {v['accuracy']:.3f} | {v['baseline']:.3f} |")
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
    hc = report["cross_validated"].get("hair_color")
    if hc:
        lines += ["", f"top hairColor equals the label: {hc['top_color_accuracy']:.3f} "
                  f"(always black: {hc['always_black']:.3f})"]
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    from rostro.config import rostro_home

    cache = None if args.no_cache else (args.cache or rostro_home() / "attribute-features")
    report = evaluate_attributes(args.data, cache=cache)
    publish(report, format_report(report), args.json)
    return 0


def add_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("attributes", help="face attributes on age_gender, emotion, "
                                   "glasses and face_attributes (dev)")
    parser.add_argument("--data", type=Path, required=True, help="the ../shared/eval folder")
    parser.add_argument("--json", help="also write the full report here")
    parser.add_argument("--cache", type=Path, help="feature cache folder "
                        "(default $ROSTRO_HOME/attribute-features)")
    parser.add_argument("--no-cache", action="store_true", help="recompute every feature")
    parser.set_defaults(handler=_run)
