"""Reconstructed fake twins of the reals (``deepfake-dct dataset twins``): each upsampler builds,
a twin keeps its real's content and compression, and the command writes them where training finds
them."""

import numpy as np
import pytest
from PIL import Image

from helpers import smooth_noise
from deepfake_dct.training import dataset, twins

pytest.importorskip("tensorflow", reason="twins train Keras decoders (.[train])")


@pytest.mark.parametrize("kind", twins.UPSAMPLERS)
def test_each_decoder_keeps_the_size_and_has_its_upsampler(kind):
    model = twins.make_decoder(kind, width=4)
    out = twins.reconstruct(model, np.zeros((48, 32, 3), np.uint8))
    assert out.shape == (48, 32, 3) and out.dtype == np.uint8
    layer_types = {type(layer).__name__ for layer in model.layers}
    expected = {"transposed": "Conv2DTranspose", "nearest": "UpSampling2D", "bilinear": "UpSampling2D",
                "shuffle": "Lambda"}[kind]
    assert expected in layer_types


def test_unknown_upsampler_is_refused():
    with pytest.raises(ValueError, match="upsampler"):
        twins.make_decoder("sinc")


def test_twin_kind_and_window_depend_only_on_the_name(rng, tmp_path):
    rgb = smooth_noise(rng, 300, 200)
    a, b = tmp_path / "a" / "x.jpg", tmp_path / "b" / "x.jpg"
    assert twins.twin_kind(a) == twins.twin_kind(b)
    assert {twins.twin_kind(tmp_path / f"{i}.png") for i in range(40)} == set(twins.UPSAMPLERS)
    window = twins.twin_window(rgb, a, max_side=128)
    np.testing.assert_array_equal(window, twins.twin_window(rgb, b, max_side=128))
    assert window.shape == (128, 128, 3)
    hits = [(y, x) for y in range(0, 300 - 127) for x in range(0, 200 - 127)
            if np.array_equal(rgb[y : y + 128, x : x + 128], window)]
    assert hits and all(y % 16 == 0 and x % 16 == 0 for y, x in hits)


def test_a_twin_of_a_jpeg_keeps_its_tables_and_subsampling_and_of_a_png_stays_lossless(rng, tmp_path):
    rgb = smooth_noise(rng, 64, 64)
    original = tmp_path / "real.jpg"
    Image.fromarray(rgb).save(original, quality=75, subsampling="4:2:0")
    written = twins.save_like(rgb[::-1].copy(), original, tmp_path / "twin")
    with Image.open(original) as a, Image.open(written) as b:
        assert written.suffix == ".jpg" and a.quantization == b.quantization
        assert Image.open(written).layer == a.layer  # same chroma sampling factors
    lossless = tmp_path / "real.png"
    Image.fromarray(rgb).save(lossless)
    written = twins.save_like(rgb, lossless, tmp_path / "twin2")
    assert written.suffix == ".png"
    np.testing.assert_array_equal(np.asarray(Image.open(written)), rgb)


@pytest.mark.slow
def test_dataset_twins_writes_one_labelled_fake_per_real(rng, tmp_path, capsys):
    for split, n in (("train", 6), ("val", 2)):
        folder = tmp_path / split / "real" / "photo"
        folder.mkdir(parents=True)
        for i in range(n):
            Image.fromarray(smooth_noise(rng, 160, 144)).save(folder / f"{split}{i}.png")
    assert dataset.main(["twins", str(tmp_path), "--steps", "3", "--max-side", "128", "--quiet"]) == 0
    written = {split: sorted((tmp_path / split / "fake").rglob("*.png")) for split in ("train", "val")}
    assert [len(written["train"]), len(written["val"])] == [6, 2]
    assert all(p.parent.name.startswith("twin-") for paths in written.values() for p in paths)
    assert all(Image.open(p).size == (128, 128) for p in written["train"])
    assert "reconstruction PSNR" in capsys.readouterr().out and (tmp_path / "twins.json").is_file()
    assert dataset.main(["twins", str(tmp_path / "nothing"), "--steps", "1"]) == 2
