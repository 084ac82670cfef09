"""Where frames come from: a camera, a video file or a stream through ``cv2.VideoCapture``, a folder of
images, or a Raspberry Pi CSI camera through picamera2; :func:`to_bgr` makes any frame they deliver
8-bit BGR, the order frames keep until the detector's edge."""

from __future__ import annotations

import collections
import os
import time
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from deepfake_dct.apps.webcam.errors import WebcamError, log_stderr
from deepfake_dct.apps.webcam.opencv import cv2
from deepfake_dct.detector.files import expand_paths

#: Targets starting with these are network streams: opened with timeouts, and reconnected when they drop.
STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")


class FrameSource(Protocol):
    name: str
    fps: float | None
    empty_reads: int

    def read(self) -> np.ndarray | None:
        """The next frame, or None when the source has ended. Raises WebcamError when it is lost."""

    def close(self) -> None: ...


class CaptureSource:
    """A camera, video file or stream through ``cv2.VideoCapture``.

    Empty reads are retried; a live source (camera or stream) that stops delivering frames is
    reopened with exponential backoff, saying so on stderr; a file ends at its first run of failed reads.
    """

    def __init__(
        self,
        target: int | str,
        name: str,
        *,
        live: bool,
        size: tuple[int, int] | None = None,
        retries: int = 5,
        first_delay_s: float = 1.0,
        max_delay_s: float = 30.0,
        open_capture: Callable[..., object] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] = log_stderr,
    ) -> None:
        self.name, self.live, self.size = name, live, size
        self.retries, self.first_delay_s, self.max_delay_s = retries, first_delay_s, max_delay_s
        self._target = target
        self._open_capture = open_capture or _open_capture
        self._sleep, self._log = sleep, log
        self.empty_reads = 0
        #: Consecutive failed reads tolerated before a live source is reopened or a file is ended.
        self.tolerated_misses = 10 if live else 3
        self._cap = self._open()
        if self._cap is None:
            raise WebcamError(f"cannot open {name}: {self._why_not_opened()}")
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0.0 < fps <= 240.0 else None
        # A busy camera or a silent stream can open and still deliver nothing: that is a failure to
        # open, not a drop to reconnect from.
        self._first = self._grab() if live else None
        if live and self._first is None:
            self._cap.release()
            raise WebcamError(f"{name} opened but delivered no frames: is another program using it?")

    def _why_not_opened(self) -> str:
        if isinstance(self._target, int) or str(self._target).startswith("/dev/"):
            return "no such camera, or another program is using it."
        if str(self._target).startswith(STREAM_SCHEMES):
            return "the stream does not answer (check the URL, the network and the credentials)."
        return "not a video OpenCV can decode."

    def _open(self):
        cap = self._open_capture(self._target)
        if not cap.isOpened():
            cap.release()
            return None
        if self.size is not None:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        return cap

    def _grab(self) -> np.ndarray | None:
        """A frame, retrying empty reads; None after ``tolerated_misses`` of them in a row."""
        for misses in range(self.tolerated_misses):
            ok, frame = self._cap.read()
            if ok and frame is not None and frame.size:
                self.empty_reads += misses
                return frame
        return None

    def read(self) -> np.ndarray | None:
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        while True:
            frame = self._grab()
            if frame is not None or not self.live:
                return frame
            self._reconnect()

    def _reconnect(self) -> None:
        self._cap.release()
        for attempt in range(1, self.retries + 1):
            delay = min(self.max_delay_s, self.first_delay_s * 2 ** (attempt - 1))
            self._log(
                f"{self.name}: no frames; reconnecting in {delay:g} s (attempt {attempt} of {self.retries})"
            )
            self._sleep(delay)
            cap = self._open()
            if cap is not None:
                self._cap = cap
                self._log(f"{self.name}: reconnected")
                return
        raise WebcamError(f"{self.name} was lost and did not come back after {self.retries} attempts.")

    def close(self) -> None:
        self._cap.release()


def _open_capture(target: int | str):
    if isinstance(target, str) and target.startswith(STREAM_SCHEMES):
        timeouts = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 10_000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 10_000]
        return cv2.VideoCapture(target, cv2.CAP_FFMPEG, timeouts)
    return cv2.VideoCapture(target)


class ImageFolderSource:
    """The images of a folder (recursively, sorted by path) played as frames; unreadable files are
    skipped with a note on stderr."""

    fps = None

    def __init__(self, folder: str | os.PathLike, log: Callable[[str], None] = log_stderr) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise WebcamError(f"cannot open image folder {folder}: not a folder.")
        self._paths = collections.deque(expand_paths([str(folder)]))
        if not self._paths:
            raise WebcamError(f"cannot open image folder {folder}: it holds no image files.")
        self.name = f"image folder {folder}"
        self.empty_reads = 0
        self._log = log

    def read(self) -> np.ndarray | None:
        while self._paths:
            path = self._paths.popleft()
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is not None:
                return frame
            self.empty_reads += 1
            self._log(f"{path}: skipped, not an image OpenCV can read")
        return None

    def close(self) -> None:
        self._paths.clear()


class PicameraSource:
    """A Raspberry Pi CSI camera through ``picamera2`` (libcamera cameras are not reachable through
    ``cv2.VideoCapture``). Its "RGB888" format is laid out [B, G, R] per pixel: OpenCV's order.

    libcamera names formats after the DRM fourcc codes, which order bits in a little-endian word:
    DRM_FORMAT_RGB888 is "[23:0] R:G:B little endian" (Linux's drm_fourcc.h), bytes B, G, R; picamera2's
    own ``Helpers.make_image`` (request.py) hands "RGB888" to Pillow as raw mode "BGR". So the frame
    goes on as it comes; tests/test_webcam_picamera.py proves a red frame reaches the model as red."""

    fps = None
    empty_reads = 0

    def __init__(self, camera_num: int = 0, size: tuple[int, int] = (640, 480)) -> None:
        try:
            from picamera2 import Picamera2
        except ImportError:
            raise WebcamError(
                "--picamera needs the picamera2 module: on Raspberry Pi OS, `sudo apt install "
                "python3-picamera2` and make the venv with --system-site-packages."
            ) from None
        self.name = f"CSI camera {camera_num}"
        try:
            self._camera = Picamera2(camera_num=camera_num)
            config = self._camera.create_video_configuration(main={"size": size, "format": "RGB888"})
            self._camera.configure(config)
            self._camera.start()
        except Exception as e:  # picamera2 raises IndexError, RuntimeError, ... for a missing or busy camera.
            raise WebcamError(f"cannot open {self.name} with picamera2 ({e}).") from e

    def read(self) -> np.ndarray:
        return self._camera.capture_array("main")

    def close(self) -> None:
        self._camera.stop()
        self._camera.close()



def to_bgr(frame: np.ndarray) -> np.ndarray:
    """Any frame a source delivers -> (H, W, 3) uint8 BGR: grey and BGRA frames are converted,
    16-bit samples reduced to 8 bits."""
    if frame.dtype == np.uint16:
        frame = (frame >> 8).astype(np.uint8)
    if frame.dtype != np.uint8:
        raise ValueError(f"Expected a uint8 or uint16 frame, got dtype {frame.dtype}.")
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    raise ValueError(f"Expected an (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) frame, got {frame.shape}.")
