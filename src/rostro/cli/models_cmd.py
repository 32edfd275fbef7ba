"""``rostro models list|pull|verify``."""

from __future__ import annotations

import argparse
from pathlib import Path

from rostro.models.cache import ModelCache
from rostro.models.pull import archives_dir, pull


def _list(args: argparse.Namespace) -> int:
    cache = ModelCache()
    rows = [("name", "task", "source", "license", "size", "sha256", "status")]
    for entry in cache.entries():
        item = entry.artifact
        rows.append((
            item.name,
            item.task,
            f"{item.source.registry}:{item.source.package}@{item.source.version}",
            item.license,
            f"{entry.size / 1e6:.1f} MB" if entry.size else "-",
            (entry.sha256 or "-")[:16],
            "present" if entry.present else ("missing" if item.engine else "not pulled (--all)"),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    print(f"\ncache: {cache.root}")
    missing = sum(not e.present and e.artifact.engine for e in cache.entries())
    if missing:
        print(f"{missing} missing: run `rostro models pull`")
    return 0


def _pull(args: argparse.Namespace) -> int:
    paths = pull(from_dir=args.from_dir, names=args.names or None, force=args.force,
                 everything=args.all)
    print(f"{len(paths)} models ready in {ModelCache().root}")
    print(f"package archives kept in {archives_dir()} (copy them for `--from DIR` elsewhere)")
    return 0


def _verify(args: argparse.Namespace) -> int:
    cache = ModelCache()
    bad = 0
    width = max(len(item.name) for item in cache.artifacts)
    for item in cache.artifacts:
        path = cache.path(item.name)
        if not path.is_file():
            if not item.engine:
                continue  # reference-only models are checked when pulled
            status = "missing"
        else:
            status = "ok" if cache.verify(item.name) else "CHANGED (run `rostro models pull --force`)"
        bad += status != "ok"
        print(f"{item.name:{width}s}  {status}")
    return 1 if bad else 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("models", help="provision and inspect the model cache")
    sub = parser.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="show every model, its source, license and status")
    listing.set_defaults(handler=_list)
    puller = sub.add_parser("pull", help="fetch pinned packages, verify, convert and cache models")
    puller.add_argument("names", nargs="*",
                        help="only these models (default: every model the engine runs)")
    puller.add_argument("--all", action="store_true",
                        help="also the reference-only models (converter checks in the tests)")
    puller.add_argument("--from", dest="from_dir", type=Path, metavar="DIR",
                        help="take package archives from DIR instead of the registries")
    puller.add_argument("--force", action="store_true", help="rebuild models already present")
    puller.set_defaults(handler=_pull)
    verify = sub.add_parser("verify", help="check cached models against their recorded sha256")
    verify.set_defaults(handler=_verify)
