"""analysis.history: the probe reads a compression history that is there, and not one that is gone."""

import numpy as np
import pytest
from PIL import Image

from helpers import smooth_noise
from deepfake_dct.analysis.history import Setting, features, history_check
from deepfake_dct.training.perturb import NO_PROCESSING


def test_features_are_block_means_of_the_log_dct(rng):
    crops = rng.integers(0, 256, (2, 128, 128, 3), dtype=np.uint8)
    assert features(crops).shape == (2, 16 * 16 * 3)


@pytest.mark.slow
def test_probe_reads_png_versus_jpeg_as_stored_and_not_after_the_policy_jpeg(tmp_path):
    rng = np.random.default_rng(5)
    for name in ("png", "jpeg"):
        (tmp_path / name).mkdir()
    for i in range(30):
        Image.fromarray(smooth_noise(rng, 160, 160)).save(tmp_path / "png" / f"{i}.png")
        Image.fromarray(smooth_noise(rng, 160, 160)).save(tmp_path / "jpeg" / f"{i}.jpg", quality=60)
    settings = (Setting("as stored", NO_PROCESSING, 0), Setting("policy JPEG q60", NO_PROCESSING, 60))
    rows, skipped = history_check(tmp_path / "png", tmp_path / "jpeg", settings=settings)
    assert skipped == 0
    assert rows[0]["roc_auc"] > 0.95
    assert rows[1]["roc_auc"] < rows[0]["roc_auc"] - 0.2
