"""Per source of an ``evaluate`` scores.csv: the share marked "uncertain" by the model's band, the
mean p_fake, and the share at or above a threshold of your choosing. Prints figures, asserts nothing.

    python benchmarks/score_shares.py SCORES_CSV [SCORES_CSV ...] [--model FILE] [--at 0.3]

A source is an image's folder name, as in evaluate's per-source table. Read a threshold other
than the model's as descriptive only: it is applied to the very images it describes.
"""

from __future__ import annotations

import argparse
import collections
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepfake_dct.detector import Detector, is_uncertain  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scores", nargs="+", help="scores.csv files written by `deepfake-dct evaluate --out`")
    parser.add_argument("--model", default=None, help="the model the scores came from (default: bundled)")
    parser.add_argument("--at", type=float, default=None, help="also the share with p_fake >= this")
    args = parser.parse_args()
    with Detector.from_file(args.model) as detector:
        threshold, band = detector.threshold, detector.uncertain_margin
    for path in args.scores:
        by_source = collections.defaultdict(list)
        try:
            with open(path, newline="") as f:
                for row in csv.DictReader(f):
                    by_source[Path(row["path"]).parent.name].append(float(row["clean"]))
        except (OSError, KeyError, ValueError, TypeError) as e:
            sys.exit(f"ERROR: {path}: not a readable scores.csv of `deepfake-dct evaluate` ({e!r})")
        print(f"{path} (threshold {threshold:.3f}, uncertain band {band}):")
        for source, scores in sorted(by_source.items()):
            n = len(scores)
            line = (f"  {source:20s} {n:6d} images  uncertain {sum(is_uncertain(p, threshold, band) for p in scores) / n:.3f}"
                    f"  mean p_fake {sum(scores) / n:.3f}")
            if args.at is not None:
                line += f"  p_fake >= {args.at:g}: {sum(p >= args.at for p in scores) / n:.3f}"
            print(line)


if __name__ == "__main__":
    main()
