"""``deepfake-dct webcam``: classify the frames of a camera, a video, a stream or an image folder.

    deepfake-dct webcam                               # camera 0, a window with the overlay
    deepfake-dct webcam --video clip.mp4 --no-display # one JSON line per classified frame
    python -m deepfake_dct.apps.webcam --camera 1 --roi face --record out.mp4

One module a concern, each testable without a camera: ``sources`` (camera, video, stream, image
folder, picamera2), ``regions`` (full frame, centre square, faces), ``scores`` (smoothing, frame
rate, summary, JSON lines), ``overlay`` (drawing, window, recording, snapshots), ``loop`` (:func:`run`
and :class:`RunOptions`) and ``cli`` (:func:`main`). Frames stay in OpenCV's BGR order throughout and
become RGB only at the detector's edge (``detect(crop, bgr=True)``). Needs the base install plus
OpenCV; never TensorFlow.
"""

from deepfake_dct.apps.webcam.cli import build_parser, main, open_source
from deepfake_dct.apps.webcam.errors import WebcamError
from deepfake_dct.apps.webcam.loop import RunOptions, run
from deepfake_dct.apps.webcam.opencv import quiet_opencv
from deepfake_dct.apps.webcam.overlay import Recorder, Window, display_problem, draw_overlay
from deepfake_dct.apps.webcam.regions import (
    FACE_CROP_SCALE,
    ROI_MODES,
    FaceFinder,
    FaceTracker,
    RegionResult,
    center_box,
    classify_frame,
    face_crop_box,
    frame_score,
)
from deepfake_dct.apps.webcam.scores import RateMeter, Smoother, Summary, json_record
from deepfake_dct.apps.webcam.sources import (
    CaptureSource,
    FrameSource,
    ImageFolderSource,
    PicameraSource,
    to_bgr,
)

__all__ = [
    "FACE_CROP_SCALE",
    "ROI_MODES",
    "CaptureSource",
    "FaceFinder",
    "FaceTracker",
    "FrameSource",
    "ImageFolderSource",
    "PicameraSource",
    "RateMeter",
    "Recorder",
    "RegionResult",
    "RunOptions",
    "Smoother",
    "Summary",
    "WebcamError",
    "Window",
    "build_parser",
    "center_box",
    "classify_frame",
    "display_problem",
    "draw_overlay",
    "face_crop_box",
    "frame_score",
    "json_record",
    "main",
    "open_source",
    "quiet_opencv",
    "run",
    "to_bgr",
]
