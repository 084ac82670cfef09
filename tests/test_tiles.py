"""Native-resolution ("tiles") models end to end: crops sampled for training, a pre-split folder,
train -> export -> the runtime, and that training and the runtime build identical inputs."""

import json

import numpy as np
import pytest
from PIL import Image

from helpers import TILE, smooth_noise, trained_tiles_run
from deepfake_dct.detector.images import InputPolicy
from deepfake_dct.training.data import is_presplit, make_split
from deepfake_dct.training.perturb import NO_PROCESSING, ProcessingChain
from deepfake_dct.training.tiles import crop_rng, sample_crops


def test_sample_crops_without_processing_are_windows_of_the_image(rng):
    rgb = rng.integers(0, 256, (100, 90, 3), dtype=np.uint8)
    policy = InputPolicy(TILE, TILE, mode="tiles")
    crops = sample_crops(rgb, policy, 6, np.random.default_rng(0), NO_PROCESSING)
    assert crops.shape == (6, TILE, TILE, 3)
    for crop in crops:  # each crop occurs somewhere in the image, pixel for pixel
        hits = [(y, x) for y in range(100 - TILE + 1) for x in range(90 - TILE + 1)
                if np.array_equal(rgb[y : y + TILE, x : x + TILE], crop)]
        assert hits


def test_sample_crops_are_a_function_of_seed_and_name_only(rng):
    rgb = smooth_noise(rng, 200, 200)
    policy, chain = InputPolicy(TILE, TILE, mode="tiles"), ProcessingChain(resize_p=1.0, jpeg_p=1.0)
    a = sample_crops(rgb, policy, 3, crop_rng(0, "x.png"), chain)
    b = sample_crops(rgb, policy, 3, crop_rng(0, "x.png"), chain)
    c = sample_crops(rgb, policy, 3, crop_rng(0, "y.png"), chain)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sample_crops_never_upsample_an_image_that_a_resize_would_make_too_small(rng):
    rgb = smooth_noise(rng, TILE + 2, TILE + 2)
    chain = ProcessingChain(resize_p=1.0, scale_range=(0.5, 0.5))
    crops = sample_crops(rgb, InputPolicy(TILE, TILE, mode="tiles"), 4, np.random.default_rng(0), chain)
    assert crops.shape == (4, TILE, TILE, 3)


def test_processing_chain_draws_never_depend_on_anything_but_the_generator():
    chain = ProcessingChain(resize_p=0.5, blur_p=0.5, noise_p=0.5, jpeg_p=0.5)
    draws = [chain.draw(np.random.default_rng(s)) for s in range(200)]
    assert draws == [chain.draw(np.random.default_rng(s)) for s in range(200)]
    names = {step[0] for d in draws for step in d}
    assert {"jpeg", "blur", "noise"} <= names and {n for n in names if n.startswith("resize-")} == {
        f"resize-{f}" for f in ("nearest", "bilinear", "bicubic", "lanczos", "area")}
    assert all(s <= 1.0 for d in draws for name, s in d if name.startswith("resize-"))


def test_processing_chain_refuses_upsampling_and_unknown_filters():
    with pytest.raises(ValueError, match="scale"):
        ProcessingChain(scale_range=(0.5, 1.5))
    with pytest.raises(ValueError, match="filters"):
        ProcessingChain(filters=("sinc",))


def test_presplit_folder_keeps_its_own_split(presplit_data):
    assert is_presplit(presplit_data)
    split = make_split(presplit_data)
    assert {s: len(f) for s, f in split.files.items()} == {"train": 80, "val": 24, "test": 24}
    assert all(f.startswith("test/") for f in split.files["test"])
    assert split.labels["test"].count(1) == 12


@pytest.fixture(scope="module")
def tiles_run(presplit_data, tmp_path_factory):
    return trained_tiles_run(presplit_data, tmp_path_factory.mktemp("tiles_run"))


