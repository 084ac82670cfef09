"""benchmarks/check_rule.py: v17's shipping rule read off evaluate_native.sh's reports."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location("check_rule", Path(__file__).parents[1] / "benchmarks" / "check_rule.py")
check_rule = importlib.util.module_from_spec(_SPEC)
sys.modules["check_rule"] = check_rule  # dataclasses look their module up there
_SPEC.loader.exec_module(check_rule)


def _real(source, images, flagged):
    return {"class": "real", "source": source, "images": images, "flagged_fake": flagged, "roc_auc_vs_reals": None}


def _fake(source, caught, auc, auc_mean):
    return {"class": "fake", "source": source, "images": 100, "flagged_fake": caught, "roc_auc_vs_reals": auc,
            "roc_auc_real_sources_alike": auc_mean}


def _passing() -> dict[str, dict]:
    """Reports a model passing every line by a margin."""
    reals = [_real("lfw", 1000, 0.005), _real("ffhq-png", 15, 2 / 15), _real("camera", 85, 0.02)]
    stored = {"sources": reals + [_fake("stylegan2", 0.97, 0.998, 0.99), _fake("stylegan3", 0.5, 0.93, 0.84)],
              "clean": {"expected_calibration_error": 0.04},
              "other": [{"source": "drawing", "images": 85, "out_of_scope": 0.95},
                        {"source": "all", "images": 371, "out_of_scope": 0.98}]}
    q75 = {"sources": reals + [_fake("stylegan2", 0.3, 0.96, 0.95), _fake("stylegan3", 0.2, 0.82, 0.8)],
           "clean": {"expected_calibration_error": 0.035}}
    invariance = {"invariance": [
        {"condition": "clean", "reals_flagged": 0.02, "roc_auc": 0.95},
        {"condition": "resize x0.5 bilinear", "reals_flagged": 0.035, "roc_auc": 0.9},
        {"condition": "resize x0.5 nearest + JPEG q75", "reals_flagged": 0.5, "roc_auc": 0.8},  # not a plain resize
        {"condition": "JPEG q75", "reals_flagged": 0.02, "roc_auc": 0.89}]}
    return {"sources": stored, "sources_q75": q75, "invariance": invariance}


def _write(folder: Path, reports: dict[str, dict]) -> Path:
    for name, report in reports.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / "report.json").write_text(json.dumps(report))
    return folder


def test_a_model_inside_every_limit_passes_every_line(tmp_path, capsys):
    assert check_rule.main([str(_write(tmp_path, _passing()))]) == 0
    printed = capsys.readouterr().out
    assert printed.count("PASS  line") == 4 and "every line passes" in printed
    assert "at most 1.5 points" in printed  # the combined condition is not a resize alone
    assert "lossless FFHQ 2 of 15" in printed and "after JPEG q75 0.890" in printed


@pytest.mark.parametrize("change, failing", [
    (lambda r: r["sources"]["sources"][1].update(flagged_fake=5 / 15), "line 2"),        # 5 lossless FFHQ faces
    (lambda r: r["sources"]["sources"][0].update(flagged_fake=0.011), "line 2"),         # all reals over 1%
    (lambda r: r["sources_q75"]["sources"][3].update(flagged_fake=0.09), "line 1"),      # re-saved fakes pass
    (lambda r: r["sources"]["sources"][4].update(roc_auc_real_sources_alike=0.6), "line 3"),
    (lambda r: r["invariance"]["invariance"][1].update(reals_flagged=0.071), "line 4"),  # 5.1 points
    (lambda r: r["sources_q75"]["clean"].update(expected_calibration_error=0.054), "line 4"),
])
def test_one_figure_past_its_limit_fails_that_line_alone(tmp_path, capsys, change, failing):
    reports = copy.deepcopy(_passing())
    change(reports)
    assert check_rule.main([str(_write(tmp_path, reports))]) == 1
    printed = capsys.readouterr().out
    assert printed.count("FAIL  line") == 1 and f"FAIL  {failing}:" in printed
    assert printed.rstrip().endswith(f"the rule fails: {failing}")


def test_a_missing_source_or_report_is_named_with_status_2(tmp_path, capsys):
    reports = _passing()
    reports["sources"]["sources"] = [r for r in reports["sources"]["sources"] if r["source"] != "ffhq-png"]
    assert check_rule.main([str(_write(tmp_path / "a", reports))]) == 2
    assert "no real source named 'ffhq-png'" in capsys.readouterr().err
    del reports["invariance"]
    assert check_rule.main([str(_write(tmp_path / "b", reports))]) == 2
    assert "invariance/report.json: not a readable report" in capsys.readouterr().err


def test_rule_v25_numbers_its_lines_2_to_5_and_holds_the_issue_limits(tmp_path, capsys):
    reports = copy.deepcopy(_passing())
    reports["sources"]["sources"][0].update(flagged_fake=0.03)  # over v17's 1% of all reals, inside the issue's 5%
    folder = str(_write(tmp_path, reports))
    assert check_rule.main([folder]) == 1
    capsys.readouterr()
    assert check_rule.main(["--rule", "v25", folder]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("rule v25") and [f"PASS  line {n}:" in printed for n in (2, 3, 4, 5)] == [True] * 4


@pytest.mark.parametrize("change, failing", [
    (lambda r: r["sources"]["sources"][4].update(roc_auc_vs_reals=0.89), "line 4"),      # StyleGAN3 pooled
    (lambda r: r["sources"]["sources"][3].update(flagged_fake=0.89), "line 2"),          # stored fakes missed
    (lambda r: r["sources"]["sources"][0].update(flagged_fake=0.06), "line 3"),          # all reals over 5%
])
def test_rule_v25_fails_the_line_whose_issue_goal_is_missed(tmp_path, capsys, change, failing):
    reports = copy.deepcopy(_passing())
    change(reports)
    assert check_rule.main(["--rule", "v25", str(_write(tmp_path, reports))]) == 1
    assert capsys.readouterr().out.rstrip().endswith(f"the rule fails: {failing}")


def test_the_share_of_photos_warned_out_of_scope_is_printed_beside_the_rule(tmp_path, capsys):
    reports = copy.deepcopy(_passing())
    for row, warned in zip(reports["sources"]["sources"], (0.1, 0.0, 0.0, 0.0, 0.0)):
        row["out_of_scope"] = warned
    assert check_rule.main([str(_write(tmp_path, reports))]) == 0  # no rule line reads it
    assert "held-out photos warned out of scope 0.077 of 1300 (issue 13: <= 0.05); per source: lfw 0.100" in (
        capsys.readouterr().out)


def test_an_unknown_rule_is_refused_with_status_2(tmp_path, capsys):
    assert check_rule.main(["--rule", "v99", str(_write(tmp_path, _passing()))]) == 2
    assert "invalid choice: 'v99'" in capsys.readouterr().err


def _v26_passing() -> dict[str, dict]:
    """v25's passing reports with what v26 reads besides: SDFD held out, the photos' out-of-scope
    shares, and an ECE inside the bundled file's."""
    reports = copy.deepcopy(_passing())
    for name, caught, auc in (("sources", 0.6, 0.9), ("sources_q75", 0.3, 0.8)):
        reports[name]["sources"].append(_fake("stable-diffusion-2.1", caught, auc, auc))
    for row in reports["sources"]["sources"]:
        row["out_of_scope"] = 0.01
    reports["sources"]["clean"]["expected_calibration_error"] = 0.03
    reports["sources_q75"]["clean"]["expected_calibration_error"] = 0.029
    return reports


