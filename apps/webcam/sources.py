"""``deepfake-dct webcam``: classify the frames of a camera, a video, a stream or an image folder.

    deepfake-dct webcam                               # camera 0, a window with the overlay
    deepfake-dct webcam --video clip.mp4 --no-display # one JSON line per classified frame
    python -m deepfake_dct.apps.webcam --camera 1 --roi face --record out.mp4

The library pieces -- sources, regions, the smoother, the overlay -- are plain functions and small
classes, apart from the loop :func:`run` and the argparse :func:`main`, so each is testable without a
camera. Frames stay in OpenCV's BGR order throughout and become RGB only at the detector's edge
(``detect(crop, bgr=True)``). Needs the base install plus OpenCV; never TensorFlow.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence, TextIO

# One BLAS thread unless the user chose otherwise: the log-DCT is two 128x128 matrix products per
# frame, too small for OpenBLAS's thread pool, which on a busy 2-core machine made that step ~80x
# slower (55 ms instead of 0.7 ms a frame, benchmarks/bench_webcam.py). It takes effect only where
# numpy is not loaded yet, as under `python -m deepfake_dct.apps.webcam`.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

try:
    import cv2
except ImportError:  # main() says what to install; importing the module must not crash.
    cv2 = None

from deepfake_dct.detector import Detection, Detector, DetectorOptions, ImageTooSmallError, ModelFileError  # noqa: E402
from deepfake_dct.detector.files import expand_paths  # noqa: E402

Box = tuple[int, int, int, int]
"""x, y, width, height in frame pixels."""

ROI_MODES = ("full", "center", "face")
#: ``--roi center`` classifies a centred square this fraction of the frame's shorter side.
CENTER_FRACTION = 0.5
#: The face crop is a square this many times the Haar box's width, centred this many box widths above
#: the box centre. On the test-split faces (bicubic-upscaled to 512x512; 581 of 600 with one face
#: found) the box spans 0.68 of the image width and its centre sits 0.047 of it below the image's, so
#: this crop frames a face like the aligned thumbnails the model was trained on.
FACE_CROP_SCALE = 1.5
FACE_CROP_LIFT = 0.07
FACE_CASCADE = "haarcascade_frontalface_default.xml"
#: Faces are searched for boxes of at least FACE_MIN_SIZE frame pixels, on a copy of the frame at
#: most FACE_SEARCH_WIDTH wide. Haar's cost is set by the smallest box searched for (64 px: 18 ms a
#: 640x480 frame here, 48 px: 27 ms); a smaller search copy with a proportionally smaller minimum has
#: as many windows to test and found fewer faces, so only larger frames are shrunk. A 64 px box gives
#: a 96 px crop: faces a little too small to classify are still found, and reported as too small.
FACE_SEARCH_WIDTH = 640
FACE_MIN_SIZE = 64
#: Debian's and Raspberry Pi OS's package ``opencv-data`` installs the cascades here.
SYSTEM_CASCADE_DIRS = ("/usr/share/opencv4/haarcascades", "/usr/share/opencv/haarcascades")
STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")

# Overlay colours (BGR).
_RED, _GREEN, _AMBER, _WHITE, _BLACK = (40, 40, 230), (60, 190, 60), (0, 190, 255), (255, 255, 255), (0, 0, 0)


class WebcamError(RuntimeError):
    """Something the app needs -- the source, the face cascade, the recording, a window -- cannot be
    opened, or the source was lost; the message says why."""


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- Sources -----------------------------------------------------------------------------------


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
        log: Callable[[str], None] = _log,
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

    def __init__(self, folder: str | os.PathLike, log: Callable[[str], None] = _log) -> None:
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
    ``cv2.VideoCapture``). Its "RGB888" format is laid out [B, G, R] per pixel: OpenCV's order."""

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


def open_source(args: argparse.Namespace) -> FrameSource:
    """The source the command line names (camera 0 when none is named).

    Raises:
      WebcamError: the source cannot be opened; the message says why.
    """
    if args.images is not None:
        return ImageFolderSource(args.images)
    if args.picamera is not None:
        return PicameraSource(args.picamera, args.size or (640, 480))
    stream = args.stream or (args.video if args.video and args.video.startswith(STREAM_SCHEMES) else None)
    if stream is not None:
        return CaptureSource(stream, f"stream {stream}", live=True)
    if args.video is not None:
        if not Path(args.video).is_file():
            raise WebcamError(f"cannot open video {args.video}: no such file.")
        return CaptureSource(args.video, f"video {args.video}", live=False)
    camera = args.camera if args.camera is not None else "0"
    target = int(camera) if camera.isdigit() else camera
    return CaptureSource(target, f"camera {camera}", live=True, size=args.size)


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


