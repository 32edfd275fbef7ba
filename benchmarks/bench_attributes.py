"""Cost per face of each face attribute (the issue-4 bar: all attributes <= 80 ms, one thread).

    ROSTRO_HOME=... python benchmarks/bench_attributes.py [--repeat 12]

For each attribute alone, then for the course's list and for every attribute together, times
``Analyzer.analyze`` on skimage's astronaut (one face, 512 x 512) and subtracts detection
alone. Each case runs in a fresh per-face memo, so shared networks are paid once per case,
as in a request. Reports CPU time (``time.process_time``, the median of ``--repeat`` rounds
after warm-up): on a busy machine it moves less than wall time. ONNX Runtime runs one thread,
as the service's inference threads do.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import cv2
from skimage import data

from rostro.threads import limit_threads
from rostro.vision.analyzer import Request, open_analyzer
from rostro.vision.attributes import supported_attributes

COURSE = ("age", "gender", "headPose", "smile", "facialHair", "glasses", "emotion")
# The Práctica 14 script's own request (issue 12's cost bar: <= 40 ms per face).
TUTORIAL = ("age", "gender", "glasses", "emotion")


def cpu_ms(run, repeat: int, warmup: int = 3) -> float:
    """Median CPU milliseconds of ``run()`` over ``repeat`` calls after ``warmup``."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        times.append((time.process_time() - start) * 1000.0)
    return statistics.median(times)


def main() -> int:
    limit_threads()  # one BLAS thread, as the service runs (rostro.threads)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=12)
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the figures as JSON")
    parser.add_argument("--rows", help="comma-separated rows to measure (attribute names, "
                        "'course list', 'tutorial list', 'all'); default every row")
    args = parser.parse_args()
    analyzer = open_analyzer()
    image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    detect_only = cpu_ms(lambda: analyzer.analyze(image, Request()), args.repeat)

    def cost(names) -> float:
        request = Request(attributes=frozenset(names))
        return cpu_ms(lambda: analyzer.analyze(image, request), args.repeat) - detect_only

    names = sorted(supported_attributes())
    cases = {name: [name] for name in names}
    cases.update({"course list": COURSE, "tutorial list": TUTORIAL, "all": names})
    wanted = args.rows.split(",") if args.rows else list(cases)
    rows = {name: cost(cases[name]) for name in wanted}
    print(f"detection alone: {detect_only:.1f} ms CPU (subtracted below)")
    print(f"{'attributes':<24} ms per face (CPU)")
    for name, ms in rows.items():
        print(f"{name:<24} {ms:6.1f}")
    if args.json:
        args.json.write_text(json.dumps({"detect_ms": detect_only, "attributes_ms": rows},
                                        indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
