"""Engine benchmark: per-core speed, cold start and memory of Rostro's models, and the
``face_recognition`` peer (dlib HOG detector + ResNet embedding) on the same images in the same
run, with both accuracies side by side on ``../shared/eval`` (docs/performance.md, "Engine").

What is timed (ONNX Runtime with 1 intra-op thread, the shipped setting, then 2 threads):

* detection of one 640x480 image (bar: 15 ms);
* 68-point fit, Azure's 27 landmarks and head pose per face (``TDDFALandmarker.fit`` +
  ``azure_landmarks``; bar: 10 ms);
* embedding per face (``SFaceEmbedder.embed`` as the analyzer runs it: alignment by the 3D
  landmark fit, then SFace; bar: 25 ms), also with the landmarks already fitted (what a
  request asking for landmarks pays) and with mirror averaging (``flip_average=True``);
* the SFace network alone on one aligned crop, as provisioned and as plain float32
  (``onnx_dequantize``), to show what the provisioning-time optimisation buys;
* whole requests per image: detect + embed every face, and detect + landmarks + pose + embed.

Images: skimage's astronaut (one face; the top 512x384 of the photo, enlarged to 640x480 so
the face keeps its proportions) and a 640x480 group made of four 320x240 tiles (astronaut,
cameraman, mirrored astronaut, darker astronaut). Each timing repeats after a warm-up;
medians and 95th percentiles of wall-clock time and of process CPU time. With one thread and
a quiet machine the two agree; on a busy machine CPU time is the per-core cost and wall time
also counts waiting for a core. "per core/s" is 1000 / CPU median: images (or faces) one core
handles per second.

Cold start: ``--cold-runs`` fresh processes each import ``rostro.vision.analyzer`` and run
``Analyzer().load_all()`` (bar: 2 s); the child reports that time, its resident memory
(RSS) with the models loaded and after one full analysis. The peer's cold start is its
import (face_recognition loads every dlib model when imported) and the same analysis.

The peer is skipped when ``face_recognition`` is not installed
(``pip install -r benchmarks/requirements.txt``; see benchmarks/README.md).

Usage:

    nice python benchmarks/bench_engine.py                        # speed, cold start, memory
    nice python benchmarks/bench_engine.py --eval ../shared/eval  # + accuracy, both engines
    python benchmarks/bench_engine.py --json benchmarks/results/engine.json

The script prints Markdown tables ready for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_EVAL = REPO.parent / "shared" / "eval"
BARS_MS = {"detect": 15.0, "landmarks": 10.0, "embed": 25.0}
COLD_START_BAR_S = 2.0


# --------------------------------------------------------------------------- machine, images


def machine() -> dict:
    """Describe the CPU and the software versions the numbers depend on."""
    import cv2
    import onnxruntime

    info = {"cpu": platform.processor() or platform.machine(), "logical_cpus": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(),
            "platform": platform.platform(), "onnxruntime": onnxruntime.__version__,
            "numpy": np.__version__, "opencv": cv2.__version__, "load_average": os.getloadavg()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        lscpu = ""
    fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    if "Model name" in fields:
        info["cpu"] = fields["Model name"]
    for key in ("Thread(s) per core", "Core(s) per socket", "Socket(s)", "L2 cache", "L3 cache",
                "Hypervisor vendor"):
        if key in fields:
            info[key] = fields[key]
    flags = fields.get("Flags", "").split()
    info["simd"] = " ".join(f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")
                            if f in flags)
    from importlib import metadata

    for package in ("face_recognition", "face_recognition_models", "dlib-bin"):
        try:  # face_recognition 1.3.0 still says 1.2.3 in its __version__
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return info


def test_images() -> dict[str, np.ndarray]:
    """The two 640x480 BGR test photos (see the module docstring)."""
    import cv2
    from skimage import data

    astronaut = np.ascontiguousarray(data.astronaut()[:384, :, ::-1])  # 512x384, face on top
    camera = np.stack([data.camera()[:384]] * 3, axis=-1)
    darker = np.clip(astronaut.astype(np.float32) * 0.8 + 20, 0, 255).astype(np.uint8)
    tiles = [astronaut, camera, astronaut[:, ::-1], darker]
    tiles = [cv2.resize(np.ascontiguousarray(t), (320, 240), interpolation=cv2.INTER_AREA)
             for t in tiles]
    group = np.vstack([np.hstack(tiles[:2]), np.hstack(tiles[2:])])
    one = cv2.resize(astronaut, (640, 480), interpolation=cv2.INTER_LINEAR)
    return {"astronaut": np.ascontiguousarray(one), "group": np.ascontiguousarray(group)}


# --------------------------------------------------------------------------- timing


def measure(calls: Sequence[Callable[[], object]], repeat: int, warmup: int) -> dict:
    """Time each call ``repeat`` times (after ``warmup`` untimed rounds); return statistics
    over all samples in milliseconds: wall and process CPU time, median and p95."""
    for _ in range(warmup):
        for call in calls:
            call()
    wall, cpu = [], []
    for _ in range(repeat):
        for call in calls:
            w, c = time.perf_counter(), time.process_time()
            call()
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - w)
    ms = lambda values, q: float(np.percentile(values, q) * 1000)  # noqa: E731
    return {"samples": len(wall), "wall_median_ms": ms(wall, 50), "wall_p95_ms": ms(wall, 95),
            "cpu_median_ms": ms(cpu, 50), "cpu_p95_ms": ms(cpu, 95)}


def count(faces: Sequence) -> str:
    return f"{len(faces)} face" + ("" if len(faces) == 1 else "s")


def row(engine: str, task: str, per: str, threads: int | str, stats: dict, bar: str = "") -> dict:
    return {"engine": engine, "task": task, "per": per, "threads": threads, "bar": bar, **stats}


def rostro_rows(images: dict[str, np.ndarray], threads: int, repeat: int, warmup: int) -> list[dict]:
    """Time Rostro's engine with ``threads`` ONNX Runtime threads per model."""
    os.environ["ROSTRO_THREADS"] = str(threads)
    from rostro.vision.analyzer import Analyzer, Request
    from rostro.vision.embedder import SFaceEmbedder
    from rostro.vision.landmarks import azure_landmarks

    analyzer = Analyzer()
    analyzer.load_all()
    landmarker, embedder = analyzer.landmarker, analyzer.embedder
    flipper = SFaceEmbedder(analyzer.cache.require("sface"), landmarker, flip_average=True)
    faces = {name: analyzer.detect(image) for name, image in images.items()}
    group, group_faces = images["group"], faces["group"]
    fitted = [landmarker.fit(group, d.box)[0] for d in group_faces]
    crops = [embedder.align(group, d, points) for d, points in zip(group_faces, fitted)]

    def landmarks_and_pose(detection):
        points, pose = landmarker.fit(group, detection.box)
        return azure_landmarks(points), pose

    label = f"{len(group_faces)} faces of group"
    rows = []
    for name, image in images.items():
        stats = measure([lambda image=image: analyzer.detect(image)], repeat, warmup)
        rows.append(row("rostro", f"detect ({name}, {count(faces[name])})", "image", threads,
                        stats, "detect"))
    per_face = [
        ("landmarks: 68-point fit, 27 Azure landmarks, head pose", "landmarks",
         [lambda d=d: landmarks_and_pose(d) for d in group_faces]),
        ("embed as shipped (3D-fit alignment + SFace)", "embed",
         [lambda d=d: embedder.embed(group, d) for d in group_faces]),
        ("embed, landmarks already fitted", "",
         [lambda d=d, p=p: embedder.embed(group, d, p) for d, p in zip(group_faces, fitted)]),
        ("embed with mirror averaging (flip_average=True)", "",
         [lambda d=d: flipper.embed(group, d) for d in group_faces]),
        ("SFace network, one aligned crop (as provisioned)", "",
         [lambda c=c: embedder.embed_aligned(c[None]) for c in crops]),
    ]
    for task, bar, calls in per_face:
        rows.append(row("rostro", f"{task} [{label}]", "face", threads,
                        measure(calls, repeat, warmup), bar))
    plain = plain_sface(embedder.landmarker)
    if plain is not None:
        rows.append(row("rostro", f"SFace network, one aligned crop (plain float32) [{label}]",
                        "face", threads,
                        measure([lambda c=c: plain.embed_aligned(c[None]) for c in crops],
                                repeat, warmup)))
    for name, image in images.items():
        request = Request(embedding=True)
        stats = measure([lambda image=image: analyzer.analyze(image, request)], repeat, warmup)
        rows.append(row("rostro", f"detect + embed every face ({name})", "image", threads, stats))
        request = Request(landmarks=True, pose=True, embedding=True)
        stats = measure([lambda image=image: analyzer.analyze(image, request)], repeat, warmup)
        rows.append(row("rostro", f"detect + landmarks + pose + embed ({name})", "image",
                        threads, stats))
    return rows


