"""The network's layer table (op, output shape, parameters), read from a loaded TFLite interpreter.

numpy only: it inspects the interpreter's tensor and op details, so it works with any backend
(ai_edge_litert, tflite_runtime, tensorflow.lite) and never imports TensorFlow.

What counts:
  * A *layer* is an op whose output is an activation. Left out: the nodes a delegate (XNNPACK) adds
    on top of the ops it takes over, ops that only compute shapes or indices (integer outputs without
    quantization), and ``DEQUANTIZE`` ops that unpack constant weights (float16 models).
  * A layer's *parameters* are the elements of its constant inputs that hold weights: float or
    quantized tensors. Integer constants without quantization (a reshape's target shape, an axis)
    are arguments, not weights. Quantized int32 biases count, as Keras counts float biases. What the
    converter folded away (a bias of zeros) is not in the file, so it is not counted.
"""

from __future__ import annotations

import numpy as np

#: Op name of a delegate's node: it stands for ops that are also listed on their own.
DELEGATE_OP = "DELEGATE"


def layer_table(interpreter) -> list[dict]:
    """One row per layer, in execution order.

    Args:
      interpreter: an allocated TFLite interpreter (``Detector.interpreter``).

    Returns:
      A list of dicts with keys ``op`` (str, e.g. "CONV_2D"), ``output_shape`` (tuple of int, batch
      first), ``dtype`` (str, e.g. "int8") and ``parameters`` (int).
    """
    tensors = {int(t["index"]): t for t in interpreter.get_tensor_details()}
    ops = [op for op in interpreter._get_ops_details() if op["op_name"] != DELEGATE_OP]
    graph_inputs = {int(t["index"]) for t in interpreter.get_input_details()}
    produced = {int(i) for op in ops for i in op["outputs"]}
    constants = set(tensors) - produced - graph_inputs

    rows = []
    for op in ops:
        inputs = [int(i) for i in op["inputs"] if i >= 0]
        outputs = [int(i) for i in op["outputs"]]
        if op["op_name"] == "DEQUANTIZE" and all(i in constants for i in inputs):
            constants.update(outputs)  # Unpacked weights: they belong to the layer that reads them.
            continue
        if not any(_holds_values(tensors[i]) for i in outputs):
            continue
        first = tensors[outputs[0]]
        rows.append({
            "op": str(op["op_name"]),
            "output_shape": tuple(int(s) for s in first["shape"]),
            "dtype": np.dtype(first["dtype"]).name,
            "parameters": sum(
                int(np.prod(tensors[i]["shape"]))
                for i in inputs
                if i in constants and _holds_values(tensors[i])
            ),
        })
    return rows


def _holds_values(tensor: dict) -> bool:
    """Float, or quantized integer: activations and weights, as opposed to shapes, axes and indices."""
    if np.issubdtype(np.dtype(tensor["dtype"]), np.floating):
        return True
    return len(tensor["quantization_parameters"]["scales"]) > 0
