"""Choose the glasses heads' features and the sunglasses threshold on lab dev + wild val.

    ROSTRO_HOME=... python -m rostro_training.select_glasses --data ../shared/eval [--train-cv] [--test]

The wild tables are those ``rostro_training.wild_glasses --tight`` lays out under
``$ROSTRO_HOME/wild-glasses``: the wild set's faces and the glasses extension's
(``labels/glasses_new.csv``), train / val / test, plus tight-crop copies of the faces without
sunglasses (in the train table as augmentation; the val and test copies in tables of their
own, answered only, to show whether a head took "black beyond the photo's edge" for
sunglasses: most sunglasses faces are tight crops of one source, ``wild_glasses.TIGHT_SOURCES``).

For each candidate recipe of the sunglasses and eyeglasses heads (``CANDIDATES``) it prints,
never touching the wild test split unless ``--test`` is given (and then only to report,
after the choice is made):

* lab dev: the cross-validated outputs of ``rostro eval attributes`` (the glasses set and
  face_attributes; the wild train rows are in every fold's training set), and the glasses set
  accuracy (the lab bar, >= 0.95);
* wild train (``--train-cv``): grouped 5-fold cross-validation over the wild train faces (a
  person's or session's faces, and a face's tight copy, share a fold; lab rows always train);
* wild val: the head fitted on every training row answering the val faces, pooled, per
  source, on the natural-context sources alone (every source but the tight crops), and the
  false alarms on the val faces' tight copies.

Then the sunglasses thresholds on lab dev + wild val together (the lowest with precision >=
0.95, the best F1) and the served three-way answer (``glasses.glasses_decision``) on wild val
(and test), per source, with thick frames counted apart. The chosen recipe goes into
``headfit.RECIPES`` and the threshold into ``glasses.SUNGLASSES_THRESHOLD`` by hand (with the
numbers this prints, in docs/attributes.md).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from rostro.config import rostro_home
from rostro.evaluation.metrics import wilson_interval
from rostro.evaluation.wild import score_pairs
from rostro.threads import limit_threads
from rostro.vision.analyzer import open_analyzer
from rostro_training import LABELS_DIR, data_argument
from rostro_training.headfit import (
    RECIPES,
    FeatureTable,
    cross_validated_outputs,
    fit_head,
    head_data,
    load_tables,
    target,
)
from rostro_training.wild_glasses import LABELS, TIGHT_SOURCES, TIGHT_SUFFIX

# Every block a candidate reads (the wild tables are extracted with these only).
WILD_BLOCKS = ("fr.descriptor", "lenses", "regions")
_FRL = ("fr.descriptor", "regions", "lenses")
# Candidate recipes: (blocks, other Recipe fields).
CANDIDATES: dict[str, tuple[tuple[tuple[str, ...], dict[str, Any]], ...]] = {
    "sunglasses": ((("regions.gray",), {}), (("regions.gray", "lenses.gray"), {}),
                   (("regions", "lenses"), {}),
                   (("fr.descriptor", "regions"), {}), (_FRL, {}),
                   (("fr.descriptor", "regions.gray", "lenses.gray"), {}),
                   (_FRL, {"components": 128})),
    "eyeglasses": ((("fr.descriptor", "regions"), {}), (_FRL, {})),
}
PRECISION_FLOOR = 0.95
THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.05, 0.951, 0.05))


def natural(row: dict[str, str]) -> bool:
    """Whether a wild face comes from a natural-context source (not a tight crop, not a copy)."""
    return row["source"] not in TIGHT_SOURCES and not row["source"].endswith(TIGHT_SUFFIX)


def without_tight(table: FeatureTable) -> FeatureTable:
    """``table`` without its tight-crop copies (training without the augmentation)."""
    keep = np.array([not r["source"].endswith(TIGHT_SUFFIX) for r in table.rows])
    return FeatureTable([r for r, k in zip(table.rows, keep) if k], table.found[keep],
                        {name: values[keep] for name, values in table.blocks.items()})


def thick_frames() -> dict[str, str]:
    """face_id -> thick_frame ("1" / "0") of the glasses extension's faces."""
    path = LABELS_DIR / "glasses_new.csv"
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {r["face_id"]: r.get("thick_frame", "") for r in csv.DictReader(handle)}


