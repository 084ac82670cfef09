"""What the loop keeps across frames and reports: the smoothed score, the frame rate, the run's
summary, and one JSON line per classified region."""

from __future__ import annotations

import collections
import json
import time
from dataclasses import dataclass
from typing import Sequence, TextIO

from deepfake_dct.apps.webcam.regions import RegionResult
from deepfake_dct.detector import verdict as runtime_verdict


def verdict(p_fake: float | None, threshold: float) -> str | None:
    """The runtime's verdict rule for a smoothed score; None without a score."""
    return None if p_fake is None else runtime_verdict(p_fake, threshold)


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
        "label_smoothed": verdict(smoothed, threshold),
        "latency_ms": round(latency_ms, 3),
    }



def write_json_lines(
    out: TextIO,
    index: int,
    results: Sequence[RegionResult],
    smoothed: float | None,
    threshold: float,
    latency_ms: float,
) -> None:
    """Writes the JSON line of each region of frame ``index`` to ``out``, then flushes it, so that a
    reader of the pipe sees each frame as soon as it is classified."""
    now = time.time()
    for result in results:
        out.write(json.dumps(json_record(index, now, result, smoothed, threshold, latency_ms)) + "\n")
    out.flush()
