"""Admission benchmark: admitted calls per second through 1, 2 and 4 `rostro serve`
processes sharing one PostgreSQL database (docs/scaling-admission.md).

A throwaway PostgreSQL cluster (tests/postgres_server.py; fsync on unless ``--no-fsync``, so
every commit waits for the disk as in production) holds ``--resources`` resources on the
``unlimited`` tier (every call is counted, none refused), each with two stored faceIds.
``--processes`` (default 4) `rostro serve` processes start on it, one worker each, each with
its own home. The load is Verify of the two stored faceIds (``POST /face/v1.0/verify``): an
admission (the key's resource found, the call counted) plus one read, and no inference.
For each process count N in ``--counts`` the first N processes are driven by
``--connections`` keep-alive connections each, for ``--seconds`` (after ``--warmup``):

* ``many``: each request uses the key of a resource drawn at random (calls of different
  resources; the admission's counters are rows of their own);
* ``hot``: every request uses one resource's key (every admission updates the same rows).

``--source DIR`` runs the servers from another checkout's ``DIR/src`` (the benchmark
itself, the database and the seeding always use this checkout's code; the schema is the
same). To compare with the database-wide advisory lock of the release before:

    git archive 85e3d61 src | (mkdir -p /tmp/rostro-lock && tar -x -C /tmp/rostro-lock)
    nice python benchmarks/bench_admission.py --json admission-new.json
    nice python benchmarks/bench_admission.py --source /tmp/rostro-lock --json admission-old.json

Reported per case: admitted calls per second (HTTP 200s / wall seconds), p50/p95 latency,
errors, the CPU seconds of the server processes and of PostgreSQL per 1,000 calls (what a
call costs, whatever else shares the machine), and the load average. The load generator
(threads of this process) shares the machine with the servers and the database: compare
ratios between cases of one run, on one machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "tests"))  # the throwaway PostgreSQL server and serve helpers

import postgres_server  # noqa: E402
import serving  # noqa: E402

from rostro.store.db import open_database  # noqa: E402
from rostro.store.face_cache import StoredFace, save_faces  # noqa: E402
from rostro.store.resources import create_resource  # noqa: E402

VERIFY = "/face/v1.0/verify"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=4, help="rostro serve processes")
    parser.add_argument("--counts", default="1,2,4", help="process counts to drive")
    parser.add_argument("--scenarios", default="many,hot")
    parser.add_argument("--resources", type=int, default=64)
    parser.add_argument("--connections", type=int, default=4, help="per driven process")
    parser.add_argument("--seconds", type=float, default=8.0, help="timed seconds per case")
    parser.add_argument("--warmup", type=float, default=2.0, help="untimed seconds first")
    parser.add_argument("--source", type=Path, default=None,
                        help="run the servers from DIR/src (another checkout)")
    parser.add_argument("--compare", type=Path, default=None,
                        help="also run servers from DIR/src, taking turns with the first")
    parser.add_argument("--no-fsync", action="store_true",
                        help="the test cluster's settings: fsync off (commits do not wait)")
    parser.add_argument("--store", action="store_true",
                        help="admission transactions from plain processes, without HTTP")
    parser.add_argument("--store-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    return parser.parse_args(argv)


def models_root() -> Path:
    if os.environ.get("ROSTRO_MODELS"):
        return Path(os.environ["ROSTRO_MODELS"])
    from rostro.config import models_dir
    return models_dir()


def start_database(fsync: bool) -> postgres_server.PostgresServer:
    """A throwaway cluster; with ``fsync``, commits wait for the disk as in production."""
    if fsync:
        postgres_server.SETTINGS = ("fsync=on", "synchronous_commit=on",
                                    "full_page_writes=on", "max_connections=200")
    return postgres_server.start()


def seed(url: str, count: int) -> list[dict[str, str]]:
    """Create ``count`` unlimited resources with two stored faceIds each; return their
    keys and faceIds."""
    database = open_database(url)
    now = time.time()
    rng = np.random.default_rng(0)
    seeded = []
    try:
        with database.transaction() as connection:
            for i in range(count):
                info = create_resource(connection, f"bench-{i:03d}", "unlimited")
                faces = []
                for _ in range(2):
                    vector = rng.normal(size=128).astype(np.float32)
                    faces.append(StoredFace(str(uuid.uuid4()), info.id, "recognition_01",
                                            "detection_01", vector / np.linalg.norm(vector),
                                            now, now + 86400))
                save_faces(connection, faces, now)
                seeded.append({"key": info.key1, "body": json.dumps(
                    {"faceId1": faces[0].face_id, "faceId2": faces[1].face_id})})
    finally:
        database.close()
    return seeded


def start_servers(count: int, url: str, source: Path | None) -> list[serving.Launched]:
    """Start ``count`` `rostro serve` processes (one worker each) on the database, one
    after the other (each loads the models)."""
    environment = {"ROSTRO_DATABASE_URL": url}
    if source is not None:
        environment["PYTHONPATH"] = str(source / "src")
    launched = []
    for _ in range(count):
        home = Path(tempfile.mkdtemp(prefix="rostro-bench-admission-"))
        launched.append(serving.launch(home, models_root(), "--log-level", "warning",
                                       environment=environment))
    return launched


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` and their descendants, now (those that exited
    included, as their parent's children's time: PostgreSQL's backends end with their
    connections)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    seen: set[int] = set()
    stack = list(pids)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            if pid in pids:
                total += (int(fields[13]) + int(fields[14])) / tick
            for task in Path(f"/proc/{pid}/task").iterdir():
                children = task / "children"
                stack.extend(int(p) for p in children.read_text().split())
        except (OSError, ValueError, IndexError):
            continue
    return total


def postmaster_pid(server: postgres_server.PostgresServer) -> int:
    return int((server.root / "data" / "postmaster.pid").read_text().split()[0])


class LockSampler:
    """Samples, every ``interval`` seconds, the database's active backends and how many of
    them wait for a lock (a row, a transaction or an advisory lock): the share of time calls
    spend queued behind each other, whatever the CPU load."""

    def __init__(self, url: str, interval: float = 0.05) -> None:
        import psycopg

        self.connection = psycopg.connect(url, autocommit=True)
        self.interval = interval
        self.active = self.waiting = 0
        self.by_kind: dict[str, int] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopping.wait(self.interval):
            rows = self.connection.execute(
                "SELECT wait_event_type, wait_event FROM pg_stat_activity "
                "WHERE datname = current_database() AND state = 'active' "
                "AND pid <> pg_backend_pid()").fetchall()
            self.active += len(rows)
            for kind, event in rows:
                if kind == "Lock":
                    self.waiting += 1
                    self.by_kind[event] = self.by_kind.get(event, 0) + 1

    def __enter__(self) -> LockSampler:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopping.set()
        self.thread.join()
        self.connection.close()


def drive(endpoints: list[tuple[str, int]], seeded: list[dict[str, str]], scenario: str,
          connections: int, warmup: float, seconds: float) -> dict:
    """Send Verify calls from ``connections`` keep-alive connections per endpoint; return
    the timed window's counts and latencies."""
    stop_at = [float("inf")]
    timed_from = [float("inf")]
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    hot = seeded[0]

    def client(host: str, port: int, seed_value: int) -> None:
        rng = random.Random(seed_value)
        connection = http.client.HTTPConnection(host, port, timeout=60)
        mine: list[float] = []
        counted: dict[int, int] = {}
        while True:
            chosen = hot if scenario == "hot" else rng.choice(seeded)
            started = time.perf_counter()
            if started >= stop_at[0]:
                break
            connection.request("POST", VERIFY, body=chosen["body"], headers={
                "Ocp-Apim-Subscription-Key": chosen["key"], "Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            if started >= timed_from[0]:
                mine.append(time.perf_counter() - started)
                counted[response.status] = counted.get(response.status, 0) + 1
        connection.close()
        with lock:
            latencies.extend(mine)
            for status, n in counted.items():
                statuses[status] = statuses.get(status, 0) + n

    threads = [threading.Thread(target=client, args=(host, port, i * 1000 + j))
               for i, (host, port) in enumerate(endpoints) for j in range(connections)]
    begin = time.perf_counter()
    timed_from[0] = begin + warmup
    stop_at[0] = begin + warmup + seconds
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "statuses": statuses}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] \
        if ordered else float("nan")


