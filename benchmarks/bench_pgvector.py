"""Shared galleries in PostgreSQL (pgvector): publish time, recall@1 and search latency.

Synthetic clustered unit embeddings (rostro.search.synthetic, as bench_search.py) are
published through ``SharedGalleries.publish`` exactly as training publishes them (binary
COPY, then the snapshot's own HNSW index), then searched as identify / find similar search
them: one SQL query per query face, top k. For each gallery size it reports:

* publish time (COPY + HNSW build) and the table + index size;
* recall@1 against exact search (numpy over the same rows: the same top face) at each
  ``hnsw.ef_search`` of ``--ef-sweep`` (the default one marked), with p50 / p95 latency of
  a one-face call and the p50 of a 10-face call (Azure's identify maximum);
* the exact scan in PostgreSQL (the path below ``approximate_from``) at the same size, for
  the latency the HNSW index saves.

The server is a throwaway cluster from the ``pgserver`` wheel's PostgreSQL 16 + pgvector 0.6
(tests/postgres_server.py), or ``--url`` of a database whose server has pgvector.

    nice python benchmarks/bench_pgvector.py --sizes 100000 --json pgvector-100k.json
    nice python benchmarks/bench_pgvector.py --sizes 1000000 --queries 200 --exact-queries 20
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import uuid
from pathlib import Path

import numpy as np

from rostro.search import pgvector_store
from rostro.search.pgvector_store import (
    SharedGalleries,
    default_ef_search,
    prepare,
)
from rostro.search.synthetic import clustered_gallery, probe_queries
from rostro.threads import limit_threads

TESTS = Path(__file__).resolve().parent.parent / "tests"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000", help="gallery sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=200, help="timed one-face calls")
    parser.add_argument("--exact-queries", type=int, default=30,
                        help="timed calls of the exact scan in PostgreSQL (0: skip)")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--ef-sweep", default="40,64,128,256",
                        help="hnsw.ef_search values to measure besides the default")
    parser.add_argument("--build-threads", type=int, default=2,
                        help="processes building the HNSW index (leader + workers)")
    parser.add_argument("--m", type=int, default=pgvector_store.HNSW_M, help="HNSW m")
    parser.add_argument("--ef-construction", type=int,
                        default=pgvector_store.HNSW_EF_CONSTRUCTION, help="HNSW ef_construction")
    parser.add_argument("--url", help="a PostgreSQL database with pgvector (default: start one)")
    parser.add_argument("--shared-buffers", default="1GB",
                        help="shared_buffers of the server started here (room for table + index)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


def percentiles(seconds: list[float]) -> tuple[float, float]:
    return float(np.percentile(seconds, 50) * 1e3), float(np.percentile(seconds, 95) * 1e3)


def timed_search(store: SharedGalleries, published, queries: np.ndarray, k: int,
                 batch: int = 1) -> tuple[list[float], list]:
    """Time calls of ``batch`` query faces each; returns (seconds per call, hits per query)."""
    seconds, hits = [], []
    for start in range(0, len(queries), batch):
        began = time.perf_counter()
        hits.extend(store.search(published, queries[start:start + batch], k))
        seconds.append(time.perf_counter() - began)
    return seconds, hits


def table_bytes(store: SharedGalleries) -> int:
    with store.engine.connect() as connection:
        return int(connection.exec_driver_sql(
            "SELECT pg_total_relation_size('trained_vectors')").scalar())


def round_trip_ms(store: SharedGalleries, calls: int = 200) -> float:
    """p50 of an empty call the way a search makes it (pool checkout, BEGIN, set_config, one
    statement, COMMIT): the floor under every latency below."""
    seconds = []
    for _ in range(calls):
        began = time.perf_counter()
        with store.engine.begin() as connection:
            connection.exec_driver_sql("SELECT set_config('hnsw.ef_search', '64', true),"
                                       " set_config('enable_sort', 'off', true)")
            connection.exec_driver_sql("SELECT 1").all()
        seconds.append(time.perf_counter() - began)
    return percentiles(seconds)[0]


def bench_size(url: str, n: int, args: argparse.Namespace) -> dict:
    gallery = clustered_gallery(n)
    queries, _ = probe_queries(gallery, args.queries)
    truth = np.empty(len(queries), dtype=np.int64)
    for start in range(0, len(queries), 50):  # exact top face, in blocks to bound memory
        truth[start:start + 50] = np.argmax(queries[start:start + 50] @ gallery.embeddings.T,
                                            axis=1)
    hnsw = SharedGalleries(url, approximate=1)
    before = table_bytes(hnsw)
    began = time.perf_counter()
    published = hnsw.publish(f"bench/hnsw/{n}", uuid.uuid4().hex, gallery.ids,
                             gallery.embeddings, build_threads=args.build_threads)
    publish_s = time.perf_counter() - began
    result = {"faces": n, "publish_s": publish_s, "round_trip_p50_ms": round_trip_ms(hnsw),
              "table_mib": (table_bytes(hnsw) - before) / 2**20, "default_ef": None, "ef": []}
    print(f"{n} faces: published with HNSW in {publish_s:.1f} s; empty call p50 "
          f"{result['round_trip_p50_ms']:.2f} ms", file=sys.stderr, flush=True)
    default = default_ef_search(n)
    result["default_ef"] = default
    sweep = sorted({default, *(int(v) for v in args.ef_sweep.split(",") if v)})
    for ef in sweep:
        hnsw.ef_search = ef
        timed_search(hnsw, published, queries[:50], args.k)  # warm the cache and the plan
        one, hits = timed_search(hnsw, published, queries, args.k)
        ten, _ = timed_search(hnsw, published, queries, args.k, batch=10)
        recall = float(np.mean([len(h) and h.ids[0] == t for h, t in zip(hits, truth)]))
        p50, p95 = percentiles(one)
        result["ef"].append({"ef_search": ef, "recall_at_1": recall, "p50_ms": p50,
                             "p95_ms": p95, "ten_p50_ms": percentiles(ten)[0]})
        print(f"  ef_search {ef}: recall@1 {recall:.3f}, p50 {p50:.1f} ms, p95 {p95:.1f} ms",
              file=sys.stderr, flush=True)
    if args.exact_queries:
        exact = SharedGalleries(url, approximate=n + 1)
        began = time.perf_counter()
        plain = exact.publish(f"bench/exact/{n}", uuid.uuid4().hex, gallery.ids,
                              gallery.embeddings)
        copy_s = time.perf_counter() - began
        timed_search(exact, plain, queries[:2], args.k)
        one, hits = timed_search(exact, plain, queries[:args.exact_queries], args.k)
        recall = float(np.mean([h.ids[0] == t for h, t in zip(hits, truth)]))
        p50, p95 = percentiles(one)
        result["exact"] = {"copy_s": copy_s, "recall_at_1": recall, "p50_ms": p50,
                           "p95_ms": p95, "queries": len(one)}
        print(f"  exact scan: recall@1 {recall:.3f}, p50 {p50:.1f} ms, p95 {p95:.1f} ms "
              f"(COPY alone {copy_s:.1f} s)", file=sys.stderr, flush=True)
        exact.discard("bench", "exact", str(n))
        exact.close()
    hnsw.discard("bench", "hnsw", str(n))
    hnsw.close()
    return result


def markdown(results: list[dict], k: int) -> str:
    lines = [("| faces | publish (COPY + HNSW) | table + index | ef_search | recall@1 vs exact "
              f"| p50 / p95 one face (top {k}) | p50 10 faces |"),
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        for e in r["ef"]:
            mark = " (default)" if e["ef_search"] == r["default_ef"] else ""
            lines.append(f"| {r['faces']:,} | {r['publish_s']:.0f} s | {r['table_mib']:.0f} MiB "
                         f"| {e['ef_search']}{mark} | {e['recall_at_1']:.3f} "
                         f"| {e['p50_ms']:.1f} / {e['p95_ms']:.1f} ms | {e['ten_p50_ms']:.1f} ms |")
        if "exact" in r:
            x = r["exact"]
            lines.append(f"| {r['faces']:,} | {x['copy_s']:.0f} s (COPY) | | exact scan "
                         f"| {x['recall_at_1']:.3f} | {x['p50_ms']:.1f} / {x['p95_ms']:.1f} ms | |")
        lines.append(f"| {r['faces']:,} | | | empty call (floor) | "
                     f"| {r['round_trip_p50_ms']:.2f} ms p50 | |")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> None:
    limit_threads()  # one BLAS thread (ROSTRO_BLAS_THREADS to change), as the server
    pgvector_store.HNSW_M, pgvector_store.HNSW_EF_CONSTRUCTION = args.m, args.ef_construction
    server = None
    url = args.url
    if url is None:
        sys.path.insert(0, str(TESTS))
        import postgres_server

        server = postgres_server.start_pgvector((f"shared_buffers={args.shared_buffers}",))
        url = server.create_database("bench")
    try:
        from sqlalchemy import create_engine

        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        readiness = prepare(engine)
        engine.dispose()
        if not readiness.ready:
            raise SystemExit(f"no pgvector: {readiness.reason}")
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        results = [bench_size(url, int(n), args) for n in args.sizes.split(",")]
    finally:
        if server is not None:
            server.stop()
    print(f"pgvector {readiness.version}, m {args.m}, ef_construction {args.ef_construction}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(markdown(results, args.k))
    if args.json:
        args.json.write_text(json.dumps({"pgvector": readiness.version, "m": args.m,
                                         "ef_construction": args.ef_construction,
                                         "results": results}, indent=2))


if __name__ == "__main__":
    main(_parse())
