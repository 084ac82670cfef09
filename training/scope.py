"""Fits a run's out-of-scope check (``deepfake_dct.detector.scope``): the band means of its
training images' crops, cut exactly as at run time, and cut-offs from its validation
images, called by ``training.calibrate`` with the rest of what a model file says about its own
confidence."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from deepfake_dct.detector.images import ImageError, decode_rgb
from deepfake_dct.detector.model_file import ModelSpec
from deepfake_dct.detector.scope import Scope, band_means, fit_scope, flat_fraction
from deepfake_dct.training.data import Split

#: The share of validation images inside each cut-off.
SCOPE_QUANTILE = 0.99


def crop_readings(paths: Iterable[Path], spec: ModelSpec) -> tuple[list[np.ndarray], np.ndarray]:
    """The :func:`band_means` of each readable image's crops, cut exactly as at run time (one
    (n_crops, values) array an image), and each image's flat fraction (unreadable or too small images
    are left out: the runtime refuses them before any scope question)."""
    crop_means, flat = [], []
    for path in paths:
        try:
            crops, _ = spec.policy.crops(decode_rgb(path))
        except ImageError:
            continue
        crop_means.append(band_means(spec.make_inputs(crops)["log_dct"]))
        flat.append(flat_fraction(crops))
    return crop_means, np.asarray(flat)


def fit_split_scope(spec: ModelSpec, split: Split) -> Scope:
    """The scope of a model from its split: statistics of the train images' crops, cut-offs on val."""
    if "log_dct" not in spec.input_names:
        raise ValueError("Expected a model that reads the log-DCT (the scope is a profile of it).")
    train_images, _ = crop_readings(split.paths("train"), spec)
    val_images, val_flat = crop_readings(split.paths("val"), spec)
    return fit_scope(train_images, val_images, val_flat, quantile=SCOPE_QUANTILE)
