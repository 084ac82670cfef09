"""Which files a folder scan picks up: images by extension, or by their first bytes whatever the
extension; everything else skipped."""

import pytest
from PIL import Image

from deepfake_dct.detector.files import count_files, expand_paths, has_image_signature
from helpers import encode


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF"])
def test_every_format_saved_under_another_extension_is_found_by_its_first_bytes(tmp_path, fmt):
    (tmp_path / "photo.dat").write_bytes(encode(Image.new("RGB", (16, 16), (10, 20, 30)), fmt))
    assert [p.name for p in expand_paths([str(tmp_path)])] == ["photo.dat"]


def test_folder_scan_keeps_images_by_extension_or_content_and_skips_the_rest(tmp_path):
    png = encode(Image.new("RGB", (16, 16)), "PNG")
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.png").write_bytes(png)
    (tmp_path / "sub" / "renamed.dat").write_bytes(png)
    (tmp_path / "noext").write_bytes(png)
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")  # an image by name: tried, and said unreadable
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "data.bin").write_bytes(b"RIFF\x00\x00\x00\x00WAVE")  # RIFF, but not WebP
    (tmp_path / "empty.dat").write_bytes(b"")

    found = [p.relative_to(tmp_path).as_posix() for p in expand_paths([str(tmp_path)])]

    assert found == ["a.png", "broken.jpg", "noext", "sub/renamed.dat"]
    assert count_files([str(tmp_path)]) == 7


def test_signature_of_a_missing_file_is_false(tmp_path):
    assert not has_image_signature(tmp_path / "missing.png")


def test_named_files_are_yielded_as_given_whatever_they_hold(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    assert list(expand_paths([str(tmp_path / "notes.txt")])) == [tmp_path / "notes.txt"]
