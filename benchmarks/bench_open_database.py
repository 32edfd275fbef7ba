"""What opening the database costs: every CLI command and every server start does it.

Each figure comes from fresh Python processes (the way a command runs), on SQLite files in a
temporary folder:

- ``import``: ``from rostro.store.db import open_database``;
- ``open at head``: the first ``open_database`` of a database that needs no migration, then
  the median of 20 more in the same process;
- ``create``: the first open of a missing file (every revision applied);
- ``adopt previous release``: the first open of the previous release's database
  (tests/data/previous_release/sqlite.sql: stamped, then upgraded).

``--compare-src DIR`` runs the same in another source tree first (``DIR`` is its ``src``),
e.g. the previous release for a before/after:

    mkdir /tmp/rostro-85e3d61; git archive 85e3d61 src | tar -x -C /tmp/rostro-85e3d61
    python benchmarks/bench_open_database.py --compare-src /tmp/rostro-85e3d61/src

(The previous release cannot adopt anything: its "adopt" row opens its own database.)
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DUMP = REPO / "tests" / "data" / "previous_release" / "sqlite.sql"

CHILD = r"""
import json, statistics, sys, time
t0 = time.perf_counter()
from rostro.store.db import open_database
t1 = time.perf_counter()
open_database(sys.argv[1]).close()
t2 = time.perf_counter()
repeats = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    open_database(sys.argv[1]).close()
    repeats.append(time.perf_counter() - start)
print(json.dumps({"import": t1 - t0, "first": t2 - t1,
                  "repeat": statistics.median(repeats) if repeats else None,
                  "alembic_imported": "alembic" in sys.modules}))
"""


def _child(src: Path, database: Path, repeats: int) -> dict:
    """Run CHILD with ``src`` first on the path; return its figures."""
    env = {**os.environ, "PYTHONPATH": str(src), "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(database), str(repeats)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(src: Path, folder: Path, runs: int) -> dict[str, float | bool]:
    """Median milliseconds over ``runs`` processes for each case, on databases in ``folder``."""
    cases: dict[str, list[float]] = {"import": [], "open at head (first)": [],
                                     "open at head (repeat)": [], "create": [],
                                     "adopt previous release": []}
    alembic = False
    for run in range(runs):
        created = folder / f"created-{run}.db"
        figures = _child(src, created, 0)
        cases["create"].append(figures["first"])
        cases["import"].append(figures["import"])
        at_head = _child(src, created, 20)
        cases["open at head (first)"].append(at_head["first"])
        cases["open at head (repeat)"].append(at_head["repeat"])
        alembic = alembic or at_head["alembic_imported"]
        previous = folder / f"previous-{run}.db"
        connection = sqlite3.connect(previous)
        connection.executescript(DUMP.read_text())
        connection.close()
        cases["adopt previous release"].append(_child(src, previous, 0)["first"])
    result: dict[str, float | bool] = {name: round(1000 * statistics.median(values), 1)
                                       for name, values in cases.items()}
    result["alembic imported at head"] = alembic
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="processes per case (median)")
    parser.add_argument("--compare-src", type=Path, help="another tree's src (the 'before')")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    trees = {"this tree": REPO / "src"}
    if args.compare_src:
        trees = {str(args.compare_src): args.compare_src, **trees}
    results = {}
    for name, src in trees.items():
        with tempfile.TemporaryDirectory() as folder:
            results[name] = measure(src, Path(folder), args.runs)
    names = list(next(iter(results.values())))
    print(f"| ms (median of {args.runs} processes) | {' | '.join(results)} |")
    print("|---|" + "---:|" * len(results))
    for row in names:
        print(f"| {row} | " + " | ".join(str(r[row]) for r in results.values()) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
