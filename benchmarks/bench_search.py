"""Gallery search benchmark: identify latency, recall, train time and memory (docs/performance.md).

Synthetic clustered unit embeddings (rostro.search.synthetic: 4 faces per person, same-person
cosine ≈ 0.6) stand in for SFace faces. For each gallery size and backend it measures:

* train: ``Gallery.build`` time (index build + person table) and ``save``/``load`` time;
* identify: one call = one query face → top-k persons, p50 / p95 over ``--queries`` calls,
  plus the p50 of a 10-face call (Azure's maximum faceIds per identify);
* recall@1 of the approximate index against exact search (same top face; same top person);
* memory: bytes the index holds and its file size, per million faces.

Usage (run with ``nice`` on a shared machine; the full run took 18 min on 2 busy cores):

    python benchmarks/bench_search.py --sizes 1000,100000 --queries 200
    nice python benchmarks/bench_search.py --sizes 1000,100000,1000000 --build-threads 2 \\
        --ef-sweep 32,128,256 --json search.json
    python benchmarks/bench_search.py --compare-libraries --sizes 100000  # FAISS/usearch/hnswlib

BLAS runs single-threaded (``--blas-threads``, default 1), as the server should: requests run
in parallel instead, and a multi-threaded BLAS on a busy 2-core machine was measured ~30×
slower per query than one thread.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,100000", help="gallery sizes, comma-separated")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--backends", default="exact,hnsw")
    parser.add_argument("--queries", type=int, default=200, help="identify calls timed per case")
    parser.add_argument("--k", type=int, default=5, help="persons returned per query")
    parser.add_argument("--build-threads", type=int, default=1, help="threads for the HNSW build")
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument("--ef-search", type=int, default=None, help="HNSW efSearch override")
    parser.add_argument("--ef-construction", type=int, default=None)
    parser.add_argument("--ef-sweep", default="",
                        help="also time the HNSW graph at these efSearch values, e.g. 32,128")
    parser.add_argument("--compare-libraries", action="store_true",
                        help="compare FAISS, usearch and hnswlib HNSW at equal settings")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:  # must precede the first numpy import to take effect
    # ROSTRO_BLAS_THREADS: rostro.search.hnsw applies it to FAISS's pools when loading it.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "ROSTRO_BLAS_THREADS"):
        os.environ[var] = str(ARGS.blas_threads)

import numpy as np  # noqa: E402

from rostro.search import ExactIndex, Gallery  # noqa: E402
from rostro.search.synthetic import clustered_gallery, probe_queries  # noqa: E402


def rss_mib() -> float:
    """Resident memory of this process now, MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    return float(np.percentile(seconds, 50) * 1e3), float(np.percentile(seconds, 95) * 1e3)


def time_calls(call, inputs) -> list[float]:
    """Time ``call(x)`` for each input, after two warm-up calls."""
    for x in inputs[:2]:
        call(x)
    out = []
    for x in inputs:
        start = time.perf_counter()
        call(x)
        out.append(time.perf_counter() - start)
    return out


