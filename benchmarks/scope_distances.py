"""Where a folder of images sits against a model's out-of-scope check: each image's spectral
distance and flat fraction (``detector.scope``), their quantiles, and the share past each cut-off.
Prints figures, asserts nothing.

    python benchmarks/scope_distances.py FOLDER [--model FILE] [--limit N] [--one-crop] [--perturb OP:STRENGTH]

What it is for: a kind of photo that gets the warning more often than it should (LFW's greyscale
faces under the bundled luma file, docs/NATIVE.md) shows here whether the distance or the flat-fill
test warns it, and how far inside or outside the cut-off the kind sits. ``--one-crop`` reads each
image's centre tile alone, as if the image were that small: how the check treats one-crop images
(LFW's 250x250 faces at 128-px tiles) of a kind it was fitted on. ``--perturb blur:3`` reads each
image after one of ``training.perturb.OPERATIONS`` at that strength (before any crop): whether the
check still sees processing the model never trained on.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from deepfake_dct.detector import Detector, ImageError, ModelFileError
from deepfake_dct.detector.files import expand_paths
from deepfake_dct.training.perturb import OPERATIONS


def readings(detector: Detector, paths, one_crop: bool = False, perturb=None) -> tuple[np.ndarray, np.ndarray, int]:
    """(distances, flat fractions) of the readable images, as ``detect`` reads them (after
    ``perturb``, an RGB array -> RGB array step; with ``one_crop``, their centre tiles alone), and how
    many were not readable."""
    centre = dataclasses.replace(detector.spec.policy, grid=1)
    distances, flat, unreadable = [], [], 0
    for path in paths:
        try:
            rgb = detector.decode(path)
            if perturb is not None:
                rgb = perturb(rgb)
            detection = detector.detect(centre.crops(rgb)[0][0] if one_crop else rgb)
        except (ImageError, OSError):
            unreadable += 1
            continue
        distances.append(detection.scope_distance)
        flat.append(detection.flat_fraction)
    return np.asarray(distances), np.asarray(flat), unreadable


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--model", type=Path, help="a .tflite (default: the bundled model)")
    parser.add_argument("--limit", type=int, default=0, help="the first N images in path order (default: all)")
    parser.add_argument("--one-crop", action="store_true", help="read each image's centre tile alone")
    parser.add_argument("--perturb", metavar="OP:STRENGTH", help=f"first apply one of {', '.join(OPERATIONS)}, e.g. blur:3")
    args = parser.parse_args(argv)
    try:
        detector = Detector.from_file(args.model) if args.model else Detector.from_file()
    except ModelFileError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    perturb = None
    if args.perturb:
        name, _, strength = args.perturb.partition(":")
        try:
            operation, value = OPERATIONS[name], float(strength)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(strength)
        except (KeyError, ValueError):
            print(f"ERROR: --perturb takes OP:STRENGTH, OP one of {', '.join(OPERATIONS)} and STRENGTH a positive "
                  f"number, got {args.perturb!r}.",
                  file=sys.stderr)
            return 2
        rng = np.random.default_rng(0)

        def perturb(rgb: np.ndarray) -> np.ndarray:
            return operation(rgb, value, rng)
    scope = detector.spec.scope
    if scope is None:
        print(f"ERROR: {detector.model_name} has no out-of-scope check.", file=sys.stderr)
        return 2
    paths = list(expand_paths([str(args.folder)]))
    if args.limit:
        paths = paths[: args.limit]
    distances, flat, unreadable = readings(detector, paths, args.one_crop, perturb)
    if not len(distances):
        print(f"ERROR: no readable image in {args.folder}.", file=sys.stderr)
        return 2
    q = np.quantile(distances, [0.5, 0.9, 0.99])
    warned = (distances > scope.cutoff) | (flat > scope.flat_cutoff)
    print(f"model {detector.model_name}: distance cut-off {scope.cutoff:.2f}, flat cut-off {scope.flat_cutoff:.3f}")
    print(f"{args.folder}: {len(distances)} images ({unreadable} unreadable or too small)")
    print(f"distance median {q[0]:.2f}, 90% {q[1]:.2f}, 99% {q[2]:.2f}; past the cut-off {np.mean(distances > scope.cutoff):.3f}")
    print(f"flat fraction median {np.median(flat):.3f}; past the cut-off {np.mean(flat > scope.flat_cutoff):.3f}")
    print(f"warned out of scope (either): {warned.mean():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
