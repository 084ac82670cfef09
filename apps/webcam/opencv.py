"""OpenCV for the webcam app: ``cv2``, or None where it is not installed (importing the app must not
fail, so that its ``main`` can say what to install), and :func:`quiet_opencv`."""

from __future__ import annotations

import os

try:
    import cv2
except ImportError:
    cv2 = None


def quiet_opencv() -> None:
    """OpenCV's and FFmpeg's warnings (e.g. on every failed camera probe) would bury the one-line error."""
    if "OPENCV_LOG_LEVEL" not in os.environ:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
