"""Converters that turn files shipped in a registry package into what the engine loads.

They run once, at provisioning time. Each takes the artifact's original files (archive member
path -> bytes) and returns the bytes to store; most read one file and are written as
``bytes -> bytes`` functions wrapped by ``_one_file``. Tests compare every converted model
numerically with the original runtime.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Callable, Mapping

import numpy as np

from rostro.models.errors import ProvisioningError
from rostro.models.faceapi import faceapi_expression
from rostro.models.keras_h5 import keras_h5_to_onnx
from rostro.models.tfjs import tfjs_graph_model


def copy(data: bytes) -> bytes:
    """Return the file unchanged (it is already an ONNX model ONNX Runtime runs)."""
    return data


def _dequantized(node, initializers) -> np.ndarray:
    """Compute the float32 tensor a DequantizeLinear node yields from constant inputs."""
    from onnx import helper, numpy_helper

    x = numpy_helper.to_array(initializers[node.input[0]]).astype(np.float32)
    scale = numpy_helper.to_array(initializers[node.input[1]]).astype(np.float32)
    has_zero = len(node.input) > 2 and node.input[2]
    zero = (
        numpy_helper.to_array(initializers[node.input[2]]).astype(np.float32)
        if has_zero
        else np.zeros_like(scale)
    )
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if scale.size == 1:
        return (x - zero.reshape(())) * scale.reshape(())
    axis = attrs.get("axis", 1) % x.ndim
    block = attrs.get("block_size", 0)
    if block:
        # Blocked quantization (opset 21): one scale per `block` elements along `axis`.
        index = [slice(None)] * x.ndim
        index[axis] = slice(0, x.shape[axis])
        scale = np.repeat(scale, block, axis=axis)[tuple(index)]
        zero = np.repeat(zero, block, axis=axis)[tuple(index)]
        return (x - zero) * scale
    shape = [1] * x.ndim
    shape[axis] = -1
    return (x - zero.reshape(shape)) * scale.reshape(shape)


def _fold_dequantize(data: bytes, dynamic_hw: bool) -> bytes:
    """Replace constant DequantizeLinear nodes by float32 weights.

    OpenCV Zoo's block-quantized (int8bq) models run in OpenCV's DNN module but not in ONNX
    Runtime, whose DequantizeLinear rejects their bias blocks. Folding the weights to float32
    gives the same function, runs in ONNX Runtime and is faster there. The files also list
    stale graph inputs that ONNX Runtime warns about; they are dropped. With ``dynamic_hw``
    the input height and width become symbolic, so a detector runs at any image size.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load_model_from_string(data)
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    kept_nodes, folded = [], {}
    for node in graph.node:
        constant_inputs = all(name in initializers for name in node.input if name)
        if node.op_type == "DequantizeLinear" and constant_inputs:
            folded[node.output[0]] = numpy_helper.from_array(
                _dequantized(node, initializers), node.output[0]
            )
        else:
            kept_nodes.append(node)
    del graph.node[:]
    graph.node.extend(kept_nodes)

    used = {name for node in graph.node for name in node.input}
    used.update(out.name for out in graph.output)
    new_initializers = [init for init in graph.initializer if init.name in used]
    new_initializers += [init for name, init in folded.items() if name in used]
    del graph.initializer[:]
    graph.initializer.extend(new_initializers)
    constant_names = {init.name for init in graph.initializer}
    real_inputs = [i for i in graph.input if i.name not in constant_names and i.name in used]
    del graph.input[:]
    graph.input.extend(real_inputs)

    if dynamic_hw:
        dims = graph.input[0].type.tensor_type.shape.dim
        dims[2].dim_param, dims[3].dim_param = "height", "width"
        for output in graph.output:
            output.type.tensor_type.shape.dim[1].dim_param = "anchors"
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise ProvisioningError(f"converted model failed the ONNX checker: {exc}") from exc
    return model.SerializeToString()


def onnx_dequantize(data: bytes) -> bytes:
    """Fold a block-quantized ONNX model into float32 (fixed input size)."""
    return _fold_dequantize(data, dynamic_hw=False)


