"""The TF.js -> ONNX converter: Human's graph models compute in ONNX Runtime what they compute
in TensorFlow.js, the runtime they ship for.

The reference is @tensorflow/tfjs (pure JavaScript CPU backend, pinned in tests/tfjs) run by
Node on the original model.json + .bin from the pinned npm archive; Node packages are installed
once with ``npm ci`` into a cache folder. Without node/npm (or a registry) those tests skip.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from rostro.models.errors import ProvisioningError
from rostro.models.fetch import obtain_archive, read_members
from rostro.models.manifest import ARTIFACTS
from rostro.models.pull import archives_dir
from rostro.models.tfjs import convert_graph_model, decode_weights, graph_model_outputs, tfjs_graph_model

TFJS_DIR = Path(__file__).resolve().parent / "tfjs"
HUMAN = [a for a in ARTIFACTS if a.converter == "tfjs_graph_model"]

# Value range of realistic inputs: the check runs each model where its activations live
# (Relu6-style clamps and PReLUs behave differently on wrongly scaled data).
INPUT_RANGE = {
    "human-faceres": (0.0, 255.0),
    "human-faceres-deep": (0.0, 255.0),
    "human-mobileface": (0.0, 255.0),
    "human-emotion": (-1.0, 1.0),
}
# ONNX Runtime vs tfjs, max abs difference relative to the largest reference value.
RELATIVE_TOLERANCE = 1e-4


# --------------------------------------------------------------------------- Node / tfjs


@pytest.fixture(scope="session")
def tfjs_node() -> Path:
    """Return a folder whose node_modules holds the pinned @tensorflow/tfjs (installed once)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not installed: TF.js reference unavailable")
    lock = (TFJS_DIR / "package-lock.json").read_bytes()
    root = Path(os.environ.get("ROSTRO_NODE_CACHE", Path.home() / ".cache" / "rostro" / "node"))
    target = root / f"tfjs-{hashlib.sha256(lock).hexdigest()[:12]}"
    if (target / "node_modules" / "@tensorflow" / "tfjs" / "package.json").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".install-"))
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(TFJS_DIR / name, staging / name)
    result = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=staging, capture_output=True, text=True, timeout=900, check=False,
    )
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.skip(f"npm ci of the TF.js reference failed (no registry?): {tail[0]}")
    try:
        staging.rename(target)
    except OSError:  # another session installed it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return target


