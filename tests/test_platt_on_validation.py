"""benchmarks/platt_on_validation.py: a Platt map fitted on one set of evaluate scores, read on others."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from deepfake_dct.evaluation.metrics import expected_calibration_error

_SPEC = importlib.util.spec_from_file_location(
    "platt_on_validation", Path(__file__).parents[1] / "benchmarks" / "platt_on_validation.py")
platt = importlib.util.module_from_spec(_SPEC)
sys.modules["platt_on_validation"] = platt
_SPEC.loader.exec_module(platt)


def write_scores(path: Path, labels, p_fake) -> Path:
    rows = ["path,label,clean"] + [f"/x/{i}.png,{y},{p:.6f}" for i, (y, p) in enumerate(zip(labels, p_fake))]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_the_fit_recovers_the_map_the_labels_were_drawn_from():
    rng = np.random.default_rng(0)
    z = rng.normal(0.0, 2.0, 20000)
    labels = (rng.random(z.size) < 1 / (1 + np.exp(-(0.5 * z - 1.0)))).astype(int)
    a, b = platt.fit_platt(labels, z)
    assert a == pytest.approx(0.5, abs=0.03) and b == pytest.approx(-1.0, abs=0.05)
    assert platt.log_loss(labels, z, a, b) < platt.log_loss(labels, z, 1.0, 0.0)


def test_scores_over_confident_the_same_way_are_mended_by_a_map_fitted_on_others(tmp_path, capsys):
    rng = np.random.default_rng(1)

    def overconfident(n):  # true probability sigmoid(z / 3), reported as sigmoid(z)
        z = rng.normal(0.0, 3.0, n)
        labels = (rng.random(n) < 1 / (1 + np.exp(-z / 3))).astype(int)
        return labels, 1 / (1 + np.exp(-z))

    fit = write_scores(tmp_path / "fit.csv", *overconfident(4000))
    y, p = overconfident(4000)
    held = write_scores(tmp_path / "held.csv", y, p)
    assert platt.main(["--fit", str(fit), "--score", str(held)]) == 0
    out = capsys.readouterr().out
    before = expected_calibration_error(y, np.round(p, 6))
    assert f"4000 images, ECE {before:.4f} as given" in out
    after = float(out.split("ECE ")[1].split(" as given, ")[1].split(" ")[0])
    assert after < before / 3


def test_unreadable_or_one_class_fit_files_exit_2(tmp_path, capsys):
    (tmp_path / "bad.csv").write_text("not,a\nscores,file\n")
    assert platt.main(["--fit", str(tmp_path / "bad.csv")]) == 2
    assert "not a readable scores.csv" in capsys.readouterr().err
    reals = write_scores(tmp_path / "reals.csv", [0, 0], [0.1, 0.2])
    assert platt.main(["--fit", str(reals)]) == 2
    assert "one class only" in capsys.readouterr().err


def test_a_scores_file_without_a_single_score_exits_2(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("path,label,clean\n")
    fit = write_scores(tmp_path / "fit.csv", [0, 1], [0.2, 0.8])
    for argv in (["--fit", str(empty)], ["--fit", str(fit), "--score", str(empty)]):
        assert platt.main(argv) == 2
        assert "without a single score" in capsys.readouterr().err
