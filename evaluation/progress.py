"""Progress of long work on stderr: a tqdm bar on a terminal; where stderr is a file or a pipe (a
log, CI, ``2>&1 | tee``), a plain line every PROGRESS_SECONDS instead, since a bar's carriage returns
would make one endless line there, and showing nothing leaves a long run looking hung."""

from __future__ import annotations

import math
import sys
import time

#: Seconds between two plain progress lines.
PROGRESS_SECONDS = 10.0


class LineProgress:
    """Counts work done; every ``every`` seconds writes "DESCRIPTION: done/total images (p%), t s,
    about r s left" to stderr, and a last line on closing if it wrote any (short work stays quiet)."""

    def __init__(self, total: int, description: str, every: float | None = None) -> None:
        self.total, self.description = total, description
        self.every = PROGRESS_SECONDS if every is None else every
        self.done = self.lines = 0
        self.started = self.last = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every and self.done < self.total:
            self.last = now
            self._write(now)

    def _write(self, now: float) -> None:
        elapsed = now - self.started
        text = (f"{self.description}: {self.done}/{self.total} images "
                f"({100 * self.done / max(self.total, 1):.0f}%), {elapsed:.0f} s")
        if 0 < self.done < self.total:
            text += f", about {elapsed * (self.total - self.done) / self.done:.0f} s left"
        print(text, file=sys.stderr, flush=True)
        self.lines += 1

    def close(self) -> None:
        if self.lines:
            self._write(time.monotonic())

    def __enter__(self) -> "LineProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress_bar(total: int, description: str, progress: bool | None = None):
    """A context manager with ``update(n)``: ``progress`` True a bar, False nothing, None a bar on a
    terminal and plain lines elsewhere (also the fallback where tqdm is not installed)."""
    if progress is False:
        return LineProgress(total, description, every=math.inf)
    if progress or (progress is None and _stderr_is_terminal()):
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            return tqdm(total=total, desc=description, unit="img", file=sys.stderr, mininterval=1.0)
    return LineProgress(total, description)


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