def run_tfjs(node_dir: Path, models: list[dict], workdir: Path) -> list[dict]:
    """Run TF.js graph models in Node; return each job's outputs as float32 arrays.

    ``models``: dicts with ``files`` (name -> bytes of model.json and shards, model.json
    named ``model.json``), ``inputs`` (name -> array) and ``outputs`` (TF tensor names).
    """
    jobs = []
    for index, model in enumerate(models):
        folder = workdir / f"model{index}"
        folder.mkdir()
        for name, data in model["files"].items():
            (folder / name).write_bytes(data)
        manifest = json.loads(model["files"]["model.json"])["weightsManifest"]
        inputs = []
        for name, array in model["inputs"].items():
            path = folder / f"in_{len(inputs)}.f32"
            np.ascontiguousarray(array, dtype="<f4").tofile(path)
            inputs.append({"name": name, "shape": list(array.shape), "file": str(path)})
        jobs.append({
            "modelJson": str(folder / "model.json"),
            "shards": [str(folder / p) for group in manifest for p in group["paths"]],
            "inputs": inputs,
            "outputs": [{"tensor": t, "file": str(folder / f"out_{i}.f32")}
                        for i, t in enumerate(model["outputs"])],
        })
    job_file = workdir / "job.json"
    job_file.write_text(json.dumps({"models": jobs}))
    env = dict(os.environ, NODE_PATH=str(node_dir / "node_modules"))
    result = subprocess.run(["node", str(TFJS_DIR / "run_graph_model.js"), str(job_file)],
                            capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    reports = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    outputs = []
    for job, report in zip(jobs, reports):
        outputs.append([np.fromfile(o["file"], dtype="<f4").reshape(shape)
                        for o, shape in zip(job["outputs"], report["shapes"])])
    return outputs


def run_onnx(model: bytes, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    from rostro.vision.runtime import session

    with tempfile.NamedTemporaryFile(suffix=".onnx") as handle:
        handle.write(model)
        handle.flush()
        return session(Path(handle.name)).run(None, inputs)


def assert_close(ours: np.ndarray, reference: np.ndarray, what: str) -> float:
    assert ours.shape == reference.shape, f"{what}: {ours.shape} vs {reference.shape}"
    scale = max(float(np.abs(reference).max()), 1e-3)
    diff = float(np.abs(ours - reference).max())
    assert diff <= RELATIVE_TOLERANCE * scale, f"{what}: max diff {diff:.3g} (scale {scale:.3g})"
    return diff


# --------------------------------------------------------------------------- Human models


def _human_files() -> dict[str, dict[str, bytes]]:
    """Member files of every Human artifact, read from the pinned archive (one pass)."""
    archives = os.environ.get("ROSTRO_TEST_ARCHIVES")
    try:
        archive = obtain_archive(HUMAN[0].source, archives_dir(), Path(archives) if archives else None)
    except ProvisioningError as exc:
        pytest.skip(f"Human models archive unavailable: {exc}")
    files = read_members(archive, [m.path for item in HUMAN for m in item.members])
    return {item.name: {m.path: files[m.path] for m in item.members} for item in HUMAN}


def _tfjs_files(members: dict[str, bytes]) -> dict[str, bytes]:
    """Lay the members out as Node reads them: model.json beside its shards."""
    return {("model.json" if path.endswith(".json") else path.rsplit("/", 1)[-1]): data
            for path, data in members.items()}


@pytest.fixture(scope="module")
def human_comparison(tfjs_node, tmp_path_factory):
    """Run every Human artifact in tfjs and in ONNX Runtime on the same fixed random input."""
    members = _human_files()
    models, onnx_outputs, names = [], [], []
    rng = np.random.default_rng(1234)
    for item in HUMAN:
        converted = tfjs_graph_model(members[item.name])
        model_json = next(d for p, d in members[item.name].items() if p.endswith(".json"))
        outputs = graph_model_outputs(model_json)
        import onnx

        graph = onnx.load_model_from_string(converted).graph
        [model_input] = graph.input
        shape = [d.dim_value or 1 for d in model_input.type.tensor_type.shape.dim]
        low, high = INPUT_RANGE.get(item.name, (0.0, 1.0))
        x = rng.uniform(low, high, size=shape).astype(np.float32)
        models.append({"files": _tfjs_files(members[item.name]), "inputs": {model_input.name: x},
                       "outputs": [tensor for _, tensor in outputs]})
        onnx_outputs.append(dict(zip([o.name for o in graph.output],
                                     run_onnx(converted, {model_input.name: x}))))
        names.append([public for public, _ in outputs])
    reference = run_tfjs(tfjs_node, models, tmp_path_factory.mktemp("tfjs"))
    return {item.name: (names[i], onnx_outputs[i], reference[i]) for i, item in enumerate(HUMAN)}


@pytest.mark.parametrize("name", [a.name for a in HUMAN])
def test_human_model_matches_tensorflow_js(human_comparison, name):
    public, ours, reference = human_comparison[name]
    for output, expected in zip(public, reference):
        assert_close(ours[output], expected, f"{name} {output}")


# --------------------------------------------------------------------------- real photos


def _square_crop(bgr: np.ndarray, box, scale: float, size: int) -> np.ndarray:
    """An RGB float32 crop of ``scale`` x the detector box's longer side, centred on it."""
    import cv2

    side = max(box.width, box.height) * scale
    cx, cy = box.left + box.width / 2, box.top + box.height / 2
    k = size / side
    matrix = np.array([[k, 0, size / 2 - cx * k], [0, k, size / 2 - cy * k]], np.float32)
    crop = cv2.warpAffine(bgr, matrix, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    return crop[..., ::-1].astype(np.float32)


def test_human_models_read_real_faces_with_documented_inputs(analyzer, astronaut, cameraman):
    """The input conventions in docs/models.md give sensible answers on two known photos:
    Eileen Collins (smiling woman) and the cameraman (man)."""
    from rostro.vision.runtime import session

    cache = analyzer.cache
    faceres = session(cache.require("human-faceres"))
    emotion = session(cache.require("human-emotion"))
    facemesh = session(cache.require("human-facemesh"))
    male = {}
    for name, photo in (("astronaut", astronaut), ("cameraman", cameraman)):
        box = analyzer.detect(photo)[0].box
        # faceres: BGR minus the ImageNet channel means (Keras "caffe" preprocessing).
        bgr = _square_crop(photo, box, 1.0, 224)[..., ::-1] - np.array([103.939, 116.779, 123.68], np.float32)
        gender, descriptor, age = faceres.run(None, {"input_1": bgr[None]})
        male[name] = float(gender[0, 0])
        assert descriptor.shape == (1, 1024) and age.shape == (1, 100)
        assert 15 < float(age[0] @ np.arange(100)) < 60
        mesh, face_score, _ = facemesh.run(None, {"input_1": _square_crop(photo, box, 1.3, 192)[None] / 255})
        points = mesh.reshape(468, 3)
        assert float(face_score.ravel()[0]) > 0.9
        assert points[:, :2].min() > 0 and points[:, :2].max() < 192
    assert male["astronaut"] < 0.4 and male["cameraman"] > 0.6

    rgb = _square_crop(astronaut, analyzer.detect(astronaut)[0].box, 1.0, 64)
    gray = rgb @ np.array([0.2989, 0.5870, 0.1140], np.float32) / 255
    [probabilities] = emotion.run(None, {"input_1": ((gray - 0.5) * 2)[None, :, :, None]})
    labels = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert labels[int(probabilities.argmax())] == "happy"


# --------------------------------------------------------------------------- op coverage

def _attr_s(text: str) -> dict:
    return {"s": base64.b64encode(text.encode()).decode()}


def _attr_i(values: list[int]) -> dict:
    return {"list": {"i": [str(v) for v in values]}}


def _op_zoo() -> tuple[bytes, dict[str, bytes], list[str]]:
    """A small TF.js graph model using the ops and weight encodings the Human face models do
    not (resizes, mirror pads, strided slices, uint8 weights, ...), built by hand."""
    rng = np.random.default_rng(7)
    weights: list[tuple[dict, bytes]] = []
    nodes: list[dict] = [{
        "name": "x", "op": "Placeholder",
        "attr": {"dtype": {"type": "DT_FLOAT"},
                 "shape": {"shape": {"dim": [{"size": "-1"}, {"size": "9"}, {"size": "9"}, {"size": "4"}]}}},
    }]

    def const(name: str, value: np.ndarray, quantize: str | None = None) -> str:
        value = np.asarray(value)
        dtype = "int32" if value.dtype.kind == "i" else "float32"
        spec = {"name": name, "shape": list(value.shape), "dtype": dtype}
        if quantize == "uint8":
            low, high = float(value.min()), float(value.max())
            scale = (high - low) / 255
            data = np.round((value - low) / scale).astype(np.uint8).tobytes()
            spec["quantization"] = {"dtype": "uint8", "scale": scale, "min": low}
        elif quantize == "float16":
            data = value.astype("<f2").tobytes()
            spec["quantization"] = {"dtype": "float16"}
        else:
            data = value.astype("<i4" if dtype == "int32" else "<f4").tobytes()
        weights.append((spec, data))
        nodes.append({"name": name, "op": "Const", "attr": {
            "dtype": {"type": "DT_INT32" if dtype == "int32" else "DT_FLOAT"},
            "value": {"tensor": {"dtype": "DT_INT32" if dtype == "int32" else "DT_FLOAT",
                                 "tensorShape": {"dim": [{"size": str(d)} for d in value.shape]}}}}})
        return name

    def op(name: str, kind: str, inputs: list[str], **attr) -> str:
        nodes.append({"name": name, "op": kind, "input": inputs,
                      "attr": {"T": {"type": "DT_FLOAT"}, **attr}})
        return name

    same, valid = _attr_s("SAME"), _attr_s("VALID")
    w = const("w", rng.normal(0, 0.3, (3, 3, 4, 6)).astype(np.float32), "uint8")
    b = const("b", rng.normal(0, 0.1, 6).astype(np.float32), "float16")
    conv = op("conv", "_FusedConv2D", ["x", w, b], strides=_attr_i([1, 2, 2, 1]), padding=same,
              dilations=_attr_i([1, 1, 1, 1]), data_format=_attr_s("NHWC"),
              fused_ops={"list": {"s": [base64.b64encode(b"BiasAdd").decode(),
                                        base64.b64encode(b"Relu6").decode()]}},
              num_args={"i": "1"})
    dw = const("dw", rng.normal(0, 0.3, (3, 3, 6, 2)).astype(np.float32))
    depth = op("depthwise", "DepthwiseConv2dNative", [conv, dw], strides=_attr_i([1, 1, 1, 1]),
               padding=valid, dilations=_attr_i([1, 1, 1, 1]), data_format=_attr_s("NHWC"))
    up = op("up", "ResizeBilinear", [depth, const("size", np.array([7, 6], np.int32))],
            align_corners={"b": False}, half_pixel_centers={"b": True})
    up_legacy = op("up_legacy", "ResizeBilinear", [depth, "size"],
                   align_corners={"b": False}, half_pixel_centers={"b": False})
    nn = op("nn", "ResizeNearestNeighbor", [depth, "size"],
            align_corners={"b": True}, half_pixel_centers={"b": False})
    nn_half = op("nn_half", "ResizeNearestNeighbor", [depth, "size"],
                 align_corners={"b": False}, half_pixel_centers={"b": True})
    three = const("axis3", np.array(3, np.int32))
    cat = op("cat", "ConcatV2", [up, up_legacy, nn, nn_half, three], N={"i": "4"})
    alpha = const("alpha", rng.uniform(0, 0.5, (1, 1, 48)).astype(np.float32))
    prelu = op("prelu", "Prelu", [op("shift", "Sub", [cat, const("half", np.array(0.5, np.float32))]), alpha])
    mirror = op("mirror", "MirrorPad", [prelu, const("mpad", np.array([[0, 0], [1, 2], [2, 1], [0, 0]], np.int32))],
                mode=_attr_s("REFLECT"))
    padded = op("padded", "PadV2", [mirror, const("pad", np.array([[0, 0], [1, 0], [0, 1], [0, 0]], np.int32)),
                                     const("fill", np.array(-1.5, np.float32))])
    pooled = op("pooled", "AvgPool", [padded], ksize=_attr_i([1, 3, 3, 1]),
                strides=_attr_i([1, 2, 2, 1]), padding=same, data_format=_attr_s("NHWC"))
    maxed = op("maxed", "MaxPool", [padded], ksize=_attr_i([1, 2, 2, 1]),
               strides=_attr_i([1, 2, 2, 1]), padding=valid, data_format=_attr_s("NHWC"))
    squared = op("squared", "Square", [pooled])
    norm = op("norm", "Rsqrt", [op("energy", "AddV2", [op("chan_mean", "Mean", [squared, three],
                                                           keep_dims={"b": True}),
                                                        const("eps", np.array(1e-3, np.float32))])])
    scaled = op("scaled", "Mul", [pooled, norm])
    clipped = op("clipped", "Minimum", [op("floor", "Maximum", [scaled, const("lo", np.array(-2, np.float32))]),
                                        const("hi", np.full(48, 2, np.float32))])
    leaky = op("leaky", "LeakyRelu", [clipped], alpha={"f": 0.1})
    d2s = op("d2s", "DepthToSpace", [leaky], block_size={"i": "2"}, data_format=_attr_s("NHWC"))
    perm = op("perm", "Transpose", [d2s, const("perm_axes", np.array([0, 3, 1, 2], np.int32))])
    sliced = op("sliced", "StridedSlice", [perm, const("begin", np.array([0, 1, 0, 1], np.int32)),
                                           const("end", np.array([0, 9, 0, 0], np.int32)),
                                           const("stride", np.array([1, 2, 1, -1], np.int32))],
                begin_mask={"i": "5"}, end_mask={"i": "13"}, shrink_axis_mask={"i": "0"},
                ellipsis_mask={"i": "0"}, new_axis_mask={"i": "0"})
    picked = op("picked", "StridedSlice", [sliced, const("b2", np.array([0, 0, 2], np.int32)),
                                           const("e2", np.array([0, 0, 3], np.int32)),
                                           const("s2", np.array([1, 1, 1], np.int32))],
                begin_mask={"i": "3"}, end_mask={"i": "3"}, shrink_axis_mask={"i": "4"},
                ellipsis_mask={"i": "0"}, new_axis_mask={"i": "0"})
    batch = op("batch", "StridedSlice", [op("shape", "Shape", [picked]),
                                         const("b3", np.array([0], np.int32)),
                                         const("e3", np.array([1], np.int32)),
                                         const("s3", np.array([1], np.int32))],
               begin_mask={"i": "0"}, end_mask={"i": "0"}, shrink_axis_mask={"i": "1"},
               ellipsis_mask={"i": "0"}, new_axis_mask={"i": "0"})
    flat_shape = op("flat_shape", "Pack", [batch, const("minus1", np.array(-1, np.int32))],
                    axis={"i": "0"}, N={"i": "2"})
    flat = op("flat", "Reshape", [picked, flat_shape])
    pooled_vec = op("pooled_vec", "Mean", [maxed, const("hw", np.array([1, 2], np.int32))],
                    keep_dims={"b": False})
    features = op("features", "ConcatV2", [flat, pooled_vec, const("axis1", np.array(1, np.int32))],
                  N={"i": "2"})
    dense_w = const("dense_w", rng.normal(0, 0.1, (5, 56)).astype(np.float32), "float16")
    dense_b = const("dense_b", rng.normal(0, 0.1, 5).astype(np.float32))
    dense = op("dense", "_FusedMatMul", [features, dense_w, dense_b],
               transpose_a={"b": False}, transpose_b={"b": True},
               fused_ops={"list": {"s": [base64.b64encode(b"BiasAdd").decode()]}},
               num_args={"i": "1"})
    probs = op("probs", "Softmax", [op("tanh", "Tanh", [dense])])
    expanded = op("expanded", "ExpandDims", [probs, const("axis_neg", np.array(-1, np.int32))])
    squeezed = op("squeezed", "Squeeze", [op("sig", "Sigmoid", [expanded])], squeeze_dims=_attr_i([2]))
    chan_soft = op("chan_soft", "Softmax", [op("relu", "Relu", [maxed])])

    model = {
        "format": "graph-model", "generatedBy": "rostro test", "convertedBy": "hand",
        "modelTopology": {"node": nodes, "library": {}, "versions": {"producer": 1}},
        "signature": {"outputs": {
            "probs": {"name": f"{squeezed}:0"}, "channels": {"name": f"{chan_soft}:0"},
            "flat": {"name": f"{flat}:0"}, "leaky": {"name": f"{leaky}:0"},
        }},
        "weightsManifest": [
            {"paths": ["zoo.bin"], "weights": [spec for spec, _ in weights[:3]]},
            {"paths": ["zoo-part1.bin", "zoo-part2.bin"], "weights": [spec for spec, _ in weights[3:]]},
        ],
    }
    second = b"".join(data for _, data in weights[3:])
    shards = {"zoo.bin": b"".join(data for _, data in weights[:3]),
              "zoo-part1.bin": second[:100], "zoo-part2.bin": second[100:]}
    return json.dumps(model).encode(), shards, [f"{n}:0" for n in (squeezed, chan_soft, flat, leaky)]


def test_op_coverage_matches_tensorflow_js(tfjs_node, tmp_path):
    model_json, shards, tensors = _op_zoo()
    converted = convert_graph_model(model_json, shards)
    x = np.random.default_rng(3).uniform(-1, 1, (2, 9, 9, 4)).astype(np.float32)
    ours = run_onnx(converted, {"x": x})
    [reference] = run_tfjs(tfjs_node, [{"files": {"model.json": model_json, **shards},
                                        "inputs": {"x": x}, "outputs": tensors}], tmp_path)
    for name, mine, expected in zip(["probs", "channels", "flat", "leaky"], ours, reference):
        assert_close(mine, expected, name)


# --------------------------------------------------------------------------- no Node needed


def test_quantized_weights_are_dequantized():
    values = np.array([0, 1, 255], np.uint8)
    manifest = [{"paths": ["a.bin"], "weights": [
        {"name": "q", "shape": [3], "dtype": "float32",
         "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}},
        {"name": "h", "shape": [2], "dtype": "float32", "quantization": {"dtype": "float16"}},
        {"name": "i", "shape": [1], "dtype": "int32"},
    ]}]
    data = values.tobytes() + np.array([1.5, -2], "<f2").tobytes() + np.array([7], "<i4").tobytes()
    weights = decode_weights(manifest, {"a.bin": data})
    np.testing.assert_array_equal(weights["q"], [-1.0, -0.5, 126.5])
    np.testing.assert_array_equal(weights["h"], [1.5, -2.0])
    assert weights["h"].dtype == np.float32 and weights["i"].tolist() == [7]


def test_unsupported_op_is_named():
    model_json, shards, _ = _op_zoo()
    model = json.loads(model_json)
    model["modelTopology"]["node"][-1]["op"] = "NonMaxSuppressionV5"
    with pytest.raises(ProvisioningError, match="NonMaxSuppressionV5"):
        convert_graph_model(json.dumps(model).encode(), shards)


def test_missing_shard_is_named():
    model_json, shards, _ = _op_zoo()
    del shards["zoo-part2.bin"]
    with pytest.raises(ProvisioningError, match="zoo-part2.bin"):
        convert_graph_model(model_json, shards)