# --- Regions -----------------------------------------------------------------------------------


def center_box(shape: Sequence[int], fraction: float = CENTER_FRACTION) -> Box:
    """The centred square ``fraction`` of the frame's shorter side."""
    h, w = shape[:2]
    side = max(1, int(min(h, w) * fraction))
    return (w - side) // 2, (h - side) // 2, side, side


def face_crop_box(
    face: Box, shape: Sequence[int], scale: float = FACE_CROP_SCALE, lift: float = FACE_CROP_LIFT
) -> Box:
    """A square around a detected face, framed like an aligned face thumbnail, moved (not clipped)
    to lie inside the frame; only a face larger than the frame allows is cut to the frame's shorter side."""
    x, y, fw, fh = face
    h, w = shape[:2]
    side = min(int(round(fw * scale)), w, h)
    cx, cy = x + fw / 2, y + fh / 2 - lift * fw
    left = min(max(int(round(cx - side / 2)), 0), w - side)
    top = min(max(int(round(cy - side / 2)), 0), h - side)
    return left, top, side, side


def find_cascade(explicit: str | os.PathLike | None = None) -> Path:
    """The frontal-face Haar cascade: ``explicit``, else OpenCV's own, else the system's.

    Raises:
      WebcamError: OpenCV has no cascade classifier, or no cascade file is found.
    """
    if not hasattr(cv2, "CascadeClassifier"):
        raise WebcamError(
            f"--roi face needs OpenCV's Haar cascade classifier, which this OpenCV ({cv2.__version__}) "
            "does not have (opencv-python-headless 5 leaves it out): pip install 'opencv-python-headless<5'."
        )
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise WebcamError(f"--face-cascade {path}: no such file.")
        return path
    dirs = [getattr(getattr(cv2, "data", None), "haarcascades", None), *SYSTEM_CASCADE_DIRS]
    for folder in filter(None, dirs):
        path = Path(folder) / FACE_CASCADE
        if path.is_file():
            return path
    raise WebcamError(
        f"--roi face needs {FACE_CASCADE}, found neither in cv2.data.haarcascades nor in "
        f"{' or '.join(SYSTEM_CASCADE_DIRS)}: pass it with --face-cascade FILE "
        "(on Debian or Raspberry Pi OS: sudo apt install opencv-data)."
    )


class FaceFinder:
    """Frontal faces with the Haar cascade OpenCV ships, largest first."""

    def __init__(
        self,
        cascade: str | os.PathLike | None = None,
        search_width: int = FACE_SEARCH_WIDTH,
        min_size: int = FACE_MIN_SIZE,
    ) -> None:
        path = find_cascade(cascade)
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise WebcamError(f"{path}: not a Haar cascade OpenCV can load.")
        self.search_width, self.min_size = search_width, min_size

    def find(self, frame: np.ndarray) -> list[Box]:
        """Face boxes of a BGR frame, in frame pixels, largest first."""
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        factor = min(1.0, self.search_width / grey.shape[1])
        if factor < 1.0:
            grey = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        # No histogram equalisation: the cascade normalises each window's contrast itself, and a
        # global equalisation skewed by a flat background hides faces.
        min_size = round(self.min_size * factor)
        found = self._cascade.detectMultiScale(
            grey, scaleFactor=1.1, minNeighbors=5, minSize=(min_size, min_size)
        )
        boxes = [tuple(int(round(v / factor)) for v in box) for box in found]
        return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)


@dataclass(frozen=True)
class RegionResult:
    """The verdict on one region of a frame, or why there is none."""

    box: Box | None
    """The region classified (None when no face was found)."""
    status: str
    """"ok", "no face", or "too small" (the region is smaller than the model's input: never upscaled)."""
    detection: Detection | None = None


