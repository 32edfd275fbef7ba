"""Photos per second per core: `rostro detect DIR` single-process against `--ray` (local Ray).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_batch.py [--photos 200] [--cpus 2]

Writes ``--photos`` photos made from scikit-image's test images (the astronaut at several sizes,
mirrored and darkened, and photos without faces) to a temporary folder, then times:

- **cold**: each command as a user runs it, in a fresh process: ``rostro detect DIR --format
  jsonl -o FILE`` and the same with ``--ray auto --ray-cpus N`` (which starts a local Ray
  instance, its N workers and their models);
- **warm**: in one process that already holds a Ray session whose N workers have their models
  loaded (as in a long batch, where start-up is paid once), the same two commands through
  ``rostro.cli.main``. The single-process run loads its models inside the timing (about a
  second), as the CLI does.

Photos per second per core = photos / wall seconds / cores used (1 single-process, N for Ray).
Both runs' JSON lines are compared byte for byte. The machine may be shared: the script prints
the load average before and after; compare the ratio rather than the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from skimage import data  # noqa: E402


def write_photos(folder: Path, count: int) -> None:
    """``count`` JPEG photos: astronaut variants (one face) and, every fifth, one without."""
    astronaut = np.ascontiguousarray(data.astronaut()[..., ::-1])
    faceless = [data.coffee()[..., ::-1], data.chelsea()[..., ::-1],
                cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2BGR)]
    for i in range(count):
        if i % 5 == 4:
            image = faceless[i % len(faceless)]
        else:
            side = (256, 384, 512, 768)[i % 4]
            image = cv2.resize(astronaut, (side, side))
            if i % 3 == 1:
                image = image[:, ::-1]
            if i % 7 == 2:
                image = (image * 0.6).astype(np.uint8)
        cv2.imwrite(str(folder / f"photo_{i:05d}.jpg"), np.ascontiguousarray(image))


def timed_cli(args: list[str]) -> float:
    """Wall seconds of ``python -m rostro.cli ARGS`` in a fresh process."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rostro.cli", *args], check=False,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def timed_main(args: list[str]) -> float:
    """Wall seconds of ``rostro.cli.main(ARGS)`` in this process."""
    from rostro.cli import main

    start = time.perf_counter()
    main(args)
    return time.perf_counter() - start


def row(name: str, photos: int, seconds: float, cores: int) -> dict:
    return {"run": name, "seconds": round(seconds, 2), "photos_per_s": round(photos / seconds, 2),
            "photos_per_s_per_core": round(photos / seconds / cores, 2), "cores": cores}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--cpus", type=int, default=2, help="Ray workers (CPUs of the instance)")
    parser.add_argument("--shard-size", type=int, default=16)
    parser.add_argument("--skip-cold", action="store_true", help="only the warm comparison")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the figures as JSON")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = work / "photos"
        folder.mkdir()
        write_photos(folder, args.photos)
        common = ["detect", str(folder), "--format", "jsonl"]
        ray_args = ["--ray", "auto", "--shard-size", str(args.shard_size)]
        if not args.skip_cold:
            rows.append(row("cold, single process", args.photos,
                            timed_cli([*common, "-o", str(work / "cold-local.jsonl")]), 1))
            rows.append(row(f"cold, Ray ({args.cpus} workers, start-up included)", args.photos,
                            timed_cli([*common, "-o", str(work / "cold-ray.jsonl"), *ray_args,
                                       "--ray-cpus", str(args.cpus)]), args.cpus))
        import ray

        ray.init(num_cpus=args.cpus, include_dashboard=False, logging_level="WARNING")
        try:
            warmup = work / "warmup"
            warmup.mkdir()
            write_photos(warmup, 2 * args.cpus)
            timed_main(["detect", str(warmup), "--format", "jsonl", "-o", str(work / "w.jsonl"),
                        "--ray", "auto", "--shard-size", "1"])
            rows.append(row("warm, single process", args.photos,
                            timed_main([*common, "-o", str(work / "local.jsonl")]), 1))
            rows.append(row(f"warm, Ray ({args.cpus} workers)", args.photos,
                            timed_main([*common, "-o", str(work / "ray.jsonl"), *ray_args]),
                            args.cpus))
        finally:
            ray.shutdown()
        same = (work / "local.jsonl").read_bytes() == (work / "ray.jsonl").read_bytes()
        if not args.skip_cold:
            same = same and (work / "cold-local.jsonl").read_bytes() == (
                work / "cold-ray.jsonl").read_bytes()
    load_after = os.getloadavg()
    by_name = {r["run"]: r for r in rows}
    warm_ratio = (by_name[f"warm, Ray ({args.cpus} workers)"]["photos_per_s_per_core"]
                  / by_name["warm, single process"]["photos_per_s_per_core"])
    out = sys.stdout
    out.write(f"{args.photos} photos, shard size {args.shard_size}, load average "
              f"{load_before[0]:.1f} before, {load_after[0]:.1f} after, "
              f"{os.cpu_count()} cores\n\n")
    out.write("| run | wall s | photos/s | photos/s per core |\n|---|---:|---:|---:|\n")
    for r in rows:
        out.write(f"| {r['run']} | {r['seconds']} | {r['photos_per_s']} | "
                  f"{r['photos_per_s_per_core']} |\n")
    out.write(f"\nwarm Ray per core / single process per core: {warm_ratio:.2f}\n"
              f"outputs byte-identical: {same}\n")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "warm_ratio": warm_ratio, "identical": same,
                                         "load": [load_before, load_after]}, indent=2))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
