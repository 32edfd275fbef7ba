"""Convert a TensorFlow.js graph model (``model.json`` + ``.bin`` shards) into ONNX.

No TensorFlow is involved: the topology (a TF GraphDef in JSON) is read node by node and each
TF op is written as one or a few ONNX ops with the ``onnx`` helper API. Weights are decoded
from the manifest, fp16 and uint8/uint16-quantized ones dequantized to float32.

Layout: the ONNX model keeps the TF.js input and outputs exactly (NHWC images, same output
values). Inside, the image is transposed to NCHW once, and 4-D tensors stay NCHW while
ops allow it (convolutions, pooling, elementwise ops, pads, resizes, reductions, concat);
an op that depends on the memory order (Reshape, MatMul, Shape, StridedSlice ...) gets its
input transposed back to NHWC first. Constants that broadcast against NCHW tensors are
permuted at conversion time, so the converted graph has no transposes in its hot path.

All TF int32 tensors become int64 in ONNX (what Shape, Reshape, Slice and friends use).
"""

from __future__ import annotations

import base64
import json
import posixpath
from collections.abc import Callable, Mapping

import numpy as np

from rostro.models.errors import ProvisioningError

OPSET = 18
_TO_NCHW = (0, 3, 1, 2)
_TO_NHWC = (0, 2, 3, 1)
_NHWC_AXIS_IN_NCHW = (0, 2, 3, 1)  # NHWC axis i sits at NCHW position _NHWC_AXIS_IN_NCHW[i]
_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min

_WEIGHT_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
_QUANT_DTYPES = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16}
_TF_DTYPES = {
    "DT_FLOAT": np.float32, "DT_INT32": np.int64, "DT_INT64": np.int64, "DT_BOOL": np.bool_,
}


# --------------------------------------------------------------------------- weights


def decode_weights(manifest: list, shards: Mapping[str, bytes]) -> dict[str, np.ndarray]:
    """Decode a TF.js ``weightsManifest`` into float32/int32/bool arrays by weight name.

    ``shards`` maps each path listed in the manifest to its bytes. Within a group the shards
    are one concatenated buffer and the weights follow each other in it; quantized weights
    are dequantized (uint8/uint16: ``q * scale + min``; float16: widened).
    """
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        try:
            buffer = b"".join(shards[path] for path in group["paths"])
        except KeyError as exc:
            raise ProvisioningError(f"TF.js weight shard {exc.args[0]} is missing") from exc
        offset = 0
        for spec in group["weights"]:
            shape = [int(d) for d in spec["shape"]]
            count = int(np.prod(shape, dtype=np.int64))
            quant = spec.get("quantization")
            kind = quant["dtype"] if quant else spec["dtype"]
            stored = (_QUANT_DTYPES if quant else _WEIGHT_DTYPES).get(kind)
            if stored is None:
                raise ProvisioningError(f"TF.js weight {spec['name']}: unsupported dtype {kind}")
            size = count * np.dtype(stored).itemsize
            if offset + size > len(buffer):
                raise ProvisioningError(f"TF.js weight {spec['name']} runs past its shard data")
            raw = np.frombuffer(buffer, dtype=np.dtype(stored).newbyteorder("<"), count=count,
                                offset=offset)
            offset += size
            value: np.ndarray
            if not quant:
                value = raw.astype(stored)
            elif quant["dtype"] == "float16":
                value = raw.astype(np.float32)
            else:
                scale, low = np.float32(quant["scale"]), np.float32(quant["min"])
                value = raw.astype(np.float32) * scale + low
                if spec["dtype"] == "int32":
                    value = np.round(value).astype(np.int32)
            weights[spec["name"]] = value.reshape(shape)
    return weights


# --------------------------------------------------------------------------- TF attributes


def _attr(node: dict, key: str, default=None):
    return node.get("attr", {}).get(key, default)


def _attr_int(node: dict, key: str, default: int = 0) -> int:
    value = _attr(node, key)
    return int(value.get("i", default)) if value else default


def _attr_bool(node: dict, key: str, default: bool = False) -> bool:
    value = _attr(node, key)
    return bool(value.get("b", default)) if value else default


def _attr_float(node: dict, key: str, default: float = 0.0) -> float:
    value = _attr(node, key)
    return float(value.get("f", default)) if value else default


def _attr_str(node: dict, key: str, default: str = "") -> str:
    value = _attr(node, key)
    return base64.b64decode(value["s"]).decode() if value and "s" in value else default


def _attr_ints(node: dict, key: str) -> list[int]:
    value = _attr(node, key)
    return [int(i) for i in value.get("list", {}).get("i", [])] if value else []


def _attr_strs(node: dict, key: str) -> list[str]:
    value = _attr(node, key)
    strings = value.get("list", {}).get("s", []) if value else []
    return [base64.b64decode(s).decode() for s in strings]


