"""What a model file says about its own confidence: the uncertain band read off validation scores
(the temperature fit itself is in test_metrics)."""

import numpy as np
import pytest

from deepfake_dct.training.calibrate import MIN_RING_IMAGES, RING_WIDTH, uncertain_margin


def test_no_band_when_every_ring_is_accurate():
    p = np.linspace(0.0, 1.0, 201)
    labels = (p >= 0.5).astype(int)
    assert uncertain_margin(labels, p, 0.5) == 0.0


def test_band_reaches_the_outer_edge_of_the_farthest_inaccurate_ring():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.0, 1.0, 4000)
    labels = (p >= 0.5).astype(int)
    near = np.abs(p - 0.5) < 0.12  # within 0.12 of the threshold: verdicts are coin flips
    labels[near] = rng.integers(0, 2, int(near.sum()))
    assert uncertain_margin(labels, p, 0.5) == round(3 * RING_WIDTH, 4)  # rings 0-0.05, 0.05-0.10, 0.10-0.15
    labels[(p < 0.5) & ~near] = 1  # every confident "real" verdict wrong: only the band below grows
    assert uncertain_margin(labels, p, 0.5, side=1) == round(3 * RING_WIDTH, 4)
    assert uncertain_margin(labels, p, 0.5, side=-1) == 0.5


def test_rings_with_too_few_images_do_not_count():
    p = np.array([0.52] * (MIN_RING_IMAGES - 1) + [0.9] * 50)
    labels = np.array([0] * (MIN_RING_IMAGES - 1) + [1] * 50)  # the near ones all wrong, but few
    assert uncertain_margin(labels, p, 0.5) == 0.0


class _FlagsGreyCrops:
    """A stand-in network on pixel crops: p_fake 0.9 for a crop whose three channels are equal."""

    input = ["pixels"]

    def __call__(self, inputs, training=False):
        crops = inputs["pixels"]
        grey = (crops[..., 0] == crops[..., 1]).all(axis=(1, 2)) & (crops[..., 1] == crops[..., 2]).all(axis=(1, 2))
        return np.where(grey, 0.9, 0.1)[:, None]


def test_validation_reals_are_scored_after_each_stress_step(tmp_path):
    pytest.importorskip("tensorflow")  # training.pipeline's skip log
    from PIL import Image

    from deepfake_dct.detector.images import InputPolicy
    from deepfake_dct.detector.model_file import ModelSpec
    from deepfake_dct.training.calibrate import STRESS_STEPS, stressed_reals_flagged
    from deepfake_dct.training.data import Split

    rng = np.random.default_rng(0)
    files = []
    for i, side in enumerate((64, 64, 40)):  # x0.5 leaves the 40-pixel one under a 32x32 crop
        Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(tmp_path / f"r{i}.png")
        files.append(f"r{i}.png")
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(tmp_path / "f.png")
    split = Split(tmp_path, {"train": [], "val": files + ["f.png"], "test": []},
                  {"train": [], "val": [0, 0, 0, 1], "test": []})
    spec = ModelSpec(InputPolicy(32, 32, mode="tiles", grid=2, jpeg_quality=0), None, representation="pixels")
    flagged = stressed_reals_flagged(_FlagsGreyCrops(), spec, split, 0.5)
    assert list(flagged) == list(STRESS_STEPS) == ["greyscale", "x0.5 resize (area)"]
    assert flagged["greyscale"] == {"flagged": 1.0, "images": 3}  # the reals only, every one made grey
    assert flagged["x0.5 resize (area)"] == {"flagged": 0.0, "images": 2}  # still colour; one too small


class _MeanOfCrops:
    """A stand-in network on pixel crops: each crop's mean brightness as p_fake; counts its calls."""

    input = ["pixels"]

    def __init__(self):
        self.calls = 0

    def __call__(self, inputs, training=False):
        self.calls += 1
        return inputs["pixels"].reshape(len(inputs["pixels"]), -1).mean(axis=1, keepdims=True) / 255.0


def test_images_batched_into_one_call_score_as_each_alone(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")  # training.pipeline's skip log
    from PIL import Image

    from deepfake_dct.detector.images import InputPolicy
    from deepfake_dct.detector.model_file import ModelSpec
    from deepfake_dct.training import calibrate
    from deepfake_dct.training.data import load_rgb
    from deepfake_dct.training.pipeline import SkipLog

    rng = np.random.default_rng(1)
    paths = []
    for i, side in enumerate((64, 40, 20, 96, 33)):  # 4, 1, none (under one crop), 4, 1 crops
        paths.append(tmp_path / f"i{i}.png")
        Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(paths[-1])
    spec = ModelSpec(InputPolicy(32, 32, mode="tiles", grid=2, jpeg_quality=0), None, representation="pixels")
    monkeypatch.setattr(calibrate, "BATCH_CROPS", 5)
    model, skips = _MeanOfCrops(), SkipLog()
    labels, scores = calibrate.predict_images(model, paths, [0, 1, 0, 1, 0], spec, skips)
    alone = [calibrate.score_rgb(_MeanOfCrops(), spec, load_rgb(p)) for i, p in enumerate(paths) if i != 2]
    assert labels.tolist() == [0, 1, 1, 0] and np.allclose(scores, alone, atol=1e-12)
    assert model.calls == 2  # 4+1 crops, then 4+1: two calls for four images
    assert list(skips.reasons) == [str(paths[2])]
