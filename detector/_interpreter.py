"""Picks the smallest TFLite interpreter that is installed: LiteRT, then tflite_runtime, then TensorFlow;
and creates it without its native start-up chatter."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import tempfile
import threading
from typing import Iterator

#: Lines the interpreter's C++ side writes straight to file descriptor 2 that tell a user nothing.
#: LiteRT has no Python setting for this logger (TF_CPP_MIN_LOG_LEVEL does not reach it), so
#: :func:`create_interpreter` drops these lines and passes on everything else written meanwhile.
NATIVE_CHATTER = frozenset({b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU."})

#: fd 2 is the process's: one redirection at a time, or a second would restore the first's file.
_STDERR_LOCK = threading.Lock()


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


def create_interpreter(interpreter_class: type, **kwargs):
    """``interpreter_class(**kwargs)`` with its tensors allocated (where the XNNPACK delegate is
    created and says so, once per process), minus the lines in NATIVE_CHATTER."""
    with _without_native_chatter():
        interpreter = interpreter_class(**kwargs)
        interpreter.allocate_tensors()
    return interpreter


@contextlib.contextmanager
def _without_native_chatter() -> Iterator[None]:
    """Points fd 2 at a temporary file for the block, then writes what landed there back to fd 2,
    less the NATIVE_CHATTER lines (errors and warnings pass through, after the block)."""
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no fd 2 (a GUI process): nothing to filter
            yield
            return
        with tempfile.TemporaryFile() as capture:
            os.dup2(capture.fileno(), 2)
            try:
                yield
            finally:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
                capture.seek(0)
                kept = [line for line in capture.read().splitlines(keepends=True)
                        if line.rstrip(b"\r\n") not in NATIVE_CHATTER]
                if kept:
                    os.write(2, b"".join(kept))
