"""What the user sees: the verdicts drawn onto each frame, the window and its keys, the recording and
the snapshots."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from deepfake_dct.apps.evidence import EVIDENCE_COLOURS, colours_of, evidence_colour
from deepfake_dct.apps.webcam.errors import WebcamError
from deepfake_dct.apps.webcam.opencv import cv2
from deepfake_dct.apps.webcam.regions import RegionResult, frame_score
from deepfake_dct.apps.webcam.scores import verdict

# Overlay colours (BGR).
_RED, _GREEN, _AMBER, _WHITE, _BLACK = (40, 40, 230), (60, 190, 60), (0, 190, 255), (255, 255, 255), (0, 0, 0)


def _text(frame: np.ndarray, text: str, origin: tuple[int, int], scale: float, colour) -> int:
    """Text on a dark band, for contrast on any background; returns the band's height."""
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x, y = origin
    cv2.rectangle(frame, (x, y - th - base), (x + tw + 4, y + base), _BLACK, cv2.FILLED)
    cv2.putText(frame, text, (x + 2, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)
    return th + 2 * base + 2


#: How much of a crop's own pixels its evidence tint covers (the rest shows through).
EVIDENCE_ALPHA = 0.35
#: The colour scale's bar, in pixels at the overlay's smallest text scale.
SCALE_BAR = (120, 10)


def draw_evidence(frame: np.ndarray, results: Sequence[RegionResult], scale: float) -> None:
    """Tints each crop the model read, in each region, by its own p_fake (the evidence map's scale:
    green 0, amber 0.5, red 1), outlined, and draws that scale's bar under the headline."""
    for r in results:
        if r.detection is None:
            continue
        x, y, _, _ = r.box
        for crop in r.detection.crops:
            top, left = y + crop.box.top, x + crop.box.left
            patch = frame[top : top + crop.box.height, left : left + crop.box.width]
            colour = evidence_colour(crop.p_fake)[::-1]  # RGB -> BGR
            tint = np.empty_like(patch)
            tint[:] = colour
            cv2.addWeighted(tint, EVIDENCE_ALPHA, patch, 1.0 - EVIDENCE_ALPHA, 0.0, dst=patch)
            cv2.rectangle(frame, (left, top), (left + crop.box.width - 1, top + crop.box.height - 1), colour, 1)
    width, height = (round(v * scale / 0.45) for v in SCALE_BAR)
    x, y = 6, frame.shape[0] - height - 8
    if y < 0 or x + width > frame.shape[1]:
        return  # a frame too small for the scale's bar
    bar = colours_of(np.linspace(0.0, 1.0, width), 0.0, 1.0, EVIDENCE_COLOURS)[:, ::-1]  # RGB -> BGR
    frame[y : y + height, x : x + width] = np.rint(bar).astype(np.uint8)[None]
    _text(frame, "crops: real 0 .. 1 fake", (x + width + 6, y + height), scale, _WHITE)


def draw_overlay(
    frame: np.ndarray,
    results: Sequence[RegionResult],
    smoothed: float | None,
    threshold: float,
    fps: float | None,
    latency_ms: float | None,
    evidence: bool = False,
) -> np.ndarray:
    """Draws the boxes with their label and p_fake, the smoothed verdict, FPS and latency onto
    ``frame`` (in place). A frame without a verdict (no face, too small) says so instead of a verdict;
    a box the runtime calls out of scope is amber and says "not a photo?". With ``evidence``, each
    crop the model read is tinted by its own p_fake first (:func:`draw_evidence`)."""
    scale = max(0.45, frame.shape[1] / 1400)
    if evidence:
        draw_evidence(frame, results, scale)
    for r in results:
        if r.box is None:
            continue
        x, y, w, h = r.box
        unlike = r.detection is not None and r.detection.out_of_scope is not None
        colour = _AMBER if r.detection is None or unlike else (_RED if r.detection.is_fake else _GREEN)
        cv2.rectangle(frame, (x, y), (x + w - 1, y + h - 1), colour, 2)
        caption = r.status if r.detection is None else f"{r.detection.label} {r.detection.p_fake:.2f}"
        if unlike:  # a screen, a drawing or a printed page held to the camera: the verdict means little
            caption += " (not a photo?)"
        _text(frame, caption, (x, max(y - 4, 14)), scale, colour)
    label = verdict(smoothed, threshold)
    if results and frame_score(results) is None:
        headline, colour = f"{results[0].status.upper()}: no verdict", _AMBER
    elif label is not None:
        headline = f"{label.upper()}  smoothed p_fake {smoothed:.2f} (threshold {threshold:.2f})"
        colour = _RED if label == "fake" else _GREEN
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


def paused_view(frame: np.ndarray) -> np.ndarray:
    """A copy of the frame saying it is paused, and which keys do what."""
    shown = frame.copy()
    _text(shown, "PAUSED (space: resume, s: snapshot, q: quit)", (6, shown.shape[0] - 10), 0.5, _AMBER)
    return shown


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


def save_snapshot(frame: np.ndarray, folder: str, index: int, log: Callable[[str], None]) -> None:
    """Saves frame ``index`` as a PNG in ``folder``, named by the time and the index; says where, or
    that it could not."""
    path = Path(folder) / f"snapshot-{time.strftime('%Y%m%d-%H%M%S')}-{index:06d}.png"
    if cv2.imwrite(str(path), frame):
        log(f"saved {path}")
    else:
        log(f"could not save a snapshot to {path}")