def bench_size(n: int, args: argparse.Namespace) -> list[dict]:
    """All backends on one gallery of ``n`` faces."""
    g = clustered_gallery(n, dim=args.dim, seed=n)
    queries, true_persons = probe_queries(g, args.queries, seed=n + 1)
    exact_faces = [h.ids[0] for h in ExactIndex.build(g.ids, g.embeddings).search(queries, 1)]
    exact_persons = None
    rows = []
    for backend in args.backends.split(","):
        options = {}
        if backend == "hnsw":
            options["threads"] = args.build_threads
            if args.ef_search:
                options["ef_search"] = args.ef_search
            if args.ef_construction:
                options["ef_construction"] = args.ef_construction
        gc.collect()
        rss_before = rss_mib()
        start = time.perf_counter()
        trained = Gallery.build(g.ids, g.embeddings, g.persons, "bench", backend, **options)
        build_s = time.perf_counter() - start
        rss_delta = rss_mib() - rss_before

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "g.idx"
            start = time.perf_counter()
            trained.save(path)
            save_s = time.perf_counter() - start
            file_bytes = path.stat().st_size
            start = time.perf_counter()
            Gallery.load(path, "bench")
            load_s = time.perf_counter() - start
        gc.collect()

        one = time_calls(lambda q: trained.identify(q, args.k), list(queries))
        batches = [queries[i : i + 10] for i in range(0, len(queries) - 9, 10)]
        ten = time_calls(lambda q: trained.identify(q, args.k), batches)
        persons = [h.ids[0] for h in trained.identify(queries, args.k)]
        faces = [h.ids[0] for h in trained.find_similar(queries, 1)]
        if backend == "exact":
            exact_persons = persons
        row = {
            "faces": n, "dim": args.dim, "backend": backend,
            "build_s": build_s, "save_s": save_s, "load_s": load_s,
            "identify_p50_ms": percentiles(one)[0], "identify_p95_ms": percentiles(one)[1],
            "identify10_p50_ms": percentiles(ten)[0],
            "recall1_face_vs_exact": float(np.mean(np.array(faces) == np.array(exact_faces))),
            "recall1_person_vs_exact": (float(np.mean(np.array(persons) == np.array(exact_persons)))
                                        if exact_persons is not None else None),
            "top1_person_correct": float(np.mean(np.array(persons) == true_persons)),
            "index_mb_per_million": trained.index.nbytes / n * 1e6 / 1e6,
            "file_mb_per_million": file_bytes / n * 1e6 / 1e6,
            "rss_delta_mib": rss_delta,
            "options": options,
        }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        if backend == "hnsw" and args.ef_sweep:
            rows.extend(ef_sweep(trained, queries, exact_faces, exact_persons, args))
        trained = None  # free it before the next backend builds
    return rows


