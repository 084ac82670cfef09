"""The error every part of the webcam app raises when something it needs cannot be used, and the
stderr line each part writes its notes to (stdout is kept for the JSON lines)."""

from __future__ import annotations

import sys


class WebcamError(RuntimeError):
    """Something the app needs -- the source, the face cascade, the recording, a window -- cannot be
    opened, or the source was lost; the message says why."""


def log_stderr(message: str) -> None:
    """Writes one line to stderr at once: a note, a warning, or the summary."""
    print(message, file=sys.stderr, flush=True)
