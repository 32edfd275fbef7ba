"""The CPU rewrite of embedding models (``onnx_dequantize_fast``) keeps what the model computes.

The pinned SFace file itself is checked against OpenCV DNN in tests/test_convert.py; these
tests pin the rewrite on a small network with the same kinds of layers (convolution,
per-channel PRelu with negative and >1 slopes, fully connected layer), run by ONNX Runtime.
"""

from __future__ import annotations

import numpy as np
import pytest

from rostro.models.convert import onnx_dequantize_fast
from rostro.models.errors import ProvisioningError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def small_embedder(activation: str = "PRelu", fully_connected: bool = True) -> bytes:
    """Conv(3->8) -> PRelu -> Conv(8->8) -> PRelu -> Flatten [-> Gemm(512->16)], batch 1."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = {
        "w1": rng.normal(0, 0.3, (8, 3, 3, 3)), "b1": rng.normal(0, 0.1, 8),
        "s1": np.linspace(-0.5, 1.2, 8).reshape(8, 1, 1),
        "w2": rng.normal(0, 0.3, (8, 8, 1, 1)), "b2": rng.normal(0, 0.1, 8),
        "s2": np.linspace(0.9, -0.3, 8).reshape(1, 8, 1, 1),  # both slope layouts occur
        "fc": rng.normal(0, 0.05, (16, 8 * 8 * 8)), "fc_b": rng.normal(0, 0.1, 16),
    }
    initializers = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()]
    act = (lambda x, s, y: helper.make_node("PRelu", [x, s], [y])) if activation == "PRelu" \
        else (lambda x, s, y: helper.make_node("Relu", [x], [y]))
    nodes = [
        helper.make_node("Conv", ["data", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        act("c1", "s1", "a1"),
        helper.make_node("Conv", ["a1", "w2", "b2"], ["c2"]),
        act("c2", "s2", "a2"),
        helper.make_node("Flatten", ["a2"], ["flat" if fully_connected else "out"]),
    ]
    if fully_connected:
        nodes.append(helper.make_node("Gemm", ["flat", "fc", "fc_b"], ["out"], transB=1))
    else:
        initializers = [i for i in initializers if not i.name.startswith("fc")]
    graph = helper.make_graph(
        nodes, "small", [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 16 if fully_connected else 512])],
        initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def run(model: bytes, x: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return session.run(None, {"data": x})[0]


def test_prelu_rewrite_is_the_same_function():
    original = small_embedder(fully_connected=False)
    fast = onnx_dequantize_fast(original)
    assert "PRelu" not in {node.op_type for node in onnx.load_model_from_string(fast).graph.node}
    x = np.random.default_rng(1).normal(0, 1, (1, 3, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(run(fast, x), run(original, x), rtol=1e-5, atol=1e-6)


def test_int8_fully_connected_layer_keeps_the_direction():
    original = small_embedder()
    fast = onnx_dequantize_fast(original)
    ops = {node.op_type for node in onnx.load_model_from_string(fast).graph.node}
    assert "Gemm" not in ops and "MatMulInteger" in ops
    # 512 inputs average less quantization noise than SFace's 50176, hence the looser bound
    # than the > 0.9999 SFace meets in tests/test_convert.py.
    for sample in np.random.default_rng(2).normal(0, 1, (4, 1, 3, 8, 8)).astype(np.float32):
        ref, ours = run(original, sample)[0], run(fast, sample)[0]
        assert ref @ ours / np.linalg.norm(ref) / np.linalg.norm(ours) > 0.999


def test_batch_dimension_is_symbolic_and_rows_are_independent():
    fast = onnx_dequantize_fast(small_embedder())
    x = np.random.default_rng(2).normal(0, 1, (3, 3, 8, 8)).astype(np.float32)
    batched = run(fast, x)
    assert batched.shape == (3, 16)
    singles = np.concatenate([run(fast, x[i : i + 1]) for i in range(3)])
    # Each row has its own input quantization scale only if run alone; allow that difference.
    cos = (batched * singles).sum(1) / np.linalg.norm(batched, axis=1) / np.linalg.norm(singles, axis=1)
    assert (cos > 0.999).all()


def test_model_without_prelu_is_refused():
    with pytest.raises(ProvisioningError, match="PRelu"):
        onnx_dequantize_fast(small_embedder(activation="Relu"))