def classify_frame(
    frame: np.ndarray, detector: Detector, roi: str, faces: FaceFinder | None = None
) -> list[RegionResult]:
    """Classifies a BGR frame's region(s): one result for ``full`` and ``center``, one per face for
    ``face`` (or a single "no face" result)."""
    if roi == "full":
        boxes = [(0, 0, frame.shape[1], frame.shape[0])]
    elif roi == "center":
        boxes = [center_box(frame.shape)]
    elif roi == "face":
        boxes = [face_crop_box(face, frame.shape) for face in faces.find(frame)]
        if not boxes:
            return [RegionResult(None, "no face")]
    else:
        raise ValueError(f"Expected roi in {ROI_MODES}, got {roi!r}.")
    results = []
    for box in boxes:
        x, y, w, h = box
        try:
            detection = detector.detect(frame[y : y + h, x : x + w], bgr=True)
        except ImageTooSmallError:
            results.append(RegionResult(box, "too small"))
            continue
        results.append(RegionResult(box, "ok", detection))
    return results


def frame_score(results: Sequence[RegionResult]) -> float | None:
    """A frame is as suspect as its most suspect region: the largest p_fake, None without a verdict."""
    scores = [r.detection.p_fake for r in results if r.detection is not None]
    return max(scores) if scores else None


class Smoother:
    """Mean p_fake of the last ``window`` frames with a verdict: one outlier moves it by 1/window of its
    jump, so a single noisy frame does not flip the verdict."""

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError(f"Expected a smoothing window of at least 1 frame, got {window}.")
        self._values: collections.deque[float] = collections.deque(maxlen=window)

    def update(self, p_fake: float) -> float:
        self._values.append(p_fake)
        return self.value

    @property
    def value(self) -> float | None:
        return sum(self._values) / len(self._values) if self._values else None


