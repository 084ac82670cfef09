"""Which regions of a frame are classified -- the whole frame, its centred square, or each face the
Haar cascade finds -- and :func:`classify_frame`, which classifies them without ever upscaling one."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from deepfake_dct.apps.webcam.errors import WebcamError
from deepfake_dct.apps.webcam.opencv import cv2
from deepfake_dct.detector import Detection, Detector, ImageTooSmallError

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
#: 640x480 frame here, 48 px: 27 ms). A smaller copy is cheaper but finds fewer of the faces near the
#: size the model can classify: a half-size copy (320 wide) found 4 of 6 faces pasted 128 px wide
#: into a 640x480 frame, the full frame 6 of 6, for 13 against 17 ms; so only larger frames are
#: shrunk, and the speed comes from following faces (below). A 64 px box gives a 96 px crop: faces a
#: little too small to classify are still found, and reported as too small.
FACE_SEARCH_WIDTH = 640
FACE_MIN_SIZE = 64
#: Between whole-frame searches each face found is followed by its looks: the face as it was at the
#: last search, shrunk to TRACK_SIDE pixels square, is matched (normalised correlation) in its last
#: box grown by TRACK_MARGIN box widths on every side, shrunk alike; it is lost below TRACK_MIN_SCORE.
#: A whole search runs every FACE_SEARCH_EVERY frames (so a face that walks in while another is
#: followed is found within that many, and a box's size follows the face), on every frame without a
#: face, and as soon as a face is lost. On the benchmark's video this costs 2.1 ms a frame against
#: 17.8 for a whole search, and its boxes overlap the whole search's by 0.91 on average (IoU).
FACE_SEARCH_EVERY = 10
TRACK_SIDE = 32
TRACK_MARGIN = 0.5
TRACK_MIN_SCORE = 0.6
#: Debian's and Raspberry Pi OS's package ``opencv-data`` installs the cascades here.
SYSTEM_CASCADE_DIRS = ("/usr/share/opencv4/haarcascades", "/usr/share/opencv/haarcascades")


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
        return self.search(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))

    def search(self, grey: np.ndarray) -> list[Box]:
        """Face boxes of a whole grey frame, searched on a copy at most ``search_width`` wide."""
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


class FaceTracker:
    """Faces of consecutive frames: a whole-frame search (:meth:`FaceFinder.search`) every
    ``search_every`` frames, each face followed by template matching in between, and a whole search
    again as soon as there is no face to follow or one is lost. Used like a FaceFinder:
    ``find(frame)`` gives the boxes, largest first."""

    def __init__(self, finder: FaceFinder, search_every: int = FACE_SEARCH_EVERY) -> None:
        if search_every < 1:
            raise ValueError(f"Expected search_every >= 1, got {search_every}.")
        self.finder, self.search_every = finder, search_every
        self._faces: list[tuple[Box, np.ndarray]] = []  # each box, and the face as the search found it
        self._followed = 0  # frames since the last whole search

    def find(self, frame: np.ndarray) -> list[Box]:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        due = not self._faces or self._followed + 1 >= self.search_every
        moved = [] if due else [_follow(grey, box, looks) for box, looks in self._faces]
        if due or None in moved:
            self._followed = 0
            self._faces = [(box, _looks(grey, box)) for box in self.finder.search(grey)]
        else:
            self._followed += 1
            self._faces = [(box, looks) for box, (_, looks) in zip(moved, self._faces)]
        return [box for box, _ in self._faces]


def _looks(grey: np.ndarray, box: Box) -> np.ndarray:
    x, y, w, h = box
    return cv2.resize(grey[y : y + h, x : x + w], (TRACK_SIDE, TRACK_SIDE), interpolation=cv2.INTER_AREA)


def _follow(grey: np.ndarray, box: Box, looks: np.ndarray) -> Box | None:
    """Where the face ``looks`` like went from ``box``, or None when nothing near it matches."""
    x, y, w, h = box
    margin, factor = int(w * TRACK_MARGIN), TRACK_SIDE / w
    left, top = max(0, x - margin), max(0, y - margin)
    window = cv2.resize(grey[top : y + h + margin, left : x + w + margin], None, fx=factor, fy=factor,
                        interpolation=cv2.INTER_AREA)
    if window.shape[0] < TRACK_SIDE or window.shape[1] < TRACK_SIDE:
        return None
    _, score, _, (mx, my) = cv2.minMaxLoc(cv2.matchTemplate(window, looks, cv2.TM_CCOEFF_NORMED))
    if score < TRACK_MIN_SCORE:
        return None
    return left + int(round(mx / factor)), top + int(round(my / factor)), w, h


@dataclass(frozen=True)
class RegionResult:
    """The verdict on one region of a frame, or why there is none."""

    box: Box | None
    """The region classified (None when no face was found)."""
    status: str
    """"ok", "no face", or "too small" (the region is smaller than the model's input: never upscaled)."""
    detection: Detection | None = None


def classify_frame(
    frame: np.ndarray, detector: Detector, roi: str, faces: FaceFinder | FaceTracker | None = None
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