def answered(tables, head: str, recipe, name: str):
    """(labels, outputs, rows) of the faces of wild table ``name``, from ``recipe`` fitted on
    every training row of ``head``."""
    if name not in tables:
        return np.zeros(0, int), np.zeros(0), []
    data = head_data(head, tables)
    model = fit_head(recipe, data.x, data.y, groups=data.groups)
    table = tables[name]
    keep = [i for i, row in enumerate(table.rows)
            if table.found[i] and target(head, name, row) is not None]
    y = np.array([target(head, name, table.rows[i]) for i in keep], dtype=int)
    return y, np.asarray(model(table.matrix(recipe.blocks)[keep]), dtype=float), \
        [table.rows[i] for i in keep]


def cross_validated(tables, head: str, recipe, wild: bool):
    """(labels, cross-validated outputs, sources) of the lab dev rows (``wild`` False), as the
    evaluation scores them, or of the wild train faces (``wild`` True; grouped folds, lab
    rows always train, tight copies scored apart by their source)."""
    data = head_data(head, tables)
    is_scored = (np.array([t == "wild_glasses_train" for t, _ in data.rows]) if wild
                 else data.is_dev)
    outputs = cross_validated_outputs(recipe, data.x, data.y, is_scored, groups=data.groups)
    sources = [f"{t}:{r.get('source', '')}" for (t, r), s in zip(data.rows, is_scored) if s]
    return data.y[is_scored], np.asarray(outputs, dtype=float), sources


