"""Choose the glasses heads' features and the sunglasses threshold on lab dev + wild val.

    ROSTRO_HOME=... python -m rostro_training.select_glasses --data ../shared/eval [--test]

For each candidate block set of the sunglasses and eyeglasses heads (``CANDIDATES``) it
measures two columns, never the wild test split unless ``--test`` is given (and then only to
report, after the choice is made):

* lab dev: the cross-validated outputs of ``rostro eval attributes`` (the glasses set and
  face_attributes; wild train rows are in every fold's training set);
* wild val: the head fitted on every training row (lab rows + wild train) answering the wild
  val faces it never saw (``rostro_training/wild_glasses.py`` lays them out).

Then it shows two sunglasses thresholds on lab dev and wild val together: the lowest whose
precision is >= 0.95, and the one with the best F1. The chosen
recipe goes into ``headfit.RECIPES`` and the threshold into
``rostro.vision.attributes.glasses.SUNGLASSES_THRESHOLD`` by hand (with the numbers this
prints, in docs/attributes.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from rostro.config import rostro_home
from rostro.threads import limit_threads
from rostro.vision.analyzer import open_analyzer
from rostro_training import data_argument
from rostro_training.headfit import (
    RECIPES,
    cross_validated_outputs,
    fit_head,
    head_data,
    load_tables,
    target,
)

_FR = ("fr.descriptor", "regions.gray", "lenses.gray")
# Candidate recipes: (blocks, other Recipe fields). The shipped ones: sunglasses number 1,
# eyeglasses number 0.
CANDIDATES: dict[str, tuple[tuple[tuple[str, ...], dict[str, Any]], ...]] = {
    "sunglasses": ((("regions.gray",), {}), (("regions.gray", "lenses.gray"), {}),
                   (("regions.gray", "lenses"), {}), (("lenses",), {}),
                   (("fr.descriptor", "regions.gray", "lenses"), {}), (_FR, {}),
                   (("fr.descriptor", "regions", "lenses"), {}),
                   (_FR, {"components": 64}), (_FR, {"components": 128}),
                   (("fr.descriptor", "regions.gray", "lenses"), {"components": 192}),
                   (_FR, {"l2_grid": (1000.0, 10000.0, 100000.0)})),
    "eyeglasses": ((("fr.descriptor", "regions"), {}), (("fr.descriptor", "regions", "lenses"), {})),
}
PRECISION_FLOOR = 0.95


def _balanced(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean([np.mean(predicted[y == c] == c) for c in np.unique(y)]))


def answered(tables, head: str, recipe, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(labels, outputs) of the wild ``split`` faces, from ``recipe`` fitted on every
    training row of ``head``."""
    name = f"wild_{split}"
    if name not in tables:
        return np.zeros(0, int), np.zeros(0)
    data = head_data(head, tables)
    model = fit_head(recipe, data.x, data.y)
    table = tables[name]
    keep = [i for i, row in enumerate(table.rows)
            if table.found[i] and target(head, name, row) is not None]
    y = np.array([target(head, name, table.rows[i]) for i in keep], dtype=int)
    return y, np.asarray(model(table.matrix(recipe.blocks)[keep]), dtype=float)


def lab_cv(tables, head: str, recipe) -> tuple[np.ndarray, np.ndarray]:
    """(labels, cross-validated outputs) of the lab dev rows, as the evaluation scores them."""
    data = head_data(head, tables)
    outputs = cross_validated_outputs(recipe, data.x, data.y, data.is_dev)
    return data.y[data.is_dev], np.asarray(outputs, dtype=float)


