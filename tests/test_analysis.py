"""Tests of ``analysis``: each function on synthetic input with an answer known in closed form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepfake_dct.analysis import document
from deepfake_dct.analysis.cli import main
from deepfake_dct.analysis.spectra import azimuthal_average, band_means, odd_frequency_share, power_law_slope
from deepfake_dct.analysis.upsampling import downsample2x, upsample2x, upsampling_kernels
from deepfake_dct.detector.features import dct2

ROOT = Path(__file__).resolve().parents[1]
KERNELS = upsampling_kernels(np.random.default_rng(0))


def nearest_neighbour_dct_matrix(n: int) -> np.ndarray:
    """M (2n x n) with DCT(nearest-upsampled x) == M @ DCT(x) in 1-D (orthonormal DCT-II).

    From y[2i] = y[2i + 1] = x[i]: Y[k] = sqrt(2) cos(pi k / 4n) X[k] for k < n, Y[n] = 0, and the
    mirror Y[2n - k] = -sqrt(2) sin(pi k / 4n) X[k] for 0 < k < n.
    """
    m = np.zeros((2 * n, n))
    k = np.arange(n)
    m[k, k] = np.sqrt(2) * np.cos(np.pi * k / (4 * n))
    m[2 * n - k[1:], k[1:]] = -np.sqrt(2) * np.sin(np.pi * k[1:] / (4 * n))
    return m


def upper_half_energy(image: np.ndarray) -> float:
    """Share of the DCT energy where zero insertion puts the mirrored copy: ky or kx >= H/2."""
    power = dct2(image).astype(np.float64) ** 2
    half = image.shape[0] // 2
    return float(1.0 - power[:half, :half].sum() / power.sum())


# --- upsampling ---------------------------------------------------------------------------------


def test_upsample2x_nearest_noise_puts_energy_at_predicted_dct_frequencies():
    n = 16
    noise = np.random.default_rng(1).normal(size=(n, n))
    spectrum = dct2(upsample2x(noise, KERNELS["nearest"]))
    m = nearest_neighbour_dct_matrix(n)
    np.testing.assert_allclose(spectrum, m @ dct2(noise) @ m.T, atol=1e-3)
    # The frequency n, half the new Nyquist, is exactly empty; its mirror images are not.
    assert np.abs(spectrum[n, :]).max() < 1e-3 and np.abs(spectrum[:, n]).max() < 1e-3
    assert np.abs(spectrum[n + 1 :, : n]).mean() > 0.1


@pytest.mark.parametrize("method", ["nearest", "bilinear", "binomial"])
def test_upsample2x_constant_image_keeps_brightness(method):
    out = upsample2x(np.full((6, 7), 42.0), KERNELS[method])
    assert out.shape == (12, 14)
    np.testing.assert_allclose(out, 42.0)


def test_upsample2x_bilinear_interpolates_between_samples():
    x = np.random.default_rng(2).normal(size=(5, 5))
    out = upsample2x(x, KERNELS["bilinear"])
    np.testing.assert_allclose(out[::2, ::2], x)
    np.testing.assert_allclose(out[1:-1:2, ::2], (x[:-1] + x[1:]) / 2)
    np.testing.assert_allclose(out[::2, 1:-1:2], (x[:, :-1] + x[:, 1:]) / 2)


def test_downsample2x_nearest_upsampled_image_returns_original():
    x = np.random.default_rng(3).normal(size=(8, 9))
    np.testing.assert_allclose(downsample2x(upsample2x(x, KERNELS["nearest"])), x)


def test_upsample2x_smoother_filters_leave_less_mirrored_energy():
    # Responses 2cos(w/2), 2cos^2(w/2), 2cos^4(w/2): each filter damps the mirrored copy more.
    noise = np.random.default_rng(4).normal(size=(32, 32))
    shares = [upper_half_energy(upsample2x(noise, KERNELS[m])) for m in ("nearest", "bilinear", "binomial")]
    assert shares[0] > shares[1] > shares[2] > 0


def test_upsample2x_non_2d_input_raises():
    with pytest.raises(ValueError, match="Expected a 2-D image"):
        upsample2x(np.zeros((4, 4, 3)), KERNELS["nearest"])


# --- spectra ------------------------------------------------------------------------------------


def power_law_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """An (n, n) image whose Fourier power falls as 1/f^2 (random phases), made with numpy's FFT,
    independently of the DCT code under test."""
    f = np.hypot(np.fft.fftfreq(n)[:, None], np.fft.rfftfreq(n)[None, :])
    f[0, 0] = 1.0
    spectrum = (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f
    spectrum[0, 0] = 0.0
    return np.fft.irfft2(spectrum, s=(n, n))


def test_azimuthal_average_inverse_square_power_image_follows_inverse_square():
    n, rng = 128, np.random.default_rng(5)
    power = np.mean([dct2(power_law_noise(n, rng)).astype(np.float64) ** 2 for _ in range(8)], axis=0)
    radius, profile = azimuthal_average(power)
    assert power_law_slope(radius, profile, 8, n) == pytest.approx(-2.0, abs=0.1)


def test_azimuthal_average_radius_map_returns_ring_radii():
    h, w = 8, 12
    radius_map = np.hypot(*np.meshgrid(np.arange(h), np.arange(w), indexing="ij"))
    radius, profile = azimuthal_average(radius_map)
    np.testing.assert_array_equal(radius, np.arange(h))  # only rings wholly inside the spectrum
    np.testing.assert_allclose(profile, radius, atol=0.5)


def test_azimuthal_average_3d_input_raises():
    with pytest.raises(ValueError, match=r"Expected an \(H, W\) spectrum"):
        azimuthal_average(np.zeros((4, 4, 3)))


def test_band_means_radius_map_increase_from_low_to_high():
    radius_map = np.hypot(*np.meshgrid(np.arange(64), np.arange(64), indexing="ij")) / 64
    low, middle, high = band_means(radius_map).values()
    assert low < 0.25 <= middle < 0.5 <= high


@pytest.mark.parametrize("axis", [0, 1])
def test_odd_frequency_share_mirror_symmetric_image_is_zero_and_antisymmetric_is_one(axis):
    half = np.random.default_rng(7).normal(size=(16, 8) if axis == 1 else (8, 16))
    mirror = np.flip(half, axis=axis)
    symmetric = np.concatenate([half, mirror], axis=axis)
    antisymmetric = np.concatenate([half, -mirror], axis=axis)
    assert odd_frequency_share(dct2(symmetric) ** 2, axis) == pytest.approx(0.0, abs=1e-6)
    assert odd_frequency_share(dct2(antisymmetric) ** 2, axis) == pytest.approx(1.0, abs=1e-6)


# --- the markdown page --------------------------------------------------------------------------


def test_replace_section_with_markers_replaces_only_the_body():
    begin, end = document.markers("x")
    text = f"intro\n{begin}\nold\n{end}\noutro\n"
    new = document.replace_section(text, "x", "new body")
    assert new == f"intro\n{begin}\nnew body\n{end}\noutro\n"
    assert document.section(new, "x") == "new body"


def test_replace_section_without_markers_raises():
    with pytest.raises(ValueError, match="Expected one pair of markers for 'x'"):
        document.replace_section("no markers here", "x", "body")


# --- the command line ---------------------------------------------------------------------------


def write_images(folder: Path, count: int, seed: int, smooth: bool) -> Path:
    """Small PNGs with a .jpg name (decoding must go by content), smooth or noisy."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        image = rng.integers(0, 256, size=(16, 16, 3)).astype(np.float64)
        if smooth:
            image = np.repeat(np.repeat(image[::4, ::4], 4, 0), 4, 1)
        Image.fromarray(image.astype(np.uint8)).save(folder / f"{i}.jpg", format="PNG")
    return folder