def plain_sface(landmarker):
    """An embedder over SFace converted the plain way (float32, before the CPU rewrite), built
    from the package archive `rostro models pull` keeps; None when that archive is absent."""
    from rostro.models.cache import ModelCache
    from rostro.models.convert import onnx_dequantize
    from rostro.models.fetch import read_member
    from rostro.models.pull import archives_dir
    from rostro.vision.embedder import SFaceEmbedder

    item = ModelCache().artifact("sface")
    archive = archives_dir() / item.source.filename
    if not archive.is_file():
        return None
    path = Path(tempfile.mkdtemp()) / "sface_float32.onnx"
    path.write_bytes(onnx_dequantize(read_member(archive, item.members[0].path)))
    return SFaceEmbedder(path, landmarker)


# --------------------------------------------------------------------------- the peer


@dataclass(frozen=True)
class PeerSettings:
    """face_recognition's defaults: HOG detector at upsample 1 and dlib's score threshold 0,
    one jitter, 5-point alignment; "same person" when the L2 distance is at most 0.6."""

    score_threshold: float = 0.0
    upsample: int = 1
    jitters: int = 1
    landmarks: str = "small"
    distance_threshold: float = 0.6


class HogDetector:
    """dlib's HOG face detector as face_recognition runs it, behind the detector interface
    of rostro.evaluation.detection (``detect(image, score_threshold)``, ``input_shape``)."""

    def __init__(self, settings: PeerSettings) -> None:
        import face_recognition.api

        self.settings = settings
        self._hog = face_recognition.api.face_detector

    def input_shape(self, height: int, width: int) -> tuple[int, int]:
        factor = 2 ** self.settings.upsample
        return height * factor, width * factor

    def detect(self, image: np.ndarray, score_threshold: float | None = None) -> list:
        """Faces in a BGR image, best score first. dlib gives no five points: the box centre
        stands in for them (nothing the evaluation reads)."""
        from rostro.vision.types import Box, Detection, Point

        threshold = self.settings.score_threshold if score_threshold is None else score_threshold
        rgb = np.ascontiguousarray(image[..., ::-1])
        rects, scores, _ = self._hog.run(rgb, self.settings.upsample, threshold)
        height, width = image.shape[:2]
        found = []
        for rect, score in zip(rects, scores):
            # face_recognition clips boxes to the image (_trim_css_to_bounds).
            left, top = max(rect.left(), 0), max(rect.top(), 0)
            right, bottom = min(rect.right(), width), min(rect.bottom(), height)
            box = Box(float(left), float(top), float(right - left), float(bottom - top))
            centre = Point(box.left + box.width / 2, box.top + box.height / 2)
            found.append(Detection(box, float(score), (centre,) * 5))
        return sorted(found, key=lambda d: -d.score)


