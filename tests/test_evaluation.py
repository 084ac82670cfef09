"""``deepfake-dct evaluate``: metrics against scikit-learn and hand-computed cases, deterministic
perturbations applied alike to both classes, and smoke runs on a tiny synthetic set made here.

Synthetic "reals" are 1/f noise; "fakes" are 1/f noise at half size, upsampled 2x by nearest neighbour
(the periodic grid GAN upsampling leaves). The bundled model scores them; nothing here needs it to be
right, only to run."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import average_precision_score, confusion_matrix, roc_curve

from deepfake_dct.detector import default_model_path
from deepfake_dct.evaluation import metrics, progress
from deepfake_dct.evaluation import score as score_module
from deepfake_dct.evaluation.cli import build_parser, evaluate, main
from deepfake_dct.evaluation.perturb import CLEAN, COMBINED, ROBUSTNESS, STRENGTHS, Condition
from deepfake_dct.evaluation.report import markdown_table
from deepfake_dct.evaluation.score import (TFLiteModel, folder_items, model_inputs, score, seen_in_training,
                              split_items)
from deepfake_dct.training import metrics as training_metrics
from deepfake_dct.training.data import Split, make_split
from helpers import smooth_noise

SIZE = 128
PER_CLASS = 3


def make_image_folders(root, rng, per_class=PER_CLASS):
    for name in ("real", "fake"):
        (root / name).mkdir(parents=True)
    for i in range(per_class):
        Image.fromarray(smooth_noise(rng, SIZE, SIZE)).save(root / "real" / f"r{i}.png")
        small = Image.fromarray(smooth_noise(rng, SIZE // 2, SIZE // 2))
        small.resize((SIZE, SIZE), Image.Resampling.NEAREST).save(root / "fake" / f"f{i}.jpg", quality=90)
    return root


@pytest.fixture
def data(tmp_path, rng):
    root = make_image_folders(tmp_path / "data", rng)
    (root / "real" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return root


@pytest.fixture
def split_file(tmp_path, rng):
    """A seeded split of 8 images per class, written as a run writes it."""
    root = make_image_folders(tmp_path / "split_data", rng, per_class=8)
    split = make_split(root, seed=0)
    path = tmp_path / "split.json"
    path.write_text(json.dumps(split.to_json()))
    return path


@pytest.fixture(scope="module")
def bundled():
    model = TFLiteModel(default_model_path(), num_threads=1)
    yield model
    model.close()


# --- metrics ---------------------------------------------------------------------------------------

def test_average_precision_random_scores_with_ties_match_sklearn(rng):
    labels = rng.integers(0, 2, 400)
    scores = np.round(rng.uniform(0, 1, 400), 1)  # rounded: many ties
    assert metrics.average_precision(labels, scores) == pytest.approx(
        average_precision_score(labels, scores), abs=1e-12)


def test_average_precision_one_class_raises():
    with pytest.raises(ValueError, match="Expected both classes"):
        metrics.average_precision([0, 0], [0.2, 0.3])


def test_confusion_matrix_at_threshold_matches_sklearn(rng):
    labels = rng.integers(0, 2, 300)
    scores = rng.uniform(0, 1, 300)
    expected = confusion_matrix(labels, (scores >= 0.37).astype(int), labels=[0, 1])
    assert metrics.confusion_matrix(labels, scores, 0.37) == expected.tolist()


def test_expected_calibration_error_hand_computed_case_matches():
    # Two bins of 5: [0, 0.5) holds p=0.1 x4 and 0.3 (mean 0.14, fakes 1/5 = 0.2) -> |0.14 - 0.2| = 0.06;
    # [0.5, 1] holds 0.6, 0.8, 0.8, 1.0, 1.0 (mean 0.84, fakes 4/5) -> 0.04. ECE = 0.5*0.06 + 0.5*0.04.
    labels = [0, 0, 0, 0, 1, 0, 1, 1, 1, 1]
    scores = [0.1, 0.1, 0.1, 0.1, 0.3, 0.6, 0.8, 0.8, 1.0, 1.0]
    assert metrics.expected_calibration_error(labels, scores, n_bins=2) == pytest.approx(0.05)
    bins = metrics.reliability_bins(labels, scores, n_bins=2)
    assert [b["count"] for b in bins] == [5, 5]
    assert bins[1]["mean_p_fake"] == pytest.approx(0.84) and bins[1]["fraction_fake"] == pytest.approx(0.8)


def test_class_balanced_calibration_error_weighs_each_class_half():
    # Reals weigh 0.5/3 each, fakes 0.5/2. Bin [0, 0.5): three reals (0.1, 0.1, 0.4) and a fake (0.4),
    # weight 0.75, mean p (0.1 + 0.1) / 0.75 = 0.2667, fraction fake 0.25 / 0.75 = 0.3333; bin [0.5, 1]:
    # the fake at 0.9, weight 0.25, |0.9 - 1|. ECE = 0.75 * 0.0667 + 0.25 * 0.1 = 0.075 (unweighted: 0.02).
    labels, scores = [0, 0, 0, 1, 1], [0.1, 0.1, 0.4, 0.4, 0.9]
    assert metrics.expected_calibration_error(labels, scores, n_bins=2) == pytest.approx(0.02)
    assert metrics.expected_calibration_error(labels, scores, n_bins=2, class_balanced=True) == pytest.approx(0.075)
    bins = metrics.reliability_bins(labels, scores, n_bins=2, class_balanced=True)
    assert [b["count"] for b in bins] == [4, 1] and [b["weight"] for b in bins] == pytest.approx([0.75, 0.25])


def test_reliability_bins_edges_count_zero_and_one_once():
    bins = metrics.reliability_bins([0, 1, 1, 0], [0.0, 0.1, 1.0, 0.95], n_bins=10)
    assert [b["count"] for b in bins] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert bins[5]["mean_p_fake"] is None


def test_roc_points_match_sklearn_curve_and_area_is_training_auc(rng):
    labels = rng.integers(0, 2, 200)
    scores = np.round(rng.uniform(0, 1, 200), 2)
    fpr, tpr, _ = metrics.roc_points(labels, scores)
    sk_fpr, sk_tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    assert area == pytest.approx(training_metrics.roc_auc(labels, scores), abs=1e-12)


def test_metrics_mismatched_or_bad_labels_raise():
    with pytest.raises(ValueError, match="as many scores as labels"):
        metrics.confusion_matrix([0, 1], [0.5], 0.5)
    with pytest.raises(ValueError, match="labels 0 .real. and 1 .fake."):
        metrics.reliability_bins([0, 2], [0.1, 0.2])


def test_evaluate_reports_summary_plus_new_metrics():
    result = metrics.evaluate([0, 0, 1, 1], [0.1, 0.7, 0.8, 0.9], 0.5)
    assert result["accuracy"] == 0.75 and result["roc_auc"] == 1.0
    assert result["confusion_matrix"] == [[1, 1], [0, 2]]
    assert result["average_precision"] == 1.0 and len(result["reliability"]) == metrics.DEFAULT_BINS


def test_markdown_table_formats_floats_and_blanks():
    assert markdown_table(["a", "b"], [["x", 0.5], ["y", None]]) == (
        "| a | b |\n|---|---|\n| x | 0.5000 |\n| y |  |\n")


# --- perturbations ---------------------------------------------------------------------------------

def test_robustness_matrix_holds_every_strength_of_the_issue_and_sharpening():
    assert STRENGTHS == {"jpeg": (95, 85, 75, 50, 30), "downscale": (0.9, 0.75, 0.5),
                         "blur": (0.5, 1.0, 2.0), "sharpen": (1.0, 2.0), "noise": (2.0, 5.0, 10.0),
                         "crop": (0.9, 0.75)}
    assert ROBUSTNESS[0] is CLEAN and ROBUSTNESS[-1] is COMBINED and len(ROBUSTNESS) == 20
    assert [f for f, _ in COMBINED.steps] == ["crop", "downscale", "blur", "noise", "jpeg"]


def test_every_condition_with_fixed_seed_is_deterministic_and_keeps_shape(face_like):
    for condition in ROBUSTNESS:
        first = condition.apply(face_like, seed=3, key="a.png")
        assert first.dtype == np.uint8 and first.shape == face_like.shape, condition.name
        np.testing.assert_array_equal(first, condition.apply(face_like, seed=3, key="a.png"))


def test_clean_condition_returns_the_image_unchanged(face_like):
    assert CLEAN.apply(face_like, seed=0, key="a.png") is face_like


def test_noise_depends_on_seed_and_image_name_only(face_like):
    noisy = Condition.single("noise", 5.0)
    a = noisy.apply(face_like, seed=1, key="x/a.png")
    noisy.apply(face_like, seed=1, key="x/b.png")  # another image scored in between changes nothing
    np.testing.assert_array_equal(a, noisy.apply(face_like, seed=1, key="x/a.png"))
    assert not np.array_equal(a, noisy.apply(face_like, seed=2, key="x/a.png"))
    assert not np.array_equal(a, noisy.apply(face_like, seed=1, key="x/b.png"))


def test_stronger_perturbation_moves_the_image_further(face_like):
    def damage(family, strength):
        out = Condition.single(family, strength).apply(face_like, seed=0, key="a.png")
        return np.abs(out.astype(float) - face_like).mean()

    for family, strengths in STRENGTHS.items():
        damages = [damage(family, s) for s in strengths]
        assert damages == sorted(damages) and damages[0] > 0, family


def test_sharpening_lifts_the_high_frequencies_that_blur_lowers(face_like):
    from deepfake_dct.detector.features import log_dct

    def high_band(rgb):  # mean log-DCT of the crop's upper half of frequencies, both axes
        spectrum = log_dct(rgb[None, :128, :128])[0].mean(axis=-1)
        return spectrum[64:, 64:].mean()

    sharpened = Condition.single("sharpen", 2.0).apply(face_like, seed=0, key="a.png")
    blurred = Condition.single("blur", 1.0).apply(face_like, seed=0, key="a.png")
    assert high_band(sharpened) > high_band(face_like) > high_band(blurred)


def test_condition_unknown_family_raises():
    with pytest.raises(ValueError, match="Expected a perturbation family"):
        Condition.single("rotate", 10)
    with pytest.raises(ValueError, match="Expected perturbation families"):
        Condition("x", "x", None, (("rotate", 10),))


# --- scoring ---------------------------------------------------------------------------------------

def test_score_same_files_under_both_classes_get_identical_scores_everywhere(tmp_path, rng, bundled):
    """Both classes get the same damage: one set of files filed as real and as fake scores alike."""
    root = make_image_folders(tmp_path, rng, per_class=2)
    for path in (root / "real").iterdir():
        path.rename(root / "fake" / path.name)
    (root / "real").rmdir()
    (root / "fake").rename(root / "both")
    items = folder_items(root / "both", root / "both")
    scores = score(bundled, items, ROBUSTNESS, seed=5, format_jpeg=80, progress=False)
    n = len(items) // 2
    assert scores.p_fake.shape == (len(ROBUSTNESS), 2 * n) and list(scores.labels) == [0] * n + [1] * n
    np.testing.assert_array_equal(scores.p_fake[:, :n], scores.p_fake[:, n:])


def test_model_inputs_are_the_detectors_own_for_a_clean_image(data, bundled):
    path = data / "fake" / "f0.jpg"
    rgb = np.asarray(Image.open(path).convert("RGB"))
    ours = model_inputs(rgb, bundled.spec, CLEAN, "f0.jpg")
    np.testing.assert_array_equal(ours["log_dct"], bundled.detector.analyse(path).inputs["log_dct"])


def test_score_unreadable_file_is_skipped_with_reason(data, bundled):
    scores = score(bundled, folder_items(data / "real", data / "fake"), progress=False)
    assert len(scores.items) == 2 * PER_CLASS
    (path, reason), = scores.skipped.items()
    assert path.endswith("broken.png") and "broken.png" in reason


def test_folder_items_missing_or_empty_folder_raises(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a folder"):
        folder_items(tmp_path / "nope", tmp_path / "empty")
    with pytest.raises(ValueError, match="found none"):
        folder_items(tmp_path / "empty", tmp_path / "empty")


def test_split_items_take_only_the_subset_and_follow_moved_folders(split_file, tmp_path):
    split = Split.load(split_file)
    items = split_items(split_file, "test")
    assert sorted(str(i.path) for i in items) == sorted(str(p) for p in split.paths("test"))
    assert [i.label for i in items] == split.labels["test"]
    moved = tmp_path / "moved"
    (split.root / "real").rename(tmp_path / "real_moved")
    moved_items = split_items(split_file, "test", real=tmp_path / "real_moved", fake=split.root / "fake")
    assert all(i.path.exists() for i in moved_items)
    with pytest.raises(ValueError, match="pass --real and --fake"):
        split_items(split_file, "test", real=moved, fake=moved)
    with pytest.raises(ValueError, match="Expected a subset"):
        split_items(split_file, "holdout")


def test_seen_in_training_counts_train_and_val_files(split_file):
    split = Split.load(split_file)
    everything = folder_items(split.root / "real", split.root / "fake")
    assert seen_in_training(split_file, everything) == len(split.files["train"]) + len(split.files["val"])
    assert seen_in_training(split_file, split_items(split_file, "test")) == 0
    assert seen_in_training(None, everything) is None


# --- the command -----------------------------------------------------------------------------------

def test_evaluate_cli_smoke_writes_report_plots_and_robustness_and_exits_1_for_the_unreadable_file(
    data, tmp_path, capsys
):
    out = tmp_path / "eval"
    code = main(["--model", str(default_model_path()), "--real", str(data / "real"), "--fake",
                 str(data / "fake"), "--robustness", "--jpeg", "90", "--out", str(out), "--no-progress"])
    assert code == 1
    report = json.loads((out / "report.json").read_text())
    assert report["data"]["scored"] == {"real": PER_CLASS, "fake": PER_CLASS}
    assert report["data"]["skipped"]["count"] == 1
    assert report["format_matching"]["jpeg_quality"] == 90
    assert len(report["robustness"]["conditions"]) == len(ROBUSTNESS) - 1
    clean = report["clean"]
    assert sum(map(sum, clean["confusion_matrix"])) == 2 * PER_CLASS
    assert 0.0 <= clean["expected_calibration_error"] <= 1.0 and 0.0 <= clean["average_precision"] <= 1.0
    for name in ("roc.png", "histogram.png", "reliability.png", "robustness.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    table = (out / "robustness.md").read_text()
    assert "| JPEG q30 |" in table and "| combined: " in table
    csv_rows = (out / "scores.csv").read_text().splitlines()
    assert len(csv_rows) == 1 + 2 * PER_CLASS and csv_rows[0].count(",") == 1 + len(ROBUSTNESS)
    balanced = report["calibration"]["expected_calibration_error_balanced"]
    assert 0.0 <= balanced <= 1.0
    printed = capsys.readouterr().out
    assert "ROC AUC" in printed and "skipped 1 unreadable" in printed
    assert f"with the two classes weighing half each {balanced:.4f}" in printed
    bound = report["calibration"]["best_temperature_here"]
    assert bound["expected_calibration_error"] <= min(report["calibration"][k] for k in (
        "expected_calibration_error", "expected_calibration_error_uncalibrated")) + 0.01  # the grid's step
    assert f"on these very images (a bound, not a result): {bound['expected_calibration_error']:.4f}" in printed
    own = report["calibration"]["at_own_base_rate"]  # the bundled file records its calibration's rate
    assert own["base_rate"] == pytest.approx(0.5) and own["calibration_base_rate"] == pytest.approx(127 / 335)
    from deepfake_dct.detector import at_base_rate
    rows = [line.split(",") for line in csv_rows[1:]]
    labels, clean = np.array([int(r[1]) for r in rows]), np.array([float(r[2]) for r in rows])
    assert own["expected_calibration_error"] == pytest.approx(
        metrics.expected_calibration_error(labels, at_base_rate(clean, 127 / 335, 0.5)), abs=1e-4)
    assert f"restated at these images' own base rate (0.5000 fake" in printed
    table = subprocess.run([sys.executable, "benchmarks/ece_at_base_rates.py", str(out)], capture_output=True,
                           text=True, check=True, cwd=Path(__file__).parents[1]).stdout
    assert f"x1 {own['expected_calibration_error']:.4f}" in table and table.count(", x") == 4


def test_ece_at_base_rates_on_a_folder_evaluate_did_not_write_says_so_with_status_2(tmp_path):
    result = subprocess.run([sys.executable, "benchmarks/ece_at_base_rates.py", str(tmp_path)], capture_output=True,
                            text=True, cwd=Path(__file__).parents[1])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"ERROR: {tmp_path}: not a folder `deepfake-dct evaluate --out` wrote")


def test_evaluate_tflite_does_not_import_tensorflow_or_matplotlib_without_out(data):
    code = (
        "import sys\nfrom deepfake_dct.evaluation.cli import main\n"
        f"assert main(['--model', {str(default_model_path())!r}, '--real', {str(data / 'real')!r}, "
        f"'--fake', {str(data / 'fake')!r}, '--no-progress']) == 1\n"  # 1: data holds an unreadable file
        "print('tensorflow' in sys.modules, 'matplotlib' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=str(default_model_path().parents[2]))
    assert result.stdout.strip().splitlines()[-1] == "False False"


@pytest.mark.parametrize("argv, message", [
    (["--compare", "--model", "m.tflite", "--data", "d", "--out", "o"], "without --model"),
    (["--compare", "--data", "d"], "Expected --data and --out"),
    (["--model", "m.tflite", "--real", "r"], "Expected --real and --fake"),
    (["--model", "m.tflite", "--split", "s.json", "--jpeg", "101"], "Expected --jpeg in 0..100"),
])
def test_evaluate_cli_bad_arguments_exit_2_with_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_evaluate_without_model_scores_with_the_bundled_model_as_detect_does(data, capsys):
    args = build_parser().parse_args(["--real", str(data / "real"), "--fake", str(data / "fake"),
                                      "--no-progress"])
    report = evaluate(args, "deepfake-dct evaluate")
    assert report["model"]["path"] == str(default_model_path())
    assert report["data"]["scored"] == {"real": PER_CLASS, "fake": PER_CLASS}
    assert f"model: {default_model_path()}" in capsys.readouterr().out


def test_evaluate_help_shows_every_default():
    for action in build_parser()._actions:
        if action.option_strings and action.dest != "help":
            assert "(default: " in action.help, action.dest


def test_score_off_a_terminal_prints_plain_progress_lines(data, bundled, monkeypatch, capsys):
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(score_module, "CHUNK", 2)
    items = folder_items(data / "real", data / "fake")  # 7 files: 3 + 1 unreadable real, 3 fake

    score(bundled, items, description="scoring")  # progress=None; capsys's stderr is no terminal

    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("scoring: 2/7 images (29%), ") and lines[0].endswith(" s left")
    assert lines[-1].startswith("scoring: 7/7 images (100%), ") and len(lines) == 4
    score(bundled, items, progress=False)
    assert capsys.readouterr().err == ""


def test_score_short_work_off_a_terminal_prints_no_progress(data, bundled, capsys):
    score(bundled, folder_items(data / "real", data / "fake"))
    assert capsys.readouterr().err == ""


def test_evaluate_bad_model_file_exits_2_with_error(data, tmp_path, capsys):
    model = tmp_path / "model.tflite"
    model.write_bytes(b"not a model")
    assert main(["--model", str(model), "--real", str(data / "real"), "--fake", str(data / "fake")]) == 2
    assert "ERROR" in capsys.readouterr().err


def test_evaluate_keras_run_and_its_float32_tflite_score_alike(data, tmp_path):
    pytest.importorskip("tensorflow")
    from deepfake_dct.detector.features import RunningMoments, log_dct
    from deepfake_dct.detector.images import InputPolicy
    from deepfake_dct.detector.model_file import ModelSpec
    from deepfake_dct.export.convert import convert, embed_spec
    from deepfake_dct.training import rundir
    from deepfake_dct.training.models import make_dct_cnn

    run = tmp_path / "run"
    run.mkdir()
    policy = InputPolicy(SIZE, SIZE, "area", 75)
    moments = RunningMoments()
    moments.add(np.stack([log_dct(policy.apply(np.asarray(Image.open(p).convert("RGB"))))
                          for p in sorted((data / "fake").iterdir())]))
    spec = ModelSpec(policy=policy, normalisation=moments.normalisation(), threshold=0.5,
                     architecture="dct_cnn")
    model = make_dct_cnn((SIZE, SIZE, 3))
    model.save(run / rundir.MODEL)
    rundir.save_spec(run, spec)
    (run / "model.tflite").write_bytes(embed_spec(convert(model, "float32"), spec))
    p_fake = {}
    for name, target in (("keras", run), ("tflite", run / "model.tflite")):
        out = tmp_path / name
        assert main(["--model", str(target), "--real", str(data / "real"), "--fake", str(data / "fake"),
                     "--out", str(out), "--no-progress"]) == 1  # 1: data holds an unreadable file
        report = json.loads((out / "report.json").read_text())
        assert report["model"]["kind"] == name
        rows = (out / "scores.csv").read_text().splitlines()[1:]
        p_fake[name] = np.array([float(row.split(",")[-1]) for row in rows])
    np.testing.assert_allclose(p_fake["keras"], p_fake["tflite"], atol=1e-4)


@pytest.mark.slow
def test_compare_trains_exports_tabulates_two_recipes_and_reuses_them(tmp_path, rng, capsys):
    pytest.importorskip("tensorflow")
    data = make_image_folders(tmp_path / "data", rng, per_class=20)
    out = tmp_path / "compare"
    assert main(["--compare", "--data", str(data), "--out", str(out), "--epochs", "1", "--patience", "1",
                 "--recipes", "paper_dct_cnn", "project_default", "--no-progress"]) == 0
    comparison = json.loads((out / "compare.json").read_text())
    assert list(comparison["recipes"]) == ["paper_dct_cnn", "project_default"]
    for name, result in comparison["recipes"].items():
        assert result["test_n"] == comparison["split_counts"]["test"] == 6
        assert len(result["robustness"]) == len(ROBUSTNESS)
        assert set(result["variants"]) == {"float32", "float16", "dynamic", "int8"}
        assert (out / name / "report.json").exists() and (out / name / "robustness.png").exists()
    markdown = (out / "compare.md").read_text()
    assert "| JPEG q50: acc / AUC |" in markdown and "99.07-99.64%" in markdown
    assert (out / "robustness.png").exists() and "wrote" in capsys.readouterr().out
    assert main(["--compare", "--data", str(data), "--out", str(out), "--epochs", "1", "--patience", "1",
                 "--recipes", "paper_dct_cnn", "--reuse", "--no-progress"]) == 0
    assert "paper_dct_cnn: reusing" in capsys.readouterr().out
    again = json.loads((out / "compare.json").read_text())["recipes"]["paper_dct_cnn"]
    first = comparison["recipes"]["paper_dct_cnn"]
    assert again["reused"] and again["training_seconds"] == first["training_seconds"]
    assert again["robustness"] == first["robustness"]