class RateMeter:
    """Frames per second, from an exponential moving average of the time between frames."""

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = alpha
        self._last: float | None = None
        self._interval: float | None = None

    def tick(self, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        if self._last is not None:
            dt = now - self._last
            self._interval = (
                dt if self._interval is None else self._interval + self.alpha * (dt - self._interval)
            )
        self._last = now

    @property
    def fps(self) -> float | None:
        return 1.0 / self._interval if self._interval else None


# --- Overlay -----------------------------------------------------------------------------------


def _verdict(p_fake: float | None, threshold: float) -> str | None:
    return None if p_fake is None else ("fake" if p_fake >= threshold else "real")


def _text(frame: np.ndarray, text: str, origin: tuple[int, int], scale: float, colour) -> int:
    """Text on a dark band, for contrast on any background; returns the band's height."""
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x, y = origin
    cv2.rectangle(frame, (x, y - th - base), (x + tw + 4, y + base), _BLACK, cv2.FILLED)
    cv2.putText(frame, text, (x + 2, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)
    return th + 2 * base + 2


def draw_overlay(
    frame: np.ndarray,
    results: Sequence[RegionResult],
    smoothed: float | None,
    threshold: float,
    fps: float | None,
    latency_ms: float | None,
) -> np.ndarray:
    """Draws the boxes with their label and p_fake, the smoothed verdict, FPS and latency onto
    ``frame`` (in place). A frame without a verdict (no face, too small) says so instead of a verdict."""
    scale = max(0.45, frame.shape[1] / 1400)
    for r in results:
        if r.box is None:
            continue
        x, y, w, h = r.box
        colour = _AMBER if r.detection is None else (_RED if r.detection.is_fake else _GREEN)
        cv2.rectangle(frame, (x, y), (x + w - 1, y + h - 1), colour, 2)
        caption = r.status if r.detection is None else f"{r.detection.label} {r.detection.p_fake:.2f}"
        _text(frame, caption, (x, max(y - 4, 14)), scale, colour)
    verdict = _verdict(smoothed, threshold)
    if results and frame_score(results) is None:
        headline, colour = f"{results[0].status.upper()}: no verdict", _AMBER
    elif verdict is not None:
        headline = f"{verdict.upper()}  smoothed p_fake {smoothed:.2f} (threshold {threshold:.2f})"
        colour = _RED if verdict == "fake" else _GREEN
    else:
        headline, colour = "no verdict yet", _AMBER
    timing = f"{fps:.1f} FPS" if fps else "-- FPS"
    if latency_ms is not None:
        timing += f"  {latency_ms:.1f} ms/frame"
    lines = [(headline, colour), (timing, _WHITE)]
    y = int(22 * scale / 0.45)
    for text, colour in lines:
        y += _text(frame, text, (6, y), scale, colour)
    return frame


# --- The loop ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOptions:
    """How :func:`run` treats the frames. Every field has a default; pass only what you change."""

    roi: str = "full"
    """Which region of each frame is classified: one of ROI_MODES."""
    every: int = 1
    """Classify every Nth frame (the others are shown with the last verdict)."""
    smooth: int = 8
    """Frames with a verdict averaged into the smoothed score."""
    json_out: TextIO | None = None
    """Where one JSON line per classified region goes (None: nowhere)."""
    record: str | None = None
    """Video file the overlaid frames are written to (.mp4: mp4v, .avi: MJPG)."""
    overlay: bool = False
    """Draw the overlay even without a window or a recording (for benchmarks)."""
    snapshot_dir: str = "."
    """Where the ``s`` key saves snapshots."""

    def __post_init__(self) -> None:
        if self.roi not in ROI_MODES:
            raise ValueError(f"Expected roi in {ROI_MODES}, got {self.roi!r}.")
        if self.every < 1:
            raise ValueError(f"Expected every >= 1, got {self.every}.")


@dataclass
class Summary:
    """What a run saw; :meth:`line` is printed when it ends."""

    frames_seen: int = 0
    frames_classified: int = 0
    frames_with_verdict: int = 0
    frames_flagged: int = 0
    empty_reads: int = 0
    error: str | None = None
    """Why the source was lost, if it was."""

    def count(self, results: Sequence[RegionResult]) -> None:
        self.frames_classified += 1
        verdicts = [r.detection for r in results if r.detection is not None]
        self.frames_with_verdict += bool(verdicts)
        self.frames_flagged += any(d.is_fake for d in verdicts)

    @property
    def share_flagged(self) -> float | None:
        return self.frames_flagged / self.frames_with_verdict if self.frames_with_verdict else None

    def line(self) -> str:
        share = f"{self.share_flagged:.1%}" if self.share_flagged is not None else "n/a"
        text = (
            f"frames seen {self.frames_seen}, classified {self.frames_classified}, with a verdict "
            f"{self.frames_with_verdict}, flagged fake {self.frames_flagged} "
            f"({share} of those with a verdict)"
        )
        return text + (f", empty reads {self.empty_reads}" if self.empty_reads else "")


def json_record(
    index: int,
    timestamp: float,
    result: RegionResult,
    smoothed: float | None,
    threshold: float,
    latency_ms: float,
) -> dict:
    """The JSON line for one classified region. Without a verdict (no face, too small) the label and
    both scores are null: the smoothed score of earlier frames is not passed off as this one's."""
    d = result.detection
    smoothed = smoothed if d else None
    return {
        "frame": index,
        "timestamp": round(timestamp, 3),
        "box": list(result.box) if result.box is not None else None,
        "status": result.status,
        "label": d.label if d else None,
        "p_fake": round(d.p_fake, 6) if d else None,
        "p_fake_smoothed": round(smoothed, 6) if smoothed is not None else None,
        "label_smoothed": _verdict(smoothed, threshold),
        "latency_ms": round(latency_ms, 3),
    }


class Recorder:
    """Writes overlaid frames to a video at the first frame's size (later frames are resized to it)."""

    def __init__(self, path: str, fps: float | None) -> None:
        self.path, self.fps = path, fps or 30.0
        self._writer = None
        self._size: tuple[int, int] | None = None

    def write(self, frame: np.ndarray) -> None:
        if self._writer is None:
            self._size = (frame.shape[1], frame.shape[0])
            codec = "MJPG" if self.path.lower().endswith(".avi") else "mp4v"
            self._writer = cv2.VideoWriter(self.path, cv2.VideoWriter_fourcc(*codec), self.fps, self._size)
            if not self._writer.isOpened():
                raise WebcamError(f"cannot record to {self.path}: OpenCV cannot write {codec} video there.")
        if (frame.shape[1], frame.shape[0]) != self._size:
            frame = cv2.resize(frame, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(frame)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


class Window:
    """An OpenCV window; :meth:`show` returns the action of the key pressed: "quit", "pause",
    "snapshot" or None."""

    KEYS = {ord("q"): "quit", 27: "quit", ord(" "): "pause", ord("s"): "snapshot"}

    def __init__(self, title: str = "deepfake-dct") -> None:
        self.title = title
        try:
            cv2.namedWindow(title, cv2.WINDOW_NORMAL)
        except cv2.error:
            raise WebcamError(
                f"this OpenCV ({cv2.__version__}) cannot open windows (opencv-python-headless?): "
                "run with --no-display, or pip install opencv-python."
            ) from None

    def show(self, frame: np.ndarray, wait_ms: int = 1) -> str | None:
        cv2.imshow(self.title, frame)
        key = cv2.waitKey(wait_ms) & 0xFF
        if cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            return "quit"  # The window was closed.
        return self.KEYS.get(key)

    def close(self) -> None:
        cv2.destroyWindow(self.title)


def display_problem() -> str | None:
    """Why no window can be opened here, or None (the OpenCV build itself is checked by :class:`Window`)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return (
            "no display ($DISPLAY is not set): run with --no-display for JSON lines, "
            "or use a screen or ssh -X."
        )
    return None


def _save_snapshot(frame: np.ndarray, folder: str, index: int, log: Callable[[str], None]) -> None:
    path = Path(folder) / f"snapshot-{time.strftime('%Y%m%d-%H%M%S')}-{index:06d}.png"
    if cv2.imwrite(str(path), frame):
        log(f"saved {path}")
    else:
        log(f"could not save a snapshot to {path}")


def _interact(
    window: Window, frame: np.ndarray, index: int, options: RunOptions, log: Callable[[str], None]
) -> bool:
    """Shows the frame and acts on keys; while paused, waits here. False when the user quits."""
    paused = False
    while True:
        shown = frame
        if paused:
            shown = frame.copy()
            _text(
                shown, "PAUSED (space: resume, s: snapshot, q: quit)", (6, shown.shape[0] - 10), 0.5, _AMBER
            )
        action = window.show(shown, wait_ms=50 if paused else 1)
        if action == "quit":
            return False
        if action == "snapshot":
            _save_snapshot(frame, options.snapshot_dir, index, log)
        elif action == "pause":
            paused = not paused
        if not paused:
            return True


def run(
    source: FrameSource,
    detector: Detector,
    options: RunOptions | None = None,
    faces: FaceFinder | None = None,
    window: Window | None = None,
    log: Callable[[str], None] = _log,
) -> Summary:
    """Reads frames until the source ends, the user quits (``q``, or Ctrl+C) or the source is lost;
    classifies every ``options.every``-th frame; shows, records and prints what ``options`` asks.

    Raises:
      WebcamError: the recording cannot be written.
    """
    options = options or RunOptions()
    if options.roi == "face" and faces is None:
        raise ValueError("Expected a FaceFinder for roi='face'.")
    smoother, meter, summary = Smoother(options.smooth), RateMeter(), Summary()
    recorder = Recorder(options.record, source.fps) if options.record else None
    draw = options.overlay or window is not None or recorder is not None
    results: list[RegionResult] = []
    smoothed = latency_ms = None
    try:
        while True:
            try:
                raw = source.read()
            except WebcamError as e:
                summary.error = str(e)
                break
            if raw is None:
                break
            index = summary.frames_seen
            summary.frames_seen += 1
            start = time.perf_counter()
            frame = to_bgr(raw)
            if index % options.every == 0:
                results = classify_frame(frame, detector, options.roi, faces)
                score = frame_score(results)
                smoothed = smoother.update(score) if score is not None else smoother.value
                latency_ms = (time.perf_counter() - start) * 1e3
                summary.count(results)
                if options.json_out is not None:
                    now = time.time()
                    for r in results:
                        record = json_record(index, now, r, smoothed, detector.threshold, latency_ms)
                        options.json_out.write(json.dumps(record) + "\n")
                    options.json_out.flush()
            if draw:
                draw_overlay(frame, results, smoothed, detector.threshold, meter.fps, latency_ms)
            if recorder is not None:
                recorder.write(frame)
            meter.tick()
            if window is not None and not _interact(window, frame, index, options, log):
                break
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        if recorder is not None:
            recorder.close()
    summary.empty_reads = source.empty_reads
    return summary


# --- Command line ------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 640x480, got {text!r}") from None
    if w < 1 or h < 1:
        raise argparse.ArgumentTypeError(f"expected a positive WIDTHxHEIGHT, got {text!r}")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="deepfake-dct webcam",
        description="Classify camera, video, stream or image-folder frames as real or GAN-generated.",
        epilog="Keys in the window: q quit, space pause, s save a snapshot. OpenCV's own warnings are "
        "hidden unless OPENCV_LOG_LEVEL (or OPENCV_FFMPEG_LOGLEVEL for FFmpeg) is set.",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", metavar="N", help="camera index or device such as /dev/video2 (default: 0)")
    src.add_argument("--video", metavar="FILE", help="a video file (a URL here is read as --stream)")
    src.add_argument("--stream", metavar="URL", help="an rtsp/http/... stream; reconnects when it drops")
    src.add_argument("--images", metavar="DIR", help="a folder of images played as frames, sorted by path")
    src.add_argument(
        "--picamera",
        metavar="N",
        type=int,
        nargs="?",
        const=0,
        help="Raspberry Pi CSI camera N (default 0) through picamera2, where it is installed",
    )
    p.add_argument(
        "--size", type=_size, metavar="WxH", help="capture size asked of a camera (picamera default 640x480)"
    )
    p.add_argument(
        "--roi",
        choices=ROI_MODES,
        default="full",
        help="full frame, the centre square, or each face found (Haar cascade); default full",
    )
    p.add_argument(
        "--face-cascade",
        metavar="FILE",
        help=f"Haar cascade for --roi face (default: OpenCV's {FACE_CASCADE})",
    )
    p.add_argument(
        "--no-display", action="store_true", help="no window: one JSON line per classified region on stdout"
    )
    p.add_argument(
        "--every", type=_positive_int, default=1, metavar="N", help="classify every Nth frame (default 1)"
    )
    p.add_argument(
        "--smooth",
        type=_positive_int,
        default=8,
        metavar="N",
        help="frames averaged into the smoothed score (default 8)",
    )
    p.add_argument("--threads", type=_positive_int, default=None, help="interpreter and OpenCV threads")
    p.add_argument("--model", metavar="FILE", help=".tflite model file (default: the bundled model)")
    p.add_argument(
        "--record", metavar="OUT.mp4", help="write the frames with the overlay to a video (.mp4 or .avi)"
    )
    p.add_argument(
        "--snapshot-dir", default=".", metavar="DIR", help="where the s key saves snapshots (default .)"
    )
    return p


def _quiet_opencv() -> None:
    """OpenCV's and FFmpeg's warnings (e.g. on every failed camera probe) would bury the one-line error."""
    if "OPENCV_LOG_LEVEL" not in os.environ:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if cv2 is None:
        sys.exit(
            "ERROR: the webcam app needs OpenCV: pip install opencv-python "
            "(or opencv-python-headless for --no-display)."
        )
    _quiet_opencv()
    if args.record and not Path(args.record).resolve().parent.is_dir():
        sys.exit(f"ERROR: cannot record to {args.record}: its folder does not exist.")
    window = source = None
    try:
        if not args.no_display:
            problem = display_problem()
            if problem:
                sys.exit(f"ERROR: {problem}")
            window = Window()
        faces = FaceFinder(args.face_cascade) if args.roi == "face" else None
        if args.threads:
            cv2.setNumThreads(args.threads)
        # The source before the model: the interpreter's start-up line would precede a source's error.
        source = open_source(args)
        detector = Detector.from_file(args.model, DetectorOptions(num_threads=args.threads))
    except (WebcamError, ModelFileError, ImportError) as e:
        if source is not None:
            source.close()
        sys.exit(f"ERROR: {e}")
    options = RunOptions(
        roi=args.roi,
        every=args.every,
        smooth=args.smooth,
        json_out=sys.stdout if args.no_display else None,
        record=args.record,
        snapshot_dir=args.snapshot_dir,
    )
    try:
        summary = run(source, detector, options, faces, window)
    except WebcamError as e:
        sys.exit(f"ERROR: {e}")
    finally:
        source.close()
        detector.close()
        if window is not None:
            window.close()
    _log(f"{source.name}: {summary.line()}")
    if summary.error:
        sys.exit(f"ERROR: {summary.error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
