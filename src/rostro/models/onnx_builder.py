"""A small ONNX graph writer for the converters that build a network by hand (Keras HDF5,
face-api.js): nodes named after their output, float32 initializers, one validated model."""

from __future__ import annotations

import numpy as np

from rostro.models.errors import ProvisioningError

OPSET = 13


class OnnxBuilder:
    """Collects ONNX nodes and initializers; ``model`` turns them into checked ONNX bytes."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []

    def constant(self, value: np.ndarray, name: str) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value, np.float32),
                                                         name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def model(self, name: str, inputs: dict[str, list], outputs: dict[str, list],
              producer: str) -> bytes:
        """Serialize the graph with float32 ``inputs`` / ``outputs`` (name -> shape)."""
        import onnx
        from onnx import TensorProto, helper

        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs.items()],
            self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name=producer)
        model.ir_version = 8
        try:
            onnx.checker.check_model(model)
        except onnx.checker.ValidationError as exc:
            raise ProvisioningError(f"converted {name} is not valid ONNX: {exc}") from exc
        return model.SerializeToString()
