"""Metrics beyond ``deepfake_dct.training.metrics`` (which this module builds on, never repeats): average precision,
the confusion matrix, calibration (reliability bins, expected calibration error) and the ROC curve's
points for plotting. numpy only. Label 1 = fake, score = p_fake.
"""

from __future__ import annotations

import numpy as np

from deepfake_dct.training import metrics

#: Equal-width p_fake bins of the reliability diagram and the expected calibration error.
DEFAULT_BINS = 10


def _checked(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).astype(int).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if y.shape != s.shape:
        raise ValueError(f"Expected as many scores as labels, got {s.size} scores and {y.size} labels.")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"Expected labels 0 (real) and 1 (fake), got {sorted(set(y.tolist()))}.")
    return y, s


def _counts_above_thresholds(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct scores, descending; fakes and reals scoring at or above each): the steps of the ROC
    and precision-recall curves."""
    y, s = _checked(labels, scores)
    if y.sum() == 0 or y.sum() == y.size:
        n_fake = int(y.sum())
        raise ValueError(f"Expected both classes, got {n_fake} fakes and {y.size - n_fake} reals.")
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last_of_each_score = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    true_positives = np.cumsum(y)[last_of_each_score]
    false_positives = last_of_each_score + 1 - true_positives
    return s[last_of_each_score], true_positives, false_positives


def average_precision(labels, scores) -> float:
    """Area under the precision-recall curve as a step sum, sum_n (R_n - R_{n-1}) P_n over the distinct
    scores (scikit-learn's ``average_precision_score``, no interpolation)."""
    _, tp, fp = _counts_above_thresholds(labels, scores)
    precision = tp / (tp + fp)
    recall = tp / tp[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_points(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate, threshold) at each distinct score, from (0, 0)
    (threshold above every score) to (1, 1). For plotting; the area is ``deepfake_dct.training.metrics.roc_auc``."""
    thresholds, tp, fp = _counts_above_thresholds(labels, scores)
    return np.r_[0.0, fp / fp[-1]], np.r_[0.0, tp / tp[-1]], np.r_[np.inf, thresholds]


def confusion_matrix(labels, scores, threshold: float) -> list[list[int]]:
    """[[real called real, real called fake], [fake called real, fake called fake]]: rows are the
    truth, columns the verdict at ``threshold`` (p_fake >= threshold is "fake")."""
    y, s = _checked(labels, scores)
    called_fake = s >= threshold
    return [
        [int(np.sum((y == 0) & ~called_fake)), int(np.sum((y == 0) & called_fake))],
        [int(np.sum((y == 1) & ~called_fake)), int(np.sum((y == 1) & called_fake))],
    ]


def reliability_bins(labels, scores, n_bins: int = DEFAULT_BINS, class_balanced: bool = False) -> list[dict]:
    """For each equal-width p_fake bin [lower, upper) (the last one closed): how many images, their
    weight, their mean p_fake and the fraction that are fake. A calibrated model has mean p_fake ==
    fraction fake. ``class_balanced``: each image weighs 1 / (2 x its class's count), so that the
    two classes weigh half each whatever their counts, as under the 1:1 prior the calibration
    assumes; otherwise each image weighs 1."""
    if n_bins < 1:
        raise ValueError(f"Expected at least 1 bin, got {n_bins}.")
    y, s = _checked(labels, scores)
    weights = np.ones(s.shape)
    if class_balanced:
        for label in (0, 1):
            members = y == label
            weights[members] = 0.5 / max(int(members.sum()), 1)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.digitize(s, edges[1:-1])
    bins = []
    for b in range(n_bins):
        members = which == b
        count = int(members.sum())
        w = weights[members]
        bins.append({
            "lower": round(float(edges[b]), 12),
            "upper": round(float(edges[b + 1]), 12),
            "count": count,
            "weight": float(w.sum()),
            "mean_p_fake": float(np.average(s[members], weights=w)) if count else None,
            "fraction_fake": float(np.average(y[members], weights=w)) if count else None,
        })
    return bins


def expected_calibration_error(labels, scores, n_bins: int = DEFAULT_BINS, class_balanced: bool = False) -> float:
    """sum over bins of (share of the images' weight in the bin) * |mean p_fake - fraction fake|
    (weights: :func:`reliability_bins`)."""
    return _calibration_error(reliability_bins(labels, scores, n_bins, class_balanced))


def _calibration_error(bins: list[dict]) -> float:
    total = sum(b["weight"] for b in bins)
    if total == 0:
        raise ValueError("Expected at least one score, got none.")
    return float(sum(b["weight"] / total * abs(b["mean_p_fake"] - b["fraction_fake"])
                     for b in bins if b["count"]))


def fakes_caught_at_reals_flagged(labels, scores, reals_flagged: float = 0.05) -> dict:
    """The operating point where at most ``reals_flagged`` of these reals are called fake: the
    threshold that takes (the lowest such) and the share of fakes caught there. Descriptive only:
    it is read off the very images it describes, so it is no held-out threshold."""
    y, s = _checked(labels, scores)
    y = y.astype(bool)
    threshold = metrics.threshold_flagging_at_most(y, s, reals_flagged)
    return {"reals_flagged_at_most": reals_flagged, "threshold": threshold,
            "reals_flagged": float(np.mean(s[~y] >= threshold)), "fakes_caught": float(np.mean(s[y] >= threshold))}


def evaluate(labels, scores, threshold: float, n_bins: int = DEFAULT_BINS) -> dict:
    """Everything the report gives for one set of scores at the model's threshold: the training
    summary (accuracy, balanced accuracy, per-class accuracy, ROC AUC) plus average precision, the
    confusion matrix and calibration."""
    bins = reliability_bins(labels, scores, n_bins)
    return {
        **metrics.summary(labels, scores, threshold),
        "average_precision": average_precision(labels, scores),
        "confusion_matrix": confusion_matrix(labels, scores, threshold),
        "expected_calibration_error": _calibration_error(bins),
        "at_5pct_reals_flagged": fakes_caught_at_reals_flagged(labels, scores, 0.05),
        "reliability": bins,
    }