class FaceRecognitionPeer:
    """face_recognition (ageitgey, dlib) behind the interface rostro.evaluation uses for an
    analyzer: ``detector``/``detector_settings`` (detection), ``detect``/``embed``
    (verification), plus its own pair ``score`` (minus the L2 distance) and ``threshold``
    (-0.6), since its embeddings are not compared by cosine."""

    def __init__(self, settings: PeerSettings | None = None) -> None:
        import face_recognition

        self._fr = face_recognition
        self.detector_settings = settings or PeerSettings()
        self.detector = HogDetector(self.detector_settings)
        self.embedder = self
        self.threshold = -self.detector_settings.distance_threshold

    def detect(self, image: np.ndarray, max_faces: int = 100, min_face: float = 0.0) -> list:
        found = [d for d in self.detector.detect(image) if min(d.box.width, d.box.height) >= min_face]
        return sorted(found, key=lambda d: -d.box.area)[:max_faces]

    @staticmethod
    def _css(box) -> tuple[int, int, int, int]:
        return (int(box.top), int(box.left + box.width), int(box.top + box.height), int(box.left))

    def embed(self, image: np.ndarray, detection) -> np.ndarray:
        """The 128-d dlib descriptor of one face (not unit length; compare with ``score``)."""
        rgb = np.ascontiguousarray(image[..., ::-1])
        s = self.detector_settings
        [vector] = self._fr.face_encodings(rgb, [self._css(detection.box)], s.jitters, s.landmarks)
        return np.asarray(vector, dtype=np.float64)

    def landmarks68(self, image: np.ndarray, detection) -> dict:
        rgb = np.ascontiguousarray(image[..., ::-1])
        return self._fr.face_landmarks(rgb, [self._css(detection.box)], "large")[0]

    @staticmethod
    def score(a: np.ndarray, b: np.ndarray) -> float:
        return -float(np.linalg.norm(a - b))


