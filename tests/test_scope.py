"""The out-of-scope check: spectral profiles, flat fills, the fitted cut-offs, the model file's
record of them, and the warning on a detection."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from helpers import smooth_noise
from deepfake_dct.detector.model_file import ModelFileError, ModelSpec
from deepfake_dct.detector.scope import (BANDS, Scope, band_weights, fit_scope, flat_fraction,
                                         spectral_profile)


def test_band_weights_average_each_ring_of_coefficients_once():
    w = band_weights(32, 48)
    assert w.shape == (32 * 48, BANDS)
    np.testing.assert_allclose(w.sum(axis=0), 1.0, rtol=1e-5)
    assert np.all((w > 0).sum(axis=1) == 1)  # every coefficient in exactly one band
    assert w[0, 0] > 0 and w[-1, BANDS - 1] > 0  # DC in the first band, the highest in the last


def test_profile_is_band_means_then_their_spread_over_crops(rng):
    z = rng.standard_normal((5, 32, 32, 3)).astype(np.float32)
    profile = spectral_profile(z)
    assert profile.shape == (6 * BANDS,)
    np.testing.assert_allclose(profile, spectral_profile(z[::-1]), atol=1e-6)  # crop order is irrelevant
    constant = np.full((4, 32, 32, 3), 2.0, np.float32)
    np.testing.assert_allclose(spectral_profile(constant), [2.0] * 3 * BANDS + [0.0] * 3 * BANDS, atol=1e-6)


def test_flat_fraction_tells_fills_from_photo_like_noise(rng):
    drawing = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(drawing).rectangle((10, 10, 40, 30), fill=(200, 30, 30))
    assert flat_fraction(np.asarray(drawing)[None]) > 0.8
    assert flat_fraction(smooth_noise(rng, 64, 64)[None]) < 0.05
    assert flat_fraction(np.zeros((2, 16, 16, 3), np.uint8)) == 1.0


def _fitted(rng, n=200):
    train = rng.standard_normal((n, 6 * BANDS))
    val = rng.standard_normal((60, 6 * BANDS))
    return fit_scope(train, val, val_flat=np.linspace(0.0, 0.3, 60), quantile=0.9), val


def test_cut_offs_are_the_quantile_of_validation_readings(rng):
    scope, val = _fitted(rng)
    distances = [np.sqrt((v - scope.mean) @ scope.precision @ (v - scope.mean)) for v in val]
    assert scope.cutoff == pytest.approx(np.quantile(distances, 0.9))
    assert scope.flat_cutoff == pytest.approx(np.quantile(np.linspace(0.0, 0.3, 60), 0.9))


def test_reading_names_why_an_image_is_out_of_scope(rng):
    scope, _ = _fitted(rng)
    noise = smooth_noise(rng, 32, 32)[None]
    in_scope = np.zeros((1, 32, 32, 3), np.float32)  # profile at the training mean (about 0)
    assert scope.read(in_scope, noise).reason is None
    far = np.full((1, 32, 32, 3), -8.0, np.float32)
    reading = scope.read(far, noise)
    assert "spectrum" in reading.reason and reading.distance > scope.cutoff
    flat = np.zeros((1, 32, 32, 3), np.uint8)
    assert "flat fills" in scope.read(in_scope, flat).reason


def test_scope_survives_the_model_files_json_and_bad_ones_are_refused(rng):
    from deepfake_dct.detector.features import Normalisation
    from deepfake_dct.detector.images import InputPolicy

    scope, _ = _fitted(rng)
    policy = InputPolicy(32, 32, mode="tiles")
    normalisation = Normalisation(np.zeros((32, 32, 3), np.float32), np.ones((32, 32, 3), np.float32))
    spec = ModelSpec(policy=policy, normalisation=normalisation, scope=scope)
    again = ModelSpec.from_json(spec.to_json(), normalisation).scope
    np.testing.assert_allclose(again.precision, scope.precision, rtol=1e-6)
    assert (again.cutoff, again.flat_cutoff) == (scope.cutoff, scope.flat_cutoff)
    assert "scope" not in ModelSpec(policy=policy, normalisation=normalisation).to_json()
    broken = spec.to_json()
    broken["scope"] = {**broken["scope"], "precision": [1.0, 2.0]}
    with pytest.raises(ModelFileError):
        ModelSpec.from_json(broken, normalisation)
    with pytest.raises(ValueError, match="cut-off"):
        Scope(mean=scope.mean, precision=scope.precision, cutoff=float("nan"))


def test_flat_fraction_is_the_share_of_pixels_whose_3x3_neighbourhood_is_one_colour():
    rng = np.random.default_rng(5)
    for _ in range(50):
        crops = rng.integers(0, rng.integers(1, 4), (2, 12, 10, 3)).astype(np.uint8)
        windows = np.lib.stride_tricks.sliding_window_view(crops, (3, 3), axis=(1, 2))  # (2, 10, 8, 3, 3, 3)
        one_colour = (windows == windows[..., 1:2, 1:2]).all(axis=(-1, -2)).all(axis=-1)
        assert flat_fraction(crops) == pytest.approx(one_colour.mean())
