"""``deepfake-dct export`` on the tiny run of tests/conftest.py: its typed options and command line,
the variants, the parity gate against Keras on the held-out split, and the refusal of a variant
over the accuracy limit."""

import argparse
import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from deepfake_dct.cli import main
from deepfake_dct.detector import Detector
from deepfake_dct.export.options import VARIANTS, ExportOptions, add_arguments, options_from_args
from deepfake_dct.training.data import Split


# --- options and command line (no TensorFlow) --------------------------------------------------------

def test_options_module_loads_no_tensorflow():
    code = ("import sys, deepfake_dct.export.options; "
            "print(sorted({'tensorflow', 'keras'} & set(sys.modules)))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"


def test_command_line_defaults_are_the_options_defaults_and_help_shows_each():
    p = argparse.ArgumentParser()
    add_arguments(p)
    assert options_from_args(p.parse_args(["run"])) == ExportOptions()
    assert ExportOptions().variants == VARIANTS
    text = " ".join(p.format_help().split())
    for expected in ("(default: RUN/export)", "(default: float32 float16 dynamic int8)", "(default: 200)",
                     "(default: 0.5)", "(default: where its split.json says)"):
        assert expected in text
    assert text.count("(default: not recorded)") == 3


def test_command_line_parses_every_flag_into_the_options(tmp_path):
    p = argparse.ArgumentParser()
    add_arguments(p)
    args = p.parse_args(["run", "--variants", "int8", "float16", "--data-root", str(tmp_path),
                         "--representative", "10", "--training-data", "faces", "--licence", "CC BY-NC",
                         "--max-accuracy-drop", "1.5"])
    options = options_from_args(args)
    assert options == ExportOptions(variants=("int8", "float16"), data_root=tmp_path, representative=10,
                                    training_data="faces", licence="CC BY-NC", max_accuracy_drop=1.5)
    assert options.card() == {"training_data": "faces", "licence": "CC BY-NC"}


@pytest.mark.parametrize("change, message", [
    ({"variants": ("float32", "int4")}, "Expected variants from"),
    ({"variants": ()}, "Expected variants from"),
    ({"representative": 0}, "at least 1 representative image"),
])
def test_unusable_option_is_a_value_error_naming_it(change, message):
    with pytest.raises(ValueError, match=message):
        ExportOptions(**change)


def test_options_are_frozen_and_an_empty_data_root_is_none():
    assert ExportOptions(data_root="").data_root is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        ExportOptions().representative = 1


def test_cli_unusable_option_or_missing_run_is_one_error_line_and_exit_2(tmp_path, capsys):
    pytest.importorskip("tensorflow")
    assert main(["export", str(tmp_path), "--representative", "0"]) == 2
    assert capsys.readouterr().err.splitlines() == ["ERROR: Expected at least 1 representative image, got 0."]
    assert main(["export", str(tmp_path / "no_run")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("ERROR: ") and "no_run" in err[0]
    assert not (tmp_path / "no_run").exists()  # no export folder made for a run that is not there


def test_cli_without_tensorflow_is_one_error_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "deepfake_dct.export.convert", None)  # import -> ImportError
    assert main(["export", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("ERROR: export needs TensorFlow: pip install")


def test_held_output_drops_chatter_on_success_and_shows_it_all_on_failure(capfd):
    import os
    import warnings

    from deepfake_dct.export.quiet import held_output

    with held_output():
        os.write(1, b"TensorSpec dump\n")
        os.write(2, b"I0000 absl note\n")
        print("Saved artifact at ...")
        warnings.warn("structure of inputs")
    assert capfd.readouterr() == ("", "")

    with pytest.raises(RuntimeError, match="conversion failed"):
        with held_output():
            os.write(2, b"error: op not supported\n")
            print("python said")
            raise RuntimeError("conversion failed")
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == "error: op not supported\npython said\n"


# --- converting the tiny run -------------------------------------------------------------------------

def test_export_int8_and_float_then_runtime_scores_held_out_at_least_90_percent(
    trained_run, tmp_path, capfd
):
    out = tmp_path / "export"
    assert main(["export", str(trained_run), "--out", str(out), "--variants", "float32", "int8"]) == 0
    printed = capfd.readouterr()  # one line per variant; no TensorSpec dumps, warnings or notes
    assert [line.split()[0] for line in printed.out.splitlines()] == ["float32", "int8"]
    assert printed.err == ""
    report = json.loads((out / "export_report.json").read_text())
    assert set(report["variants"]) == {"float32", "int8"}
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


def test_export_writes_exactly_the_variants_asked_with_the_model_card(trained_run, tmp_path):
    from deepfake_dct.export.convert import export

    options = ExportOptions(variants=("float16", "dynamic"), training_data="synthetic noise", limits="tests")
    report = export(trained_run, tmp_path, options)
    assert report == json.loads((tmp_path / "export_report.json").read_text())
    written = sorted(p.name for p in tmp_path.glob("*.tflite"))
    assert written == ["model_dynamic.tflite", "model_float16.tflite"]
    for variant in options.variants:
        assert report["variants"][variant]["passed"]
        assert report["variants"][variant]["file"] == str(tmp_path / f"model_{variant}.tflite")
        with Detector.from_file(tmp_path / f"model_{variant}.tflite") as detector:
            extra = detector.spec.extra
        assert extra["variant"] == variant and extra["training_data"] == "synthetic noise"
        assert extra["limits"] == "tests" and "licence" not in extra


def test_export_refuses_variant_over_accuracy_limit(trained_run, tmp_path, capsys):
    out = tmp_path / "strict"
    code = main(["export", str(trained_run), "--out", str(out), "--variants", "int8",
                 "--max-accuracy-drop", "-1"])
    assert code == 1
    assert not (out / "model_int8.tflite").exists()
    printed = capsys.readouterr()
    assert "FAILED" in printed.out
    advice = printed.err.splitlines()  # says what to do: more held-out images, or the recorded override
    assert len(advice) == 1 and advice[0].startswith("Not written: int8 ")
    assert "train on more images" in advice[0] and "--max-accuracy-drop 0.0" in advice[0]
    report = json.loads((out / "export_report.json").read_text())
    assert report["max_accuracy_drop_pp"] == -1
    refused = report["variants"]["int8"]
    assert refused["passed"] is False and refused["file"] is None



def test_re_embedding_a_spec_replaces_the_old_payload_instead_of_keeping_both(keras, detector, face_like):
    from deepfake_dct.detector import default_model_path
    from deepfake_dct.detector.model_file import read_spec
    from deepfake_dct.export.convert import embed_spec

    original = default_model_path().read_bytes()
    spec = read_spec(original)
    again = bytes(embed_spec(original, dataclasses.replace(spec, threshold=0.25)))
    assert abs(len(again) - len(original)) < 1024  # the 384 KiB statistics are not stored twice
    with Detector(again) as refitted:
        assert refitted.threshold == 0.25
        assert refitted.detect(face_like).p_fake == detector.detect(face_like).p_fake
