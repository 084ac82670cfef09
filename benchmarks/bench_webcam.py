"""Frames per second of the webcam loop, end to end: read (decode), convert, crop, detect, overlay.

    .venv/bin/python benchmarks/bench_webcam.py [--frames 300] [--repeats 3] [--threads 1 2] [--model FILE]

Writes a 640x480 test video (a sample face from tests/data moving over a blurred-noise background),
runs :func:`deepfake_dct.apps.webcam.run` on it -- exactly the loop ``deepfake-dct webcam --video FILE --no-display``
runs, with the overlay drawn -- for ``--roi full`` and ``--roi face`` with 1 and 2 threads (``--threads``), and prints
FPS (best and median of the repeats: the machine may be shared, so the load average is printed too).
``--roi face`` runs twice, side by side: searching the whole frame on every frame (the app before
FaceTracker) and as the app runs it now (FaceTracker: a whole search every FACE_SEARCH_EVERY frames,
a search near the last face in between). Then it times each stage of one frame at 1 thread and
estimates a Raspberry Pi 4's and 5's per-frame cost from it (see estimate_pi for how).
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
#: How many times longer a Raspberry Pi 4 core (Cortex-A72, 1.5-1.8 GHz, 128-bit NEON) takes than one
#: x86 core here (~3 GHz, AVX-512) for the stages other than the network: decoding, resizing, JPEG,
#: the log-DCT's matrix products, the Haar cascade, the overlay. An assumption, not a measurement:
#: Python glue ~4-6x, vectorised kernels ~8-16x; the per-frame mix is mostly kernels. (A published
#: figure agrees or is kinder for Haar: 15-25 FPS for a whole 640x480 search on a Pi 4, i.e. 40-67 ms,
#: against 13-22 ms here.)
PI4_SLOWDOWN = (6.0, 12.0)
#: The network on a Pi 4 core, from its multiply-adds and XNNPACK's published Pi 4 figure (its README:
#: MobileNet v1 1.0, 569 M multiply-adds, 76 ms on the Pi 4's 4 threads, FP32 = 1.9 G/s a core). Int8
#: on the Cortex-A72, which lacks the dot-product instructions, is taken as 1-2x that.
PI4_MACS_PER_S = (1.9e9, 3.8e9)
PI4_MACS_PER_S_4_THREADS = (7.5e9, 15e9)  # the same figure, on all four cores (--threads 4)
#: A Raspberry Pi 5 (Cortex-A76, 2.4 GHz) against a Pi 4: Raspberry Pi Ltd's published 2-3x CPU figure.
PI5_SPEEDUP = (2.0, 3.0)
INVOKE = "invoke (quantize, run, dequantize), all crops"
HAAR = "face search (Haar, whole 640x480 frame)"
TRACK = "face tracking (FaceTracker, mean a frame)"
POLICY = "policy (BGR->RGB, the model's crops)"
FACE_POLICY = "policy on the face crop (--roi face)"
FEATURES = "features (log-DCT, normalise)"
FACE_FEATURES = "features of the face crop's tiles (--roi face)"
FACE_INVOKE = "invoke on the face crop's tiles (--roi face)"
#: The overlay with each crop tinted (--evidence): drawn instead of the plain one, so in no FPS sum.
EVIDENCE_OVERLAY = "overlay, --evidence (instead of plain)"


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
    """Mean CPU milliseconds of this process per call (all its threads: a decoder may run its own):
    unlike wall time, it leaves out the time other processes hold the cores of a shared machine."""
    start = time.process_time()
    for frame in frames:
        fn(frame)
    return (time.process_time() - start) / len(frames) * 1e3


def stage_costs(video: Path, detector: Detector, faces) -> tuple[dict[str, float], dict[str, int]]:
    """CPU milliseconds per frame of each stage, on decoded frames held in memory (1 thread), and
    how many model inputs each invoke stage runs (the frame's tiles; a face crop's)."""
    source = webcam.CaptureSource(str(video), "video", live=False)
    start = time.process_time()
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    costs = {"read (decode)": (time.process_time() - start) / len(frames) * 1e3}
    source.close()
    costs["convert (to_bgr)"] = mean_ms(webcam.to_bgr, frames)
    costs[POLICY] = mean_ms(
        lambda f: detector.cut(detector.decode(f, bgr=True)), frames
    )
    cut = [detector.cut(detector.decode(f, bgr=True))[0] for f in frames[:50]]
    costs[FEATURES] = mean_ms(detector.spec.make_inputs, cut)
    inputs = [detector.spec.make_inputs(crops) for crops in cut]
    costs[INVOKE] = mean_ms(detector.predict_crops, inputs)
    counts = {INVOKE: len(cut[0])}
    if faces is not None:
        costs[HAAR] = mean_ms(faces.find, frames)
        costs[TRACK] = mean_ms(webcam.FaceTracker(faces).find, frames)
        crops = []
        for frame in frames:
            for x, y, w, h in (webcam.face_crop_box(box, frame.shape) for box in faces.find(frame)[:1]):
                crops.append(frame[y : y + h, x : x + w])
        costs[FACE_POLICY] = mean_ms(lambda c: detector.cut(detector.decode(c, bgr=True)), crops)
        face_cut = [detector.cut(detector.decode(c, bgr=True))[0] for c in crops[:50]]
        costs[FACE_FEATURES] = mean_ms(detector.spec.make_inputs, face_cut)
        costs[FACE_INVOKE] = mean_ms(detector.predict_crops, [detector.spec.make_inputs(c) for c in face_cut])
        counts[FACE_INVOKE] = len(face_cut[0])
    results = webcam.classify_frame(frames[0], detector, "full")
    costs["overlay"] = mean_ms(lambda f: webcam.draw_overlay(f, results, 0.5, 0.5, 30.0, 5.0), frames)
    costs[EVIDENCE_OVERLAY] = mean_ms(lambda f: webcam.draw_overlay(f, results, 0.5, 0.5, 30.0, 5.0, evidence=True),
                                      frames)
    return costs, counts


def multiply_adds(detector: Detector) -> int:
    """Multiply-adds of one network call, counted from the model's convolution and dense layers."""
    interpreter = detector.interpreter
    shapes = {t["index"]: [int(v) for v in t["shape"]] for t in interpreter.get_tensor_details()}
    total = 0
    for op in interpreter._get_ops_details():  # the public API has no op list
        if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            out, weights = shapes[op["outputs"][0]], shapes[op["inputs"][1]]
            per_output = weights[1] * weights[2] if op["op_name"] == "DEPTHWISE_CONV_2D" else int(np.prod(weights[1:]))
            total += int(np.prod(out)) * per_output
    return total


