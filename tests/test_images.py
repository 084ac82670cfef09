import numpy as np
import pytest
from PIL import Image

from deepfake_dct.detector.images import Box, ImageError, ImageTooSmallError, InputPolicy, decode_rgb
from helpers import encode


def test_decode_png_bytes_returns_rgb_uint8(face_like):
    rgb = decode_rgb(encode(Image.fromarray(face_like), "PNG"))
    assert rgb.dtype == np.uint8 and rgb.shape == (128, 128, 3)
    np.testing.assert_array_equal(rgb, face_like)


def test_decode_by_content_ignores_misleading_extension(tmp_path, face_like):
    path = tmp_path / "really_a_png.jpg"
    path.write_bytes(encode(Image.fromarray(face_like), "PNG"))
    np.testing.assert_array_equal(decode_rgb(path), face_like)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGBA", "CMYK", "YCbCr", "I", "F", "I;16"])
def test_decode_every_pillow_mode_gives_rgb(mode, face_like):
    image = Image.fromarray(face_like)
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image.convert("L"), np.uint16) * 257)
        assert image.mode == "I;16"
    else:
        image = image.convert(mode)
    rgb = decode_rgb(image)
    assert rgb.shape == (128, 128, 3) and rgb.dtype == np.uint8


def test_decode_16bit_grey_png_maps_full_range_to_8bit(tmp_path):
    wide = np.array([[0, 65535], [257 * 100, 257 * 200]], dtype=np.uint16)
    path = tmp_path / "wide.png"
    Image.fromarray(wide).save(path)
    rgb = decode_rgb(path)
    np.testing.assert_array_equal(rgb[:, :, 0], [[0, 255], [100, 200]])


def test_decode_transparent_pixels_composite_on_white():
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent black
    rgb = decode_rgb(Image.fromarray(rgba, mode="RGBA"))
    assert (rgb == 255).all()


def test_decode_exif_rotation_is_applied(face_like):
    tall = face_like[:, :64]  # 128 high, 64 wide
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = encode(Image.fromarray(tall), "JPEG", quality=95, exif=exif.tobytes())
    assert decode_rgb(data).shape == (64, 128, 3)


def test_decode_animated_gif_takes_first_frame():
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    rgb = decode_rgb(data)
    assert rgb[0, 0, 0] > 200 and rgb[0, 0, 2] < 50


@pytest.mark.parametrize(
    "data, message",
    [(b"", "empty"), (b"not an image at all", "not an image"), (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not an image|cannot")],
)
def test_decode_bad_bytes_raise_image_error(data, message):
    with pytest.raises(ImageError, match=message):
        decode_rgb(data)


def test_decode_truncated_jpeg_raises_image_error(face_like):
    data = encode(Image.fromarray(face_like), "JPEG", quality=90)
    with pytest.raises(ImageError, match="cannot decode"):
        decode_rgb(data[: len(data) // 2])


def test_decode_decompression_bomb_refused_before_decoding():
    bomb = encode(Image.new("L", (20000, 20000)), "PNG")  # ~ a few hundred KB, 400 MP
    with pytest.raises(ImageError, match="refused before decoding"):
        decode_rgb(bomb, max_pixels=64_000_000)


def test_decode_missing_file_raises_image_error(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        decode_rgb(tmp_path / "missing.png")


def test_decode_oversized_file_refused(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(b"\0" * 2048)
    with pytest.raises(ImageError, match="over the limit"):
        decode_rgb(path, max_file_bytes=1024)


def test_decode_bgr_array_is_reversed_to_rgb():
    bgr = np.zeros((8, 8, 3), np.uint8)
    bgr[..., 0] = 255  # blue in OpenCV order
    assert decode_rgb(bgr, bgr=True)[0, 0].tolist() == [0, 0, 255]


@pytest.mark.parametrize("array", [np.zeros((8, 8), np.float32), np.zeros((8, 8, 2), np.uint8)])
def test_decode_unsupported_array_raises(array):
    with pytest.raises(ImageError, match="Expected"):
        decode_rgb(array)


def test_policy_small_image_is_refused_not_upsampled(face_like):
    with pytest.raises(ImageTooSmallError, match="not upsampled"):
        InputPolicy(128, 128).apply(face_like[:100])


def test_policy_exact_size_is_untouched(face_like):
    np.testing.assert_array_equal(InputPolicy(128, 128).apply(face_like), face_like)


def test_policy_large_image_centre_cropped_then_area_downscaled():
    image = np.zeros((256, 512, 3), np.uint8)
    image[:, 128:384] = 200  # the centre square is uniformly 200
    out = InputPolicy(128, 128, "area").apply(image)
    assert out.shape == (128, 128, 3) and (out == 200).all()


def test_policy_jpeg_step_matches_pillow_encoder(face_like):
    out = InputPolicy(128, 128, jpeg_quality=75).apply(face_like)
    expected = np.asarray(Image.open(__import__("io").BytesIO(encode(Image.fromarray(face_like), "JPEG", quality=75))))
    np.testing.assert_array_equal(out, expected)


def test_policy_invalid_values_raise():
    with pytest.raises(ValueError, match="resample"):
        InputPolicy(resample="magic")
    with pytest.raises(ValueError, match="jpeg_quality"):
        InputPolicy(jpeg_quality=101)


# --- The native-resolution "tiles" policy ----------------------------------------------------------


def test_tiles_policy_grid_is_spread_evenly_and_never_resamples():
    policy = InputPolicy(128, 128, mode="tiles", grid=3)
    rgb = np.arange(480 * 640 * 3, dtype=np.uint32).reshape(480, 640, 3).astype(np.uint8)
    crops, boxes = policy.crops(rgb)
    assert [(b.top, b.left) for b in boxes] == [(t, l) for t in (0, 176, 352) for l in (0, 256, 512)]
    assert crops.shape == (9, 128, 128, 3)
    for crop, b in zip(crops, boxes):
        np.testing.assert_array_equal(crop, rgb[b.top : b.top + 128, b.left : b.left + 128])


def test_tiles_start_on_the_jpeg_colour_block_grid():
    for h, w in ((1024, 1024), (333, 517), (480, 640), (129, 4000)):
        assert all(b.top % 16 == 0 and b.left % 16 == 0 and b.top + 128 <= h and b.left + 128 <= w
                   for b in InputPolicy(mode="tiles", grid=4).boxes(h, w))


def test_tiles_policy_one_centred_tile_where_only_one_fits():
    policy = InputPolicy(128, 128, mode="tiles")
    assert policy.boxes(200, 130) == (Box(32, 0, 128, 128),)
    assert policy.boxes(256, 128) == (Box(0, 0, 128, 128), Box(128, 0, 128, 128))


def test_tiles_policy_smaller_than_one_tile_is_refused():
    with pytest.raises(ImageTooSmallError, match="not upsampled"):
        InputPolicy(128, 128, mode="tiles").crops(np.zeros((127, 500, 3), np.uint8))


def test_tiles_policy_round_trips_through_dict_and_resize_dicts_stay_as_before():
    tiles = InputPolicy(64, 64, mode="tiles", grid=4)
    assert InputPolicy.from_dict(tiles.to_dict()) == tiles
    assert InputPolicy().to_dict() == {"height": 128, "width": 128, "resample": "area", "jpeg_quality": 0}


def test_tiles_policy_has_no_single_fitted_input():
    with pytest.raises(ValueError, match="use crops"):
        InputPolicy(mode="tiles").apply(np.zeros((128, 128, 3), np.uint8))
