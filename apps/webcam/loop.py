"""The camera loop: :func:`run` reads frames, classifies every Nth, and reports, shows and records
them as :class:`RunOptions` says."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator, TextIO

import numpy as np

from deepfake_dct.apps.webcam.errors import WebcamError, log_stderr
from deepfake_dct.apps.webcam.overlay import Recorder, Window, draw_overlay, paused_view, save_snapshot
from deepfake_dct.apps.webcam.regions import (
    ROI_MODES,
    FaceFinder,
    FaceTracker,
    RegionResult,
    classify_frame,
    frame_score,
)
from deepfake_dct.apps.webcam.scores import RateMeter, Smoother, Summary, write_json_lines
from deepfake_dct.apps.webcam.sources import FrameSource, to_bgr
from deepfake_dct.detector import Detector


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
    evidence: bool = False
    """Tint each crop the model read by its own p_fake in the overlay (the evidence map)."""
    snapshot_dir: str = "."
    """Where the ``s`` key saves snapshots."""

    def __post_init__(self) -> None:
        if self.roi not in ROI_MODES:
            raise ValueError(f"Expected roi in {ROI_MODES}, got {self.roi!r}.")
        if self.every < 1:
            raise ValueError(f"Expected every >= 1, got {self.every}.")



def run(
    source: FrameSource,
    detector: Detector,
    options: RunOptions | None = None,
    faces: FaceFinder | FaceTracker | None = None,
    window: Window | None = None,
    log: Callable[[str], None] = log_stderr,
) -> Summary:
    """Reads frames until the source ends, the user quits (``q``, or Ctrl+C) or the source is lost;
    classifies every ``options.every``-th frame; shows, records and prints what ``options`` asks.

    Raises:
      WebcamError: the recording cannot be written.
    """
    options = options or RunOptions()
    if options.roi == "face" and faces is None:
        raise ValueError("Expected a FaceFinder or FaceTracker for roi='face'.")
    smoother, meter, summary = Smoother(options.smooth), RateMeter(), Summary()
    recorder = Recorder(options.record, source.fps) if options.record else None
    draw = options.overlay or window is not None or recorder is not None
    threshold = detector.threshold
    results: list[RegionResult] = []
    smoothed = latency_ms = None
    try:
        for index, raw in enumerate(_frames(source, summary)):
            start = time.perf_counter()
            frame = to_bgr(raw)
            if index % options.every == 0:
                results = classify_frame(frame, detector, options.roi, faces)
                score = frame_score(results)
                smoothed = smoother.update(score) if score is not None else smoother.value
                latency_ms = (time.perf_counter() - start) * 1e3
                summary.count(results)
                if options.json_out is not None:
                    write_json_lines(options.json_out, index, results, smoothed, threshold, latency_ms)
            if draw:
                draw_overlay(frame, results, smoothed, threshold, meter.fps, latency_ms, options.evidence)
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


def _frames(source: FrameSource, summary: Summary) -> Iterator[np.ndarray]:
    """The source's frames, counted in ``summary``, until it ends or is lost (why: ``summary.error``)."""
    while True:
        try:
            raw = source.read()
        except WebcamError as e:
            summary.error = str(e)
            return
        if raw is None:
            return
        summary.frames_seen += 1
        yield raw


def _interact(
    window: Window, frame: np.ndarray, index: int, options: RunOptions, log: Callable[[str], None]
) -> bool:
    """Shows the frame and acts on keys; while paused, waits here. False when the user quits."""
    paused = False
    while True:
        action = window.show(paused_view(frame) if paused else frame, wait_ms=50 if paused else 1)
        if action == "quit":
            return False
        if action == "snapshot":
            save_snapshot(frame, options.snapshot_dir, index, log)
        elif action == "pause":
            paused = not paused
        if not paused:
            return True
