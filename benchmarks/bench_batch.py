"""Images per second of ``deepfake-dct detect`` in one process beside ``deepfake-dct batch`` on Beam's
DirectRunner with 1 and with 2 local worker processes, on the same generated 128x128 PNGs.

    python benchmarks/bench_batch.py [--images 3000] [--repeats 3] [--side 128]

Needs ``.[batch]``. Each variant is the whole command as a user runs it (a fresh process, start-up,
reading, scoring, writing), timed from outside; the variants take turns, repeat after repeat, so
that a machine whose speed drifts (a shared one) slows each alike. Printed per variant: the median and
best wall time, images/s from the median, and the ratio to ``detect``'s images/s. Each variant is
also run on a single image, and the difference (N - 1) / (t_N - t_1) is printed as the throughput
past start-up. Records are checked to be the same in every variant. The load average is printed
before and after: figures taken beside other work are not this machine's best.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np  # noqa: E402
from helpers import smooth_noise  # noqa: E402
from PIL import Image  # noqa: E402

TWO_WORKERS = ["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"]


def make_images(folder: Path, count: int, side: int) -> None:
    """``count`` distinct side x side PNGs: 64 smooth-noise bases, each shifted by its index."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    bases = [smooth_noise(rng, side * 2, side * 2) for _ in range(64)]
    for i in range(count):
        base = bases[i % 64]
        dy, dx = (i // 64) % side, (i // (64 * side)) % side
        Image.fromarray(np.ascontiguousarray(base[dy:dy + side, dx:dx + side])).save(folder / f"img{i:06d}.png")


def variants(folder: Path, out: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "deepfake_dct.cli"]
    return {
        "detect (1 process)": [*cli, "detect", "--json", str(folder)],
        "detect --threads 1": [*cli, "detect", "--json", "--threads", "1", str(folder)],
        "batch, 1 worker": [*cli, "batch", str(folder), "--output", str(out / "one" / "scores")],
        "batch, 2 workers": [*cli, "batch", str(folder), "--output", str(out / "two" / "scores"), *TWO_WORKERS],
    }


def run_once(command: list[str], out: Path, name: str) -> tuple[float, list[str]]:
    """Wall seconds of one run, and the records it produced (stdout for detect, the shards for batch)."""
    for old in glob.glob(str(out / "*" / "scores-*")):
        os.remove(old)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode not in (0, 1):
        sys.exit(f"ERROR: {name} exited {result.returncode}:\n{result.stderr[-2000:]}")
    if "batch" in command:
        shard_dir = out / ("two" if "--direct_num_workers" in command else "one")
        lines = [line for shard in sorted(shard_dir.glob("scores-*")) for line in shard.read_text().splitlines()]
    else:
        lines = result.stdout.splitlines()
    return seconds, sorted(json.dumps(json.loads(line), sort_keys=True) for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--side", type=int, default=128)
    args = parser.parse_args()
    try:
        import apache_beam
    except ImportError:
        sys.exit("ERROR: needs Apache Beam: pip install -e '.[batch]'")

    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        tmp = Path(tmp)
        make_images(tmp / "images", args.images, args.side)
        make_images(tmp / "one_image", 1, args.side)
        full, single = variants(tmp / "images", tmp / "out"), variants(tmp / "one_image", tmp / "out")
        print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"Beam {apache_beam.__version__}; {args.images} PNGs of {args.side}x{args.side}, "
              f"{args.repeats} repeats; load average before: {os.getloadavg()[0]:.2f}")
        times = {name: [] for name in full}
        start_up = {name: [] for name in full}
        reference = None
        for _ in range(args.repeats):
            for name in full:
                seconds, records = run_once(full[name], tmp / "out", name)
                times[name].append(seconds)
                reference = reference or records
                if records != reference:
                    sys.exit(f"ERROR: {name} wrote other records than detect.")
                start_up[name].append(run_once(single[name], tmp / "out", name)[0])
        print(f"load average after: {os.getloadavg()[0]:.2f}; records identical in every variant "
              f"({len(reference)} each)\n")

        base = args.images / min(statistics.median(times[n]) for n in full if n.startswith("detect"))
        print(f"| variant | median s | best s | images/s | vs faster detect | 1 image, s | images/s past start-up |")
        print("|---|---|---|---|---|---|---|")
        for name in full:
            median, best = statistics.median(times[name]), min(times[name])
            one = statistics.median(start_up[name])
            past = (args.images - 1) / max(median - one, 1e-9)
            print(f"| {name} | {median:.2f} | {best:.2f} | {args.images / median:.0f} | "
                  f"{args.images / median / base:.2f}x | {one:.2f} | {past:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