def counts(y: np.ndarray, p: np.ndarray, threshold: float) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) at ``threshold``."""
    said = p >= threshold
    return (int((said & (y == 1)).sum()), int((said & (y == 0)).sum()),
            int((~said & (y == 1)).sum()))


def summary(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> str:
    """n, positives, balanced accuracy, precision and recall (95 % Wilson intervals)."""
    if not len(y):
        return "-"
    tp, fp, fn = counts(y, p, threshold)
    said = (p >= threshold).astype(int)
    balanced = np.mean([np.mean(said[y == c] == c) for c in np.unique(y)])
    plo, phi = wilson_interval(tp, tp + fp)
    rlo, rhi = wilson_interval(tp, tp + fn)
    precision = f"{tp / (tp + fp):.3f}" if tp + fp else "-"
    recall = f"{tp / (tp + fn):.3f}" if tp + fn else "-"
    return (f"n={len(y)} pos={int(y.sum())} balanced {balanced:.3f} precision {precision} "
            f"[{plo:.2f}, {phi:.2f}] recall {recall} [{rlo:.2f}, {rhi:.2f}] "
            f"(tp {tp} fp {fp} fn {fn})")


def pick_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The lowest threshold (0.05 steps) with precision >= PRECISION_FLOOR on (y, p)."""
    for threshold in THRESHOLDS:
        tp, fp, _ = counts(y, p, threshold)
        if tp + fp and tp / (tp + fp) >= PRECISION_FLOOR:
            return threshold
    return THRESHOLDS[-1]


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The threshold (0.05 steps) with the best F1 on (y, p); the lowest of ties."""
    def f1(threshold: float) -> float:
        tp, fp, fn = counts(y, p, threshold)
        return 2 * tp / max(2 * tp + fp + fn, 1)
    return max(THRESHOLDS, key=lambda t: (f1(t), -t))


def by_source(y: np.ndarray, p: np.ndarray, sources: list[str], threshold: float) -> list[str]:
    """One summary line per source, then the natural-context sources together."""
    sources_array = np.array(sources)
    lines = [f"    {s}: {summary(y[sources_array == s], p[sources_array == s], threshold)}"
             for s in sorted(set(sources))]
    nat = np.array([natural({"source": s.split(":", 1)[-1]}) for s in sources])
    lines.append(f"    natural-context sources: {summary(y[nat], p[nat], threshold)}")
    return lines


def served_outputs(tables, name: str, recipes: dict) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """(rows, P(sun), P(eye)) of every found face of wild table ``name`` from ``recipes``
    fitted on every training row."""
    table = tables[name]
    keep = [i for i, found in enumerate(table.found) if found and table.rows[i]["glasses"] in LABELS]
    outputs = []
    for head in ("sunglasses", "eyeglasses"):
        RECIPES[head] = recipes[head]
        data = head_data(head, tables)
        model = fit_head(recipes[head], data.x, data.y, groups=data.groups)
        outputs.append(model(table.matrix(recipes[head].blocks)[keep]))
    return [table.rows[i] for i in keep], outputs[0], outputs[1]


def three_way(rows: list[dict], p_sun: np.ndarray, p_eye: np.ndarray, title: str) -> str:
    """The served answer against the three-way labels: pooled with 95 % intervals, per
    source, and how the thick-frame eyeglasses were answered."""
    from rostro.vision.attributes.glasses import glasses_decision

    names = {"none": "none", "reading": "eyeglasses", "sunglasses": "sunglasses"}
    answers = [names[glasses_decision(float(s), float(e))] for s, e in zip(p_sun, p_eye)]
    labels = [r["glasses"] for r in rows]

    def scores(keep: list[int]) -> dict:
        pairs = {"glasses": [(labels[k], answers[k]) for k in keep],
                 "sunglasses": [("1" if labels[k] == "sunglasses" else "0",
                                 "1" if answers[k] == "sunglasses" else "0") for k in keep],
                 "eyeglasses": [("1" if labels[k] == "eyeglasses" else "0",
                                 "1" if answers[k] == "eyeglasses" else "0")
                                for k in keep if labels[k] != "sunglasses"]}
        return {m: score_pairs(v, m != "glasses") for m, v in pairs.items() if v}

    def line(name: str, keep: list[int]) -> str:
        s = scores(keep)
        parts = [f"{name}: n={len(keep)}"]
        if "glasses" in s:
            parts.append(f"3-way accuracy {s['glasses']['accuracy']:.3f}")
        sun = s.get("sunglasses", {})
        if sun:
            lo, hi = sun["precision_ci"]
            rlo, rhi = sun["recall_ci"]
            parts.append(f"sunglasses P {sun['true_positives']}/{sun['answered_yes']} "
                         f"[{lo:.2f}, {hi:.2f}] R {sun['true_positives']}/{sun['positives']} "
                         f"[{rlo:.2f}, {rhi:.2f}]")
        eye = s.get("eyeglasses", {})
        if eye and "balanced" in eye:
            lo, hi = eye["balanced_ci"]
            parts.append(f"eyeglasses balanced {eye['balanced']:.3f} [{lo:.2f}, {hi:.2f}] "
                         f"({eye['positives']} pos. of {eye['n']})")
        return "; ".join(parts)

    everything = list(range(len(rows)))
    out = [f"{title}: served three-way answer", "  " + line("all", everything)]
    out.append("  " + line("natural-context sources", [k for k in everything if natural(rows[k])]))
    for source in sorted({r["source"] for r in rows}):
        out.append("    " + line(source, [k for k in everything if rows[k]["source"] == source]))
    classes = ("none", "eyeglasses", "sunglasses")
    out += ["  | label | " + " | ".join(classes) + " |", "  |---|---|---|---|"]
    for c in classes:
        out.append(f"  | {c} | " + " | ".join(
            str(sum(1 for lab, a in zip(labels, answers) if lab == c and a == d)) for d in classes)
            + " |")
    thick = thick_frames()
    framed = [k for k in everything if labels[k] == "eyeglasses" and thick.get(rows[k]["face_id"]) == "1"]
    said = {c: sum(answers[k] == c for k in framed) for c in classes}
    out.append(f"  thick-frame eyeglasses (glasses_new.csv): {len(framed)}, answered {said}")
    return "\n".join(out)


def main() -> int:
    limit_threads()  # one BLAS thread: deterministic fits, and polite on 2 cores
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_argument(parser)
    parser.add_argument("--cache", type=Path, default=rostro_home() / "attribute-features")
    parser.add_argument("--heads", default="sunglasses,eyeglasses")
    parser.add_argument("--only", type=int, nargs="*", help="candidate numbers to run (default all)")
    parser.add_argument("--train-cv", action="store_true",
                        help="also cross-validate over the wild train faces (slow)")
    parser.add_argument("--no-tight", action="store_true",
                        help="train without the tight-crop copies (to measure the augmentation)")
    parser.add_argument("--test", action="store_true", help="also report the wild test split")
    parser.add_argument("--served-only", action="store_true",
                        help="only the served three-way answer of the recipes in headfit.RECIPES")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    analyzer = open_analyzer()
    tables = load_tables(analyzer, args.data, ["glasses", "face_attributes"], args.cache)
    splits = ("val", "test") if args.test else ("val",)
    wild = ["wild_glasses_train"] + [f"wild_glasses_{s}{t}" for s in splits for t in ("", "_tight")]
    tables.update(load_tables(analyzer, args.data, wild, args.cache, WILD_BLOCKS))
    if args.no_tight:
        tables["wild_glasses_train"] = without_tight(tables["wild_glasses_train"])
    for head in [] if args.served_only else args.heads.split(","):
        shipped = RECIPES[head]
        for k, (blocks, overrides) in enumerate(CANDIDATES[head]):
            if args.only and k not in args.only:
                continue
            recipe = dataclasses.replace(shipped, blocks=blocks, **overrides)
            RECIPES[head] = recipe  # head_data reads the recipe's blocks from RECIPES
            print(f"{head} #{k} {'+'.join(blocks)} {overrides or ''}", flush=True)
            y_lab, p_lab, lab_sources = cross_validated(tables, head, recipe, wild=False)
            print(f"  lab dev (cv)  @0.5: {summary(y_lab, p_lab)}")
            if head == "sunglasses":
                on_set = np.array([s.startswith("glasses:") for s in lab_sources])
                accuracy = float(((p_lab >= 0.5) == y_lab)[on_set].mean())
                print(f"  glasses set accuracy @0.5 (lab bar >= 0.95): {accuracy:.3f}")
            if args.train_cv:
                y_tr, p_tr, tr_sources = cross_validated(tables, head, recipe, wild=True)
                print(f"  wild train (grouped cv) @0.5: {summary(y_tr, p_tr)}")
                print("\n".join(by_source(y_tr, p_tr, [s.split(":", 1)[1] for s in tr_sources], 0.5)))
            y_val, p_val, rows = answered(tables, head, recipe, "wild_glasses_val")
            y_tight, p_tight, _ = answered(tables, head, recipe, "wild_glasses_val_tight")
            negatives = p_tight[y_tight == 0]  # the copies of faces without sunglasses
            print(f"  wild val      @0.5: {summary(y_val, p_val)}")
            print("\n".join(by_source(y_val, p_val, [r["source"] for r in rows], 0.5)))
            if head == "sunglasses":
                both = np.concatenate([y_lab, y_val]), np.concatenate([p_lab, p_val])
                nat = np.array([natural(r) for r in rows])
                for name, threshold in (("precision >= 0.95", pick_threshold(*both)),
                                        ("best F1", best_f1_threshold(*both))):
                    print(f"  threshold ({name} on lab dev + wild val): {threshold}")
                    print(f"    lab dev (cv): {summary(y_lab, p_lab, threshold)}")
                    print(f"    glasses set accuracy: "
                          f"{float(((p_lab >= threshold) == y_lab)[on_set].mean()):.3f}")
                    print(f"    wild val: {summary(y_val, p_val, threshold)}")
                    print(f"    wild val, natural-context sources: "
                          f"{summary(y_val[nat], p_val[nat], threshold)}")
                    print(f"    val tight copies without sunglasses answered sunglasses: "
                          f"{int((negatives >= threshold).sum())} of {len(negatives)}")
                for threshold in THRESHOLDS[8:]:
                    tp, fp, fn = counts(y_val, p_val, threshold)
                    ntp, nfp, nfn = counts(y_val[nat], p_val[nat], threshold)
                    ltp, lfp, lfn = counts(y_lab, p_lab, threshold)
                    print(f"    @{threshold}: val tp/fp/fn {tp}/{fp}/{fn}, natural {ntp}/{nfp}/{nfn}, "
                          f"lab {ltp}/{lfp}/{lfn}, tight fp {int((negatives >= threshold).sum())}")
            else:
                print(f"  val tight copies: {summary(y_tight, p_tight)}")
            if args.test:
                y_test, p_test, _ = answered(tables, head, recipe, "wild_glasses_test")
                print(f"  wild test     @0.5: {summary(y_test, p_test)}")
        RECIPES[head] = shipped
    from rostro.vision.attributes.glasses import SUNGLASSES_THRESHOLD

    recipes = {h: RECIPES[h] for h in ("sunglasses", "eyeglasses")}
    for split in splits:
        for suffix in ("", "_tight"):
            name = f"wild_glasses_{split}{suffix}"
            print(three_way(*served_outputs(tables, name, recipes),
                            f"wild {split}{suffix} (sunglasses threshold {SUNGLASSES_THRESHOLD})"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
