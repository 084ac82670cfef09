"""Holding back TensorFlow's chatter: its import banner and, per converted variant, about 25 lines
(the SavedModel's TensorSpecs on stdout, absl and MLIR notes written to the file descriptors,
Keras' input-structure warnings). No TensorFlow here, so the command line can hold the import too."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import warnings
from typing import Iterator


@contextlib.contextmanager
def held_output() -> Iterator[None]:
    """Holds everything written to stdout and stderr (Python's and the file descriptors') and every
    warning during the block; drops it if the block succeeds, and writes it all to stderr before
    the exception goes on if it fails, so a failed conversion keeps its whole story."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stdout.flush()
        sys.stderr.flush()
    try:
        saved = (os.dup(1), os.dup(2))
    except OSError:  # no file descriptors to hold (a GUI process): hold nothing
        yield
        return
    python = io.StringIO()
    with tempfile.TemporaryFile() as native, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        os.dup2(native.fileno(), 1)
        os.dup2(native.fileno(), 2)
        try:
            with contextlib.redirect_stdout(python), contextlib.redirect_stderr(python):
                yield
        except BaseException:
            _restore(saved)
            native.seek(0)
            told = [native.read().decode("utf-8", "replace"), python.getvalue()]
            told += [warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught]
            sys.stderr.write("".join(told))
            sys.stderr.flush()
            raise
        _restore(saved)


def _restore(saved: tuple[int, int]) -> None:
    for fd, copy in zip((1, 2), saved):
        os.dup2(copy, fd)
        os.close(copy)