def load_peer() -> FaceRecognitionPeer | None:
    try:
        return FaceRecognitionPeer()
    except ImportError:
        return None


def peer_rows(peer: FaceRecognitionPeer, images: dict[str, np.ndarray], repeat: int,
              warmup: int) -> list[dict]:
    faces = {name: peer.detect(image) for name, image in images.items()}
    group, group_faces = images["group"], faces["group"]
    label = f"{len(group_faces)} faces of group"
    rows = []
    for name, image in images.items():
        stats = measure([lambda image=image: peer.detect(image)], repeat, warmup)
        rows.append(row("face_recognition", f"detect ({name}, {count(faces[name])})", "image",
                        1, stats, "detect"))
    rows.append(row("face_recognition", f"68 landmarks (no pose) [{label}]", "face", 1,
                    measure([lambda d=d: peer.landmarks68(group, d) for d in group_faces],
                            repeat, warmup)))
    rows.append(row("face_recognition", f"embed (5-point alignment + ResNet) [{label}]", "face",
                    1, measure([lambda d=d: peer.embed(group, d) for d in group_faces],
                               repeat, warmup), "embed"))
    for name, image in images.items():
        def everything(image=image):
            return [peer.embed(image, d) for d in peer.detect(image)]
        rows.append(row("face_recognition", f"detect + embed every face ({name})", "image", 1,
                        measure([everything], repeat, warmup)))
    return rows


# --------------------------------------------------------------------------- cold start, memory

# Both children: the clock starts before anything is imported; rss(key) reads a
# /proc/self/status field in MiB.
_CHILD_PRELUDE = """
import json, sys, time
start = time.perf_counter()
def rss(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
"""

_ROSTRO_CHILD = _CHILD_PRELUDE + """
from rostro.vision.analyzer import Analyzer, Request
imported = time.perf_counter()
analyzer = Analyzer()
analyzer.load_all()
ready = time.perf_counter()
print("ready", flush=True)
loaded = rss("VmRSS:")
import numpy as np
image = np.load(sys.argv[1])
analyzer.analyze(image, Request(landmarks=True, pose=True, embedding=True))
after = rss("VmRSS:")
try:
    from rostro.vision.attributes import supported_attributes
    names = frozenset(supported_attributes())
    analyzer.analyze(image, Request(landmarks=True, pose=True, embedding=True, attributes=names))
    attributes = {"rss_mib": rss("VmRSS:"), "names": sorted(names)}
except Exception as exc:  # attributes are optional here; report why they were not measured
    attributes = {"error": f"{type(exc).__name__}: {exc}"}
print(json.dumps({"import_s": imported - start, "load_s": ready - imported,
                  "ready_s": ready - start, "rss_loaded_mib": loaded, "rss_after_analyze_mib": after,
                  "peak_rss_mib": rss("VmHWM:"), "attributes": attributes}))
"""

