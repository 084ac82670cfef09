"""Can a model read an image's compression history instead of its origin? A check of the processing.

Two folders of the same kind of picture that differ only in how they were saved -- FFHQ faces as
NVIDIA ships them (PNG) and FFHQ faces a third party re-saved as JPEG q75 -- go through a
processing setting: crops as a tiles policy cuts them, optionally the label-blind training chain
and the policy's own JPEG step. A logistic regression on the crops' log-DCT (averaged over 8x8
coefficient blocks, so 768 features for a 128x128 crop) is trained on half of the files of each
folder and scored on the other half. A held-out ROC AUC near 0.5 means the history cannot be read
by that probe; near 1, it is the loudest thing in the spectrum. The probe is linear: a CNN may see
more, so a low AUC here is necessary, not sufficient.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepfake_dct.detector.features import log_dct
from deepfake_dct.detector.files import expand_paths
from deepfake_dct.detector.images import ImageError, InputPolicy, decode_rgb
from deepfake_dct.training.metrics import roc_auc
from deepfake_dct.training.perturb import NO_PROCESSING, ProcessingChain
from deepfake_dct.training.tiles import crop_rng, sample_crops

#: Coefficients averaged together per feature (per side).
BLOCK = 8


@dataclass(frozen=True)
class Setting:
    """One row of the check: the processing both folders go through."""

    name: str
    chain: ProcessingChain
    jpeg_quality: int


def features(crops: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 crops -> (N, H/8 * W/8 * 3) block means of their log-DCT."""
    spectrum = log_dct(crops)
    n, h, w, c = spectrum.shape
    blocks = spectrum.reshape(n, h // BLOCK, BLOCK, w // BLOCK, BLOCK, c).mean(axis=(2, 4))
    return blocks.reshape(n, -1)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 500) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by gradient descent on standardised features."""
    w, b = np.zeros(x.shape[1]), 0.0
    rate = 0.5
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        w -= rate * (x.T @ (p - y) / len(y) + l2 * w)
        b -= rate * float(np.mean(p - y))
    return w, b


def probe_auc(a: list[Path], b: list[Path], setting: Setting, size: int = 128, crops: int = 2,
              seed: int = 0) -> tuple[float, int]:
    """Held-out ROC AUC of the probe telling folder ``b`` from folder ``a`` under ``setting``, and
    how many files were skipped. Files go to the train or test half by their order (even/odd)."""
    policy = InputPolicy(size, size, mode="tiles", jpeg_quality=setting.jpeg_quality)
    rows, labels, halves, skipped = [], [], [], 0
    for label, paths in ((0, a), (1, b)):
        for i, path in enumerate(paths):
            try:
                cut = sample_crops(decode_rgb(path), policy, crops, crop_rng(seed, str(path)), setting.chain)
            except ImageError:
                skipped += 1
                continue
            rows.append(features(cut))
            labels += [label] * crops
            halves += [i % 2] * crops
    x, y, half = np.concatenate(rows), np.asarray(labels, float), np.asarray(halves)
    train, test = half == 0, half == 1
    mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 1e-6
    w, b = fit_logistic((x[train] - mean) / std, y[train])
    scores = ((x[test] - mean) / std) @ w + b
    return roc_auc(y[test], scores), skipped


def default_settings() -> tuple[Setting, ...]:
    chain = ProcessingChain()
    return (
        Setting("crops as stored", NO_PROCESSING, 0),
        Setting("training chain", chain, 0),
        Setting("policy JPEG q75", NO_PROCESSING, 75),
        Setting("training chain + policy JPEG q75", chain, 75),
    )


def history_check(a: Path, b: Path, max_images: int | None = None, seed: int = 0,
                  settings: tuple[Setting, ...] | None = None) -> tuple[list[dict], int]:
    """Rows (setting, held-out probe AUC) for two folders, and the files skipped."""
    rng = np.random.default_rng(seed)
    lists = []
    for folder in (a, b):
        paths = list(expand_paths([str(folder)]))
        if not paths:
            raise ValueError(f"Expected image files in {folder}, found none.")
        lists.append(sorted(paths[i] for i in rng.permutation(len(paths))[:max_images]))
    rows, skipped = [], 0
    for setting in settings or default_settings():
        auc, s = probe_auc(*lists, setting, seed=seed)
        rows.append({"setting": setting.name, "roc_auc": auc, "files": [len(lists[0]), len(lists[1])]})
        skipped = max(skipped, s)
    return rows, skipped