@dataclass
class Variant:
    """One code base under test: its servers on their own database of the cluster."""

    label: str
    source: Path | None
    url: str = ""
    seeded: list[dict[str, str]] = field(default_factory=list)
    servers: list[serving.Launched] = field(default_factory=list)

    def endpoints(self) -> list[tuple[str, int]]:
        found = []
        for launched in self.servers:
            address = launched.banner["endpoint"].split("//", 1)[1].rstrip("/")
            host, port = address.rsplit(":", 1)
            found.append((host, int(port)))
        return found


def measure(variant: Variant, scenario: str, count: int, pg_pid: int,
            args: argparse.Namespace) -> dict:
    """Drive the first ``count`` servers of ``variant`` with ``scenario``; one result row."""
    server_pids = [launched.process.pid for launched in variant.servers]
    server_cpu, pg_cpu = cpu_seconds(server_pids), cpu_seconds([pg_pid])
    load_before = os.getloadavg()[0]
    with LockSampler(variant.url) as sampler:
        outcome = drive(variant.endpoints()[:count], variant.seeded, scenario,
                        args.connections, args.warmup, args.seconds)
    server_cpu = cpu_seconds(server_pids) - server_cpu
    pg_cpu = cpu_seconds([pg_pid]) - pg_cpu
    admitted = outcome["statuses"].get(200, 0)
    calls = sum(outcome["statuses"].values())
    # CPU is taken over the whole drive, warm-up included: its timed share per timed call.
    share = args.seconds / (args.warmup + args.seconds)
    row = {
        "code": variant.label, "scenario": scenario, "processes": count,
        "connections": count * args.connections,
        "admitted_per_s": admitted / args.seconds,
        "errors": calls - admitted,
        "p50_ms": percentile(outcome["latencies"], 0.5) * 1000,
        "p95_ms": percentile(outcome["latencies"], 0.95) * 1000,
        "lock_wait_share": sampler.waiting / max(sampler.active, 1),
        "lock_waits": sampler.by_kind,
        "server_cpu_s_per_1000": server_cpu * share / max(admitted, 1) * 1000,
        "postgres_cpu_s_per_1000": pg_cpu * share / max(admitted, 1) * 1000,
        "load_before": load_before, "load_after": os.getloadavg()[0],
    }
    print(f"{variant.label:8} {scenario:5} {count} processes: {row['admitted_per_s']:7.1f}/s "
          f"p50 {row['p50_ms']:6.1f} ms lock waits {row['lock_wait_share']:.0%} "
          f"errors {row['errors']} load {load_before:.1f}", file=sys.stderr)
    return row


