"""``rostro eval KIND --data DIR``: measure the engine on labelled data.

Each evaluation module in ``rostro.evaluation`` registers one subcommand through its own
``add_command(subparsers)``.
"""

from __future__ import annotations

import argparse

from rostro.cli import modules

EVALUATIONS = (
    "rostro.evaluation.detection",
    "rostro.evaluation.verification",
    "rostro.evaluation.identification",
    "rostro.evaluation.attributes",
    "rostro.evaluation.quality",
)


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("eval", help="measure accuracy on labelled data (../shared/eval layout)")
    sub = parser.add_subparsers(dest="eval_command", required=True, metavar="KIND")
    for module in modules(EVALUATIONS):
        module.add_command(sub)
