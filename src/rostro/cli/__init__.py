"""The ``rostro`` command. Each command group lives in its own module (``*_cmd``) and adds
its subcommands to the parser through ``add_commands(subparsers)``.

The commands are thin: they parse arguments, call the same functions the HTTP API uses and
print. Errors a user can fix are printed as one line to stderr with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import logging
import sys

from rostro import __version__
from rostro.cli import detect_cmd, eval_cmd, models_cmd, service_cmd, studio_cmd
from rostro.threads import limit_threads

# The command modules, in the order ``rostro --help`` lists their commands.
COMMAND_MODULES = (models_cmd, detect_cmd, eval_cmd, service_cmd, studio_cmd)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every ``rostro`` subcommand."""
    parser = argparse.ArgumentParser(prog="rostro", description="Offline face analysis with the Azure Face API.")
    parser.add_argument("--version", action="version", version=f"rostro {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--blas-threads", type=service_cmd.positive(int), metavar="N",
                        help="BLAS/OpenMP threads per process (default: $ROSTRO_BLAS_THREADS, "
                             "else 1: requests and models already run in parallel)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``rostro`` with ``argv`` (default: the process arguments); return the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        limit_threads(args.blas_threads)
        outcome = args.handler(args)
        if isinstance(outcome, str):  # a report to show (rostro eval): the rooms do not print
            print(outcome)
            return 0
        return int(outcome or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the user sees one line; details with --verbose
        from rostro.models.errors import ModelError

        if isinstance(exc, ModelError):
            print(f"rostro: {exc}", file=sys.stderr)
            return 2
        if args.verbose:
            raise
        print(f"rostro: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
