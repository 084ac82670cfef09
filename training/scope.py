"""Fits a run's out-of-scope check (``deepfake_dct.detector.scope``): the spectral profiles of its
training images, each cut into its crops exactly as at run time, and a cut-off from its validation
images, called by ``training.calibrate`` with the rest of what a model file says about its own
confidence."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from deepfake_dct.detector.images import ImageError, decode_rgb
from deepfake_dct.detector.model_file import ModelSpec
from deepfake_dct.detector.scope import Scope, fit_scope, flat_fraction, spectral_profile
from deepfake_dct.training.data import Split

#: The share of validation images inside each cut-off.
SCOPE_QUANTILE = 0.99


def image_readings(paths: Iterable[Path], spec: ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    """Each readable image's spectral profile and flat fraction, from its run-time crops
    (unreadable or too small images are left out: the runtime refuses them before any scope
    question)."""
    profiles, flat = [], []
    for path in paths:
        try:
            crops, _ = spec.policy.crops(decode_rgb(path))
        except ImageError:
            continue
        profiles.append(spectral_profile(spec.make_inputs(crops)["log_dct"]))
        flat.append(flat_fraction(crops))
    return np.asarray(profiles), np.asarray(flat)


def fit_split_scope(spec: ModelSpec, split: Split) -> Scope:
    """The scope of a model from its split: statistics of the train images, cut-offs on val."""
    if "log_dct" not in spec.input_names:
        raise ValueError("Expected a model that reads the log-DCT (the scope is a profile of it).")
    train_profiles, _ = image_readings(split.paths("train"), spec)
    val_profiles, val_flat = image_readings(split.paths("val"), spec)
    return fit_scope(train_profiles, val_profiles, val_flat, quantile=SCOPE_QUANTILE)