_PEER_CHILD = _CHILD_PRELUDE + """
import face_recognition
ready = time.perf_counter()
print("ready", flush=True)
loaded = rss("VmRSS:")
import numpy as np
rgb = np.ascontiguousarray(np.load(sys.argv[1])[..., ::-1])
face_recognition.face_encodings(rgb, face_recognition.face_locations(rgb))
print(json.dumps({"import_s": ready - start, "load_s": 0.0, "ready_s": ready - start,
                  "rss_loaded_mib": loaded, "rss_after_analyze_mib": rss("VmRSS:"),
                  "peak_rss_mib": rss("VmHWM:")}))
"""


def cold_start(code: str, image: np.ndarray, runs: int) -> dict:
    """Run ``code`` in ``runs`` fresh interpreters (ROSTRO_THREADS=1); return the median of
    each reported figure, plus ``process_s``: launch of the interpreter to "ready"."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "image.npy"
        np.save(path, image)
        env = dict(os.environ, ROSTRO_THREADS="1")
        results = []
        for _ in range(runs):
            launched = time.perf_counter()
            child = subprocess.Popen([sys.executable, "-c", code, str(path)], env=env,
                                     stdout=subprocess.PIPE, text=True)
            first = child.stdout.readline()
            process_s = time.perf_counter() - launched
            rest = child.stdout.read()
            if child.wait() != 0 or first.strip() != "ready":
                raise RuntimeError(f"cold-start child failed (exit {child.returncode})")
            report = json.loads(rest.strip().splitlines()[-1])
            report["process_s"] = process_s
            results.append(report)
    summary = {key: float(np.median([r[key] for r in results]))
               for key, value in results[0].items() if isinstance(value, float)}
    summary["runs"] = runs
    summary["first_process_s"] = results[0]["process_s"]
    if "attributes" in results[0]:
        summary["attributes"] = results[-1]["attributes"]
    return summary


# --------------------------------------------------------------------------- accuracy


def accuracy(engines: dict[str, object], eval_dir: Path, limit: int | None) -> dict:
    """Score each engine with rostro.evaluation on ``eval_dir``'s detection and identity sets."""
    report: dict[str, dict] = {}
    detection_dir, identity_dir = eval_dir / "detection", eval_dir / "identity"
    for name, engine in engines.items():
        report[name] = {}
        if (detection_dir / "labels.csv").is_file():
            from rostro.evaluation.detection import evaluate_detection

            result = evaluate_detection(engine, detection_dir, limit=limit, progress=False)
            report[name]["detection"] = {r["group"]: r for r in result["rows"]}
            report[name]["detection_cpu_ms_per_image"] = result["cpu_ms_per_image"]
        if (identity_dir / "pairs.csv").is_file():
            report[name]["verification"] = verification(engine, identity_dir, limit)
    return report


def verification(engine, data_dir: Path, limit: int | None) -> dict:
    """rostro.evaluation.verification's pipeline and metrics, with the engine's own pair score
    and threshold when it has them (the peer: minus L2 distance, -0.6), cosine otherwise."""
    from rostro.evaluation import verification as v

    pairs = v.load_pairs(data_dir, limit)
    names = [name for pair in pairs for name in (pair.image_a, pair.image_b)]
    embeddings, seconds = v.embed_images(engine, data_dir, names, progress=False)
    score = getattr(engine, "score", None)
    if score is None:
        from rostro.vision.embedder import SAME_PERSON_THRESHOLD

        scores, threshold = v.pair_scores(pairs, embeddings), SAME_PERSON_THRESHOLD
    else:
        scores = [None if embeddings[p.image_a] is None or embeddings[p.image_b] is None
                  else score(embeddings[p.image_a], embeddings[p.image_b]) for p in pairs]
        threshold = engine.threshold
    embedded = sum(e is not None for e in embeddings.values())
    return {"threshold": threshold, "images": len(embeddings),
            "images_without_face": len(embeddings) - embedded,
            "cpu_ms_per_embedding": 1000 * seconds / max(1, embedded),
            "rows": {r["group"]: r for r in v.summarize(pairs, scores, threshold)}}


# --------------------------------------------------------------------------- output