def ef_sweep(trained: Gallery, queries, exact_faces, exact_persons, args) -> list[dict]:
    """Latency and recall of one built HNSW graph at other efSearch values (no rebuild)."""
    rows = []
    for ef in (int(v) for v in args.ef_sweep.split(",")):
        variant = Gallery(trained.index.with_ef_search(ef), trained.persons, trained.snapshot)
        one = time_calls(lambda q: variant.identify(q, args.k), list(queries))
        persons = [h.ids[0] for h in variant.identify(queries, args.k)]
        faces = [h.ids[0] for h in variant.find_similar(queries, 1)]
        row = {
            "faces": len(trained), "backend": "hnsw", "ef_search": ef,
            "identify_p50_ms": percentiles(one)[0], "identify_p95_ms": percentiles(one)[1],
            "recall1_face_vs_exact": float(np.mean(np.array(faces) == np.array(exact_faces))),
            "recall1_person_vs_exact": (float(np.mean(np.array(persons) == np.array(exact_persons)))
                                        if exact_persons is not None else None),
        }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def compare_libraries(n: int, args: argparse.Namespace) -> list[dict]:
    """FAISS IndexHNSWFlat, usearch (f32, f16) and hnswlib at M=32, efC=40, efS=64, 1 thread."""
    m, efc, efs = 32, args.ef_construction or 40, args.ef_search or 64
    g = clustered_gallery(n, dim=args.dim, seed=n)
    queries, _ = probe_queries(g, args.queries, seed=n + 1)
    truth = np.array([h.ids[0] for h in ExactIndex.build(g.ids, g.embeddings).search(queries, 1)])
    candidates = {}

    try:
        import faiss

        def faiss_build():
            faiss.omp_set_num_threads(1)
            index = faiss.IndexHNSWFlat(args.dim, m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = efc
            index.add(g.embeddings)
            return index

        params = faiss.SearchParametersHNSW(efSearch=efs)
        candidates[f"faiss-cpu {faiss.__version__} HNSWFlat"] = (
            faiss_build,
            lambda index, q: index.search(q[None], 10, params=params)[1][0],
            lambda index: faiss.serialize_index(index).nbytes,
        )
    except ImportError:
        pass
    try:
        import usearch
        from usearch.index import Index

        for dtype in ("f32", "f16"):
            def usearch_build(dtype=dtype):
                index = Index(ndim=args.dim, metric="ip", dtype=dtype, connectivity=m,
                              expansion_add=efc, expansion_search=efs)
                index.add(g.ids, g.embeddings, threads=1)
                return index

            candidates[f"usearch {usearch.__version__} {dtype}"] = (
                usearch_build,
                lambda index, q: index.search(q, 10, threads=1).keys,
                lambda index: len(index.save()),
            )
    except ImportError:
        pass
    try:
        import hnswlib

        def hnswlib_build():
            index = hnswlib.Index(space="ip", dim=args.dim)
            index.init_index(max_elements=n, M=m, ef_construction=efc)
            index.set_num_threads(1)
            index.add_items(g.embeddings, g.ids)
            index.set_ef(efs)
            return index

        def hnswlib_size(index):
            with tempfile.TemporaryDirectory() as tmp:
                index.save_index(f"{tmp}/i")
                return os.path.getsize(f"{tmp}/i")

        candidates["hnswlib 0.8 (sdist build)"] = (
            hnswlib_build, lambda index, q: index.knn_query(q[None], 10)[0][0], hnswlib_size,
        )
    except ImportError:
        pass

    rows = []
    for name, (build, search, size) in candidates.items():
        gc.collect()
        start = time.perf_counter()
        index = build()
        build_s = time.perf_counter() - start
        latencies = time_calls(lambda q: search(index, q), list(queries))
        top = np.array([int(search(index, q)[0]) for q in queries])
        row = {"library": name, "faces": n, "build_s": build_s,
               "p50_ms": percentiles(latencies)[0], "p95_ms": percentiles(latencies)[1],
               "recall1_vs_exact": float(np.mean(top == truth)), "bytes_per_face": size(index) / n}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        index = None
    return rows


def markdown(rows: list[dict], compare: bool) -> str:
    """The results as the Markdown tables of docs/performance.md."""
    if compare:
        lines = ["| library (M=32, efC=40, efS=64, 1 thread) | faces | build s | p50 ms | p95 ms "
                 "| recall@1 vs exact | bytes/face |", "|---|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            lines.append(
                f"| {r['library']} | {r['faces']:,} | {r['build_s']:.1f} | {r['p50_ms']:.3f} "
                f"| {r['p95_ms']:.3f} | {r['recall1_vs_exact']:.3f} | {r['bytes_per_face']:.0f} |")
        return "\n".join(lines)
    lines = ["| faces | backend | train (build) s | identify p50 ms | p95 ms | 10-face call p50 ms "
             "| recall@1 face / person vs exact | MB per 1M faces (RAM / file) | load s |",
             "|---:|---|---:|---:|---:|---:|---|---|---:|"]
    sweep = [r for r in rows if "ef_search" in r]
    for r in rows:
        if "ef_search" in r:
            continue
        recall = ("exact" if r["backend"] == "exact"
                  else f"{r['recall1_face_vs_exact']:.3f} / {r['recall1_person_vs_exact']:.3f}")
        lines.append(
            f"| {r['faces']:,} | {r['backend']} | {r['build_s']:.2f} "
            f"| {r['identify_p50_ms']:.3f} | {r['identify_p95_ms']:.3f} "
            f"| {r['identify10_p50_ms']:.3f} | {recall} "
            f"| {r['index_mb_per_million']:.0f} / {r['file_mb_per_million']:.0f} "
            f"| {r['load_s']:.2f} |")
    if sweep:
        lines += ["", "| faces | HNSW efSearch | identify p50 ms | p95 ms "
                  "| recall@1 face / person vs exact |", "|---:|---:|---:|---:|---|"]
        for r in sweep:
            lines.append(
                f"| {r['faces']:,} | {r['ef_search']} | {r['identify_p50_ms']:.3f} "
                f"| {r['identify_p95_ms']:.3f} | {r['recall1_face_vs_exact']:.3f} / "
                f"{r['recall1_person_vs_exact']:.3f} |")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.time()
    load_before = os.getloadavg()
    rows = []
    for n in sizes:
        rows.extend(compare_libraries(n, args) if args.compare_libraries else bench_size(n, args))
    meta = {
        "command": " ".join(sys.argv), "python": platform.python_version(),
        "cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
        "wall_s": time.time() - started, "blas_threads": args.blas_threads,
    }
    print(markdown(rows, args.compare_libraries))
    print(f"\nloadavg before {load_before}, after {meta['loadavg_after']}; "
          f"{meta['cpus']} CPUs; wall {meta['wall_s']:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))


if __name__ == "__main__":
    main(ARGS)