def _tensor_key(reference: str) -> str:
    """Normalise a TF input reference (``node``, ``node:1``) to ``node:index``."""
    name, _, index = reference.rpartition(":")
    if name and index.isdigit():
        return f"{name}:{index}"
    return f"{reference}:0"


# --------------------------------------------------------------------------- converter


class _Graph:
    """Builds the ONNX graph while walking the TF nodes in topological order."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.weights = weights
        self.nodes: list = []
        self.initializers: list = []
        self.inputs: list = []
        self.consts: dict[str, np.ndarray] = {}  # TF tensor key -> constant value
        self.values: dict[str, tuple[str, bool]] = {}  # TF tensor key -> (ONNX name, is NCHW)
        self.uses: dict[str, int] = {}  # TF tensor key -> number of readers (outputs included)
        self.clips: dict[str, tuple[int, float, float, str]] = {}  # see clip()
        self._emitted: dict[tuple, str] = {}
        self._names: set[str] = set()

    # ---- naming and emission

    def fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self._names:
            n += 1
            name = f"{base}__{n}"
        self._names.add(name)
        return name

    def reserve(self, name: str) -> None:
        """Keep ``name`` (a graph input or output) from being given to an internal value."""
        self._names.add(name)

    def emit(self, op: str, inputs: list[str], base: str, outputs: int = 1, **attrs) -> list[str]:
        names = [self.fresh(base if i == 0 else f"{base}:{i}") for i in range(outputs)]
        self.nodes.append(self.helper.make_node(op, inputs, names, name=names[0], **attrs))
        return names

    def constant(self, value: np.ndarray, base: str) -> str:
        """Return the name of an initializer holding ``value`` (int32 widened to int64)."""
        value = np.asarray(value)
        if value.dtype == np.int32:
            value = value.astype(np.int64)
        elif value.dtype == np.float64:
            value = value.astype(np.float32)
        key = (value.dtype.str, value.shape, value.tobytes())
        if key not in self._emitted:
            name = self.fresh(base)
            self.initializers.append(self.numpy_helper.from_array(value, name))
            self._emitted[key] = name
        return self._emitted[key]

    def clip(self, x: str, low: float, high: float, base: str, merge: str | None = None) -> str:
        """Clamp ONNX value ``x`` to [low, high] (Relu when that is [0, inf)).

        Keras exports ReLU6 as Relu -> Minimum(6) -> Maximum(0): when ``x`` is itself a clamp
        we emitted and TF tensor ``merge`` (the one ``x`` holds) has no other reader, the
        clamps merge into one Clip, which ONNX Runtime then fuses into the convolution.
        """
        if merge is not None and self.uses.get(merge, 0) == 1 and x in self.clips:
            index, old_low, old_high, source = self.clips[x]
            if max(low, old_low) <= min(high, old_high):
                del self.clips[x]
                low, high = max(low, old_low), min(high, old_high)
                self.nodes[index] = self._clip_node(source, low, high, x)
                self.clips[x] = (index, low, high, source)
                return x
        name = self.fresh(base)
        self.nodes.append(self._clip_node(x, low, high, name))
        self.clips[name] = (len(self.nodes) - 1, low, high, x)
        return name

    def _clip_node(self, x: str, low: float, high: float, name: str):
        if low == 0 and high == np.inf:
            return self.helper.make_node("Relu", [x], [name], name=name)
        bounds = ["" if np.isinf(v) else self.constant(np.array(v, np.float32), "clip_bound")
                  for v in (low, high)]
        return self.helper.make_node("Clip", [x, *bounds], [name], name=name)

    # ---- values

    def set(self, key: str, name: str, nchw: bool = False) -> None:
        self.values[key] = (name, nchw)

    def is_const(self, key: str) -> bool:
        return key in self.consts

    def is_nchw(self, key: str) -> bool:
        return key in self.values and self.values[key][1]

    def const(self, key: str, what: str) -> np.ndarray:
        if key not in self.consts:
            raise ProvisioningError(f"{what} must be a constant in TF.js graph ({key} is computed)")
        return self.consts[key]

    def get(self, key: str, nchw: bool = False) -> str:
        """Return the ONNX name of TF tensor ``key`` in NHWC (default) or NCHW order."""
        if key in self.consts:
            value = self.consts[key]
            if nchw and value.ndim == 4:
                value = value.transpose(_TO_NCHW)
            return self.constant(value, key.replace(":0", "") + ("__nchw" if nchw else ""))
        name, is_nchw = self.values[key]
        if is_nchw == nchw:
            return name
        cache_key = ("transpose", name, nchw)
        if cache_key not in self._emitted:
            perm = _TO_NCHW if nchw else _TO_NHWC
            suffix = "__nchw" if nchw else "__nhwc"
            self._emitted[cache_key] = self.emit("Transpose", [name], name + suffix, perm=perm)[0]
        return self._emitted[cache_key]

    def broadcast_const(self, key: str, nchw: bool) -> str:
        """A constant operand of an elementwise op, permuted to broadcast against NCHW data."""
        value = self.consts[key]
        if nchw and value.ndim >= 1 and value.size > 1:
            if value.ndim > 4:
                raise ProvisioningError(f"cannot broadcast {value.ndim}-D constant {key} in NCHW")
            value = value.reshape((1,) * (4 - value.ndim) + value.shape).transpose(_TO_NCHW)
            return self.constant(value, key.replace(":0", "") + "__nchw")
        return self.get(key)


def _topological(nodes: list[dict]) -> list[dict]:
    """Return the TF nodes so that every node comes after the nodes it reads."""
    by_name = {node["name"]: node for node in nodes}
    done: set[str] = set()
    order: list[dict] = []
    for root in nodes:
        stack = [(root["name"], False)]
        while stack:
            name, expanded = stack.pop()
            if name in done:
                continue
            if expanded:
                done.add(name)
                order.append(by_name[name])
                continue
            stack.append((name, True))
            for ref in by_name[name].get("input", []):
                parent = ref.lstrip("^").rpartition(":")[0] if ":" in ref else ref.lstrip("^")
                if parent in by_name and parent not in done:
                    stack.append((parent, False))
    return order


def _inputs(node: dict) -> list[str]:
    return [_tensor_key(ref) for ref in node.get("input", []) if not ref.startswith("^")]


# --------------------------------------------------------------------------- op handlers

_Handler = Callable[[_Graph, dict, list[str]], None]
_HANDLERS: dict[str, _Handler] = {}


def _handles(*ops: str):
    def register(function: _Handler) -> _Handler:
        for op in ops:
            _HANDLERS[op] = function
        return function
    return register


def _out(node: dict, index: int = 0) -> str:
    return f"{node['name']}:{index}"


@_handles("Const")
def _const(g: _Graph, node: dict, inputs: list[str]) -> None:
    name = node["name"]
    if name in g.weights:
        g.consts[_out(node)] = g.weights[name]
        return
    tensor = _attr(node, "value", {}).get("tensor", {})
    dtype = _TF_DTYPES.get(tensor.get("dtype", ""), None)
    dims = [int(d.get("size", 0)) for d in tensor.get("tensorShape", {}).get("dim", [])]
    if dtype is None or int(np.prod(dims, dtype=np.int64)) != 0:
        raise ProvisioningError(f"TF.js constant {name} has no weight data")
    g.consts[_out(node)] = np.zeros(dims, dtype=dtype)


@_handles("Placeholder")
def _placeholder(g: _Graph, node: dict, inputs: list[str]) -> None:
    spec = _attr(node, "shape", {}).get("shape", {})
    dims = [int(d.get("size", -1)) for d in spec.get("dim", [])]
    dtype = _attr(node, "dtype", {}).get("type", "DT_FLOAT")
    if dtype != "DT_FLOAT":
        raise ProvisioningError(f"TF.js input {node['name']}: only float inputs are supported")
    shape = [d if d >= 0 else ("batch" if i == 0 else f"dim{i}") for i, d in enumerate(dims)]
    from onnx import TensorProto

    g.inputs.append(g.helper.make_tensor_value_info(node["name"], TensorProto.FLOAT, shape or None))
    g.reserve(node["name"])
    g.set(_out(node), node["name"])  # the first op that wants NCHW transposes it (once)


@_handles("Identity", "StopGradient", "Snapshot")
def _identity(g: _Graph, node: dict, inputs: list[str]) -> None:
    if g.is_const(inputs[0]):
        g.consts[_out(node)] = g.consts[inputs[0]]
    else:
        g.values[_out(node)] = g.values[inputs[0]]


def _activation(g: _Graph, x: str, kind: str, node: dict, alpha: str | None, nchw: bool) -> str:
    """Apply a (fused) activation to ONNX value ``x``; ``alpha`` is the TF key of PReLU slopes."""
    base = node["name"] + "/" + kind.lower()
    if kind == "Relu":
        return g.clip(x, 0.0, np.inf, base)
    if kind == "Relu6":
        return g.clip(x, 0.0, 6.0, base)
    if kind == "Prelu":
        if alpha is None:
            raise ProvisioningError(f"TF.js node {node['name']}: PReLU without its slopes")
        return g.emit("PRelu", [x, g.broadcast_const(alpha, nchw)], base)[0]
    if kind == "LeakyRelu":
        # A LeakyRelu node keeps its slope in "alpha", a fused one in "leakyrelu_alpha".
        key = "alpha" if node["op"] == "LeakyRelu" else "leakyrelu_alpha"
        return g.emit("LeakyRelu", [x], base, alpha=_attr_float(node, key, 0.2))[0]
    if kind in ("Elu", "Sigmoid", "Tanh"):
        return g.emit(kind, [x], base)[0]
    raise ProvisioningError(f"TF.js node {node['name']}: unsupported fused activation {kind}")


def _split_fused(node: dict, inputs: list[str]) -> tuple[str | None, str | None, str | None]:
    """Return (bias key, activation name, prelu-alpha key) of a _Fused* node."""
    fused = _attr_strs(node, "fused_ops")
    args = inputs[2:]
    bias = activation = alpha = None
    if fused and fused[0] == "BiasAdd":
        bias = args[0]
        fused = fused[1:]
    elif fused:
        raise ProvisioningError(f"TF.js node {node['name']}: unsupported fused ops {fused}")
    if len(fused) > 1:
        raise ProvisioningError(f"TF.js node {node['name']}: unsupported fused ops {fused}")
    if fused:
        activation = fused[0]
        if activation == "Prelu":
            alpha = args[1]
    return bias, activation, alpha


def _padding(node: dict) -> dict:
    padding = _attr_str(node, "padding", "VALID")
    if padding == "SAME":
        return {"auto_pad": "SAME_UPPER"}  # TF puts the odd pixel at the end, as SAME_UPPER
    if padding == "VALID":
        return {"auto_pad": "VALID"}
    if padding == "EXPLICIT":
        p = _attr_ints(node, "explicit_paddings")  # NHWC (before, after) pairs
        return {"pads": [p[2], p[4], p[3], p[5]]}
    raise ProvisioningError(f"TF.js node {node['name']}: unsupported padding {padding}")


def _check_nhwc(node: dict) -> None:
    layout = _attr_str(node, "data_format", "NHWC")
    if layout != "NHWC":
        raise ProvisioningError(f"TF.js node {node['name']}: data_format {layout} unsupported")


@_handles("Conv2D", "DepthwiseConv2dNative", "_FusedConv2D", "FusedDepthwiseConv2dNative")
def _conv(g: _Graph, node: dict, inputs: list[str]) -> None:
    _check_nhwc(node)
    kernel = g.const(inputs[1], f"filter of {node['name']}").astype(np.float32)
    depthwise = "Depthwise" in node["op"]
    if depthwise:  # [kh, kw, C, M] -> [C*M, 1, kh, kw], output channel c*M+m as in TF
        kh, kw, channels, multiplier = kernel.shape
        weight = kernel.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw)
        group = channels
    else:  # [kh, kw, I, O] -> [O, I, kh, kw]
        weight = kernel.transpose(3, 2, 0, 1)
        group = 1
    strides = _attr_ints(node, "strides") or [1, 1, 1, 1]
    dilations = _attr_ints(node, "dilations") or [1, 1, 1, 1]
    weight_name = g.constant(np.ascontiguousarray(weight), node["name"] + "/weight")
    operands = [g.get(inputs[0], nchw=True), weight_name]
    bias = activation = alpha = None
    if node["op"].startswith(("_Fused", "Fused")):
        bias, activation, alpha = _split_fused(node, inputs)
    if bias is not None:
        bias_value = g.const(bias, "conv bias").astype(np.float32).reshape(-1)
        operands.append(g.constant(bias_value, node["name"] + "/bias"))
    y = g.emit("Conv", operands, node["name"], group=group, strides=strides[1:3],
               dilations=dilations[1:3], kernel_shape=list(weight.shape[2:]), **_padding(node))[0]
    if activation:
        y = _activation(g, y, activation, node, alpha, nchw=True)
    g.set(_out(node), y, nchw=True)


@_handles("MatMul", "_FusedMatMul")
def _matmul(g: _Graph, node: dict, inputs: list[str]) -> None:
    a = g.get(inputs[0])
    if _attr_bool(node, "transpose_a"):
        a = g.emit("Transpose", [a], node["name"] + "/a_t", perm=[1, 0])[0]
    if g.is_const(inputs[1]):
        b_value = g.consts[inputs[1]].astype(np.float32)
        if _attr_bool(node, "transpose_b"):
            b_value = b_value.T
        b = g.constant(np.ascontiguousarray(b_value), node["name"] + "/weight")
    else:
        b = g.get(inputs[1])
        if _attr_bool(node, "transpose_b"):
            b = g.emit("Transpose", [b], node["name"] + "/b_t", perm=[1, 0])[0]
    y = g.emit("MatMul", [a, b], node["name"] + ("/matmul" if node["op"] != "MatMul" else ""))[0]
    if node["op"] == "_FusedMatMul":
        bias, activation, alpha = _split_fused(node, inputs)
        if bias is not None:
            y = g.emit("Add", [y, g.get(bias)], node["name"] + "/bias")[0]
        if activation:
            y = _activation(g, y, activation, node, alpha, nchw=False)
    g.set(_out(node), y)


_BINARY = {
    "Add": "Add", "AddV2": "Add", "BiasAdd": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div",
    "Div": "Div", "Maximum": "Max", "Minimum": "Min", "Pow": "Pow", "Prelu": "PRelu",
    "SquaredDifference": "SquaredDifference",
}
_NUMPY_BINARY = {
    "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
    "Max": np.maximum, "Min": np.minimum,
}


@_handles(*_BINARY)
def _binary(g: _Graph, node: dict, inputs: list[str]) -> None:
    op = _BINARY[node["op"]]
    if all(g.is_const(k) for k in inputs) and op in _NUMPY_BINARY:
        g.consts[_out(node)] = _NUMPY_BINARY[op](g.consts[inputs[0]], g.consts[inputs[1]])
        return
    computed = [k for k in inputs if not g.is_const(k)]
    # Stay NCHW only when every computed operand is NCHW (constants are permuted to match).
    nchw = bool(computed) and all(g.is_nchw(k) for k in computed)
    operands = [g.broadcast_const(k, nchw) if g.is_const(k) else g.get(k, nchw) for k in inputs]
    scalar = [k for k in inputs if g.is_const(k) and g.consts[k].size == 1
              and g.consts[k].dtype.kind == "f"]
    if op in ("Max", "Min") and len(computed) == 1 and scalar:
        bound = float(g.consts[scalar[0]].reshape(()))
        low, high = (bound, np.inf) if op == "Max" else (-np.inf, bound)
        y = g.clip(g.get(computed[0], nchw), low, high, node["name"], merge=computed[0])
    elif op == "SquaredDifference":
        diff = g.emit("Sub", operands, node["name"] + "/diff")[0]
        y = g.emit("Mul", [diff, diff], node["name"])[0]
    else:
        y = g.emit(op, operands, node["name"])[0]
    g.set(_out(node), y, nchw)


@_handles("AddN")
def _add_n(g: _Graph, node: dict, inputs: list[str]) -> None:
    nchw = all(g.is_nchw(k) for k in inputs)
    g.set(_out(node), g.emit("Sum", [g.get(k, nchw) for k in inputs], node["name"])[0], nchw)


_UNARY = {
    "Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp", "Abs": "Abs",
    "Neg": "Neg", "Sqrt": "Sqrt", "Reciprocal": "Reciprocal", "Elu": "Elu", "Floor": "Floor",
    "Ceil": "Ceil", "Log": "Log", "Softplus": "Softplus",
}


@_handles(*_UNARY, "Relu6", "Rsqrt", "Square", "LeakyRelu")
def _unary(g: _Graph, node: dict, inputs: list[str]) -> None:
    nchw = g.is_nchw(inputs[0])
    x = g.get(inputs[0], nchw)
    op = node["op"]
    if op == "Relu":
        y = g.clip(x, 0.0, np.inf, node["name"], merge=inputs[0])
    elif op in _UNARY:
        y = g.emit(_UNARY[op], [x], node["name"])[0]
    elif op == "Rsqrt":
        root = g.emit("Sqrt", [x], node["name"] + "/sqrt")[0]
        y = g.emit("Reciprocal", [root], node["name"])[0]
    elif op == "Square":
        y = g.emit("Mul", [x, x], node["name"])[0]
    else:  # Relu6, LeakyRelu
        y = _activation(g, x, op, node, None, nchw)
    g.set(_out(node), y, nchw)


@_handles("Softmax")
def _softmax(g: _Graph, node: dict, inputs: list[str]) -> None:
    nchw = g.is_nchw(inputs[0])  # TF normalises the last (channel) axis: axis 1 in NCHW
    y = g.emit("Softmax", [g.get(inputs[0], nchw)], node["name"], axis=1 if nchw else -1)[0]
    g.set(_out(node), y, nchw)


@_handles("MaxPool", "AvgPool")
def _pool(g: _Graph, node: dict, inputs: list[str]) -> None:
    _check_nhwc(node)
    ksize = _attr_ints(node, "ksize")
    strides = _attr_ints(node, "strides")
    op = "MaxPool" if node["op"] == "MaxPool" else "AveragePool"
    # AveragePool's default count_include_pad=0 matches TF, which averages real pixels only.
    y = g.emit(op, [g.get(inputs[0], nchw=True)], node["name"], kernel_shape=ksize[1:3],
               strides=strides[1:3], **_padding(node))[0]
    g.set(_out(node), y, nchw=True)


_REDUCE = {"Mean": "ReduceMean", "Sum": "ReduceSum", "Max": "ReduceMax", "Min": "ReduceMin",
           "Prod": "ReduceProd"}


@_handles(*_REDUCE)
def _reduce(g: _Graph, node: dict, inputs: list[str]) -> None:
    axes = [int(a) for a in np.atleast_1d(g.const(inputs[1], f"axes of {node['name']}"))]
    keep = _attr_bool(node, "keep_dims")
    nchw = g.is_nchw(inputs[0])
    if nchw:
        axes = [a % 4 for a in axes]
        kept = [a for a in (1, 2, 3) if a not in axes]
        # Without keep_dims the result's order is NCHW's unless C or both H and W are gone.
        if not keep and 3 in kept and len(kept) > 1:
            nchw = False
        else:
            axes = sorted(_NHWC_AXIS_IN_NCHW[a] for a in axes)
    x = g.get(inputs[0], nchw)
    y = g.emit(_REDUCE[node["op"]], [x, g.constant(np.array(axes, np.int64), "axes")],
               node["name"], keepdims=int(keep))[0]
    g.set(_out(node), y, nchw and keep)


@_handles("Reshape")
def _reshape(g: _Graph, node: dict, inputs: list[str]) -> None:
    if g.is_const(inputs[0]) and g.is_const(inputs[1]):
        g.consts[_out(node)] = g.consts[inputs[0]].reshape(g.consts[inputs[1]].astype(np.int64))
        return
    g.set(_out(node), g.emit("Reshape", [g.get(inputs[0]), g.get(inputs[1])], node["name"])[0])


@_handles("Squeeze")
def _squeeze(g: _Graph, node: dict, inputs: list[str]) -> None:
    axes = _attr_ints(node, "squeeze_dims") or _attr_ints(node, "axis")
    if g.is_const(inputs[0]):
        g.consts[_out(node)] = np.squeeze(g.consts[inputs[0]], axis=tuple(axes) or None)
        return
    operands = [g.get(inputs[0])]
    if axes:
        operands.append(g.constant(np.array(axes, np.int64), "axes"))
    g.set(_out(node), g.emit("Squeeze", operands, node["name"])[0])


@_handles("ExpandDims")
def _expand_dims(g: _Graph, node: dict, inputs: list[str]) -> None:
    axis = int(np.asarray(g.const(inputs[1], f"axis of {node['name']}")).reshape(-1)[0])
    if g.is_const(inputs[0]):
        g.consts[_out(node)] = np.expand_dims(g.consts[inputs[0]], axis)
        return
    axes = g.constant(np.array([axis], np.int64), "axes")
    g.set(_out(node), g.emit("Unsqueeze", [g.get(inputs[0]), axes], node["name"])[0])


@_handles("ConcatV2", "Concat")
def _concat(g: _Graph, node: dict, inputs: list[str]) -> None:
    if node["op"] == "Concat":
        axis_key, parts = inputs[0], inputs[1:]
    else:
        axis_key, parts = inputs[-1], inputs[:-1]
    axis = int(g.const(axis_key, f"axis of {node['name']}"))
    if all(g.is_const(k) for k in parts):
        g.consts[_out(node)] = np.concatenate([g.consts[k] for k in parts], axis=axis)
        return
    nchw = all(g.is_nchw(k) for k in parts)
    if nchw:
        axis = _NHWC_AXIS_IN_NCHW[axis % 4]
    y = g.emit("Concat", [g.get(k, nchw) for k in parts], node["name"], axis=axis)[0]
    g.set(_out(node), y, nchw)


@_handles("Pack")
def _pack(g: _Graph, node: dict, inputs: list[str]) -> None:
    axis = _attr_int(node, "axis")
    if all(g.is_const(k) for k in inputs):
        g.consts[_out(node)] = np.stack([g.consts[k] for k in inputs], axis=axis)
        return
    axes = g.constant(np.array([axis], np.int64), "axes")
    parts = [g.emit("Unsqueeze", [g.get(k), axes], f"{node['name']}/part{i}")[0]
             for i, k in enumerate(inputs)]
    g.set(_out(node), g.emit("Concat", parts, node["name"], axis=axis)[0])


@_handles("Pad", "PadV2", "MirrorPad")
def _pad(g: _Graph, node: dict, inputs: list[str]) -> None:
    paddings = np.asarray(g.const(inputs[1], f"paddings of {node['name']}"), np.int64)
    nchw = g.is_nchw(inputs[0])
    if nchw:
        paddings = paddings[list(_TO_NCHW)]
    pads = g.constant(np.concatenate([paddings[:, 0], paddings[:, 1]]), "pads")
    operands = [g.get(inputs[0], nchw), pads]
    mode = "constant"
    if node["op"] == "PadV2":
        fill = np.asarray(g.const(inputs[2], "pad value"), np.float32).reshape(())
        operands.append(g.constant(fill, "pad_value"))
    elif node["op"] == "MirrorPad":
        tf_mode = _attr_str(node, "mode", "REFLECT")
        if tf_mode != "REFLECT":
            raise ProvisioningError(
                f"TF.js node {node['name']}: MirrorPad mode {tf_mode} unsupported")
        mode = "reflect"
    g.set(_out(node), g.emit("Pad", operands, node["name"], mode=mode)[0], nchw)


@_handles("StridedSlice")
def _strided_slice(g: _Graph, node: dict, inputs: list[str]) -> None:
    begin, end, strides = (np.asarray(g.const(k, f"bounds of {node['name']}"), np.int64).reshape(-1)
                           for k in inputs[1:4])
    if _attr_int(node, "ellipsis_mask") or _attr_int(node, "new_axis_mask"):
        raise ProvisioningError(f"TF.js node {node['name']}: ellipsis/new-axis slicing unsupported")
    begin_mask, end_mask = _attr_int(node, "begin_mask"), _attr_int(node, "end_mask")
    shrink = _attr_int(node, "shrink_axis_mask")
    starts, ends, steps, squeeze = [], [], [], []
    for i, (b, e, s) in enumerate(zip(begin.tolist(), end.tolist(), strides.tolist())):
        if shrink >> i & 1:
            starts.append(b)
            ends.append(_INT64_MAX if b == -1 else b + 1)
            steps.append(1)
            squeeze.append(i)
            continue
        if begin_mask >> i & 1:
            b = 0 if s > 0 else _INT64_MAX
        if end_mask >> i & 1:
            e = _INT64_MAX if s > 0 else _INT64_MIN
        starts.append(b)
        ends.append(e)
        steps.append(s)
    if g.is_const(inputs[0]):
        index = tuple(slice(int(b), None if e in (_INT64_MAX, _INT64_MIN) else int(e), int(s))
                      for b, e, s in zip(starts, ends, steps))
        g.consts[_out(node)] = np.squeeze(g.consts[inputs[0]][index], axis=tuple(squeeze))
        return
    operands = [g.get(inputs[0])] + [g.constant(np.array(v, np.int64), n) for v, n in
                                     ((starts, "starts"), (ends, "ends"),
                                      (list(range(len(starts))), "axes"), (steps, "steps"))]
    y = g.emit("Slice", operands, node["name"] + ("/slice" if squeeze else ""))[0]
    if squeeze:
        y = g.emit("Squeeze", [y, g.constant(np.array(squeeze, np.int64), "axes")], node["name"])[0]
    g.set(_out(node), y)


@_handles("Shape")
def _shape(g: _Graph, node: dict, inputs: list[str]) -> None:
    g.set(_out(node), g.emit("Shape", [g.get(inputs[0])], node["name"])[0])


@_handles("Cast")
def _cast(g: _Graph, node: dict, inputs: list[str]) -> None:
    from onnx import helper

    dtype = _TF_DTYPES.get(_attr(node, "DstT", {}).get("type", ""))
    if dtype is None:
        raise ProvisioningError(f"TF.js node {node['name']}: unsupported Cast target")
    if g.is_const(inputs[0]):
        g.consts[_out(node)] = g.consts[inputs[0]].astype(dtype)
        return
    nchw = g.is_nchw(inputs[0])
    to = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    g.set(_out(node), g.emit("Cast", [g.get(inputs[0], nchw)], node["name"], to=to)[0], nchw)


@_handles("Transpose")
def _transpose(g: _Graph, node: dict, inputs: list[str]) -> None:
    perm = [int(p) for p in g.const(inputs[1], f"perm of {node['name']}")]
    if g.is_const(inputs[0]):
        g.consts[_out(node)] = g.consts[inputs[0]].transpose(perm)
        return
    g.set(_out(node), g.emit("Transpose", [g.get(inputs[0])], node["name"], perm=perm)[0])


@_handles("ResizeBilinear", "ResizeNearestNeighbor")
def _resize(g: _Graph, node: dict, inputs: list[str]) -> None:
    size = np.asarray(g.const(inputs[1], f"size of {node['name']}"), np.int64).reshape(-1)
    align, half = _attr_bool(node, "align_corners"), _attr_bool(node, "half_pixel_centers")
    if node["op"] == "ResizeBilinear":
        attrs = {"mode": "linear",
                 "coordinate_transformation_mode": "align_corners" if align else
                 "half_pixel" if half else "asymmetric"}
    elif align:
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "align_corners",
                 "nearest_mode": "round_prefer_ceil"}
    elif half:  # TF: floor((out + 0.5) * in / out), which is half_pixel rounded half up
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "half_pixel",
                 "nearest_mode": "round_prefer_ceil"}
    else:
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                 "nearest_mode": "floor"}
    operands = [g.get(inputs[0], nchw=True), "", "", g.constant(size, node["name"] + "/size")]
    y = g.emit("Resize", operands, node["name"], 1, axes=[2, 3], **attrs)[0]
    g.set(_out(node), y, nchw=True)


@_handles("DepthToSpace")
def _depth_to_space(g: _Graph, node: dict, inputs: list[str]) -> None:
    _check_nhwc(node)
    # TF's channel order (block row, block column, channel) is ONNX's DCR mode.
    y = g.emit("DepthToSpace", [g.get(inputs[0], nchw=True)], node["name"],
               blocksize=_attr_int(node, "block_size"), mode="DCR")[0]
    g.set(_out(node), y, nchw=True)


# --------------------------------------------------------------------------- entry points


def _signature_outputs(model: dict, nodes: list[dict]) -> list[tuple[str, str]]:
    """Return (public name, TF tensor key) of the model outputs, in the model's order."""
    signature = model.get("signature") or (model.get("userDefinedMetadata") or {}).get("signature")
    outputs = (signature or {}).get("outputs") or {}
    if outputs:
        return [(key, _tensor_key(spec.get("name", key))) for key, spec in outputs.items()]
    consumed = {ref.lstrip("^").split(":")[0] for node in nodes for ref in node.get("input", [])}
    return [(node["name"], f"{node['name']}:0") for node in nodes
            if node["name"] not in consumed and node["op"] not in ("Const", "Placeholder", "NoOp")]


