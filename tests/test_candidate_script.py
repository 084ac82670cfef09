"""benchmarks/candidate.sh: a run folder through calibrate, export, bench, evaluate and the rule, in order.

The commands are stand-ins that record their arguments: what is tested is the wiring (which
command gets which run, model file, rule and folders, and that a failing step stops the rest)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "candidate.sh"
STAND_IN = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$CALLS"
if [ "$1 $2" = "analyze calibrate" ] && [ -n "${FAIL_CALIBRATE:-}" ]; then exit 3; fi
if [ "$1" = "export" ]; then mkdir -p "$2/export" && : > "$2/export/model_dynamic.tflite"; fi
exit 0
"""


def _run(tmp_path: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("deepfake-dct", "python"):
        (bin_dir / name).write_text(STAND_IN)
        (bin_dir / name).chmod(0o755)
    data = tmp_path / "data"
    (data / "test" / "real" / "ffhq").mkdir(parents=True)
    (data / "test" / "real" / "ffhq" / "a.png").write_bytes(b"")
    calls = tmp_path / "calls"
    proc = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "run"), str(data), str(tmp_path / "other"),
                           str(tmp_path / "out"), *args], capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls), **env})
    return proc, calls.read_text().splitlines() if calls.exists() else []


def test_each_step_gets_the_run_its_model_file_and_the_rule_in_order(tmp_path):
    proc, calls = _run(tmp_path, "v25", GRID="3")
    assert proc.returncode == 0, proc.stderr
    model = f"{tmp_path}/run/export/model_dynamic.tflite"
    assert calls[0] == f"deepfake-dct analyze calibrate --run {tmp_path}/run --grid 3"
    assert calls[1].startswith(f"deepfake-dct export {tmp_path}/run --variants dynamic --training-data native_v1")
    assert calls[2].endswith(f"bench_detector.py --repeats 100 --threads 1 --model {model}")
    assert calls[3].endswith("bench_detector.py --repeats 100 --threads 1")  # the bundled file, right after
    assert [c.split(" --out ")[-1] for c in calls[4:7]] == [f"{tmp_path}/out/{n}" for n in ("sources", "sources_q75", "invariance")]
    assert all(f"--model {model}" in c for c in calls[4:7])
    assert calls[7].endswith(f"check_rule.py --rule v25 {tmp_path}/out") and len(calls) == 8


def test_a_failing_step_stops_the_rest_with_its_status(tmp_path):
    proc, calls = _run(tmp_path, FAIL_CALIBRATE="1")
    assert proc.returncode == 3 and len(calls) == 1


def test_missing_arguments_print_the_usage(tmp_path):
    proc = subprocess.run(["bash", str(SCRIPT), "run"], capture_output=True, text=True)
    assert proc.returncode != 0 and "usage: candidate.sh RUN DATA OTHER OUT [RULE]" in proc.stderr
