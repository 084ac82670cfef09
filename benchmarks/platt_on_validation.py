"""Platt scaling fitted on validation scores, read on held-out ones: p = sigmoid(a * z + b), z the
logit of each image's p_fake as the model file gives it (its temperature already applied), (a, b)
by maximum likelihood on the ``--fit`` scores; then each ``--score`` file's expected calibration
error before and after the map. Every file is a ``scores.csv`` of ``deepfake-dct evaluate --out``.

    python benchmarks/platt_on_validation.py --fit VAL/scores.csv VAL_Q75/scores.csv \\
        --score HELDOUT/scores.csv HELDOUT_Q75/scores.csv

The map is monotone, so rankings and, with the threshold carried through it, verdicts are
unchanged; only the probabilities move. Prints (a, b), the fit's log loss and one line per file.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from deepfake_dct.evaluation.metrics import expected_calibration_error
from deepfake_dct.evaluation.report import read_clean_scores
from deepfake_dct.training.metrics import logit

def log_loss(labels: np.ndarray, z: np.ndarray, a: float, b: float) -> float:
    t = a * z + b
    return float(np.mean(labels * np.logaddexp(0.0, -t) + (1 - labels) * np.logaddexp(0.0, t)))


def fit_platt(labels: np.ndarray, z: np.ndarray, steps: int = 100) -> tuple[float, float]:
    """(a, b) minimising the log loss of sigmoid(a z + b): Newton's method from (1, 0), the
    identity map, each step halved until the loss (convex) falls, as a full Newton step can
    overshoot when the scores are far from calibrated."""
    x = np.stack([z, np.ones_like(z)], axis=1)
    w = np.array([1.0, 0.0])
    loss = log_loss(labels, z, *w)
    for _ in range(steps):
        s = 1.0 / (1.0 + np.exp(-(x @ w)))
        step = np.linalg.solve((x * (s * (1 - s))[:, None]).T @ x + 1e-9 * np.eye(2), x.T @ (s - labels))
        while (trial := log_loss(labels, z, *(w - step))) > loss and np.max(np.abs(step)) > 1e-12:
            step = step / 2
        if loss - trial < 1e-12:
            break
        w, loss = w - step, trial
    return float(w[0]), float(w[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fit", nargs="+", required=True, help="scores.csv files to fit (a, b) on, pooled")
    parser.add_argument("--score", nargs="*", default=[], help="scores.csv files to read the map on")
    args = parser.parse_args(argv)
    try:
        fitted = [read_clean_scores(path) for path in args.fit]
        scored = [(path, *read_clean_scores(path)) for path in args.score]
    except ValueError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    labels = np.concatenate([y for y, _ in fitted])
    z = logit(np.concatenate([p for _, p in fitted]))
    if labels.min() == labels.max():
        print("ERROR: the --fit scores hold one class only: no map can be fitted", file=sys.stderr)
        return 2
    a, b = fit_platt(labels, z)
    print(f"fitted on {labels.size} scores: a {a:.4f}, b {b:.4f}; log loss {log_loss(labels, z, 1.0, 0.0):.4f}"
          f" as given, {log_loss(labels, z, a, b):.4f} after the map")
    for path, y, p in scored:
        mapped = 1.0 / (1.0 + np.exp(-(a * logit(p) + b)))
        print(f"{path}: {y.size} images, ECE {expected_calibration_error(y, p):.4f} as given, "
              f"{expected_calibration_error(y, mapped):.4f} after the map")
    return 0


if __name__ == "__main__":
    sys.exit(main())