def graph_model_outputs(model_json: bytes) -> list[tuple[str, str]]:
    """Return (ONNX output name, TF.js tensor name) pairs of a graph model, in order."""
    model = json.loads(model_json)
    return _signature_outputs(model, model["modelTopology"]["node"])


def convert_graph_model(
    model_json: bytes, shards: Mapping[str, bytes], name: str = "tfjs"
) -> bytes:
    """Convert a TF.js graph model to a serialized ONNX model (opset 18, float32).

    ``model_json`` is the ``model.json`` file; ``shards`` maps the weight paths it lists to their
    bytes. Inputs keep the TF.js names and shapes (NHWC, free batch); outputs are named as in
    the model's signature. Raises ProvisioningError for ops or layouts it does not handle.
    """
    import onnx
    from onnx import TensorProto, helper

    try:
        model = json.loads(model_json)
        nodes = model["modelTopology"]["node"]
        manifest = model["weightsManifest"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ProvisioningError(f"not a TF.js graph model: {exc}") from exc
    if model["modelTopology"].get("library", {}).get("function"):
        raise ProvisioningError("TF.js graph models with functions (control flow) are unsupported")
    g = _Graph(decode_weights(manifest, shards))
    public_outputs = _signature_outputs(model, nodes)
    for public, _ in public_outputs:
        g.reserve(public)
    unsupported = sorted({n["op"] for n in nodes} - set(_HANDLERS))
    if unsupported:
        raise ProvisioningError(
            f"TF.js ops not supported by the converter: {', '.join(unsupported)}")
    for node in nodes:
        for key in _inputs(node):
            g.uses[key] = g.uses.get(key, 0) + 1
    for _, key in public_outputs:
        g.uses[key] = g.uses.get(key, 0) + 1
    for node in _topological(nodes):
        _HANDLERS[node["op"]](g, node, _inputs(node))

    outputs = []
    for public, key in public_outputs:
        if key not in g.values:
            raise ProvisioningError(f"TF.js output {key} is not computed by the graph")
        value = g.get(key)
        g.nodes.append(helper.make_node("Identity", [value], [public], name=public + "/output"))
        outputs.append(helper.make_tensor_value_info(public, TensorProto.FLOAT, None))
    graph = helper.make_graph(g.nodes, name, g.inputs, outputs, g.initializers)
    onnx_model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rostro.models.tfjs",
        doc_string=f"converted from TF.js graph model ({model.get('convertedBy') or 'unknown'}; "
                   f"{model.get('generatedBy') or 'unknown'})",
    )
    onnx_model.ir_version = 8  # readable by every onnxruntime >= 1.14
    try:
        # Inference also fills in the output shapes, which the checker requires.
        onnx_model = onnx.shape_inference.infer_shapes(onnx_model, strict_mode=True)
        onnx.checker.check_model(onnx_model)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ProvisioningError(f"converted TF.js model is not valid ONNX: {exc}") from exc
    return onnx_model.SerializeToString()


def split_weight_files(files: Mapping[str, bytes], suffix: str,
                       what: str) -> tuple[str, dict[str, bytes]]:
    """Return (the one member ending in ``suffix``, the other members keyed by their path
    relative to it: the names a TF.js weights manifest lists its shards by)."""
    tops = [path for path in files if path.endswith(suffix)]
    if len(tops) != 1:
        raise ProvisioningError(f"expected one {what} among {sorted(files)}")
    top = tops[0]
    folder = posixpath.dirname(top)
    shards = {posixpath.relpath(path, folder) if folder else path: data
              for path, data in files.items() if path != top}
    return top, shards


def tfjs_graph_model(files: Mapping[str, bytes]) -> bytes:
    """Converter entry: ``files`` maps archive member paths to bytes, one ``*.json`` among them.

    The weight paths the manifest lists are resolved next to the ``.json`` member.
    """
    top, shards = split_weight_files(files, ".json", "TF.js model.json")
    name = posixpath.splitext(posixpath.basename(top))[0]
    return convert_graph_model(files[top], shards, name=name)
