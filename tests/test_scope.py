"""The out-of-scope check: spectral profiles, flat fills, the fitted cut-offs, the model file's
record of them, and the warning on a detection."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from helpers import smooth_noise
from deepfake_dct.detector.model_file import ModelFileError, ModelSpec
from deepfake_dct.detector.scope import (BANDS, Scope, band_means, band_weights, fit_scope,
                                         flat_fraction, spectral_profile)


def test_band_weights_average_each_ring_of_coefficients_once():
    w = band_weights(32, 48)
    assert w.shape == (32 * 48, BANDS)
    np.testing.assert_allclose(w.sum(axis=0), 1.0, rtol=1e-5)
    assert np.all((w > 0).sum(axis=1) == 1)  # every coefficient in exactly one band
    assert w[0, 0] > 0 and w[-1, BANDS - 1] > 0  # DC in the first band, the highest in the last


def test_profile_is_the_crops_mean_band_means_whatever_their_number(rng):
    z = rng.standard_normal((5, 32, 32, 3)).astype(np.float32)
    profile = spectral_profile(z)
    assert profile.shape == (3 * BANDS,)
    np.testing.assert_allclose(profile, band_means(z).mean(axis=0))
    np.testing.assert_allclose(profile, spectral_profile(z[::-1]), atol=1e-6)  # crop order is irrelevant
    constant = np.full((4, 32, 32, 3), 2.0, np.float32)
    # One crop or four of the same spectrum: the same profile (a spread would be 0 for one crop alone).
    np.testing.assert_allclose(spectral_profile(constant), spectral_profile(constant[:1]), atol=1e-6)
    np.testing.assert_allclose(spectral_profile(constant), [2.0] * 3 * BANDS, atol=1e-6)


def test_files_fitted_with_the_spread_read_it_as_they_were_fitted(rng):
    z = rng.standard_normal((5, 32, 32, 3)).astype(np.float32)
    old = spectral_profile(z, spread=True)
    np.testing.assert_allclose(old, np.concatenate([band_means(z).mean(axis=0), band_means(z).std(axis=0)]))
    precision = np.diag(rng.uniform(0.5, 2.0, 6 * BANDS))
    scope = Scope.from_json({"mean": [0.0] * 6 * BANDS, "precision": precision.ravel().tolist(),
                             "cutoff": 3.0})  # a file of before 2026-12-03: no "spread", one precision
    assert scope.spread and scope.channels == 3
    assert scope.distance(z) == pytest.approx(np.sqrt(old @ precision @ old))  # whatever the crop count
    assert scope.distance(z[:1]) == pytest.approx(np.sqrt(spectral_profile(z[:1], spread=True) @ precision
                                                          @ spectral_profile(z[:1], spread=True)))


def test_flat_fraction_tells_fills_from_photo_like_noise(rng):
    drawing = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(drawing).rectangle((10, 10, 40, 30), fill=(200, 30, 30))
    assert flat_fraction(np.asarray(drawing)[None]) > 0.8
    assert flat_fraction(smooth_noise(rng, 64, 64)[None]) < 0.05
    assert flat_fraction(np.zeros((2, 16, 16, 3), np.uint8)) == 1.0


def _images(rng, count, crops, between=0.3, within=1.0, values=3 * BANDS):
    """(crops, values) band means of ``count`` images: each image's own mean plus each crop's departure."""
    return [rng.normal(0.0, between, values) + rng.normal(0.0, within, (crops, values)) for _ in range(count)]


def _fitted(rng):
    train = _images(rng, 150, 16) + _images(rng, 50, 1)
    val = _images(rng, 60, 16)
    return fit_scope(train, val, val_flat=np.linspace(0.0, 0.3, 60), quantile=0.9), val


def test_cut_offs_are_the_quantile_of_validation_readings(rng):
    scope, val = _fitted(rng)
    distances = [scope.distance_of_mean(v.mean(axis=0), len(v)) for v in val]
    assert scope.cutoff == pytest.approx(np.quantile(distances, 0.9))
    assert scope.flat_cutoff == pytest.approx(np.quantile(np.linspace(0.0, 0.3, 60), 0.9))


def test_between_and_within_image_covariances_are_recovered(rng):
    scope = fit_scope(_images(rng, 600, 16) + _images(rng, 600, 1), _images(rng, 10, 16), np.zeros(10))
    assert np.diag(scope.within).mean() == pytest.approx(1.0, rel=0.05)
    assert np.diag(scope.between).mean() == pytest.approx(0.3 ** 2, rel=0.2)


def test_one_cut_off_holds_for_images_of_one_crop_and_of_sixteen(rng):
    """The mean of n crops varies as B + W / n: photos of either size are warned about equally
    often, and a shift every crop shares (a blur) stands out more the more crops show it."""
    train, val = _images(rng, 300, 16), _images(rng, 400, 16)
    scope = fit_scope(train, val, np.zeros(400), quantile=0.9)
    one_crop = [scope.distance_of_mean(x.mean(axis=0), 1) for x in _images(rng, 400, 1)]
    assert np.mean(np.asarray(one_crop) > scope.cutoff) == pytest.approx(0.1, abs=0.05)
    shift = np.full(3 * BANDS, 0.5)
    blurred = [[scope.distance_of_mean(x.mean(axis=0) + shift, len(x)) for x in _images(rng, 200, n)] for n in (1, 16)]
    assert np.mean(np.asarray(blurred[1]) > scope.cutoff) > 0.9 > np.mean(np.asarray(blurred[0]) > scope.cutoff) + 0.3


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
    np.testing.assert_allclose(again.between, scope.between, rtol=1e-6)
    np.testing.assert_allclose(again.within, scope.within, rtol=1e-6)
    assert (again.cutoff, again.flat_cutoff, again.spread) == (scope.cutoff, scope.flat_cutoff, False)
    assert "scope" not in ModelSpec(policy=policy, normalisation=normalisation).to_json()
    broken = spec.to_json()
    broken["scope"] = {**broken["scope"], "within": [1.0, 2.0]}
    with pytest.raises(ModelFileError):
        ModelSpec.from_json(broken, normalisation)
    with pytest.raises(ValueError, match="cut-off"):
        Scope(mean=scope.mean, between=scope.between, within=scope.within, cutoff=float("nan"))
    with pytest.raises(ValueError, match="positive definite"):
        Scope(mean=scope.mean, between=-scope.between, within=scope.within, cutoff=1.0)


def test_flat_fraction_is_the_share_of_pixels_whose_3x3_neighbourhood_is_one_colour():
    rng = np.random.default_rng(5)
    for _ in range(50):
        crops = rng.integers(0, rng.integers(1, 4), (2, 12, 10, 3)).astype(np.uint8)
        windows = np.lib.stride_tricks.sliding_window_view(crops, (3, 3), axis=(1, 2))  # (2, 10, 8, 3, 3, 3)
        one_colour = (windows == windows[..., 1:2, 1:2]).all(axis=(-1, -2)).all(axis=-1)
        assert flat_fraction(crops) == pytest.approx(one_colour.mean())


def test_a_runs_scope_is_fitted_on_its_images_crops_as_the_runtime_cuts_them(tmp_path, rng):
    from deepfake_dct.detector.features import Normalisation
    from deepfake_dct.detector.images import InputPolicy, decode_rgb
    from deepfake_dct.training.data import Split
    from deepfake_dct.training.scope import SCOPE_QUANTILE, crop_readings, fit_split_scope

    names = {"train": [], "val": []}
    for split, sides in (("train", [64] * 6 + [40] * 6), ("val", [64] * 4 + [40] * 4)):  # 4 crops or 1
        for i, side in enumerate(sides):
            Image.fromarray(smooth_noise(rng, side, side)).save(tmp_path / f"{split}{i}.png")
            names[split].append(f"{split}{i}.png")
    split = Split(tmp_path, {**names, "test": []}, {"train": [0] * 12, "val": [0] * 8, "test": []})
    spec = ModelSpec(InputPolicy(32, 32, mode="tiles", grid=2, jpeg_quality=0),
                     Normalisation(np.zeros((32, 32, 3), np.float32), np.ones((32, 32, 3), np.float32)))
    train_images, _ = crop_readings(split.paths("train"), spec)
    val_images, val_flat = crop_readings(split.paths("val"), spec)
    assert [len(x) for x in train_images] == [4] * 6 + [1] * 6 and all(x.shape[1] == 3 * BANDS for x in val_images)
    assert val_flat.shape == (8,)  # one flat fraction an image
    scope = fit_split_scope(spec, split)
    assert not scope.spread
    np.testing.assert_allclose(scope.mean, np.mean([x.mean(axis=0) for x in train_images], axis=0))
    distances = [scope.distance_of_mean(x.mean(axis=0), len(x)) for x in val_images]
    assert scope.cutoff == pytest.approx(np.quantile(distances, SCOPE_QUANTILE))
    one_crop = spec.policy.crops(decode_rgb(split.paths("val")[-1]))[0]
    assert len(one_crop) == 1  # read at run time under B + W, as it was when the cut-off was set
    assert scope.distance(spec.make_inputs(one_crop)["log_dct"]) == pytest.approx(distances[-1])