@pytest.mark.slow
def test_tiles_model_trains_exports_int8_and_the_runtime_batches_its_crops(tiles_run, presplit_data, tmp_path):
    from deepfake_dct.detector import Detector
    from deepfake_dct.export.convert import export
    from deepfake_dct.export.options import ExportOptions

    run, report = tiles_run
    assert report["test"]["n"] == 24 and "grid of native-resolution crops" in report["scored_on"]
    exported = export(run, tmp_path, ExportOptions(variants=("float32", "int8"), max_accuracy_drop=100))
    assert exported["held_out_n"] == 24
    image = presplit_data / "test" / "fake" / "gen" / "f0.png"
    for variant in ("float32", "int8"):
        with Detector.from_file(tmp_path / f"model_{variant}.tflite") as detector:
            assert detector.spec.policy == InputPolicy(TILE, TILE, mode="tiles", grid=2)
            assert detector.spec.output == "logit"  # native_net's sigmoid is left to the runtime
            analysis = detector.analyse(image)
            assert analysis.crops.shape == (4, TILE, TILE, 3)  # 2 x 2 tiles of a 64x96 image
            one_by_one = [detector.predict({k: v[i] for k, v in analysis.inputs.items()}) for i in range(4)]
            np.testing.assert_allclose([c.p_fake for c in analysis.detection.crops], one_by_one, atol=1e-6)
            assert analysis.detection.p_fake == pytest.approx(detector.spec.aggregate(one_by_one))
    float32 = exported["variants"]["float32"]
    assert float32["mean_abs_p_fake_difference"] < 1e-4


@pytest.mark.slow
def test_tiles_training_and_runtime_build_identical_inputs(tiles_run, presplit_data, tmp_path):
    from deepfake_dct.detector import Detector
    from deepfake_dct.export.convert import export
    from deepfake_dct.export.options import ExportOptions
    from deepfake_dct.training import rundir
    from deepfake_dct.training.data import image_inputs

    run, _ = tiles_run
    export(run, tmp_path, ExportOptions(variants=("float32",), max_accuracy_drop=100))
    image = presplit_data / "test" / "real" / "gen" / "r1.png"
    ours = image_inputs(image, rundir.load_spec(run))
    with Detector.from_file(tmp_path / "model_float32.tflite") as detector:
        theirs = detector.analyse(image).inputs
    assert set(ours) == set(theirs) == {"log_dct", "pixels"}
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name])


@pytest.mark.slow
def test_a_luma_run_exports_one_channel_inputs_and_gives_a_greyscale_copy_the_same_verdict(
        presplit_data, tmp_path):
    from deepfake_dct.detector import Detector
    from deepfake_dct.export.convert import export
    from deepfake_dct.export.options import ExportOptions
    from deepfake_dct.training import rundir
    from deepfake_dct.training.data import image_inputs

    run, _ = trained_tiles_run(presplit_data, tmp_path / "run", colour="luma", epochs=1)
    export(run, tmp_path, ExportOptions(variants=("dynamic",), max_accuracy_drop=100))
    image = presplit_data / "test" / "fake" / "gen" / "f1.png"
    grey = tmp_path / "grey.png"
    Image.open(image).convert("L").save(grey)
    ours = image_inputs(image, rundir.load_spec(run))
    with Detector.from_file(tmp_path / "model_dynamic.tflite") as detector:
        assert detector.spec.colour == "luma" and detector.spec.scope.channels == 1
        analysis = detector.analyse(image)
        assert analysis.inputs["log_dct"].shape == (4, TILE, TILE, 1)
        for name in ("log_dct", "pixels"):
            np.testing.assert_array_equal(ours[name], analysis.inputs[name])
        as_grey = detector.detect(grey)
    assert as_grey.p_fake == analysis.detection.p_fake
    assert [c.p_fake for c in as_grey.crops] == [c.p_fake for c in analysis.detection.crops]


def test_history_step_comes_first_and_only_when_asked():
    chain = ProcessingChain(history_p=1.0, resize_p=1.0, jpeg_p=0.0, blur_p=0.0, noise_p=0.0)
    steps = chain.draw(np.random.default_rng(0))
    assert steps[0][0] == "jpeg" and 70 <= steps[0][1] <= 80 and steps[1][0].startswith("resize-")
    plain = ProcessingChain()
    assert [plain.draw(np.random.default_rng(s)) for s in range(20)] == [
        ProcessingChain(history_p=0.0).draw(np.random.default_rng(s)) for s in range(20)]
    with pytest.raises(ValueError, match="history"):
        ProcessingChain(history_range=(80, 70))