def onnx_dequantize_dynamic_hw(data: bytes) -> bytes:
    """Fold a block-quantized ONNX detector into float32 with a free input height and width."""
    return _fold_dequantize(data, dynamic_hw=True)


def _prelu_as_relu(model) -> int:
    """Rewrite each PRelu with a constant per-channel slope s as y + (1 - s) * Relu(-y).

    The same function up to float rounding, in a form ONNX Runtime's CPU kernels run fast: its
    PRelu kernel is not vectorised (about 9x slower than an equivalent Relu, Min, Mul, Add
    chain) and breaks the blocked-channel (NCHWc) layout of its convolutions, so each PRelu
    also costs two reorders. The per-channel
    scales are written as BatchNormalization (mean 0, variance 1, epsilon 0), which ONNX
    Runtime runs as NCHWc depthwise convolutions with the Relu and the Add fused in. Returns
    how many nodes were rewritten; a PRelu on anything but an NCHW tensor is left alone.
    """
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    ranks = {value.name: len(value.type.tensor_type.shape.dim)
             for value in onnx.shape_inference.infer_shapes(model).graph.value_info}
    nodes, added, count = [], [], 0
    for node in graph.node:
        slope = initializers.get(node.input[1]) if node.op_type == "PRelu" else None
        s = numpy_helper.to_array(slope).astype(np.float32) if slope is not None else None
        # One slope per channel of an NCHW tensor: shape (C, 1, 1) or (1, C, 1, 1).
        if s is None or s.ndim not in (3, 4) or s.size != s.shape[-3] or ranks.get(node.input[0]) != 4:
            nodes.append(node)
            continue
        x, y, name = node.input[0], node.output[0], f"prelu{count}"
        channels = s.size
        constants = {"zero": np.zeros(channels), "one": np.ones(channels),
                     "minus_one": -np.ones(channels), "one_minus_slope": 1.0 - s.ravel()}
        added += [numpy_helper.from_array(value.astype(np.float32), f"{name}_{key}")
                  for key, value in constants.items()]

        def scale(source: str, factor: str, out: str, name: str = name):
            inputs = [source, f"{name}_{factor}", f"{name}_zero", f"{name}_zero", f"{name}_one"]
            return helper.make_node("BatchNormalization", inputs, [out], name=out, epsilon=0.0)

        nodes += [scale(x, "minus_one", f"{name}_neg"),
                  helper.make_node("Relu", [f"{name}_neg"], [f"{name}_relu"], name=f"{name}_relu"),
                  scale(f"{name}_relu", "one_minus_slope", f"{name}_scaled"),
                  helper.make_node("Add", [x, f"{name}_scaled"], [y], name=f"{name}_add")]
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(added)
    return count


def _int8_gemm(graph) -> int:
    """Run each Gemm with constant weights as a dynamically quantized int8 matrix product.

    The weights get one scale per output column and 7 bits (the free bit keeps ONNX Runtime's
    u8 x s8 kernels from saturating on CPUs without VNNI); the input is quantized per call
    (DynamicQuantizeLinear), so no calibration data is needed. ONNX Runtime fuses the chain
    into one kernel. Returns how many Gemm nodes were rewritten.
    """
    from onnx import TensorProto, helper, numpy_helper

    initializers = {init.name: init for init in graph.initializer}
    nodes, added, count = [], [], 0
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        plain = (attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0
                 and not attrs.get("transA", 0))
        if node.op_type != "Gemm" or not plain or node.input[1] not in initializers or (
                len(node.input) > 2 and node.input[2] and node.input[2] not in initializers):
            nodes.append(node)
            continue
        weights = numpy_helper.to_array(initializers[node.input[1]]).astype(np.float32)
        weights = weights.T if attrs.get("transB", 0) else weights  # (K, N)
        scale = np.maximum(np.abs(weights).max(axis=0), 1e-12) / 63.0
        quantized = np.clip(np.round(weights / scale), -63, 63).astype(np.int8)
        name = f"gemm{count}"
        added += [numpy_helper.from_array(quantized, f"{name}_w"),
                  numpy_helper.from_array(np.zeros(len(scale), np.int8), f"{name}_w_zero"),
                  numpy_helper.from_array(scale.astype(np.float32), f"{name}_w_scale")]
        has_bias = len(node.input) > 2 and node.input[2]
        product = f"{name}_out" if has_bias else node.output[0]
        n = lambda suffix, name=name: f"{name}_{suffix}"  # noqa: E731
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [node.input[0]],
                             [n("x"), n("x_scale"), n("x_zero")], name=n("quantize")),
            helper.make_node("MatMulInteger", [n("x"), n("w"), n("x_zero"), n("w_zero")],
                             [n("int")], name=n("matmul")),
            helper.make_node("Cast", [n("int")], [n("float")], name=n("cast"), to=TensorProto.FLOAT),
            helper.make_node("Mul", [n("x_scale"), n("w_scale")], [n("scale")], name=n("scale")),
            helper.make_node("Mul", [n("float"), n("scale")], [product], name=n("mul")),
        ]
        if has_bias:
            nodes.append(helper.make_node("Add", [product, node.input[2]], [node.output[0]],
                                          name=f"{name}_bias"))
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(added)
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return count