def summary(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> str:
    if not len(y):
        return "-"
    said = p >= threshold
    tp, fp, fn = int((said & (y == 1)).sum()), int((said & (y == 0)).sum()), int((~said & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    return (f"n={len(y)} pos={int(y.sum())} balanced {_balanced(y, said.astype(int)):.3f} "
            f"precision {precision:.3f} recall {recall:.3f} (tp {tp} fp {fp} fn {fn})")


def pick_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The lowest threshold (0.05 steps) with precision >= PRECISION_FLOOR on (y, p)."""
    for threshold in np.arange(0.05, 0.951, 0.05):
        said = p >= threshold
        if said.any() and (y[said] == 1).mean() >= PRECISION_FLOOR:
            return float(round(threshold, 2))
    return 0.95


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The threshold (0.05 steps) with the best F1 on (y, p); the lowest of ties."""
    def f1(threshold: float) -> float:
        said = p >= threshold
        tp = float((said & (y == 1)).sum())
        return 2 * tp / max(float(said.sum() + (y == 1).sum()), 1.0)
    grid = [round(float(t), 2) for t in np.arange(0.05, 0.951, 0.05)]
    return max(grid, key=lambda t: (f1(t), -t))


def three_way(tables, split: str) -> str:
    """The served answer (glasses_decision on both shipped recipes, fitted on every training
    row) against the three-way labels of the wild ``split``: a confusion table."""
    from rostro.vision.attributes.glasses import glasses_decision

    table = tables[f"wild_{split}"]
    keep = [i for i, found in enumerate(table.found) if found]
    outputs = {}
    for head in ("sunglasses", "eyeglasses"):
        data = head_data(head, tables)
        model = fit_head(RECIPES[head], data.x, data.y)
        outputs[head] = model(table.matrix(RECIPES[head].blocks)[keep])
    classes = ("none", "eyeglasses", "sunglasses")
    answer_names = {"none": "none", "reading": "eyeglasses", "sunglasses": "sunglasses"}
    counts = np.zeros((3, 3), dtype=int)
    for j, i in enumerate(keep):
        answer = answer_names[glasses_decision(float(outputs["sunglasses"][j]),
                                               float(outputs["eyeglasses"][j]))]
        counts[classes.index(table.rows[i]["glasses"]), classes.index(answer)] += 1
    right = np.trace(counts)
    lines = [f"wild {split}: served three-way answer, {counts.sum()} faces, accuracy "
             f"{right / counts.sum():.3f}", "| label | " + " | ".join(classes) + " |",
             "|---" * 4 + "|"]
    lines += [f"| {c} | " + " | ".join(str(v) for v in row) + " |" for c, row in zip(classes, counts)]
    return "\n".join(lines)


def main() -> int:
    limit_threads()  # one BLAS thread: deterministic fits, and polite on 2 cores
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_argument(parser)
    parser.add_argument("--cache", type=Path, default=rostro_home() / "attribute-features")
    parser.add_argument("--heads", default="sunglasses,eyeglasses")
    parser.add_argument("--only", type=int, nargs="*", help="candidate numbers to run (default all)")
    parser.add_argument("--test", action="store_true", help="also report the wild test split")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    names = ["glasses", "face_attributes", "wild_glasses_train", "wild_glasses_val"]
    names += ["wild_glasses_test"] if args.test else []
    tables = load_tables(open_analyzer(), args.data, names, args.cache)
    for head in args.heads.split(","):
        shipped = RECIPES[head]
        for k, (blocks, overrides) in enumerate(CANDIDATES[head]):
            if args.only and k not in args.only:
                continue
            recipe = dataclasses.replace(shipped, blocks=blocks, **overrides)
            RECIPES[head] = recipe  # head_data reads the recipe's blocks from RECIPES
            y_lab, p_lab = lab_cv(tables, head, recipe)
            y_val, p_val = answered(tables, head, recipe, "val")
            print(f"{head} #{k} {'+'.join(blocks)} {overrides or ''}")
            print(f"  lab dev (cv)  @0.5: {summary(y_lab, p_lab)}")
            if head == "sunglasses":
                data = head_data(head, tables)
                on_set = np.array([t == "glasses" for t, dev in zip(
                    (t for t, _ in data.rows), data.is_dev) if dev])
                accuracy = float(((p_lab >= 0.5) == y_lab)[on_set].mean())
                print(f"  glasses set accuracy (lab bar >= 0.95): {accuracy:.3f}")
            print(f"  wild val      @0.5: {summary(y_val, p_val)}")
            if head == "sunglasses":
                threshold = pick_threshold(np.concatenate([y_lab, y_val]), np.concatenate([p_lab, p_val]))
                print(f"  threshold for precision >= {PRECISION_FLOOR} on lab dev + wild val: {threshold}")
                print(f"  lab dev (cv)  @{threshold}: {summary(y_lab, p_lab, threshold)}")
                print(f"  wild val      @{threshold}: {summary(y_val, p_val, threshold)}")
                both = np.concatenate([y_lab, y_val]), np.concatenate([p_lab, p_val])
                best = best_f1_threshold(*both)
                print(f"  best F1 threshold on lab dev + wild val: {best}")
                print(f"  lab dev (cv)  @{best}: {summary(y_lab, p_lab, best)}")
                print(f"  wild val      @{best}: {summary(y_val, p_val, best)}")
            if args.test:
                y_test, p_test = answered(tables, head, recipe, "test")
                print(f"  wild test     @0.5: {summary(y_test, p_test)}")
        RECIPES[head] = shipped
    for split in ("val", "test") if args.test else ("val",):
        print(three_way(tables, split))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