def _bar_note(r: dict) -> str:
    bar = BARS_MS.get(r["bar"]) if r["threads"] == 1 and r["engine"] == "rostro" else None
    if bar is None:
        return ""
    if r["wall_median_ms"] <= bar:
        return f"≤ {bar:g} ✓"
    return f"≤ {bar:g} ✓ (CPU time)" if r["cpu_median_ms"] <= bar else f"≤ {bar:g} ✗"


def speed_table(rows: list[dict]) -> str:
    lines = ["| engine | task | per | threads | median ms | p95 ms | CPU median ms | per core/s | bar |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['engine']} | {r['task']} | {r['per']} | {r['threads']} | "
                     f"{r['wall_median_ms']:.1f} | {r['wall_p95_ms']:.1f} | {r['cpu_median_ms']:.1f} | "
                     f"{1000 / r['cpu_median_ms']:.1f} | {_bar_note(r)} |")
    return "\n".join(lines)


def ratio_table(rows: list[dict]) -> str:
    """Peer time / Rostro time (CPU medians, 1 thread) for the tasks both engines do."""
    def find(engine, prefix):
        for r in rows:
            if r["engine"] == engine and r["threads"] == 1 and r["task"].startswith(prefix):
                return r
        return None

    pairs = [("detect (astronaut", "detect (astronaut", "detect, astronaut 640x480"),
             ("detect (group", "detect (group", "detect, group 640x480"),
             ("embed as shipped", "embed (5-point", "embed one face (each engine's own alignment)"),
             ("detect + embed every face (astronaut)", "detect + embed every face (astronaut)",
              "detect + embed, astronaut"),
             ("detect + embed every face (group)", "detect + embed every face (group)",
              "detect + embed, group")]
    lines = ["| task | Rostro CPU ms | face_recognition CPU ms | face_recognition / Rostro |",
             "|---|---|---|---|"]
    for ours, theirs, label in pairs:
        a, b = find("rostro", ours), find("face_recognition", theirs)
        if a and b:
            lines.append(f"| {label} | {a['cpu_median_ms']:.1f} | {b['cpu_median_ms']:.1f} | "
                         f"{b['cpu_median_ms'] / a['cpu_median_ms']:.1f}x |")
    return "\n".join(lines)


def cold_table(cold: dict[str, dict]) -> str:
    lines = ["| engine | import + load, median s | process launch to ready, median s (first run) "
             "| RSS models loaded MiB | RSS after one analysis MiB | peak RSS MiB |",
             "|---|---|---|---|---|---|"]
    for name, c in cold.items():
        bar = ""
        if name == "rostro":
            bar = " ✓" if c["ready_s"] <= COLD_START_BAR_S else " ✗"
            bar += f" (bar ≤ {COLD_START_BAR_S:g} s)"
        lines.append(f"| {name} | {c['ready_s']:.2f}{bar} | {c['process_s']:.2f} "
                     f"({c['first_process_s']:.2f}) | {c['rss_loaded_mib']:.0f} | "
                     f"{c['rss_after_analyze_mib']:.0f} | {c['peak_rss_mib']:.0f} |")
    attributes = cold.get("rostro", {}).get("attributes")
    if attributes and "rss_mib" in attributes:
        lines.append(f"\nRostro with every attribute model loaded as well "
                     f"({', '.join(attributes['names'])}): RSS {attributes['rss_mib']:.0f} MiB.")
    elif attributes:
        lines.append(f"\nAttribute models not measured: {attributes['error']}")
    return "\n".join(lines)


def accuracy_table(report: dict) -> str:
    def f(value):
        missing = value is None or (isinstance(value, float) and np.isnan(value))
        return "-" if missing else f"{value:.3f}"

    lines = ["| metric | " + " | ".join(report) + " |", "|---|" + "---|" * len(report)]
    any_engine = next(iter(report.values()))
    for group in any_engine.get("detection", {}):
        if not group.startswith(("all", "unmasked", "masked")):
            continue
        for metric in ("recall", "precision", "ap"):
            values = [report[e].get("detection", {}).get(group, {}).get(metric) for e in report]
            if all(v is None for v in values):
                continue
            lines.append(f"| detection {metric}, {group} | " + " | ".join(map(f, values)) + " |")
    for group in any_engine.get("verification", {}).get("rows", {}):
        for metric, label in (("accuracy", "accuracy at own threshold"), ("roc_auc", "ROC AUC"),
                              ("tar_at_far", "TAR at FAR 1e-2")):
            values = [report[e].get("verification", {}).get("rows", {}).get(group, {}).get(metric)
                      for e in report]
            lines.append(f"| verification {label}, {group} | " + " | ".join(map(f, values)) + " |")
    failures = [str(report[e].get("verification", {}).get("images_without_face", "-")) for e in report]
    lines.append("| identity images without a detected face | " + " | ".join(failures) + " |")
    return "\n".join(lines)


