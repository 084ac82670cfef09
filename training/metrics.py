"""Binary classification metrics in numpy (no scikit-learn needed). Label 1 = fake, score = p_fake."""

from __future__ import annotations

import numpy as np


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve: the chance a random fake scores above a random real (ties count
    half), computed from average ranks (Mann-Whitney U)."""
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"Expected both classes, got {n_pos} positives and {n_neg} negatives.")
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average_rank = ends - (counts - 1) / 2.0  # 1-based average rank of each distinct score
    ranks = average_rank[inverse]
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def accuracy(labels, scores, threshold: float = 0.5) -> float:
    y = np.asarray(labels).astype(bool)
    return float(np.mean((np.asarray(scores) >= threshold) == y))


def balanced_accuracy(labels, scores, threshold: float = 0.5) -> float:
    y = np.asarray(labels).astype(bool)
    predicted = np.asarray(scores) >= threshold
    return float((np.mean(predicted[y]) + np.mean(~predicted[~y])) / 2.0)


def best_threshold(labels, scores) -> float:
    """The threshold that maximises balanced accuracy (ties: the one nearest 0.5), placed midway
    between adjacent scores so it does not sit on a validation image's own score."""
    s = np.unique(np.asarray(scores, dtype=np.float64))
    candidates = np.concatenate([[0.0], (s[:-1] + s[1:]) / 2.0, [1.0]])
    values = np.array([balanced_accuracy(labels, scores, t) for t in candidates])
    best = np.flatnonzero(values >= values.max() - 1e-12)
    return float(candidates[best[np.argmin(np.abs(candidates[best] - 0.5))]])


def check_reals_flagged(reals_flagged: float) -> None:
    """Raises ValueError unless ``reals_flagged`` is a share of reals a threshold can keep to, in [0, 1)."""
    if not 0.0 <= reals_flagged < 1.0:
        raise ValueError(f"Expected a share of reals flagged in [0, 1), got {reals_flagged}.")


def threshold_flagging_at_most(labels, scores, reals_flagged: float) -> float:
    """The lowest threshold at which at most ``reals_flagged`` (a share, :func:`check_reals_flagged`)
    of these reals score at or above it: just above the (k+1)-th highest real score, k = floor(share
    x reals)."""
    check_reals_flagged(reals_flagged)
    y = np.asarray(labels).astype(bool)
    real = np.sort(np.asarray(scores, dtype=np.float64)[~y])[::-1]
    if real.size == 0:
        raise ValueError("Expected at least one real image's score, got none.")
    allowed = int(np.floor(reals_flagged * real.size))
    return float(np.nextafter(real[allowed], np.inf)) if allowed < real.size else float(real.min())


def reals_flagged_at(labels, p_fake, threshold: float) -> dict:
    """{"flagged": the share of the reals among ``labels`` at or above ``threshold`` (None without
    reals), "images": how many reals}."""
    real = np.asarray(labels) == 0
    return {"flagged": float(np.mean(np.asarray(p_fake)[real] >= threshold)) if real.any() else None,
            "images": int(real.sum())}


def summary(labels, scores, threshold: float) -> dict:
    """Accuracy, balanced accuracy, per-class accuracy and ROC AUC at one threshold."""
    y = np.asarray(labels).astype(bool)
    predicted = np.asarray(scores) >= threshold
    return {
        "n": int(y.size),
        "accuracy": accuracy(labels, scores, threshold),
        "balanced_accuracy": balanced_accuracy(labels, scores, threshold),
        "real_accuracy": float(np.mean(~predicted[~y])),
        "fake_accuracy": float(np.mean(predicted[y])),
        "roc_auc": roc_auc(labels, scores),
        "threshold": float(threshold),
    }


def logit(p) -> np.ndarray:
    """log(p / (1 - p)), p clipped 1e-6 inside 0 and 1 (scores are stored to six decimals)."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1.0 - 1e-6)
    return np.log(q) - np.log1p(-q)


def apply_temperature(p_fake, temperature: float) -> np.ndarray:
    """Scores recalibrated as ``ModelSpec.aggregate`` does: sigmoid(logit(p) / temperature)."""
    return 1.0 / (1.0 + np.exp(-logit(p_fake) / temperature))


#: The temperatures :func:`fit_temperature` chooses from: a log grid from 1/8 to 8.
TEMPERATURES = np.exp(np.linspace(np.log(1 / 8), np.log(8), 241))


def fit_temperature(labels, p_fake) -> float:
    """The temperature that minimises the log loss of ``apply_temperature(p_fake, T)`` (temperature
    scaling, Guo et al. 2017), searched on :data:`TEMPERATURES`. It rescales confidence and
    leaves every ranking (ROC AUC) as it was."""
    y = np.asarray(labels, dtype=np.float64)
    z = logit(p_fake)
    losses = [np.mean(np.logaddexp(0.0, -z / t) * y + np.logaddexp(0.0, z / t) * (1 - y)) for t in TEMPERATURES]
    return float(TEMPERATURES[int(np.argmin(losses))])
