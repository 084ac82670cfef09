"""The files a training run leaves, which ``export`` and ``evaluate`` read back.

    model.keras         the Keras model (best validation loss)
    spec.json           the ModelSpec: input definition, policy, threshold, provenance
    normalisation.npz   log-DCT mean and std of the training split (no pickle)
    split.json          which file went to train / val / test
    report.json         what happened: counts, skipped files, per-epoch metrics, held-out metrics
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from deepfake_dct.detector.features import Normalisation
from deepfake_dct.detector.model_file import ModelSpec
from deepfake_dct.training.data import atomic_write_bytes, atomic_write_json

MODEL, SPEC, NORMALISATION, SPLIT, REPORT = (
    "model.keras", "spec.json", "normalisation.npz", "split.json", "report.json"
)


def save_spec(run: Path, spec: ModelSpec) -> None:
    if spec.normalisation is not None:
        buffer = io.BytesIO()
        np.savez(buffer, mean=spec.normalisation.mean, std=spec.normalisation.std)
        atomic_write_bytes(run / NORMALISATION, buffer.getvalue())
    atomic_write_json(run / SPEC, spec.to_json())


def load_spec(run: Path) -> ModelSpec:
    run = Path(run)
    meta = json.loads((run / SPEC).read_text())
    normalisation = None
    if (run / NORMALISATION).exists():
        with np.load(run / NORMALISATION, allow_pickle=False) as z:
            normalisation = Normalisation(mean=z["mean"], std=z["std"])
    return ModelSpec.from_json(meta, normalisation)