def store_child(url: str, keys: list[str], scenario: str, threads: int, warmup: float,
                seconds: float) -> dict:
    """In a child process (``--store-child``): admission transactions as ``authorize``
    makes them (find the key's resource, count the call), without HTTP, from ``threads``
    threads for ``warmup`` + ``seconds``; return the timed window's count."""
    from rostro.store.resources import authenticate
    from rostro.store.usage import admit

    database = open_database(url, create=False)
    begin = time.perf_counter()
    timed_from, stop_at = begin + warmup, begin + warmup + seconds
    counts = []

    def loop(seed_value: int) -> None:
        rng = random.Random(seed_value)
        admitted = 0
        while (now := time.perf_counter()) < stop_at:
            key = keys[0] if scenario == "hot" else rng.choice(keys)
            with database.transaction() as connection:
                allowed = admit(connection, authenticate(connection, key)).allowed
            admitted += allowed and now >= timed_from
        counts.append(admitted)

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    database.close()
    return {"admitted": sum(counts)}


def measure_store(variant: Variant, scenario: str, count: int, pg_pid: int,
                  args: argparse.Namespace) -> dict:
    """``count`` processes of ``store_child`` on ``variant``'s code; one result row."""
    import subprocess

    environment = dict(os.environ)
    if variant.source is not None:
        environment["PYTHONPATH"] = str(variant.source / "src")
    request = json.dumps({"url": variant.url, "keys": [s["key"] for s in variant.seeded],
                          "scenario": scenario, "threads": args.connections,
                          "warmup": args.warmup, "seconds": args.seconds})
    pg_cpu = cpu_seconds([pg_pid])
    load_before = os.getloadavg()[0]
    with LockSampler(variant.url) as sampler:
        children = [subprocess.Popen([sys.executable, __file__, "--store-child", request],
                                     env=environment, stdout=subprocess.PIPE, text=True)
                    for _ in range(count)]
        outputs = [child.communicate()[0] for child in children]
    admitted = sum(json.loads(out.strip().splitlines()[-1])["admitted"] for out in outputs)
    share = args.seconds / (args.warmup + args.seconds)
    row = {
        "code": variant.label, "scenario": f"{scenario} (store)", "processes": count,
        "connections": count * args.connections,
        "admitted_per_s": admitted / args.seconds, "errors": 0,
        "p50_ms": float("nan"), "p95_ms": float("nan"),
        "lock_wait_share": sampler.waiting / max(sampler.active, 1),
        "lock_waits": sampler.by_kind,
        "server_cpu_s_per_1000": float("nan"),
        "postgres_cpu_s_per_1000": (cpu_seconds([pg_pid]) - pg_cpu) * share
        / max(admitted, 1) * 1000,
        "load_before": load_before, "load_after": os.getloadavg()[0],
    }
    print(f"{variant.label:8} {row['scenario']:12} {count} processes: "
          f"{row['admitted_per_s']:7.1f}/s lock waits {row['lock_wait_share']:.0%} "
          f"load {load_before:.1f}", file=sys.stderr)
    return row


