"""``deepfake-dct webcam``: the command line -- flags, then options, then :func:`~.loop.run`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from deepfake_dct.apps.webcam.errors import WebcamError, log_stderr
from deepfake_dct.apps.webcam.loop import RunOptions, run
from deepfake_dct.apps.webcam.opencv import cv2, quiet_opencv
from deepfake_dct.apps.webcam.overlay import Window, display_problem
from deepfake_dct.apps.webcam.regions import FACE_CASCADE, ROI_MODES, FaceFinder, FaceTracker
from deepfake_dct.apps.webcam.sources import (
    STREAM_SCHEMES,
    CaptureSource,
    FrameSource,
    ImageFolderSource,
    PicameraSource,
)
from deepfake_dct.detector import Detector, DetectorOptions, ModelFileError


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
        "--evidence",
        action="store_true",
        help="tint each crop the model read by its own p_fake (green real .. red fake) in the window and recording",
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


def main(argv: Sequence[str] | None = None) -> int:
    """``deepfake-dct webcam``; returns the exit status: 0 when every frame was read, 1 when some were
    not (empty reads, unreadable images) or the source was lost midway, 2 when the source, the model,
    a window, the recording or the arguments cannot be used (argparse's own errors exit 2 too)."""
    args = build_parser().parse_args(argv)
    if cv2 is None:
        return _unusable(
            "the webcam app needs OpenCV: pip install opencv-python "
            "(or opencv-python-headless for --no-display)."
        )
    quiet_opencv()
    if args.record and not Path(args.record).resolve().parent.is_dir():
        return _unusable(f"cannot record to {args.record}: its folder does not exist.")
    if not args.no_display and (problem := display_problem()):
        return _unusable(problem)
    window = source = None
    try:
        window = None if args.no_display else Window()
        faces = FaceTracker(FaceFinder(args.face_cascade)) if args.roi == "face" else None
        if args.threads:
            cv2.setNumThreads(args.threads)
        # The source before the model: the interpreter's start-up line would precede a source's error.
        source = open_source(args)
        detector = Detector.from_file(args.model, DetectorOptions(num_threads=args.threads))
    except (WebcamError, ModelFileError, ImportError) as e:
        if source is not None:
            source.close()
        return _unusable(e)
    options = RunOptions(
        roi=args.roi,
        every=args.every,
        smooth=args.smooth,
        json_out=sys.stdout if args.no_display else None,
        evidence=args.evidence,
        record=args.record,
        snapshot_dir=args.snapshot_dir,
    )
    try:
        summary = run(source, detector, options, faces, window)
    except WebcamError as e:
        return _unusable(e)
    finally:
        source.close()
        detector.close()
        if window is not None:
            window.close()
    log_stderr(f"{source.name}: {summary.line()}")
    if summary.error:
        log_stderr(f"ERROR: {summary.error}")
    return 1 if summary.error or summary.empty_reads else 0


def _unusable(problem: object) -> int:
    """Says on one line what cannot be used, without a traceback; returns the exit status for it."""
    log_stderr(f"ERROR: {problem}")
    return 2
