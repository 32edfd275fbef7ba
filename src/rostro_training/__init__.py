"""Training the attribute heads, and the labels made for this project (not the runtime).

Nothing under ``rostro`` imports this package, except ``rostro.evaluation``, which measures
the heads trained on dev rows by refitting their recipe (``headfit``) and reads our labels;
it does so only once ``rostro eval attributes`` runs, so ``rostro serve``, ``rostro detect``
and the rest of the runtime never load it (tests/test_layout.py, tests/test_wheel.py). It
ships in the same wheel so that ``rostro eval attributes`` answers the same from a wheel as
from a source checkout. This package may import ``rostro``.

    headfit          recipes, label tables, feature extraction, fitting, cross-validation
    train_heads      writes the shipped heads (python -m rostro_training.train_heads)
    select_glasses, wild_features, wild_glasses, wild_heads   issue 12's in-the-wild work
    wild/            the in-the-wild set's builder, labelling guide and label merger
    labels/          our label tables (package data; labels/README.md)
"""

from __future__ import annotations

import argparse
from pathlib import Path

# Our label tables (package data, so an installed wheel reads the same files as a checkout).
LABELS_DIR = Path(__file__).resolve().parent / "labels"


def checkout() -> Path | None:
    """The source checkout this package runs from, or None when it is installed (a wheel)."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else None


def data_argument(parser: argparse.ArgumentParser,
                  help_text: str = "the ../shared/eval folder (lab data)") -> None:
    """Add ``--data`` to a training script's ``parser``: the lab data beside the source checkout
    (``../shared/eval``) by default; required when there is no checkout or no such folder."""
    root = checkout()
    default = root.parent / "shared" / "eval" if root is not None else None
    if default is not None and not default.is_dir():
        default = None
    parser.add_argument("--data", type=Path, default=default, required=default is None,
                        help=help_text + (f" (default {default})" if default else ""))