def run(args: argparse.Namespace) -> dict:
    counts = [int(c) for c in args.counts.split(",")]
    scenarios = args.scenarios.split(",")
    variants = [Variant("this" if args.source is None else "source", args.source)]
    if args.compare is not None:
        variants.append(Variant("compare", args.compare))
    database = start_database(not args.no_fsync)
    results = []
    try:
        for variant in variants:
            variant.url = database.create_database("bench")
            variant.seeded = seed(variant.url, args.resources)
            if not args.store:
                variant.servers = start_servers(max(max(counts), args.processes),
                                                variant.url, variant.source)
        pg_pid = postmaster_pid(database)
        for scenario in scenarios:  # the variants take turns, so both see the same load
            for count in counts:
                for variant in variants:
                    results.append((measure_store if args.store else measure)(
                        variant, scenario, count, pg_pid, args))
    finally:
        for variant in variants:
            for launched in variant.servers:
                serving.stop(launched.process)
                shutil.rmtree(launched.log.parent, ignore_errors=True)  # the server's home
        database.stop()
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "settings": {"this": str(REPOSITORY), "source": str(args.source or REPOSITORY),
                     "compare": str(args.compare) if args.compare else None,
                     "fsync": not args.no_fsync, "resources": args.resources,
                     "connections_per_process": args.connections,
                     "seconds": args.seconds, "warmup": args.warmup},
        "results": results,
    }


def markdown(report: dict) -> str:
    lines = ["| code | scenario | processes | connections | admitted/s | p50 ms | p95 ms | "
             "lock waits | errors | server CPU s / 1000 | PostgreSQL CPU s / 1000 | load |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["results"]:
        lines.append(
            f"| {r['code']} | {r['scenario']} | {r['processes']} | {r['connections']} | "
            f"{r['admitted_per_s']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{r['lock_wait_share']:.0%} | {r['errors']} | {r['server_cpu_s_per_1000']:.2f} | "
            f"{r['postgres_cpu_s_per_1000']:.2f} | "
            f"{r['load_before']:.1f}-{r['load_after']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.store_child:
        print(json.dumps(store_child(**json.loads(args.store_child))))
        return 0
    report = run(args)
    print(markdown(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
