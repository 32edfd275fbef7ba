"""face-api.js's expression net (``@vladmandic/face-api`` on npm) written as ONNX.

face-api.js ships its nets as TF.js weight manifests without a topology: the network is code
(``src/faceFeatureExtractor`` and ``src/faceExpressionNet`` in the package). This module
writes that code's graph once, with the ``onnx`` helper API, and fills it with the decoded
weights. The graph, from the package's TypeScript:

* the 112 x 112 RGB face (0-255) minus the mean colour (122.782, 117.001, 104.298), / 255;
* four dense blocks (``denseBlock4``): a stride-2 convolution (a plain 3 x 3 one in the first
  block, depthwise-separable in the others) and three separable ones, each block summing its
  convolutions' outputs with ReLUs in between; 112 -> 56 -> 28 -> 14 -> 7;
* a 7 x 7 average pool (the whole map), a 256 -> 7 dense layer and a softmax over
  (neutral, happy, sad, angry, fearful, disgusted, surprised).

TF's "same" padding puts the odd pixel of a stride-2 convolution at the bottom/right, as
ONNX's SAME_UPPER does. ``tests/test_convert_faceapi.py`` checks the result against
face-api.js's own output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np

from rostro.models.errors import ProvisioningError
from rostro.models.onnx_builder import OnnxBuilder
from rostro.models.tfjs import decode_weights, split_weight_files

INPUT_SIZE = 112
MEAN_RGB = (122.782, 117.001, 104.298)


class _Graph(OnnxBuilder):
    def __init__(self, weights: Mapping[str, np.ndarray]) -> None:
        super().__init__()
        self.weights = weights

    def weight(self, name: str) -> np.ndarray:
        try:
            return self.weights[name]
        except KeyError:
            raise ProvisioningError(f"face-api.js weights have no {name}") from None

    def conv(self, x: str, prefix: str, stride: int) -> str:
        """A block's convolution: plain (``filters``) or depthwise-separable, plus its bias."""
        bias = self.constant(self.weight(f"{prefix}/bias"), f"{prefix}/bias")
        if f"{prefix}/filters" in self.weights:  # HWIO -> OIHW
            filters = self.constant(self.weight(f"{prefix}/filters").transpose(3, 2, 0, 1),
                                    f"{prefix}/filters")
            return self.node("Conv", [x, filters, bias], f"{prefix}/out",
                             strides=[stride, stride], auto_pad="SAME_UPPER")
        depthwise = self.weight(f"{prefix}/depthwise_filter")  # (3, 3, C, 1)
        channels = depthwise.shape[2]
        dw = self.node("Conv", [x, self.constant(depthwise.transpose(2, 3, 0, 1), f"{prefix}/dw")],
                       f"{prefix}/depthwise", strides=[stride, stride], auto_pad="SAME_UPPER",
                       group=channels)
        pointwise = self.constant(self.weight(f"{prefix}/pointwise_filter").transpose(3, 2, 0, 1),
                                  f"{prefix}/pw")
        return self.node("Conv", [dw, pointwise, bias], f"{prefix}/out")

    def dense_block(self, x: str, prefix: str) -> str:
        out1 = self.node("Relu", [self.conv(x, f"{prefix}/conv0", 2)], f"{prefix}/out1")
        total = self.node("Add", [out1, self.conv(out1, f"{prefix}/conv1", 1)], f"{prefix}/sum2")
        for k in (2, 3):
            relu = self.node("Relu", [total], f"{prefix}/in{k + 1}")
            total = self.node("Add", [total, self.conv(relu, f"{prefix}/conv{k}", 1)],
                              f"{prefix}/sum{k + 1}")
        return self.node("Relu", [total], f"{prefix}/relu")


def expression_net_to_onnx(manifest: list, shards: Mapping[str, bytes]) -> bytes:
    """Build the expression net from its weight manifest and shards; returns ONNX bytes.

    Input ``image`` (N, 3, 112, 112) RGB in 0-255; outputs ``probabilities`` (N, 7) over
    (neutral, happy, sad, angry, fearful, disgusted, surprised) and ``features`` (N, 256),
    the pooled activations before the dense layer.
    """
    g = _Graph(decode_weights(manifest, shards))
    mean = g.constant(np.array(MEAN_RGB, np.float32).reshape(1, 3, 1, 1), "mean_rgb")
    x = g.node("Mul", [g.node("Sub", ["image", mean], "centred"),
                       g.constant(np.array(1.0 / 255.0, np.float32), "inverse_255")], "normalized")
    for block in range(4):
        x = g.dense_block(x, f"dense{block}")
    features = g.node("Flatten", [g.node("GlobalAveragePool", [x], "pooled")], "features")
    logits = g.node("Add", [g.node("MatMul", [features, g.constant(g.weight("fc/weights"),
                                                                   "fc/weights")], "fc/matmul"),
                            g.constant(g.weight("fc/bias"), "fc/bias")], "logits")
    g.node("Softmax", [logits], "probabilities", axis=1)
    return g.model("faceapi_expression", {"image": ["N", 3, INPUT_SIZE, INPUT_SIZE]},
                   {"probabilities": ["N", 7], "features": ["N", 256]}, "rostro.models.faceapi")


def faceapi_expression(files: Mapping[str, bytes]) -> bytes:
    """Converter entry: ``files`` maps archive member paths to bytes: the
    ``*-weights_manifest.json`` and the shards it lists (resolved next to it)."""
    top, shards = split_weight_files(files, "-weights_manifest.json",
                                     "face-api.js weights manifest")
    try:
        manifest = json.loads(files[top])
    except ValueError as exc:
        raise ProvisioningError(f"{top} is not JSON: {exc}") from exc
    return expression_net_to_onnx(manifest, shards)
