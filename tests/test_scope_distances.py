"""benchmarks/scope_distances.py: a folder's spectral distances and flat fractions against a model's scope."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

_SPEC = importlib.util.spec_from_file_location("scope_distances", Path(__file__).parents[1] / "benchmarks" / "scope_distances.py")
scope_distances = importlib.util.module_from_spec(_SPEC)
sys.modules["scope_distances"] = scope_distances
_SPEC.loader.exec_module(scope_distances)
DATA = Path(__file__).parent / "data"


def test_a_folder_gets_its_shares_past_each_cut_off_as_detect_warns(tmp_path, capsys):
    from deepfake_dct.detector import Detector

    for name in ("real_ffhq_r1281.png", "fake_stylegan2_f252.jpg"):
        shutil.copy(DATA / name, tmp_path / name)
    flat = np.full((160, 160, 3), 200, np.uint8)
    flat[60:100, 60:100] = 20  # a flat fill: a drawing, as the check sees it
    Image.fromarray(flat).save(tmp_path / "drawing.png")
    (tmp_path / "tiny.png").write_bytes((DATA / "real_ffhq_r1281.png").read_bytes()[:200])  # truncated
    assert scope_distances.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    with Detector.from_file() as detector:
        warned = [detector.detect(tmp_path / n).out_of_scope is not None
                  for n in ("drawing.png", "fake_stylegan2_f252.jpg", "real_ffhq_r1281.png")]
    assert f"{tmp_path}: 3 images (1 unreadable or too small)" in out
    assert f"warned out of scope (either): {np.mean(warned):.3f}" in out and warned[0]


def test_a_folder_without_readable_images_exits_2(tmp_path, capsys):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    assert scope_distances.main([str(tmp_path)]) == 2
    assert "no readable image" in capsys.readouterr().err


def test_one_crop_reads_each_images_centre_tile_alone(tmp_path, capsys):
    import dataclasses

    from deepfake_dct.detector import Detector

    shutil.copy(DATA / "real_ffhq_r1281.png", tmp_path / "face.png")
    assert scope_distances.main([str(tmp_path), "--one-crop"]) == 0
    out = capsys.readouterr().out
    with Detector.from_file() as detector:
        centre = dataclasses.replace(detector.spec.policy, grid=1).crops(detector.decode(tmp_path / "face.png"))[0]
        assert len(centre) == 1
        alone = detector.detect(centre[0]).scope_distance
    assert f"distance median {alone:.2f}," in out


def test_perturb_reads_each_image_after_that_operation(tmp_path, capsys):
    from deepfake_dct.detector import Detector
    from deepfake_dct.training.perturb import blur

    shutil.copy(DATA / "real_ffhq_r1281.png", tmp_path / "face.png")
    assert scope_distances.main([str(tmp_path), "--perturb", "blur:3"]) == 0
    out = capsys.readouterr().out
    with Detector.from_file() as detector:
        blurred = detector.detect(blur(detector.decode(tmp_path / "face.png"), 3.0)).scope_distance
    assert f"distance median {blurred:.2f}," in out
    assert scope_distances.main([str(tmp_path), "--perturb", "melt:3"]) == 2
    assert "--perturb takes OP:STRENGTH" in capsys.readouterr().err


def test_perturb_refuses_a_strength_that_is_not_a_positive_number(tmp_path, capsys):
    shutil.copy(DATA / "real_ffhq_r1281.png", tmp_path / "face.png")
    for bad in ("crop:0", "blur:-1", "sharpen:nan", "jpeg:"):
        assert scope_distances.main([str(tmp_path), "--perturb", bad]) == 2, bad
        assert "STRENGTH a positive number" in capsys.readouterr().err