def test_greyscale_step_follows_the_history_and_leaves_other_chains_draws_alone(rng):
    chain = ProcessingChain(history_p=1.0, grey_p=1.0, resize_p=1.0, jpeg_p=0.0, blur_p=0.0, noise_p=0.0)
    steps = chain.draw(np.random.default_rng(0))
    assert [s[0] for s in steps[:2]] == ["jpeg", "greyscale"] and steps[2][0].startswith("resize-")
    assert [ProcessingChain().draw(np.random.default_rng(s)) for s in range(20)] == [
        ProcessingChain(grey_p=0.0).draw(np.random.default_rng(s)) for s in range(20)]
    grey = ProcessingChain(grey_p=1.0, resize_p=0.0, jpeg_p=0.0, blur_p=0.0, noise_p=0.0)(
        smooth_noise(rng, 40, 40), np.random.default_rng(0))
    assert grey.shape == (40, 40, 3)
    np.testing.assert_array_equal(grey[..., 0], grey[..., 1])
    np.testing.assert_array_equal(grey[..., 1], grey[..., 2])
    with pytest.raises(ValueError, match="grey_p"):
        ProcessingChain(grey_p=1.5)


def test_thumbnail_look_replaces_the_other_steps_together_and_leaves_other_chains_draws_alone(rng):
    chain = ProcessingChain(thumbnail_p=1.0, history_p=1.0, grey_p=1.0, resize_p=1.0, blur_p=1.0)
    for seed in range(20):
        (resize, scale), grey, (jpeg, quality) = chain.draw(np.random.default_rng(seed))
        assert resize.startswith("resize-") and 0.2 <= scale <= 0.3
        assert grey == ("greyscale", 1.0) and jpeg == "jpeg" and 70 <= quality <= 80
    assert [ProcessingChain().draw(np.random.default_rng(s)) for s in range(20)] == [
        ProcessingChain(thumbnail_p=0.0).draw(np.random.default_rng(s)) for s in range(20)]
    some = [ProcessingChain(thumbnail_p=0.5).draw(np.random.default_rng(s)) for s in range(200)]
    assert 60 < sum(len(d) == 3 and d[1] == ("greyscale", 1.0) for d in some) < 140
    policy = InputPolicy(TILE, TILE, mode="tiles")
    crops = sample_crops(smooth_noise(rng, 8 * TILE, 8 * TILE), policy, 3, np.random.default_rng(0),
                         ProcessingChain(thumbnail_p=1.0))
    assert crops.shape == (3, TILE, TILE, 3)
    np.testing.assert_array_equal(crops[..., 0], crops[..., 2])
    with pytest.raises(ValueError, match="thumbnail_p"):
        ProcessingChain(thumbnail_p=2.0)
    with pytest.raises(ValueError, match="thumbnail_scale_range"):
        ProcessingChain(thumbnail_scale_range=(0.3, 1.5))
    with pytest.raises(ValueError, match="thumbnail_quality_range"):
        ProcessingChain(thumbnail_quality_range=(80, 70))


@pytest.mark.slow
def test_tiles_run_records_its_calibration_and_scope_and_the_exported_model_uses_them(
        tiles_run, presplit_data, tmp_path):
    from PIL import ImageDraw

    from deepfake_dct.detector import Detector
    from deepfake_dct.export.convert import export
    from deepfake_dct.export.options import ExportOptions
    from deepfake_dct.training import rundir
    from deepfake_dct.training.data import Split

    run, report = tiles_run
    spec = rundir.load_spec(run)
    facts = report["calibration"]
    assert facts["temperature"] == spec.temperature and facts["threshold"] == spec.threshold
    assert spec.uncertain_band == tuple(facts["uncertain_band"]) and max(spec.uncertain_band) == facts["uncertain_margin"]
    assert spec.scope is not None and "JPEG q75" in facts["calibration_set"]
    val_labels = Split.load(run / rundir.SPLIT).labels["val"]  # every one scores: none too small
    assert spec.calibration_base_rate == facts["calibration_base_rate"] == pytest.approx(np.mean(val_labels))
    export(run, tmp_path, ExportOptions(variants=("float32",), max_accuracy_drop=100))
    chart = Image.new("RGB", (96, 64), "white")
    ImageDraw.Draw(chart).rectangle((20, 10, 50, 60), fill=(40, 80, 200))
    with Detector.from_file(tmp_path / "model_float32.tflite") as detector:
        assert detector.uncertain_margin == tuple(facts["uncertain_band"])
        warned = detector.detect(np.asarray(chart))
        assert "flat fills" in warned.out_of_scope and warned.flat_fraction > spec.scope.flat_cutoff
        photo_like = detector.detect(presplit_data / "test" / "real" / "gen" / "r0.png")
        assert photo_like.scope_distance is not None and photo_like.flat_fraction < spec.scope.flat_cutoff


