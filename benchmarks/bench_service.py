"""Service benchmark: requests per second, p50/p95 latency and memory of `rostro serve`
(docs/performance.md, "Service").

For each worker count it starts a real `rostro serve` on 127.0.0.1 (temporary $ROSTRO_HOME,
models from $ROSTRO_MODELS / $ROSTRO_HOME), creates a resource on the ``unlimited`` tier (so
tier limits do not throttle the load) and sends POST /face/v1.0/detect with a 640x480 JPEG
holding one face (skimage's astronaut) as application/octet-stream, from ``--concurrency``
keep-alive connections on loopback. Scenarios:

* ``detect``: Azure's defaults (returnFaceId=true: detection + embedding + faceId stored);
* ``detect-noid``: returnFaceId=false (detection only);
* ``course``: returnFaceId=true with the Práctica 14 attributes
  (age,gender,headPose,smile,facialHair,glasses,emotion); skipped while the engine lacks one.

Memory: the resident set of the server (all its processes) after ``--warmup`` requests and
after ``--requests`` requests of the ``detect`` scenario; the issue asks for no growth beyond
10% between 100 and 10,000 requests.

Usage (the full run takes long on 2 cores; run it on a quiet machine, with nothing else busy):

    python benchmarks/bench_service.py --requests 200                 # quick look
    nice python benchmarks/bench_service.py --requests 2000 --memory-requests 10000 \\
        --json benchmarks/results/service.json

The load generator shares the machine with the server, so absolute numbers are lower than a
separate client machine would see; compare runs only on the same machine.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

COURSE = "age,gender,headPose,smile,facialHair,glasses,emotion"
SCENARIOS = {
    "detect": "",
    "detect-noid": "returnFaceId=false",
    "course": f"returnFaceAttributes={COURSE}",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--scenarios", default="detect,detect-noid,course")
    parser.add_argument("--requests", type=int, default=1000, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests first")
    parser.add_argument("--concurrency", type=int, default=4, help="client connections")
    parser.add_argument("--memory-requests", type=int, default=0,
                        help="also send this many detect requests (e.g. 10000) and report the "
                             "server's memory after --warmup and after them (1 worker)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args(argv)


def test_image() -> bytes:
    """640x480 JPEG with one face: skimage's astronaut scaled to 480x480, centred."""
    import numpy as np
    from PIL import Image
    from skimage import data

    canvas = np.zeros((480, 640, 3), np.uint8)
    canvas[:, 80:560] = np.asarray(Image.fromarray(data.astronaut()).resize((480, 480)))
    out = io.BytesIO()
    Image.fromarray(canvas).save(out, format="JPEG", quality=90)
    return out.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rostro(env: dict[str, str], *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "rostro.cli", *args], env=env, check=True,
                          capture_output=True, text=True).stdout


class Server:
    """A `rostro serve` subprocess with its own home and an unlimited resource (``options``:
    more `rostro serve` options)."""

    def __init__(self, workers: int, *options: str) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="rostro-bench-"))
        self.env = dict(os.environ, ROSTRO_HOME=str(self.home))
        if "ROSTRO_MODELS" not in os.environ:
            from rostro.config import models_dir
            self.env["ROSTRO_MODELS"] = str(models_dir())
        created = rostro(self.env, "resources", "create", "bench", "--tier", "unlimited")
        self.key = re.search(r"KEY 1:\s+(\w+)", created).group(1)
        self.port = free_port()
        self.log = open(self.home / "serve.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rostro.cli", "serve", "--port", str(self.port),
             "--workers", str(workers), "--log-level", "warning", *options],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/openapi.json")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.3)
            if self.process.poll() is not None:
                break
        raise RuntimeError((self.home / "serve.log").read_text())

    def rss_bytes(self) -> int:
        """Resident memory of the server and its worker processes."""
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        total = 0
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            total += int(match.group(1)) * 1024 if match else 0
        return total

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def load(server: Server, query: str, image: bytes, count: int,
         concurrency: int) -> tuple[float, list[float], dict[int, int]]:
    """Send ``count`` detect requests over ``concurrency`` keep-alive connections; return
    (wall seconds, per-request latencies, status counts)."""
    path = "/face/v1.0/detect" + (f"?{query}" if query else "")
    headers = {"Ocp-Apim-Subscription-Key": server.key,
               "Content-Type": "application/octet-stream"}
    remaining = [count]
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        while True:
            with lock:
                if remaining[0] == 0:
                    break
                remaining[0] -= 1
            started = time.perf_counter()
            connection.request("POST", path, body=image, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run_case(server: Server, scenario: str, image: bytes, args) -> dict:
    query = SCENARIOS[scenario]
    _, _, warm = load(server, query, image, args.warmup, args.concurrency)
    if set(warm) != {200}:
        return {"scenario": scenario, "skipped": f"statuses {warm} (engine lacks attributes?)"}
    wall, latencies, statuses = load(server, query, image, args.requests, args.concurrency)
    return {
        "scenario": scenario, "requests": args.requests, "concurrency": args.concurrency,
        "rps": round(args.requests / wall, 2),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "statuses": statuses,
    }


def run_memory(image: bytes, args) -> dict:
    server = Server(1)
    try:
        load(server, "", image, args.warmup, args.concurrency)
        after_warmup = server.rss_bytes()
        started = time.perf_counter()
        _, _, statuses = load(server, "", image, args.memory_requests, args.concurrency)
        after = server.rss_bytes()
    finally:
        server.stop()
    return {"requests": args.memory_requests, "minutes": round((time.perf_counter() - started) / 60, 1),
            "rss_mb_after_warmup": round(after_warmup / 2**20, 1),
            "rss_mb_after": round(after / 2**20, 1),
            "growth_percent": round(100 * (after - after_warmup) / after_warmup, 1),
            "statuses": statuses}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    image = test_image()
    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "platform": platform.platform()},
               "image_bytes": len(image), "cases": []}
    print(f"image: 640x480 JPEG, {len(image)} bytes; {args.requests} requests per case, "
          f"{args.concurrency} connections", flush=True)
    print(f"{'workers':>7} {'scenario':<12} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}", flush=True)
    for workers in [int(w) for w in args.workers.split(",")]:
        server = Server(workers)
        try:
            for scenario in args.scenarios.split(","):
                case = dict(run_case(server, scenario, image, args), workers=workers)
                results["cases"].append(case)
                if "skipped" in case:
                    print(f"{workers:>7} {scenario:<12} skipped: {case['skipped']}", flush=True)
                else:
                    print(f"{workers:>7} {scenario:<12} {case['rps']:>8} {case['p50_ms']:>8} "
                          f"{case['p95_ms']:>8}", flush=True)
            results.setdefault("rss_mb", {})[workers] = round(server.rss_bytes() / 2**20, 1)
        finally:
            server.stop()
    if args.memory_requests:
        memory = run_memory(image, args)
        results["memory"] = memory
        print(f"memory (1 worker): {memory['rss_mb_after_warmup']} MB after {args.warmup} "
              f"requests, {memory['rss_mb_after']} MB after {memory['requests']} more "
              f"({memory['growth_percent']:+}%)", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
