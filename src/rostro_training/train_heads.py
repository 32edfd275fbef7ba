"""Train the attribute heads shipped in src/rostro/vision/attributes/heads/.

    ROSTRO_HOME=... python -m rostro_training.train_heads --data ../shared/eval [--heads age,gender]

Reads only ../shared/eval (train_pool and the dev halves; never copies an image) and, for the
heads that also train on in-the-wild photos, the committed numbers of the wild train split
(rostro_training/labels/wild_train_features.npz, from python -m rostro_training.wild_features --export), runs the
engine's own feature code on every labelled face (rostro.vision.attributes.features), fits
each head with the recipe in rostro_training.headfit and writes heads/<name>.npz. The same
data gives the same weights (tests/test_attributes_heads.py checks it to 1e-6). Feature tables
are cached under $ROSTRO_HOME/attribute-features (never committed).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from rostro.config import rostro_home
from rostro.threads import limit_threads
from rostro.vision.analyzer import open_analyzer
from rostro.vision.attributes.heads import HEADS_DIR
from rostro_training import data_argument
from rostro_training.headfit import RECIPES, head_data, load_head_tables, train_head


def train(data: Path, heads: list[str], out: Path, cache: Path | None) -> list[Path]:
    analyzer = open_analyzer()
    tables = load_head_tables(analyzer, data, heads, cache)
    paths = []
    for name in heads:
        d = head_data(name, tables)
        head = train_head(d)
        paths.append(head.save(out))
        print(f"{name}: {len(d.y)} samples ({int(d.is_dev.sum())} dev), {d.x.shape[1]} features "
              f"-> {paths[-1]}")
    return paths


def main() -> int:
    limit_threads()  # one BLAS thread: deterministic fits, and polite on 2 cores
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_argument(parser)
    parser.add_argument("--heads", default=",".join(RECIPES), help="comma-separated head names")
    parser.add_argument("--out", type=Path, default=HEADS_DIR)
    parser.add_argument("--cache", type=Path, default=rostro_home() / "attribute-features")
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    train(args.data, args.heads.split(","), args.out, None if args.no_cache else args.cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
