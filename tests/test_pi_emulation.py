"""The Raspberry Pi path on emulated 64-bit ARM (tools/pi_emulation.py): its comparison rules on made-up
outputs (fast), and the whole run where this machine can do it (root, mmdebstrap, qemu-user-static;
it registers binfmt_misc itself). A cold run builds the arm64 root filesystem first (minutes); later
runs reuse it from ~/.cache/deepfake-dct/arm64-bookworm."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "pi_emulation.py"


def load_script():
    spec = importlib.util.spec_from_file_location("pi_emulation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


pi = load_script()
STEP = 1 / 255  # an int8 output's p_fake step


def detect_output(*records) -> str:
    return "".join(json.dumps({"path": f"/somewhere/{name}", "label": label, "p_fake": p}) + "\n"
                   for name, label, p in records)


def compare_detect(x86: str, arm: str, rc=(0, 0)):
    check = pi.Check("detect m.tflite", (), "detect", "m.tflite")
    return pi.compare(check, pi.Outcome(rc[0], x86, "", 0.0), pi.Outcome(rc[1], arm, "", 0.0), STEP)


def test_compare_same_verdicts_in_other_folders_match():
    result = compare_detect(detect_output(("a.png", "real", 0.1)), detect_output(("a.png", "real", 0.1)))
    assert result.problems == [] and (result.n, result.identical) == (1, 1)


def test_compare_p_fake_one_step_apart_matches_but_is_not_identical():
    result = compare_detect(detect_output(("a.png", "real", 0.1)), detect_output(("a.png", "real", 0.1 + STEP)))
    assert result.problems == [] and result.identical == 0 and result.max_diff == pytest.approx(STEP)


@pytest.mark.parametrize("arm, rc, says", [
    (detect_output(("a.png", "real", 0.1 + 2 * STEP)), (0, 0), "p_fake"),
    (detect_output(("a.png", "fake", 0.1)), (0, 0), "label"),
    (detect_output(), (0, 0), "records differ"),
    (detect_output(("a.png", "real", 0.1)), (0, 139), "exit status 0 on x86, 139 on arm64"),
])
def test_compare_differences_are_named(arm, rc, says):
    result = compare_detect(detect_output(("a.png", "real", 0.1)), arm, rc)
    assert any(says in problem for problem in result.problems), result.problems


def test_readme_snippet_is_the_python_api_example():
    snippet = pi.readme_snippet()
    assert "from deepfake_dct import Detector" in snippet and 'detector.detect("photo.jpg")' in snippet


@pytest.mark.slow
@pytest.mark.emulation
def test_pi_emulation_install_and_commands_match_x86():
    problem = pi.host_problem()
    if problem:
        pytest.skip(f"arm64 emulation cannot run here: {problem}")
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=1800, check=False)
    print(done.stdout)  # the report, shown with -s or on failure
    assert done.returncode == 0 and "ALL MATCHED" in done.stdout, done.stdout[-6000:] + done.stderr[-3000:]


def test_tolerance_is_the_output_step_or_wider_for_a_float_output_of_int8_weights():
    from deepfake_dct.detector import default_model_path

    models = default_model_path().parent
    assert pi.p_fake_tolerance(models / "thumbnail128.tflite") == pytest.approx(STEP, rel=0.01)  # full int8
    assert pi.p_fake_tolerance(models / "default.tflite") == pi.HYBRID_TOLERANCE  # dynamic-range int8
    assert pi.FLOAT_TOLERANCE < pi.HYBRID_TOLERANCE < STEP
