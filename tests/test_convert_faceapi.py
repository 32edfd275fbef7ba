"""face-api.js's expression net, written as ONNX from its weights, computes what face-api.js
computes.

The reference probabilities below are face-api.js's own output: @vladmandic/face-api 1.7.15's
``faceExpressionNet.forwardInput`` on the tfjs CPU backend in Node 20, fed the same two
112 x 112 RGB inputs (built here again from a seed and from skimage's astronaut). A mistake in
the graph written from the package's TypeScript (a missed ReLU, the odd padding pixel on the
wrong side, HWIO vs OIHW) moves them by far more than the tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from rostro.models.errors import ProvisioningError
from rostro.models.faceapi import faceapi_expression

FACEAPI_REFERENCE = {
    # skimage.data.astronaut()[40:264:2, 148:372:2]
    "astronaut": [0.2168873, 0.0105149, 0.013155, 0.0465147, 0.0136906, 0.0035045, 0.695733],
    # np.random.default_rng(7).uniform(0, 255, (112, 112, 3))
    "noise": [0.3915501, 0.31145, 0.2050065, 0.0480399, 0.0030368, 0.0052403, 0.0356764],
}


def _inputs() -> dict[str, np.ndarray]:
    from skimage import data

    return {
        "astronaut": data.astronaut()[40:264:2, 148:372:2].astype(np.float32),
        "noise": np.random.default_rng(7).uniform(0, 255, (112, 112, 3)).astype(np.float32),
    }


def test_expression_net_matches_faceapi_js(analyzer):
    import onnxruntime as ort

    net = ort.InferenceSession(str(analyzer.cache.require("faceapi-expression")))
    for name, image in _inputs().items():
        batch = np.ascontiguousarray(image.transpose(2, 0, 1)[None])
        probabilities, features = net.run(["probabilities", "features"], {"image": batch})
        np.testing.assert_allclose(probabilities[0], FACEAPI_REFERENCE[name], atol=2e-6,
                                   err_msg=name)
        assert features.shape == (1, 256)


def test_converter_refuses_incomplete_packages():
    manifest = (b'[{"paths": ["face_expression_model.bin"], "weights": '
                b'[{"name": "fc/bias", "shape": [7], "dtype": "float32"}]}]')
    with pytest.raises(ProvisioningError, match="weights manifest"):
        faceapi_expression({"model/face_expression_model.bin": b""})
    with pytest.raises(ProvisioningError, match="missing"):
        faceapi_expression({"model/face_expression_model-weights_manifest.json": manifest})
    with pytest.raises(ProvisioningError, match="no dense0/conv0"):
        faceapi_expression({"model/face_expression_model-weights_manifest.json": manifest,
                            "model/face_expression_model.bin": np.zeros(7, "<f4").tobytes()})