def machine_text(info: dict) -> str:
    keys = ", ".join(f"{k} {info[k]}" for k in ("Core(s) per socket", "Thread(s) per core",
                                                   "L2 cache", "L3 cache", "Hypervisor vendor")
                     if k in info)
    peer = "".join(f", {p} {info[p]}" for p in ("face_recognition", "face_recognition_models",
                                                 "dlib-bin") if p in info)
    load = ", ".join(f"{x:.1f}" for x in info["load_average"])
    return (f"{info['cpu']} ({info['usable_cpus']} usable of {info['logical_cpus']} logical CPUs; "
            f"{keys}; SIMD {info['simd'] or 'none of avx2/avx512'}); {info['platform']}; Python "
            f"{info['python']}, onnxruntime {info['onnxruntime']}, numpy {info['numpy']}, "
            f"OpenCV {info['opencv']}{peer}. Load average at start: {load}.")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=100, help="timed rounds per Rostro case")
    parser.add_argument("--peer-repeat", type=int, default=20, help="timed rounds per peer case")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds first")
    parser.add_argument("--threads", default="1,2", help="ONNX Runtime threads, comma-separated")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes for cold start")
    parser.add_argument("--no-peer", action="store_true", help="skip face_recognition")
    parser.add_argument("--eval", type=Path, nargs="?", const=DEFAULT_EVAL, default=None,
                        metavar="DIR", help="also score both engines on DIR/detection and "
                        f"DIR/identity (default DIR: {DEFAULT_EVAL})")
    parser.add_argument("--eval-limit", type=int, help="only the first N images / pairs")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write every figure as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info = machine()
    images = test_images()
    peer = None if args.no_peer else load_peer()
    print("## Engine benchmark\n")
    print(f"Machine: {machine_text(info)}\n")
    if peer is None and not args.no_peer:
        print("face_recognition is not installed: peer skipped "
              "(pip install -r benchmarks/requirements.txt).\n")

    rows = []
    for threads in (int(t) for t in args.threads.split(",")):
        rows += rostro_rows(images, threads, args.repeat, args.warmup)
    if peer is not None:
        rows += peer_rows(peer, images, args.peer_repeat, args.warmup)
    print("### Speed\n")
    print(speed_table(rows) + "\n")
    if peer is not None:
        print("### Speed ratio (CPU time, 1 thread)\n")
        print(ratio_table(rows) + "\n")

    cold = {"rostro": cold_start(_ROSTRO_CHILD, images["astronaut"], args.cold_runs)}
    if peer is not None:
        cold["face_recognition"] = cold_start(_PEER_CHILD, images["astronaut"], args.cold_runs)
    print("### Cold start and memory\n")
    print(cold_table(cold) + "\n")
    info["load_average_end"] = os.getloadavg()
    print(f"Load average at the end: {', '.join(f'{x:.1f}' for x in info['load_average_end'])}\n")

    results = {"command": " ".join(sys.argv), "machine": info, "speed": rows, "cold_start": cold}
    if args.eval is not None:
        if not args.eval.is_dir():
            print(f"no evaluation data at {args.eval}: accuracy skipped\n")
        else:
            from rostro.vision.analyzer import Analyzer

            os.environ["ROSTRO_THREADS"] = "1"
            engines = {"rostro": Analyzer()}
            if peer is not None:
                engines["face_recognition"] = peer
            report = accuracy(engines, args.eval, args.eval_limit)
            results["accuracy"] = report
            print(f"### Accuracy on {args.eval} (rostro.evaluation, each engine at its own "
                  "threshold)\n")
            print(accuracy_table(report) + "\n")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=float) + "\n")
        print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
