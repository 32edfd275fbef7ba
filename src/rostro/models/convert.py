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
    np.savez(buffer, **{name.lower(): arrays[name] for name in _TDDFA_CONSTANTS})
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
    "onnx_dequantize": _one_file(onnx_dequantize),
    "onnx_dequantize_dynamic_hw": _one_file(onnx_dequantize_dynamic_hw),
    "tddfa_constants": _one_file(tddfa_constants),
    "tfjs_graph_model": tfjs_graph_model,
}
