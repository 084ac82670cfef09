"""Training -> export -> runtime on small synthetic data the test makes itself.

"Fakes" are made the way the paper explains GAN artifacts arise: a smaller image upsampled 2x by
nearest neighbour or bilinear interpolation, which leaves a periodic grid in the DCT spectrum.
"""

import json

import numpy as np
import pytest
from PIL import Image

from conftest import smooth_noise
from deepfake_dct.detector import Detector
from deepfake_dct.cli import main
from deepfake_dct.training.data import Split, load_example, make_split

SIZE = 32


@pytest.fixture(scope="module")
def synthetic_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    rng = np.random.default_rng(1)
    for label in ("real", "fake"):
        (root / label).mkdir()
    for i in range(90):
        Image.fromarray(smooth_noise(rng, SIZE, SIZE)).save(root / "real" / f"r{i}.png")
        small = Image.fromarray(smooth_noise(rng, SIZE // 2, SIZE // 2))
        resample = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR)[i % 2]
        small.resize((SIZE, SIZE), resample).save(root / "fake" / f"f{i}.png")
    (root / "real" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    return root


@pytest.fixture(scope="module")
def trained_run(synthetic_data, tmp_path_factory):
    pytest.importorskip("tensorflow")
    run = tmp_path_factory.mktemp("run")
    code = main(["train", str(synthetic_data), "--out", str(run), "--arch", "dct_cnn",
                 "--size", str(SIZE), "--jpeg-quality", "0", "--epochs", "25", "--patience", "6"])
    assert code == 0
    return run


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


def test_train_writes_run_files_and_report(trained_run):
    report = json.loads((trained_run / "report.json").read_text())
    for name in ("model.keras", "spec.json", "normalisation.npz", "split.json"):
        assert (trained_run / name).exists()
    assert report["skipped"]["count"] == 1 and "corrupt.png" in next(iter(report["skipped"]["files"]))
    assert report["test"]["n"] == len(Split.load(trained_run / "split.json").files["test"]) - (
        "real/corrupt.png" in Split.load(trained_run / "split.json").files["test"])
    assert report["test"]["accuracy"] >= 0.9


def test_export_int8_and_float_then_runtime_scores_held_out_at_least_90_percent(trained_run, capsys):
    out = trained_run / "export"
    assert main(["export", str(trained_run), "--out", str(out), "--variants", "float32", "int8"]) == 0
    report = json.loads((out / "export_report.json").read_text())
    assert report["variants"]["int8"]["passed"] and report["variants"]["int8"]["accuracy_difference_pp"] <= 0.5
    split = Split.load(trained_run / "split.json")
    for variant in ("float32", "int8"):
        with Detector.from_file(out / f"model_{variant}.tflite") as detector:
            correct = [
                (detector.detect(path).label == ("real", "fake")[label])
                for path, label in zip(split.paths("test"), split.labels["test"])
                if path.name != "corrupt.png"
            ]
        assert np.mean(correct) >= 0.9, variant


def test_training_pipeline_and_runtime_build_identical_inputs(trained_run, synthetic_data):
    """No train/serve skew: the tf.data pipeline, load_example and Detector.preprocess agree exactly."""
    from deepfake_dct.training.pipeline import make_dataset
    from deepfake_dct.training.rundir import load_spec

    spec = load_spec(trained_run)
    paths = sorted((synthetic_data / "fake").iterdir())[:4]
    batch_inputs, _, weights = next(iter(make_dataset(paths, [1] * 4, spec, batch_size=4)))
    assert np.asarray(weights).tolist() == [1.0] * 4
    with Detector.from_file(trained_run / "export" / "model_float32.tflite") as detector:
        for i, path in enumerate(paths):
            runtime = detector.preprocess(path)["log_dct"]
            np.testing.assert_array_equal(runtime, load_example(path, spec)["log_dct"])
            np.testing.assert_array_equal(runtime, np.asarray(batch_inputs["log_dct"][i]))


def test_export_refuses_variant_over_accuracy_limit(trained_run, capsys):
    out = trained_run / "strict"
    code = main(["export", str(trained_run), "--out", str(out), "--variants", "int8",
                 "--max-accuracy-drop", "-1"])
    assert code == 1
    assert not (out / "model_int8.tflite").exists()
    assert "FAILED" in capsys.readouterr().out


def test_ensemble_trains_exports_and_runs_with_two_named_inputs(synthetic_data, tmp_path):
    pytest.importorskip("tensorflow")
    run = tmp_path / "ensemble"
    assert main(["train", str(synthetic_data), "--out", str(run), "--arch", "dct_pixel_ensemble",
                 "--size", str(SIZE), "--jpeg-quality", "0", "--epochs", "3", "--patience", "2",
                 "--augment", "--augment-ops", "flip"]) == 0
    report = json.loads((run / "report.json").read_text())
    assert set(report["members"]) == {"dct_cnn", "pixel_net"} and report["representation"] == "log_dct+pixels"
    assert main(["export", str(run), "--variants", "float32", "int8", "--max-accuracy-drop", "100"]) == 0
    for variant in ("float32", "int8"):
        with Detector.from_file(run / "export" / f"model_{variant}.tflite") as detector:
            assert detector.spec.input_names == ("log_dct", "pixels")
            image = next((synthetic_data / "fake").iterdir())
            assert set(detector.preprocess(image)) == {"log_dct", "pixels"}
            assert 0.0 <= detector.detect(image).p_fake <= 1.0


def test_cli_architecture_names_match_the_models_module():
    from deepfake_dct.training.models import ARCHITECTURES, ENSEMBLES
    from deepfake_dct.training.options import ARCHITECTURE_NAMES

    assert set(ARCHITECTURE_NAMES) == set(ARCHITECTURES) | set(ENSEMBLES)


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