def estimate_pi(costs: dict[str, float], macs: int, counts: dict[str, int],
                rate=PI4_MACS_PER_S) -> dict[str, tuple[float, float]]:
    """(low, high) ms a frame on a Pi 4 for each stage: each invoke stage from the network's
    multiply-adds times its number of inputs (``counts``) at ``rate`` (one core: PI4_MACS_PER_S),
    every other stage as measured here times PI4_SLOWDOWN."""
    pi = {name: (ms * PI4_SLOWDOWN[0], ms * PI4_SLOWDOWN[1]) for name, ms in costs.items()}
    for stage, n in counts.items():
        pi[stage] = (macs * n / rate[1] * 1e3, macs * n / rate[0] * 1e3)
    return pi


def accuracy(split_path: Path, faces, model: str | None) -> None:
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
    with Detector.from_file(model, num_threads=1) as detector:
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
    p.add_argument("--model", default=None, help=".tflite to run (default: the bundled model)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                   help="interpreter and OpenCV threads to run with (default 1 2; on a Pi 4: 1 4)")
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
    print(f"model: {args.model or 'the bundled model'}")
    with tempfile.TemporaryDirectory() as tmp:
        video = make_video(Path(tmp), args.frames)
        print(
            f"video: {video.suffix[1:]} {SIZE[0]}x{SIZE[1]}, {args.frames} frames; "
            "FPS = frames / wall time of run()"
        )
        print(f"{'roi':22} {'threads':>7} {'best FPS':>9} {'median FPS':>11} {'ms/frame':>9}  verdicts")
        configs = [("full", "full", None)]
        if faces is None:
            print(f"{'face':22} unavailable: {face_note}")
        else:
            configs += [("face, search every frame", "face", lambda: faces),
                        ("face, tracked (now)", "face", lambda: webcam.FaceTracker(faces))]
        for label, roi, make_finder in configs:
            for threads in args.threads:
                cv2.setNumThreads(threads)
                with Detector.from_file(args.model, num_threads=threads) as detector:
                    runs = [run_once(video, detector, roi, make_finder and make_finder()) for _ in range(args.repeats)]
                fps = [r[0] for r in runs]
                s = runs[-1][1]
                print(
                    f"{label:22} {threads:7d} {max(fps):9.1f} {statistics.median(fps):11.1f} "
                    f"{1e3 / max(fps):9.2f}  {s.frames_with_verdict}/{s.frames_seen} frames with a verdict"
                )
        cv2.setNumThreads(1)
        with Detector.from_file(args.model, num_threads=1) as detector:
            costs, counts = stage_costs(video, detector, faces)
            macs = multiply_adds(detector)
    print(f"load average {os.getloadavg()[0]:.1f} at end")

    pi = estimate_pi(costs, macs, counts)
    crops = " / ".join(f"{n} ({'face' if stage == FACE_INVOKE else 'frame'})" for stage, n in counts.items())
    print(f"\nper-frame cost by stage, 1 thread (CPU ms), and a Pi 4 core's estimated (network: {macs / 1e6:.1f} M "
          f"multiply-adds x {crops} input(s) at {PI4_MACS_PER_S[0] / 1e9:g}-{PI4_MACS_PER_S[1] / 1e9:g} G/s; "
          f"the rest x {PI4_SLOWDOWN[0]:g}-{PI4_SLOWDOWN[1]:g}):")
    for name, ms in costs.items():
        print(f"  {name:46} {ms:7.2f}   Pi 4 {pi[name][0]:6.1f}..{pi[name][1]:6.1f}")
    frame_only, face_only = (POLICY, FEATURES, INVOKE), (FACE_POLICY, FACE_FEATURES, FACE_INVOKE)
    shared = [name for name in costs if name not in (*frame_only, *face_only, HAAR, TRACK, EVIDENCE_OVERLAY)]
    per_roi = {"full": [*shared, *frame_only]}
    if faces is not None:
        per_roi["face, search every frame"] = [*shared, *face_only, HAAR]
        per_roi["face, tracked (now)"] = [*shared, *face_only, TRACK]
    for threads, rate in ((1, PI4_MACS_PER_S), (4, PI4_MACS_PER_S_4_THREADS)):
        pi = estimate_pi(costs, macs, counts, rate)
        print(f"\nestimated FPS, one face, {threads} interpreter thread(s) on the Pi (an estimate until measured "
              "on a Pi: run this script there):")
        for roi, stages in per_roi.items():
            here = sum(costs[name] for name in stages)
            lo, hi = (sum(pi[name][i] for name in stages) for i in (0, 1))
            print(f"  --roi {roi:26} {here:6.2f} ms here {1e3 / here:6.1f} FPS | Pi 4 {lo:6.1f}..{hi:6.1f} ms "
                  f"= {1e3 / hi:5.1f}..{1e3 / lo:5.1f} FPS | Pi 5 {PI5_SPEEDUP[0] * 1e3 / hi:5.1f}.."
                  f"{PI5_SPEEDUP[1] * 1e3 / lo:5.1f} FPS")
    if args.accuracy is not None:
        accuracy(args.accuracy, faces, args.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
