"""Frames per second of the webcam loop, end to end: read (decode), convert, crop, detect, overlay.

    .venv/bin/python benchmarks/bench_webcam.py [--frames 300] [--repeats 3]

Writes a 640x480 test video (a sample face from tests/data moving over a blurred-noise background),
runs :func:`deepfake_dct.apps.webcam.run` on it -- exactly the loop ``deepfake-dct webcam --video FILE --no-display``
runs, with the overlay drawn -- for ``--roi full`` and ``--roi face`` with 1 and 2 threads, and prints
FPS (best and median of the repeats: the machine may be shared, so the load average is printed too).
Then it times each stage of one frame at 1 thread and scales that per-frame cost to a Raspberry Pi 4
(see PI4_SLOWDOWN for how).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepfake_dct.apps import webcam  # noqa: E402  (first: importing deepfake_dct sets the BLAS thread default before numpy loads)

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from deepfake_dct.detector import Detector  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "real_ffhq_r1281.png"
SIZE = (640, 480)
FACE_SIDE = 240
#: Planning range for how many times longer one frame takes on a Raspberry Pi 4 than at 1 thread on the
#: x86 core this runs on. An assumption, not a measurement: a Pi 4 core (Cortex-A72, 1.5 GHz, 128-bit
#: NEON) is taken to run the Python glue ~4-6x and the vectorised kernels (resize, JPEG, matrix
#: products, XNNPACK, Haar) ~8-16x slower than a ~3 GHz x86 server core with AVX-512; the per-frame
#: mix here is mostly kernels. Replace it with a measurement: run this script on the Pi.
PI4_SLOWDOWN = (6.0, 12.0)
HAAR = "face search (Haar, 640x480)"


def make_video(folder: Path, frames: int) -> Path:
    """The sample face, bicubic-upscaled to FACE_SIDE, sliding across a 640x480 blurred-noise scene."""
    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(40, 220, (SIZE[1], SIZE[0], 3), dtype=np.uint8), (31, 31), 0)
    face = cv2.resize(cv2.imread(str(SAMPLE)), (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_CUBIC)
    for name, codec in (("bench.mp4", "mp4v"), ("bench.avi", "MJPG")):
        path = folder / name
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 30.0, SIZE)
        if writer.isOpened():
            break
    else:
        sys.exit("ERROR: OpenCV can write neither mp4v nor MJPG video here.")
    travel = SIZE[0] - FACE_SIDE
    for i in range(frames):
        frame = background.copy()
        x = int(travel * (0.5 + 0.5 * np.sin(i / 20)))
        top = (SIZE[1] - FACE_SIDE) // 2
        frame[top : top + FACE_SIDE, x : x + FACE_SIDE] = face
        writer.write(frame)
    writer.release()
    return path


def run_once(video: Path, detector: Detector, roi: str, faces) -> tuple[float, webcam.Summary]:
    source = webcam.CaptureSource(str(video), f"video {video.name}", live=False)
    start = time.perf_counter()
    summary = webcam.run(
        source, detector, webcam.RunOptions(roi=roi, overlay=True), faces, log=lambda _: None
    )
    elapsed = time.perf_counter() - start
    source.close()
    return summary.frames_seen / elapsed, summary


def mean_ms(fn, frames) -> float:
    start = time.perf_counter()
    for frame in frames:
        fn(frame)
    return (time.perf_counter() - start) / len(frames) * 1e3


def stage_costs(video: Path, detector: Detector, faces) -> dict[str, float]:
    """Milliseconds per frame of each stage, on decoded frames held in memory (1 thread)."""
    source = webcam.CaptureSource(str(video), "video", live=False)
    start = time.perf_counter()
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    costs = {"read (decode)": (time.perf_counter() - start) / len(frames) * 1e3}
    source.close()
    costs["convert (to_bgr)"] = mean_ms(webcam.to_bgr, frames)
    costs["policy (BGR->RGB, the model's crops)"] = mean_ms(
        lambda f: detector.cut(detector.decode(f, bgr=True)), frames
    )
    cut = [detector.cut(detector.decode(f, bgr=True))[0] for f in frames[:50]]
    costs["features (log-DCT, normalise)"] = mean_ms(detector.spec.make_inputs, cut)
    inputs = [detector.spec.make_inputs(crops) for crops in cut]
    costs["invoke (quantize, run, dequantize), all crops"] = mean_ms(detector.predict_crops, inputs)
    if faces is not None:
        costs[HAAR] = mean_ms(faces.find, frames)
    results = webcam.classify_frame(frames[0], detector, "full")
    costs["overlay"] = mean_ms(lambda f: webcam.draw_overlay(f, results, 0.5, 0.5, 30.0, 5.0), frames)
    return costs


def accuracy(split_path: Path, faces) -> None:
    """How the verdicts hold up when a test-split thumbnail reaches the model the way a video frame
    does: as it is, nearest-upscaled 4x (the area downscale undoes it exactly), bicubic-upscaled 4x
    (roughly what a camera's optics and scaler do), and as the face crop out of that bicubic frame."""
    split = json.loads(split_path.read_text())
    root = (split_path.parent / split["root"]).resolve()
    if not root.is_dir():
        root = Path(split["root"]).resolve()
    variants = {"thumbnail 128x128": [], "nearest 4x, --roi full": [], "bicubic 4x, --roi full": []}
    if faces is not None:
        variants["bicubic 4x, --roi face"] = []
    with Detector.from_file(num_threads=1) as detector:
        for name, truth in zip(split["files"]["test"], split["labels"]["test"]):
            thumb = cv2.imread(str(root / name))
            nearest = cv2.resize(thumb, (512, 512), interpolation=cv2.INTER_NEAREST)
            bicubic = cv2.resize(thumb, (512, 512), interpolation=cv2.INTER_CUBIC)
            frames = (thumb, nearest, bicubic, bicubic)
            for key, frame, roi in zip(variants, frames, ("full", "full", "full", "face")):
                score = webcam.frame_score(webcam.classify_frame(frame, detector, roi, faces))
                if score is not None:
                    variants[key].append((truth, int(score >= detector.threshold)))
    print(f"\nverdicts on the test split of {split_path} ({len(split['files']['test'])} images):")
    for key, pairs in variants.items():
        a = np.array(pairs)
        real, fake = a[a[:, 0] == 0], a[a[:, 0] == 1]
        print(
            f"  {key:24} n={len(a):4d}  accuracy {np.mean(a[:, 0] == a[:, 1]):.3f}  "
            f"real {np.mean(real[:, 1] == 0):.3f}  fake {np.mean(fake[:, 1] == 1):.3f}"
        )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=int, default=300, help="frames in the test video (default 300)")
    p.add_argument("--repeats", type=int, default=3, help="runs of each configuration (default 3)")
    p.add_argument(
        "--accuracy",
        metavar="SPLIT_JSON",
        type=Path,
        help="also score the test split of this split.json (e.g. runs/paper_dct/split.json) as video frames",
    )
    args = p.parse_args(argv)
    webcam.quiet_opencv()
    try:
        faces = webcam.FaceFinder()
        face_note = ""
    except webcam.WebcamError as e:
        faces, face_note = None, str(e)

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    print(
        f"python {platform.python_version()}, OpenCV {cv2.__version__}, numpy {np.__version__}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        video = make_video(Path(tmp), args.frames)
        print(
            f"video: {video.suffix[1:]} {SIZE[0]}x{SIZE[1]}, {args.frames} frames; "
            "FPS = frames / wall time of run()"
        )
        print(f"{'roi':6} {'threads':>7} {'best FPS':>9} {'median FPS':>11} {'ms/frame':>9}  verdicts")
        for roi in ("full", "face"):
            if roi == "face" and faces is None:
                print(f"{roi:6} unavailable: {face_note}")
                continue
            for threads in (1, 2):
                cv2.setNumThreads(threads)
                with Detector.from_file(num_threads=threads) as detector:
                    runs = [run_once(video, detector, roi, faces) for _ in range(args.repeats)]
                fps = [r[0] for r in runs]
                s = runs[-1][1]
                print(
                    f"{roi:6} {threads:7d} {max(fps):9.1f} {statistics.median(fps):11.1f} "
                    f"{1e3 / max(fps):9.2f}  {s.frames_with_verdict}/{s.frames_seen} frames with a verdict"
                )
        cv2.setNumThreads(1)
        with Detector.from_file(num_threads=1) as detector:
            costs = stage_costs(video, detector, faces)
    print(f"load average {os.getloadavg()[0]:.1f} at end")

    print("\nper-frame cost by stage, 1 thread (ms):")
    for name, ms in costs.items():
        print(f"  {name:42} {ms:7.2f}")
    full_ms = sum(ms for name, ms in costs.items() if name != HAAR)
    per_roi = {"full": full_ms}
    if faces is not None:
        # An upper bound: the policy step costs less on a face crop than on the whole frame.
        per_roi["face (one face)"] = full_ms + costs[HAAR]
    lo, hi = PI4_SLOWDOWN
    print(
        f"\nRaspberry Pi 4 estimate = this per-frame cost x {lo:g}..{hi:g} "
        "(assumed slowdown, see PI4_SLOWDOWN):"
    )
    for roi, ms in per_roi.items():
        print(
            f"  --roi {roi:16} {ms:6.2f} ms here -> {ms * lo:6.1f}..{ms * hi:6.1f} ms on a Pi 4 "
            f"= {1e3 / (ms * hi):5.1f}..{1e3 / (ms * lo):5.1f} FPS"
        )
    if args.accuracy is not None:
        accuracy(args.accuracy, faces)
    return 0


if __name__ == "__main__":
    sys.exit(main())
