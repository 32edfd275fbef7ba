"""Hostile-load benchmark: the fetch deadline against a trickling server, a normal
Detect-by-URL while forty trickling URLs are in flight, and the server's peak and settled
memory under forty concurrent 4096x4096 photos (docs/performance.md, "Hostile load";
docs/security.md).

It starts a real `rostro serve` (bench_service.Server: temporary home, unlimited resource)
with ``--allowed-hosts 127.0.0.1 localhost`` and a local image server in this process:
``/trickle`` sends its response headers one byte every 0.05 s (for about 100 s, far past any
deadline), ``/face.jpg`` is a 640x480 photo with one face.

* ``fetch``: the time until Detect-by-URL of the trickling URL answers (the deadline), then
  forty such URLs at once and, one second later, Detect-by-URL of ``localhost/face.jpg``: its
  latency (client gives up after ``--give-up`` seconds).
* ``memory``: resident set (VmRSS) of the server before, the peak (VmHWM) and the resident
  set ``--settle`` seconds after forty concurrent Detect calls with a 4096x4096 JPEG
  (skimage's astronaut scaled up, about 2.5 MB).

Usage (about a minute per scenario on 2 cores; run the old code the same way by pointing
PYTHONPATH at its src to compare):

    python benchmarks/bench_hostile.py                          # both scenarios
    python benchmarks/bench_hostile.py --scenarios memory --inference-threads 16
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_service import Server, test_image  # noqa: E402

MIB = 1024 * 1024


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", default="fetch,memory")
    parser.add_argument("--concurrent", type=int, default=40)
    parser.add_argument("--inference-threads", type=int, default=0,
                        help="passed to rostro serve (0: one per core)")
    parser.add_argument("--give-up", type=float, default=60.0,
                        help="client timeout of each request, seconds")
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--json", type=Path)
    return parser.parse_args(argv)


class Images(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    release = threading.Event()

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/trickle"):
            head = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nX-Pad: " + b"x" * 2000
            try:
                for byte in head:
                    if self.release.wait(0.05):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except OSError:
                return
            return
        body = self.files.get(self.path.lstrip("/"), b"")
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def detect(server: Server, timeout: float, headers: dict[str, str] | None = None,
           **kwargs) -> tuple[float, int | str]:
    """POST detect; return (seconds, status or 'gave up')."""
    started = time.monotonic()
    try:
        response = requests.post(f"http://127.0.0.1:{server.port}/face/v1.0/detect",
                                 params={"returnFaceId": "false"},
                                 headers={"Ocp-Apim-Subscription-Key": server.key,
                                          **(headers or {})},
                                 timeout=timeout, **kwargs)
        status: int | str = response.status_code
    except requests.RequestException:
        status = "gave up"
    return time.monotonic() - started, status


def fetch_scenario(server: Server, base: str, args) -> dict:
    Images.release.clear()
    deadline, status = detect(server, args.give_up, json={"url": f"{base}/trickle/one"})
    print(f"one trickling URL answered after {deadline:.2f} s ({status})", flush=True)
    with ThreadPoolExecutor(args.concurrent) as pool:
        trickles = [pool.submit(detect, server, args.give_up,
                                json={"url": f"{base}/trickle/{n}"})
                    for n in range(args.concurrent)]
        time.sleep(1.0)
        port = base.rsplit(":", 1)[1]
        normal, normal_status = detect(server, args.give_up,
                                       json={"url": f"http://localhost:{port}/face.jpg"})
        print(f"normal Detect-by-URL with {args.concurrent} trickling in flight: "
              f"{normal:.2f} s ({normal_status})", flush=True)
        Images.release.set()
        ends = [future.result() for future in trickles]
    return {"deadline_s": round(deadline, 2), "deadline_status": status,
            "normal_s": round(normal, 2), "normal_status": normal_status,
            "trickling_slowest_s": round(max(t for t, _ in ends), 2)}


def vm(server: Server, field: str) -> float:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", status).group(1)) / 1024


def large_photo() -> bytes:
    import numpy as np
    from PIL import Image
    from skimage import data

    big = Image.fromarray(data.astronaut()).resize((4096, 4096), Image.Resampling.BICUBIC)
    noise = np.random.default_rng(0).integers(-6, 7, (4096, 4096, 3))
    pixels = np.clip(np.asarray(big, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=85)
    return out.getvalue()


def memory_scenario(server: Server, args) -> dict:
    photo = large_photo()
    small = test_image()
    for _ in range(3):  # warm: models run once, allocator set up
        detect(server, args.give_up, data=small,
               headers={"Content-Type": "application/octet-stream"})
    before = vm(server, "VmRSS")
    started = time.monotonic()
    with ThreadPoolExecutor(args.concurrent) as pool:
        results = list(pool.map(lambda _: detect(
            server, 600, data=photo, headers={"Content-Type": "application/octet-stream"}),
            range(args.concurrent)))
    burst = time.monotonic() - started
    time.sleep(args.settle)
    figures = {"photo_mib": round(len(photo) / MIB, 2), "before_mib": round(before),
               "peak_mib": round(vm(server, "VmHWM")), "settled_mib": round(vm(server, "VmRSS")),
               "burst_s": round(burst, 1),
               "statuses": sorted({str(status) for _, status in results})}
    print(f"{args.concurrent} x 4096x4096 ({figures['photo_mib']} MB JPEG): RSS before "
          f"{figures['before_mib']} MiB, peak {figures['peak_mib']} MiB, settled "
          f"{figures['settled_mib']} MiB after {args.settle:g} s; burst {burst:.1f} s, "
          f"answers {figures['statuses']}", flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    Images.files = {"face.jpg": test_image()}
    images = ThreadingHTTPServer(("127.0.0.1", 0), Images)
    images.daemon_threads = True
    threading.Thread(target=images.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{images.server_address[1]}"
    options = ["--allowed-hosts", "127.0.0.1", "localhost"]
    if args.inference_threads:
        options += ["--inference-threads", str(args.inference_threads)]
    results = {}
    for scenario in args.scenarios.split(","):
        server = Server(1, *options)
        try:
            run = fetch_scenario if scenario == "fetch" else memory_scenario
            results[scenario] = (run(server, base, args) if scenario == "fetch"
                                 else run(server, args))
        finally:
            Images.release.set()
            server.stop()
    images.shutdown()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
