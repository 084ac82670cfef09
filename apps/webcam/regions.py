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
#: 640x480 frame here, 48 px: 27 ms); a smaller search copy with a proportionally smaller minimum has
#: as many windows to test and found fewer faces, so only larger frames are shrunk. A 64 px box gives
#: a 96 px crop: faces a little too small to classify are still found, and reported as too small.
FACE_SEARCH_WIDTH = 640
FACE_MIN_SIZE = 64
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
