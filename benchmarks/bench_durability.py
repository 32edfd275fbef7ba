"""Durability benchmark: what ``synchronous=FULL`` costs per write on the SQLite store.

Every Face call writes at least once before it is answered (``rostro.store.usage.admit``
counts the call; Detect with ``returnFaceId`` also stores the faceIds). With
``synchronous=FULL`` (what ``rostro.store.db`` sets) SQLite fsyncs the WAL at each commit, so
an acknowledged write survives a power loss; with ``NORMAL`` (SQLite's WAL default, what
Rostro used before) it survives a process crash only. This script times the same writes
both ways on a fresh database in ``--dir`` (default: the system's temporary folder; pass a
folder on the disk that will hold ``$ROSTRO_HOME``, since the figure is the disk's fsync):

- ``admit``: one call admitted and counted (one transaction, the write of every Face call);
- ``admit + faceIds``: the same plus 2 faceIds stored (Detect with returnFaceId).

    nice python benchmarks/bench_durability.py --writes 400 --json durability.json

One thread, sequential transactions (the latency each request pays); times are wall-clock.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from sqlalchemy import event

from rostro.store.db import open_database
from rostro.store.face_cache import StoredFace, save_faces
from rostro.store.resources import ResourceRef, create_resource
from rostro.store.usage import admit

MODES = ("NORMAL", "FULL")


def _open(path: Path, mode: str):
    """Open the store at ``path`` with ``PRAGMA synchronous=mode`` on every connection (set
    after Rostro's own pragmas, on connections made from now on)."""
    database = open_database(path)

    @event.listens_for(database.engine, "connect")
    def _synchronous(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA synchronous={mode}")
        cursor.close()

    database.engine.dispose()  # drop the connections opened before the listener
    return database


def _faces(resource_id: int, count: int) -> list[StoredFace]:
    now = time.time()
    return [StoredFace(str(uuid.uuid4()), resource_id, "recognition_04", "detection_03",
                       np.zeros(128, np.float32), now, now + 86400) for _ in range(count)]


def measure(folder: Path, mode: str, writes: int, with_faces: bool) -> dict[str, float]:
    """Time ``writes`` sequential write transactions; return per-write figures (ms)."""
    path = folder / f"bench-{mode.lower()}-{uuid.uuid4().hex[:8]}.db"
    database = _open(path, mode)
    try:
        with database.transaction() as connection:
            info = create_resource(connection, "bench", "unlimited")
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == \
                {"NORMAL": 1, "FULL": 2}[mode]
        resource = ResourceRef(info.id, info.name, info.tier)
        times = []
        for _ in range(writes):
            started = time.perf_counter()
            with database.transaction() as connection:
                admit(connection, resource)
                if with_faces:
                    save_faces(connection, _faces(resource.id, 2))
            times.append((time.perf_counter() - started) * 1000)
    finally:
        database.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    times.sort()
    return {"median_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))],
            "writes_per_s": len(times) / (sum(times) / 1000)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=400, help="transactions per case")
    parser.add_argument("--dir", type=Path, default=None,
                        help="folder for the database files (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        for case, with_faces in (("admit", False), ("admit + faceIds", True)):
            results[case] = {}
            for mode in MODES:
                measure(Path(folder), mode, 20, with_faces)  # warm the file system
                results[case][mode] = measure(Path(folder), mode, args.writes, with_faces)
    print(f"{args.writes} sequential transactions per case, {platform.node()}, "
          f"folder {args.dir or tempfile.gettempdir()}\n")
    print("| write | synchronous | median ms | p95 ms | writes/s |")
    print("|---|---|---:|---:|---:|")
    for case, modes in results.items():
        for mode, figures in modes.items():
            print(f"| {case} | {mode} | {figures['median_ms']:.2f} | {figures['p95_ms']:.2f} "
                  f"| {figures['writes_per_s']:.0f} |")
        extra = modes["FULL"]["median_ms"] - modes["NORMAL"]["median_ms"]
        print(f"| {case} | FULL - NORMAL | {extra:+.2f} | | |")
    if args.json:
        args.json.write_text(json.dumps({"writes": args.writes, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
