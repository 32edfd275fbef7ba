"""Photos per second per core: `rostro detect DIR` single-process against `--ray` (local Ray).

    python benchmarks/bench_batch.py [--photos 200] [--cpus 2]

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
Ray starts its workers at nice 15 by default, which on a busy machine starves them next to the
single process at nice 0: the script sets ``RAY_worker_niceness`` (``--worker-niceness``,
default 0) so both compete alike.
On a shared machine the N workers may not get N cores, so the warm runs also report photos per
CPU-second: CPU time of this process and every process under it (Ray's GCS, raylet, workers).
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

import cv2
import numpy as np
from skimage import data

from rostro.threads import limit_threads


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


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its live descendants (with Ray started
    here: the GCS, the raylet and the workers)."""
    import psutil

    processes = [psutil.Process()]
    processes += processes[0].children(recursive=True)
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def start_ray(ray, cpus: int, attempts: int = 3) -> None:
    """Start a local Ray instance. Ray 2.60's raylet gives its agents 15 s to start, which a
    busy machine can exceed: then the processes of the failed start are ended and it retries."""
    import psutil

    for attempt in range(attempts):
        try:
            ray.init(num_cpus=cpus, include_dashboard=False, logging_level="WARNING")
            return
        except Exception as exc:
            sys.stderr.write(f"ray.init failed: {exc}\n")
            ray.shutdown()
            for child in psutil.Process().children(recursive=True):
                child.kill()  # only this script's own children: the failed start's processes
            if attempt == attempts - 1:
                raise


def timed_main(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (``cpu_seconds``) of ``rostro.cli.main(ARGS)`` in this process."""
    from rostro.cli import main

    start, cpu = time.perf_counter(), cpu_seconds()
    main(args)
    return time.perf_counter() - start, cpu_seconds() - cpu


def row(name: str, photos: int, seconds: float, cores: int, cpu: float | None = None) -> dict:
    return {"run": name, "seconds": round(seconds, 2), "photos_per_s": round(photos / seconds, 2),
            "photos_per_s_per_core": round(photos / seconds / cores, 2), "cores": cores,
            "photos_per_cpu_s": round(photos / cpu, 2) if cpu else None}


def main() -> int:
    limit_threads()  # one BLAS thread, as the service runs (rostro.threads)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--cpus", type=int, default=2, help="Ray workers (CPUs of the instance)")
    parser.add_argument("--shard-size", type=int, default=16)
    parser.add_argument("--skip-cold", action="store_true", help="only the warm comparison")
    parser.add_argument("--worker-niceness", type=int, default=0,
                        help="nice value of the Ray workers (Ray's default is 15; 0 = this "
                             "script's, so both backends compete for CPU alike)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the figures as JSON")
    args = parser.parse_args()
    os.environ["RAY_worker_niceness"] = str(args.worker_niceness)  # read by the raylet
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

        start_ray(ray, args.cpus)
        try:
            warmup = work / "warmup"
            warmup.mkdir()
            write_photos(warmup, 2 * args.cpus)
            timed_main(["detect", str(warmup), "--format", "jsonl", "-o", str(work / "w.jsonl"),
                        "--ray", "auto", "--shard-size", "1"])
            wall, cpu = timed_main([*common, "-o", str(work / "local.jsonl")])
            rows.append(row("warm, single process", args.photos, wall, 1, cpu))
            wall, cpu = timed_main([*common, "-o", str(work / "ray.jsonl"), *ray_args])
            rows.append(row(f"warm, Ray ({args.cpus} workers)", args.photos, wall, args.cpus, cpu))
        finally:
            ray.shutdown()
        same = (work / "local.jsonl").read_bytes() == (work / "ray.jsonl").read_bytes()
        if not args.skip_cold:
            same = same and (work / "cold-local.jsonl").read_bytes() == (
                work / "cold-ray.jsonl").read_bytes()
    load_after = os.getloadavg()
    by_name = {r["run"]: r for r in rows}
    ray_warm, local_warm = by_name[f"warm, Ray ({args.cpus} workers)"], by_name["warm, single process"]
    warm_ratio = ray_warm["photos_per_s_per_core"] / local_warm["photos_per_s_per_core"]
    cpu_ratio = ray_warm["photos_per_cpu_s"] / local_warm["photos_per_cpu_s"]
    out = sys.stdout
    out.write(f"{args.photos} photos, shard size {args.shard_size}, Ray worker niceness "
              f"{args.worker_niceness}, load average "
              f"{load_before[0]:.1f} before, {load_after[0]:.1f} after, "
              f"{os.cpu_count()} cores\n\n")
    out.write("| run | wall s | photos/s | photos/s per core | photos per CPU-second |\n"
              "|---|---:|---:|---:|---:|\n")
    for r in rows:
        out.write(f"| {r['run']} | {r['seconds']} | {r['photos_per_s']} | "
                  f"{r['photos_per_s_per_core']} | {r['photos_per_cpu_s'] or '-'} |\n")
    out.write(f"\nwarm, Ray / single process: {warm_ratio:.2f} per core (wall), {cpu_ratio:.2f} per "
              f"CPU-second\noutputs byte-identical: {same}\n")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "worker_niceness": args.worker_niceness,
                                         "warm_ratio": warm_ratio,
                                         "cpu_ratio": cpu_ratio, "identical": same,
                                         "load": [load_before, load_after]}, indent=2))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