def test_main_spectra_synthetic_folders_writes_figures_and_page(tmp_path, capsys):
    real = write_images(tmp_path / "real", 3, 0, smooth=True)
    fake = write_images(tmp_path / "fake", 3, 1, smooth=False)
    begin, end = document.markers("spectra")
    page = tmp_path / "page.md"
    page.write_text(f"# page\n{begin}\n{end}\n")
    out = tmp_path / "figures"
    code = main(["spectra", "--real", str(real), "--fake", str(fake), "--size", "16",
                 "--out", str(out), "--doc", str(page)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "spectra_channels.png", "spectra_grey.png", "spectra_radial.png"
    ]
    body = document.section(page.read_text(), "spectra")
    assert "on 3 real images" in body and "![spectra_grey](figures/spectra_grey.png)" in body
    # Noise has more high-frequency energy than 4x4 blocks: the measured high band says so.
    high_difference = float(body.split("- as stored: ")[1].split(" / ")[2].split("\n")[0])
    assert high_difference > 0
    assert body in capsys.readouterr().out


def test_main_upsampling_synthetic_folder_writes_figure(tmp_path):
    real = write_images(tmp_path / "real", 2, 0, smooth=False)
    assert main(["upsampling", "--real", str(real), "--size", "16", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "upsampling.png").stat().st_size > 0


def test_main_empty_folder_returns_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["upsampling", "--real", str(tmp_path / "empty"), "--out", str(tmp_path)]) == 2
    assert "ERROR: Expected image files" in capsys.readouterr().err


# --- models (TensorFlow) ------------------------------------------------------------------------


def test_layer_table_every_architecture_totals_equal_count_params(keras):
    from deepfake_dct.analysis.architecture import layer_table
    from deepfake_dct.training.models import ARCHITECTURES

    for name, (build, _) in ARCHITECTURES.items():
        model = build((32, 32, 3))
        assert sum(row.params for row in layer_table(model)) == model.count_params(), name


def test_layer_table_dct_cnn_counts_receptive_field_and_macs(keras):
    from deepfake_dct.analysis.architecture import WHOLE_INPUT, layer_table
    from deepfake_dct.training.models import make_dct_cnn

    rows = layer_table(make_dct_cnn((128, 128, 3)))
    fields = [row.receptive_field for row in rows]
    # conv3 -> pool2 -> conv3 -> pool2 -> conv3: 3, 3+1, 4+2*2, 8+2, 10+2*4; then everything.
    assert fields == [(1, 1), (3, 3), (4, 4), (8, 8), (10, 10), (18, 18), WHOLE_INPUT, WHOLE_INPUT]
    assert rows[1].macs == 128 * 128 * 8 * (3 * 3 * 3)
    assert rows[-1].macs == 32 * 32 * 32


def test_architecture_section_of_page_matches_models(keras):
    from deepfake_dct.analysis.architecture import architectures_markdown
    from deepfake_dct.training.models import ARCHITECTURES

    page = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert document.section(page, "architecture") == architectures_markdown(ARCHITECTURES).strip(), (
        "docs/ARCHITECTURE.md is stale: run `deepfake-dct analyze architecture --doc docs/ARCHITECTURE.md`"
    )


def test_linear_weight_map_logistic_model_returns_weights_in_input_layout(keras):
    from deepfake_dct.analysis.saliency import linear_weight_map
    from deepfake_dct.training.models import make_logistic_dct

    model = make_logistic_dct((8, 8, 3))
    kernel = np.arange(8 * 8 * 3, dtype=np.float32)[:, None]
    model.get_layer("p_fake").set_weights([kernel, np.zeros(1, np.float32)])
    weights = linear_weight_map(model)
    assert weights.shape == (8, 8, 3)
    assert weights[2, 5, 1] == (2 * 8 + 5) * 3 + 1  # Flatten is row-major over (H, W, C)


def test_linear_weight_map_cnn_raises(keras):
    from deepfake_dct.analysis.saliency import linear_weight_map
    from deepfake_dct.training.models import make_dct_cnn

    with pytest.raises(ValueError, match="Expected a linear model"):
        linear_weight_map(make_dct_cnn((16, 16, 3)))


def test_saliency_maps_logistic_model_equals_sigmoid_slope_times_weights(keras, tmp_path):
    from deepfake_dct.analysis.saliency import Run, linear_weight_map, saliency_maps
    from deepfake_dct.detector.features import Normalisation
    from deepfake_dct.detector.images import InputPolicy
    from deepfake_dct.detector.model_file import ModelSpec
    from deepfake_dct.training.data import Split, load_example
    from deepfake_dct.training.models import make_logistic_dct

    model = make_logistic_dct((8, 8, 3))
    rng = np.random.default_rng(6)
    model.get_layer("p_fake").set_weights(
        [rng.normal(scale=0.05, size=(192, 1)).astype(np.float32), np.zeros(1, np.float32)]
    )
    shape = (8, 8, 3)
    spec = ModelSpec(policy=InputPolicy(8, 8),
                     normalisation=Normalisation(np.full(shape, 2.0, np.float32), np.ones(shape, np.float32)))
    paths = []
    for i in range(5):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(rng.integers(0, 256, size=shape).astype(np.uint8)).save(paths[-1])
    split = Split(root=tmp_path, files={"test": [p.name for p in paths]}, labels={"test": [1] * 5})

    result = saliency_maps(Run(model=model, spec=spec, split=split), paths, batch_size=2)

    # For p = sigmoid(w . x + b): dp/dx = p (1 - p) w.
    p = np.array([float(model({"log_dct": load_example(path, spec)["log_dct"][None]})[0, 0]) for path in paths])
    expected = np.mean(p * (1 - p)) * np.abs(linear_weight_map(model))
    np.testing.assert_allclose(result.maps["log_dct"], expected, rtol=1e-4)
    assert result.count == 5 and result.mean_p_fake == pytest.approx(p.mean(), abs=1e-6)
