"""Training on small synthetic data (tests/conftest.py makes it), its typed options and its command
line. Exporting the trained run is tested in test_export.py."""

import argparse
import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from deepfake_dct.cli import main
from deepfake_dct.detector import Detector
from deepfake_dct.training.data import Split, load_example, make_split
from deepfake_dct.training.options import (TrainOptions, add_arguments, command_line, options_from_args,
                                           recorded_arguments)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    add_arguments(p)
    return p


# --- options and command line (no TensorFlow) --------------------------------------------------------

def test_options_module_loads_no_tensorflow():
    code = ("import sys, deepfake_dct.training.options; "
            "print(sorted({'tensorflow', 'keras'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_command_line_defaults_are_the_options_defaults_and_help_shows_each():
    p = parser()
    assert options_from_args(p.parse_args(["data", "--out", "run"])) == TrainOptions()
    for field in dataclasses.fields(TrainOptions):
        assert p.get_default(field.name) == field.default, field.name
    for action in p._actions:
        if action.option_strings and action.dest not in ("help", "out"):  # --out is required
            assert "(default: " in action.help, action.dest
    text = " ".join(p.format_help().split())
    assert "(default: 60)" in text and "noise, downscale) (default: False) --augment-ops" in text


def test_command_line_flags_parse_back_into_the_same_options():
    overrides = {"arch": "dct_pixel_ensemble", "augment": True, "augment_ops": ("flip", "jpeg"),
                 "jpeg_quality": 0, "split": (0.5, 0.25, 0.25), "lr": 0.01, "max_per_class": None}
    argv = command_line(overrides)
    assert argv[:5] == ["--arch", "dct_pixel_ensemble", "--augment", "--augment-ops", "flip"]
    assert options_from_args(parser().parse_args(["data", "--out", "run", *argv])) == TrainOptions(**overrides)
    assert command_line({"augment": False}) == ["--no-augment"]


def test_the_chain_draws_resize_factors_from_processing_min_scale_up_to_one():
    options = TrainOptions(input_mode="tiles", processing=True, processing_min_scale=0.25)
    assert options.chain().scale_range == (0.25, 1.0)
    assert TrainOptions(input_mode="tiles", processing=True).chain().scale_range == (0.5, 1.0)  # as before
    assert options_from_args(parser().parse_args(["data", "--out", "run", "--processing-min-scale", "0.25"])
                             ).processing_min_scale == 0.25


def test_colour_flag_parses_into_the_options():
    assert options_from_args(parser().parse_args(["data", "--out", "run", "--colour", "luma"])).colour == "luma"
    assert TrainOptions().colour == "rgb"


def test_processing_thumbnail_reaches_the_chain():
    assert TrainOptions(input_mode="tiles", processing=True, processing_thumbnail=0.3).chain().thumbnail_p == 0.3
    assert options_from_args(parser().parse_args(["data", "--out", "run", "--processing-thumbnail", "0.3"])
                             ).processing_thumbnail == 0.3


@pytest.mark.parametrize("change, message", [
    ({"arch": "resnet"}, "Expected arch in"),
    ({"epochs": 0}, "Expected epochs of at least 1"),
    ({"patience": -1}, "Expected patience of at least 0"),
    ({"batch_size": 0}, "Expected batch_size of at least 1"),
    ({"lr": 0.0}, "positive learning rate"),
    ({"lr_schedule": "step"}, "Expected lr_schedule in"),
    ({"split": (0.5, 0.5, 0.5)}, "three positive fractions summing to 1"),
    ({"split": (0.5, 0.5)}, "three positive fractions summing to 1"),
    ({"size": 4}, "input size of at least 8x8"),
    ({"resample": "nearest"}, "Expected resample in"),
    ({"jpeg_quality": 101}, "jpeg_quality in 0..100"),
    ({"augment_ops": ("flip", "rotate")}, "Expected perturbations from"),
    ({"augment_p": 1.5}, "augment_p .a probability. in 0..1"),
    ({"max_per_class": 0}, "max_per_class of at least 1"),
    ({"processing_min_scale": 0.0}, "processing_min_scale .a resize factor. in .0, 1."),
    ({"processing_min_scale": 1.5}, "processing_min_scale .a resize factor. in .0, 1."),
    ({"processing_thumbnail": -0.1}, "processing_thumbnail .a probability. in 0..1"),
    ({"colour": "grey"}, "Expected colour in"),
])
def test_unusable_option_is_a_value_error_naming_it(change, message):
    with pytest.raises(ValueError, match=message):
        TrainOptions(**change)


def test_cosine_schedule_starts_at_lr_and_decays_to_zero_over_the_epochs():
    from deepfake_dct.training.train import learning_rate

    assert learning_rate(TrainOptions(lr=0.01), 10) == 0.01
    schedule = learning_rate(TrainOptions(lr=0.01, lr_schedule="cosine", epochs=3), 10)
    assert float(schedule(0)) == pytest.approx(0.01)
    assert float(schedule(15)) == pytest.approx(0.005)
    assert float(schedule(30)) == pytest.approx(0.0, abs=1e-9)


def test_options_are_frozen_and_sequences_become_tuples():
    options = TrainOptions(split=[0.8, 0.1, 0.1], augment_ops=["flip"], augment=True)
    assert options.split == (0.8, 0.1, 0.1) and options.augmentation().names == ("flip",)
    assert TrainOptions().augmentation() is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.epochs = 1


def test_cli_unusable_option_is_one_error_line_and_exit_2(synthetic_data, tmp_path, capsys):
    assert main(["train", str(synthetic_data), "--out", str(tmp_path / "run"), "--epochs", "0"]) == 2
    assert capsys.readouterr().err.splitlines() == ["ERROR: Expected epochs of at least 1, got 0."]
    assert not (tmp_path / "run").exists()


def test_cli_data_without_a_class_folder_is_one_error_line_and_exit_2_before_tensorflow(tmp_path):
    (tmp_path / "data" / "real").mkdir(parents=True)
    (tmp_path / "data" / "real" / "a.png").write_bytes(b"x")
    code = ("import sys\nfrom deepfake_dct.cli import main\n"
            f"rc = main(['train', {str(tmp_path / 'data')!r}, '--out', {str(tmp_path / 'run')!r}])\n"
            "print(rc, 'tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["2", "False"]  # refused before TensorFlow loads: at once
    fake = tmp_path / "data" / "fake"
    expected = f"ERROR: Expected a folder {fake} (the data root needs real/ and fake/)."
    assert result.stderr.splitlines() == [expected]
    assert not (tmp_path / "run").exists()


def test_cli_architecture_names_match_the_models_module():
    from deepfake_dct.training.models import ARCHITECTURES, ENSEMBLES
    from deepfake_dct.training.options import ARCHITECTURE_NAMES

    assert set(ARCHITECTURE_NAMES) == set(ARCHITECTURES) | set(ENSEMBLES)


# --- the split ---------------------------------------------------------------------------------------

def test_split_is_seeded_stratified_and_disjoint(synthetic_data):
    a, b = make_split(synthetic_data, seed=3), make_split(synthetic_data, seed=3)
    assert a.files == b.files
    sets = [set(a.files[s]) for s in ("train", "val", "test")]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert sum(map(len, sets)) == 181
    for s in ("train", "val", "test"):
        assert set(a.labels[s]) == {0, 1}


def test_split_missing_or_empty_class_folder_is_a_clear_error(tmp_path):
    (tmp_path / "real").mkdir()
    with pytest.raises(ValueError, match="found none"):
        make_split(tmp_path)
    (tmp_path / "real" / "a.png").write_bytes(b"x")
    with pytest.raises(ValueError, match="real/ and fake/"):
        make_split(tmp_path)


# --- training ----------------------------------------------------------------------------------------

def test_train_writes_run_files_and_report(trained_run, synthetic_data, synthetic_size):
    report = json.loads((trained_run / "report.json").read_text())
    for name in ("model.keras", "spec.json", "normalisation.npz", "split.json"):
        assert (trained_run / name).exists()
    expected = TrainOptions(size=synthetic_size, jpeg_quality=0, epochs=25, patience=6)
    assert report["arguments"] == recorded_arguments(synthetic_data, trained_run, expected)
    assert report["skipped"]["count"] == 1 and "corrupt.png" in next(iter(report["skipped"]["files"]))
    assert report["test"]["n"] == len(Split.load(trained_run / "split.json").files["test"]) - (
        "real/corrupt.png" in Split.load(trained_run / "split.json").files["test"])
    assert report["test"]["accuracy"] >= 0.9


def test_training_pipeline_and_runtime_build_identical_inputs(trained_run, synthetic_data, tmp_path):
    """No train/serve skew: the tf.data pipeline, load_example and the runtime's inputs
    (Detector.analyse) agree exactly."""
    from deepfake_dct.export.convert import export
    from deepfake_dct.export.options import ExportOptions
    from deepfake_dct.training.pipeline import make_dataset
    from deepfake_dct.training.rundir import load_spec

    spec = load_spec(trained_run)
    export(trained_run, tmp_path, ExportOptions(variants=("float32",)))
    paths = sorted((synthetic_data / "fake").iterdir())[:4]
    batch_inputs, _, weights = next(iter(make_dataset(paths, [1] * 4, spec, batch_size=4)))
    assert np.asarray(weights).tolist() == [1.0] * 4
    with Detector.from_file(tmp_path / "model_float32.tflite") as detector:
        for i, path in enumerate(paths):
            runtime = detector.analyse(path).inputs["log_dct"][0]
            np.testing.assert_array_equal(runtime, load_example(path, spec)["log_dct"])
            np.testing.assert_array_equal(runtime, np.asarray(batch_inputs["log_dct"][i]))


def test_ensemble_trains_exports_and_runs_with_two_named_inputs(synthetic_data, synthetic_size, tmp_path):
    pytest.importorskip("tensorflow")
    from deepfake_dct.export.convert import export
    from deepfake_dct.export.options import ExportOptions
    from deepfake_dct.training.train import train

    run = tmp_path / "ensemble"
    options = TrainOptions(arch="dct_pixel_ensemble", size=synthetic_size, jpeg_quality=0, epochs=3,
                           patience=2, augment=True, augment_ops=("flip",))
    report = train(synthetic_data, run, options)
    assert report == json.loads((run / "report.json").read_text())
    assert set(report["members"]) == {"dct_cnn", "pixel_net"} and report["representation"] == "log_dct+pixels"
    exported = export(run, None, ExportOptions(variants=("float32", "int8"), max_accuracy_drop=100))
    assert all(v["passed"] for v in exported["variants"].values())
    for variant in ("float32", "int8"):
        with Detector.from_file(run / "export" / f"model_{variant}.tflite") as detector:
            assert detector.spec.input_names == ("log_dct", "pixels")
            image = next((synthetic_data / "fake").iterdir())
            assert set(detector.analyse(image).inputs) == {"log_dct", "pixels"}
            assert 0.0 <= detector.detect(image).p_fake <= 1.0


def test_predict_feeds_each_model_only_its_named_inputs():
    """A regression test: a pixels-only member given both inputs must read 'pixels', not the first."""
    tf = pytest.importorskip("tensorflow")
    import keras

    from deepfake_dct.training.train import predict

    inputs = keras.Input((4, 4, 3), name="pixels")
    model = keras.Model({"pixels": inputs}, keras.layers.GlobalAveragePooling2D()(inputs)[:, :1])
    batch = {"log_dct": tf.zeros((2, 4, 4, 3)), "pixels": tf.ones((2, 4, 4, 3))}
    dataset = tf.data.Dataset.from_tensors((batch, tf.constant([0.0, 1.0]), tf.constant([1.0, 1.0])))
    labels, scores = predict(model, dataset)
    assert labels.tolist() == [0, 1] and scores.tolist() == [1.0, 1.0]


def test_aggregate_images_scores_in_bounded_calls_and_aggregates_per_image(monkeypatch):
    from deepfake_dct.detector.features import Normalisation
    from deepfake_dct.detector.images import InputPolicy
    from deepfake_dct.detector.model_file import ModelSpec
    from deepfake_dct.training import data

    spec = ModelSpec(policy=InputPolicy(8, 8, mode="tiles"), representation="pixels", normalisation=None)
    monkeypatch.setattr(data, "CROPS_PER_CALL", 4)
    calls = []

    def predict_crops(batch):
        calls.append(len(batch["pixels"]))
        return batch["pixels"][:, 0, 0, 0]

    examples = [{"pixels": np.full((n, 8, 8, 3), p, np.float32)} for n, p in ((3, 0.9), (5, 0.2), (2, 0.5))]
    p_fake = data.aggregate_images(predict_crops, examples, spec)
    assert calls == [4, 4, 2]
    assert p_fake == pytest.approx([0.9, 0.2, 0.5])