def test_rule_v26_adds_the_sdfd_and_photos_warned_lines_7_and_8(tmp_path, capsys):
    assert check_rule.main(["--rule", "v26", str(_write(tmp_path, _v26_passing()))]) == 0
    printed = capsys.readouterr().out
    assert [f"PASS  line {n}:" in printed for n in (2, 3, 4, 5, 7, 8)] == [True] * 6
    assert "SDFD ROC AUC pooled 0.9000 (>= 0.85), caught 0.6000 (>= 0.5); after q75 0.8000" in printed


@pytest.mark.parametrize("change, failing", [
    (lambda r: r["sources"]["sources"][-1].update(flagged_fake=0.4), "line 7"),          # SDFD mostly missed
    (lambda r: r["sources"]["sources"][-1].update(roc_auc_vs_reals=0.84), "line 7"),
    (lambda r: r["sources"]["sources"][0].update(out_of_scope=0.2), "line 8"),           # LFW warned
    (lambda r: r["sources"]["clean"].update(expected_calibration_error=0.033), "line 5"),  # worse than bundled
])
def test_rule_v26_fails_the_line_whose_limit_is_missed(tmp_path, capsys, change, failing):
    reports = _v26_passing()
    change(reports)
    assert check_rule.main(["--rule", "v26", str(_write(tmp_path, reports))]) == 1
    assert capsys.readouterr().out.rstrip().endswith(f"the rule fails: {failing}")


def test_rule_v26_without_sdfd_or_scope_shares_is_status_2(tmp_path, capsys):
    reports = _v26_passing()
    del reports["sources"]["sources"][0]["out_of_scope"]
    assert check_rule.main(["--rule", "v26", str(_write(tmp_path / "a", reports))]) == 2
    assert "no out-of-scope shares" in capsys.readouterr().err
    reports = _passing()
    assert check_rule.main(["--rule", "v26", str(_write(tmp_path / "b", reports))]) == 2
    assert "no fake source named 'stable-diffusion-2.1'" in capsys.readouterr().err
