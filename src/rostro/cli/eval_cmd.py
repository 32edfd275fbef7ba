"""``rostro eval KIND --data DIR``: measure the engine on labelled data.

Each evaluation module in ``EVALUATIONS`` adds one subcommand through its own
``add_command(subparsers)``.
"""

from __future__ import annotations

import argparse

from rostro.evaluation import attribute_accuracy, detection, identification, quality, verification

EVALUATIONS = (detection, verification, identification, attribute_accuracy, quality)


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("eval", help="measure accuracy on labelled data (../shared/eval layout)")
    sub = parser.add_subparsers(dest="eval_command", required=True, metavar="KIND")
    for module in EVALUATIONS:
        module.add_command(sub)
