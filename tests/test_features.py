import numpy as np
import pytest
import scipy.fft
from PIL import Image

from deepfake_dct.detector.features import (Normalisation, RunningMoments, channels, dct2, dct_matrix,
                                            in_colour, log_dct, luma)


@pytest.mark.parametrize("shape", [(128, 128, 3), (64, 96, 3), (32, 32)])
def test_dct2_unit_range_matches_scipy_within_1e4(rng, shape):
    x = rng.uniform(0, 1, shape)
    expected = scipy.fft.dctn(x, axes=(0, 1), norm="ortho")
    np.testing.assert_allclose(dct2(x), expected, atol=1e-4)


def test_dct2_pixel_range_matches_scipy_to_float32_precision(face_like):
    x = face_like.astype(np.float64)
    expected = scipy.fft.dctn(x, axes=(0, 1), norm="ortho")
    assert np.max(np.abs(dct2(x) - expected)) <= 2e-7 * np.max(np.abs(expected))


def test_dct_matrix_is_orthonormal():
    d = dct_matrix(50)
    np.testing.assert_allclose(d @ d.T, np.eye(50), atol=1e-12)


def test_dct2_wrong_rank_raises():
    with pytest.raises(ValueError, match="Expected an"):
        dct2(np.zeros((2, 2, 2, 2, 2)))


def test_dct2_batch_equals_each_image_alone(rng):
    batch = rng.uniform(0, 255, (3, 16, 24, 3))
    np.testing.assert_allclose(dct2(batch), np.stack([dct2(x) for x in batch]), rtol=1e-5, atol=1e-3)


def test_log_dct_constant_image_puts_energy_in_dc_only():
    spectrum = log_dct(np.full((16, 16, 3), 100, np.uint8), eps=1.0)
    assert spectrum[0, 0, 0] == pytest.approx(np.log(1600 + 1.0), rel=1e-5)
    assert np.allclose(spectrum[1:, :, :], 0.0, atol=1e-4)


def test_running_moments_batches_match_numpy(rng):
    data = rng.normal(3.0, 2.0, (100, 4, 4, 3))
    moments = RunningMoments()
    for chunk in np.array_split(data, 7):
        moments.add(chunk)
    norm = moments.normalisation()
    np.testing.assert_allclose(norm.mean, data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(norm.std, data.std(0, ddof=1), rtol=1e-5)


def test_normalisation_wrong_shape_raises():
    norm = Normalisation(mean=np.zeros((8, 8, 3), np.float32), std=np.ones((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="Expected a log-DCT of shape"):
        norm.apply(np.zeros((4, 4, 3), np.float32))


def test_normalisation_zero_std_is_rejected():
    with pytest.raises(ValueError, match="std > 0"):
        Normalisation(mean=np.zeros((1, 1, 1), np.float32), std=np.zeros((1, 1, 1), np.float32))


def test_luma_is_pillows_greyscale_and_a_greyscale_copy_keeps_it_exactly(rng):
    rgb = rng.integers(0, 256, (2, 24, 40, 3), dtype=np.uint8)
    grey = np.stack([np.asarray(Image.fromarray(x).convert("L")) for x in rgb])
    assert luma(rgb).shape == (2, 24, 40, 1) and luma(rgb).dtype == np.uint8
    np.testing.assert_array_equal(luma(rgb)[..., 0], grey)
    np.testing.assert_array_equal(luma(np.repeat(grey[..., None], 3, axis=-1)), luma(rgb))
    np.testing.assert_array_equal(luma(np.full((1, 1, 3), 255, np.uint8)), [[[255]]])


def test_in_colour_keeps_rgb_as_it_is_and_refuses_what_it_cannot_read(rng):
    rgb = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    assert in_colour(rgb, "rgb") is rgb and in_colour(rgb, "luma").shape == (8, 8, 1)
    assert channels("rgb") == 3 and channels("luma") == 1
    with pytest.raises(ValueError, match="colour"):
        channels("cmyk")
    with pytest.raises(ValueError, match="uint8 RGB"):
        luma(rgb.astype(np.float32))
    with pytest.raises(ValueError, match="uint8 RGB"):
        luma(rgb[..., :2])