def onnx_dequantize_fast(data: bytes) -> bytes:
    """Fold a block-quantized embedder into float32, then make it fast on CPUs.

    Three changes, each measured in benchmarks/ (docs/performance.md, "Engine"): PRelu
    rewritten into ops ONNX Runtime vectorises (``_prelu_as_relu``, same function), the final
    fully connected layer in dynamic int8 (``_int8_gemm``), and a symbolic batch dimension so
    that a face and its mirror image run in one call.
    """
    import onnx

    model = onnx.load_model_from_string(_fold_dequantize(data, dynamic_hw=False))
    if not _prelu_as_relu(model):
        raise ProvisioningError("expected PRelu activations to rewrite; is this the pinned model?")
    _int8_gemm(model.graph)
    for value in (model.graph.input[0], *model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise ProvisioningError(f"converted model failed the ONNX checker: {exc}") from exc
    return model.SerializeToString()


_TDDFA_CONSTANTS = ("PARAM_MEAN", "PARAM_STD", "U_BASE", "W_SHP_BASE", "W_EXP_BASE")


def tddfa_constants(data: bytes) -> bytes:
    """Extract 3DDFA_V2's parameter statistics and 68-keypoint bases as an ``.npz`` file.

    The package keeps them as ``NAME = np.array([...])`` literals in a Python module. They are
    read with ``ast.literal_eval``: the module is never imported or executed.
    """
    tree = ast.parse(data.decode("utf-8"))
    arrays: dict[str, np.ndarray] = {}
    for statement in tree.body:
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            continue
        target = statement.targets[0]
        if not (isinstance(target, ast.Name) and target.id in _TDDFA_CONSTANTS):
            continue
        call = statement.value
        if not (isinstance(call, ast.Call) and call.args):
            continue
        arrays[target.id] = np.asarray(ast.literal_eval(call.args[0]), dtype=np.float32)
    missing = [name for name in _TDDFA_CONSTANTS if name not in arrays]
    if missing:
        raise ProvisioningError(f"3DDFA constants missing from the package: {missing}")
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **{name.lower(): arrays[name] for name in _TDDFA_CONSTANTS})
    return buffer.getvalue()


def _one_file(convert: Callable[[bytes], bytes]) -> Callable[[Mapping[str, bytes]], bytes]:
    """Adapt a one-file converter to the artifact interface (member path -> bytes)."""

    def run(files: Mapping[str, bytes]) -> bytes:
        if len(files) != 1:
            raise ProvisioningError(f"{convert.__name__} converts one file, got {sorted(files)}")
        return convert(next(iter(files.values())))

    run.__name__ = convert.__name__
    return run


CONVERTERS: dict[str, Callable[[Mapping[str, bytes]], bytes]] = {
    "copy": _one_file(copy),
    "faceapi_expression": faceapi_expression,
    "keras_h5": _one_file(keras_h5_to_onnx),
    "onnx_dequantize": _one_file(onnx_dequantize),
    "onnx_dequantize_dynamic_hw": _one_file(onnx_dequantize_dynamic_hw),
    "onnx_dequantize_fast": _one_file(onnx_dequantize_fast),
    "tddfa_constants": _one_file(tddfa_constants),
    "tfjs_graph_model": tfjs_graph_model,
}