@pytest.mark.slow
def test_analyze_calibrate_refits_a_finished_run_at_a_new_grid(tiles_run, tmp_path, capsys):
    import shutil

    from deepfake_dct.cli import main
    from deepfake_dct.training import rundir
    from deepfake_dct.training.data import Split

    run = tmp_path / "run"
    shutil.copytree(tiles_run[0], run)
    assert rundir.load_spec(run).policy.grid == 2
    assert main(["analyze", "calibrate", "--run", str(run), "--grid", "3"]) == 0
    out = capsys.readouterr().out
    assert "(grid 3): validation ROC AUC as stored" in out and "JPEG q75" in out and "held-out test split (n=24)" in out
    spec = rundir.load_spec(run)
    assert spec.policy.grid == 3 and spec.uncertain_band is not None and spec.scope is not None
    assert spec.extra["test"]["threshold"] == spec.threshold and "uncertain_band" not in spec.extra
    report = json.loads((run / rundir.REPORT).read_text())  # says what the spec holds now
    assert report["threshold"] == spec.threshold and report["calibration"]["grid"] == 3
    assert report["test"] == spec.extra["test"]
    assert report["calibration"]["threshold_rule"] == "best balanced accuracy on validation as stored"
    flagged = report["calibration"]["validation_reals_flagged"]
    assert list(flagged) == ["as stored", "JPEG q75", "greyscale", "x0.5 resize (area)"]
    val_reals = int((np.asarray(Split.load(run / rundir.SPLIT).labels["val"]) == 0).sum())
    assert all(f["images"] == val_reals and 0.0 <= f["flagged"] <= 1.0 for f in flagged.values())  # 64x96: x0.5 still fits a 32 crop
    assert f"validation reals flagged: as stored {flagged['as stored']['flagged']:.1%} of {val_reals}" in out
    assert main(["analyze", "calibrate", "--run", str(run), "--max-reals-flagged", "0"]) == 0
    assert "(flags at most 0.0% of the calibration set's reals)" in capsys.readouterr().out
    assert main(["analyze", "calibrate", "--run", str(run), "--max-reals-flagged", "1.5"]) == 2
    assert "ERROR: Expected a share of reals flagged in [0, 1), got 1.5." in capsys.readouterr().err
    assert spec.policy.crops(np.zeros((64, 96, 3), np.uint8))[0].shape[0] == 6  # 2 rows x 3 columns of 32


def test_centre_crops_come_from_the_middle_half_and_the_default_draws_as_before():
    rgb = np.zeros((512, 640, 3), np.uint8)
    rgb[128:384, 160:480] = 200  # the middle half of each side
    policy = InputPolicy(64, 64, mode="tiles", jpeg_quality=0)
    only_centre = ProcessingChain(centre_p=1.0, resize_p=0.0, blur_p=0.0, noise_p=0.0, jpeg_p=0.0)
    crops = sample_crops(rgb, policy, 40, np.random.default_rng(0), only_centre)
    assert (crops == 200).all()
    anywhere = ProcessingChain(resize_p=0.0, blur_p=0.0, noise_p=0.0, jpeg_p=0.0)
    assert (sample_crops(rgb, policy, 40, np.random.default_rng(0), anywhere) == 0).any()
    # centre_p 0 draws no extra number: crops of runs trained before the option replay exactly
    default = ProcessingChain()
    a = sample_crops(rgb, policy, 8, np.random.default_rng(3), default)
    b = sample_crops(rgb, policy, 8, np.random.default_rng(3), ProcessingChain(centre_p=0.0))
    assert np.array_equal(a, b)
