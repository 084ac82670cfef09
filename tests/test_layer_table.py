"""layer_table: op and tensor details of a TFLite interpreter -> one row per layer."""

from __future__ import annotations

import numpy as np
import pytest

from deepfake_dct.detector.layer_table import layer_table


# --- Hand-written interpreter details: each rule on its own ---------------------------------------


def _tensor(index: int, shape, dtype=np.float32, quantized: bool = False) -> dict:
    scales = np.ones(1, np.float32) if quantized else np.zeros(0, np.float32)
    return {"index": index, "shape": np.array(shape, np.int32), "dtype": dtype,
            "quantization_parameters": {"scales": scales, "zero_points": np.zeros_like(scales, int)}}


def _op(name: str, inputs, outputs) -> dict:
    return {"op_name": name, "inputs": np.array(inputs, np.int32), "outputs": np.array(outputs, np.int32)}


class _Details:
    """Stands in for an interpreter: only the three detail calls layer_table reads."""

    def __init__(self, tensors: list[dict], ops: list[dict], inputs: list[int]) -> None:
        self._tensors, self._ops, self._inputs = tensors, ops, inputs

    def get_tensor_details(self) -> list[dict]:
        return self._tensors

    def _get_ops_details(self) -> list[dict]:
        return self._ops

    def get_input_details(self) -> list[dict]:
        return [t for t in self._tensors if t["index"] in self._inputs]


def _dense_with_flatten(quantized: bool = False, delegate: bool = False):
    """input (1,4,4,2) -> SHAPE -> RESHAPE (1,32) -> FULLY_CONNECTED (1,1) [-> DELEGATE node]."""
    values, bias = (np.int8, np.int32) if quantized else (np.float32, np.float32)
    tensors = [
        _tensor(0, [1, 4, 4, 2], values, quantized),
        _tensor(1, [2], np.int32),  # the reshape's target shape: an argument, not a weight
        _tensor(2, [1, 32], values, quantized),
        _tensor(3, [1, 32], values, quantized),
        _tensor(4, [1], bias, quantized),
        _tensor(5, [1, 1], values, quantized),
        _tensor(6, [4], np.int32),
    ]
    ops = [
        _op("SHAPE", [0], [6]),
        _op("RESHAPE", [0, 1], [2]),
        _op("FULLY_CONNECTED", [2, 3, 4], [5]),
    ]
    if delegate:
        ops.append(_op("DELEGATE", [0, 3, 4], [5]))
    return _Details(tensors, ops, inputs=[0])


def test_layer_table_shape_ops_skipped_and_shape_constant_not_counted():
    rows = layer_table(_dense_with_flatten())

    assert [(r["op"], r["output_shape"], r["parameters"]) for r in rows] == [
        ("RESHAPE", (1, 32), 0),
        ("FULLY_CONNECTED", (1, 1), 33),
    ]


def test_layer_table_delegate_node_present_skipped():
    assert layer_table(_dense_with_flatten(delegate=True)) == layer_table(_dense_with_flatten())


def test_layer_table_int8_model_quantized_bias_counted():
    rows = layer_table(_dense_with_flatten(quantized=True))

    assert [(r["op"], r["dtype"], r["parameters"]) for r in rows] == [
        ("RESHAPE", "int8", 0),
        ("FULLY_CONNECTED", "int8", 33),
    ]


def test_layer_table_float16_weights_counted_once_with_their_layer():
    tensors = [
        _tensor(0, [1, 8]),
        _tensor(1, [3, 8], np.float16),
        _tensor(2, [3, 8]),  # DEQUANTIZE's output: the float32 weights the layer reads
        _tensor(3, [1, 3]),
    ]
    ops = [_op("DEQUANTIZE", [1], [2]), _op("FULLY_CONNECTED", [0, 2, -1], [3])]

    rows = layer_table(_Details(tensors, ops, inputs=[0]))

    assert [(r["op"], r["parameters"]) for r in rows] == [("FULLY_CONNECTED", 24)]


# --- Real models ----------------------------------------------------------------------------------


def test_layer_table_bundled_model_rows_are_layers_ending_in_p_fake(detector):
    rows = layer_table(detector.interpreter)

    assert rows and all(r["op"] != "DELEGATE" for r in rows)
    assert int(np.prod(rows[-1]["output_shape"])) == 1  # one number out: p_fake
    assert sum(r["parameters"] for r in rows) > 0


@pytest.fixture(scope="module")
def small_keras_model(keras):
    bias = keras.initializers.Constant(0.1)  # A zero bias would be folded away by the converter.
    inputs = keras.Input((16, 16, 3), name="log_dct")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", bias_initializer=bias)(inputs)
    x = keras.layers.AveragePooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", bias_initializer=bias)(x)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("variant", ["float32", "float16", "dynamic", "int8"])
def test_layer_table_exported_variant_matches_keras_layers(small_keras_model, variant):
    from ai_edge_litert.interpreter import Interpreter

    from deepfake_dct.export.convert import convert

    rng = np.random.default_rng(0)

    def representative():
        for _ in range(4):
            yield [rng.normal(size=(1, 16, 16, 3)).astype(np.float32)]

    interpreter = Interpreter(model_content=convert(small_keras_model, variant, representative))
    interpreter.allocate_tensors()

    rows = layer_table(interpreter)

    keras_params = [layer.count_params() for layer in small_keras_model.layers if layer.count_params()]
    assert [r["parameters"] for r in rows if r["parameters"]] == keras_params  # [112, 257]
    assert [(r["op"], r["output_shape"]) for r in rows[:2]] == [
        ("CONV_2D", (1, 16, 16, 4)),
        ("AVERAGE_POOL_2D", (1, 8, 8, 4)),
    ]
    assert rows[-1]["output_shape"] == (1, 1)
