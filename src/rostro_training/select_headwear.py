"""Choose the headwear threshold on lab dev + both wild val sets, and report the served head.

    ROSTRO_HOME=... python -m rostro_training.select_headwear --data ../shared/eval --mirror /work/.mirror [--test]

Outputs of the shipped headwear recipe (``headfit.RECIPES["headwear"]``):

* lab dev: cross-validated, as ``rostro eval attributes`` computes them (face_attributes; the
  street-fashion and wild train rows are in every fold's training set);
* wild val: the shipped head (``heads/headwear.npz``) on the detected face matching each
  labelled box (``rostro.evaluation.wild``), for the two label files that hold headwear
  labels (``WILD_SETS``: the first round's wild.csv and the second glasses batch's);
  ``--test`` adds their test splits, reported only, after the choice.

For each threshold of ``THRESHOLDS`` it prints the balanced accuracy (true positive and true
negative rates) per set, and picks the one with the best mean of the three balanced
accuracies (the lowest of ties): every set counts once, whatever its size. The pick goes into
``accessories.HEADWEAR_THRESHOLD`` by hand (with the numbers, in docs/attributes.md).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from rostro.config import rostro_home
from rostro.evaluation.wild import load_items, matching_detection, read_wild_labels
from rostro.threads import limit_threads
from rostro.vision.analyzer import open_analyzer
from rostro.vision.attributes.accessories import HEADWEAR_THRESHOLD
from rostro.vision.attributes.features import head_output
from rostro.vision.types import Face
from rostro_training import LABELS_DIR, data_argument
from rostro_training.headfit import RECIPES, cross_validated_outputs, head_data, load_head_tables

log = logging.getLogger("select_headwear")

WILD_SETS = {"wild.csv": LABELS_DIR / "wild.csv",
             "batch 2": LABELS_DIR / "batch2_headwear_facialhair.csv"}
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.30, 0.901, 0.05))


def lab_outputs(analyzer, data: Path, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """(labels, cross-validated P(headwear)) of the lab dev rows."""
    tables = load_head_tables(analyzer, data, ["headwear"], cache)
    d = head_data("headwear", tables)
    outputs = cross_validated_outputs(RECIPES["headwear"], d.x, d.y, d.is_dev, groups=d.groups)
    return d.y[d.is_dev], np.ravel(outputs)


def wild_outputs(analyzer, mirror: Path, labels: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(labels, the shipped head's P(headwear)) of the faces of ``split`` labelled 0 or 1
    whose box the detector finds (``matching_detection``, as the wild evaluation matches)."""
    rows = [r for r in read_wild_labels(labels) if r.get("headwear") in ("0", "1")]
    ys, ps = [], []
    for _, image, box, row in load_items(mirror, rows, (split,)):
        best = matching_detection(analyzer.detect(image), box)
        if best is None:
            continue
        ctx = analyzer.attributes.context(image, Face(detection=best))
        ys.append(int(row["headwear"]))
        ps.append(float(head_output(ctx, "headwear")))
    return np.array(ys), np.array(ps)


def rates(y: np.ndarray, p: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """(balanced accuracy, true positive rate, true negative rate) at ``threshold``."""
    said = p >= threshold
    tpr, tnr = float(said[y == 1].mean()), float((~said[y == 0]).mean())
    return (tpr + tnr) / 2, tpr, tnr


def sweep(sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> float:
    """Print the balanced accuracy of every set at every threshold; return the pick."""
    print("threshold  mean  " + "  ".join(f"{name} (n, pos.: bal tpr/tnr)" for name in sets))
    means = []
    for t in THRESHOLDS:
        cells = [rates(y, p, t) for y, p in sets.values()]
        means.append(float(np.mean([c[0] for c in cells])))
        print(f"{t:.2f}  {means[-1]:.3f}  " + "  ".join(
            f"{b:.3f} ({tpr:.2f}/{tnr:.2f})" for b, tpr, tnr in cells))
    return THRESHOLDS[int(np.argmax(means))]


def main(argv: list[str] | None = None) -> int:
    limit_threads()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_argument(parser)
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"),
                        help="git mirrors of the wild photos (rostro_training.wild.build)")
    parser.add_argument("--cache", type=Path, default=rostro_home() / "attribute-features")
    parser.add_argument("--test", action="store_true", help="also report the test splits")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    analyzer = open_analyzer()
    sets = {"lab dev (CV)": lab_outputs(analyzer, args.data, args.cache)}
    for name, labels in WILD_SETS.items():
        sets[f"{name} val"] = wild_outputs(analyzer, args.mirror, labels, "val")
    for name, (y, _) in sets.items():
        print(f"{name}: n={len(y)}, {int(y.sum())} with headwear")
    pick = sweep(sets)
    print(f"best mean: {pick:.2f}; served (accessories.HEADWEAR_THRESHOLD): {HEADWEAR_THRESHOLD:.2f}")
    if args.test:
        tests = {f"{name} test": wild_outputs(analyzer, args.mirror, labels, "test")
                 for name, labels in WILD_SETS.items()}
        for name, (y, p) in tests.items():
            b, tpr, tnr = rates(y, p, HEADWEAR_THRESHOLD)
            print(f"{name}: n={len(y)}, {int(y.sum())} with headwear: balanced {b:.3f} "
                  f"(tpr {tpr:.3f}, tnr {tnr:.3f}) at {HEADWEAR_THRESHOLD:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
