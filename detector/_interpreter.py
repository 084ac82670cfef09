"""Picks the smallest TFLite interpreter that is installed: LiteRT, then tflite_runtime, then TensorFlow."""

from __future__ import annotations

import importlib


def load_interpreter_class() -> tuple[type, str]:
    """(Interpreter class, backend name). Raises ImportError naming what to install."""
    for module_name, backend in (
        ("ai_edge_litert.interpreter", "ai_edge_litert"),
        ("tflite_runtime.interpreter", "tflite_runtime"),
    ):
        try:
            return importlib.import_module(module_name).Interpreter, backend
        except ImportError:
            continue
    try:
        import tensorflow as tf  # Last resort: heavy, and its interpreter is deprecated.
    except ImportError:
        raise ImportError(
            "No TFLite interpreter found: install ai-edge-litert (pip install ai-edge-litert)."
        ) from None
    return tf.lite.Interpreter, "tensorflow.lite"
