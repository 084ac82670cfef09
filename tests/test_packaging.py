"""The package as a user gets it: the wheel built from this tree, installed into a fresh virtual
environment, imported from a folder outside the repository.

The wheel is built from a copy of the working tree (pip builds in place, and setuptools would leave
build/ and an egg-info behind in the repository), in pip's usual isolated build environment, so
it needs the package index for setuptools. It is installed without its dependencies; those come
from this interpreter's site-packages, named in a ``.pth`` file of the new environment. A path line
in a ``.pth`` adds the folder to ``sys.path`` but runs none of the ``.pth`` files inside it, so the
editable install's import hook (which maps ``deepfake_dct`` to this checkout) stays out: what is
imported is the wheel's copy, and the test checks that it is.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from importlib.metadata import distribution
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "tests" / "data" / "real_ffhq_r1281.png"
#: The layer folders at the repository root: importable only as deepfake_dct.<name> once installed.
LAYERS = ("training", "apps", "detector", "export", "evaluation", "analysis")
#: Left out of the copy the wheel is built from: what .gitignore keeps out of the repository.
NOT_SOURCE = (".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", "runs", ".pytest_cache")

#: Run by the new environment's interpreter: argv = image, then the names that must not import.
CHECK = r"""
import json, sys, sysconfig
import deepfake_dct.detector
heavy_after_import = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
import deepfake_dct
from deepfake_dct import Detector, default_model_path
with Detector.from_file() as detector:
    result = detector.detect(sys.argv[1])
missing = {}
for name in sys.argv[2:]:
    try:
        __import__(name)
    except ModuleNotFoundError as e:
        missing[name] = e.name
print(json.dumps({
    "site": sysconfig.get_paths()["purelib"],
    "package": deepfake_dct.__file__,
    "model": str(default_model_path()),
    "label": result.label,
    "p_fake": result.p_fake,
    "heavy_after_import": heavy_after_import,
    "heavy_after_detect": sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")),
    "missing": missing,
    "editable": [m for m in sys.modules if "editable" in m]
                + [repr(f) for f in sys.meta_path if "editable" in repr(f).lower()],
}))
"""


def _run(command: list[str], **kw) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kw)
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def _environment() -> dict[str, str]:
    """This process's environment without what would put anything else on the new one's path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(source)])
    (built,) = (tmp / "dist").glob("deepfake_dct-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The new environment's folder, the wheel in it and this interpreter's packages on its path."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
          str(wheel)], env=_environment())
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     env=_environment()).stdout.strip())
    ours = sysconfig.get_paths()
    folders = dict.fromkeys((ours["purelib"], ours["platlib"]))  # one line each, once
    (site / "dependencies.pth").write_text("".join(f"{folder}\n" for folder in folders))
    return env_dir


@pytest.mark.slow
def test_wheel_top_level_is_only_the_package_and_its_dist_info(wheel):
    with zipfile.ZipFile(wheel) as archive:
        top = {name.split("/")[0] for name in archive.namelist()}
    version = wheel.name.split("-")[1]
    assert top == {"deepfake_dct", f"deepfake_dct-{version}.dist-info"}


@pytest.mark.slow
def test_wheel_holds_the_bundled_models_and_app_samples(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    models = sorted(p.name for p in (ROOT / "detector" / "models").iterdir())
    samples = sorted(p.name for p in (ROOT / "apps" / "samples").iterdir())
    assert any(m.endswith(".tflite") for m in models) and samples
    missing = ({f"deepfake_dct/detector/models/{m}" for m in models}
               | {f"deepfake_dct/apps/samples/{s}" for s in samples}) - names
    assert not missing, sorted(missing)


@pytest.mark.slow
def test_installed_wheel_outside_repo_detects_and_only_deepfake_dct_imports(installed, detector, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _run([str(installed / "bin" / "python"), "-c", CHECK, str(IMAGE), *LAYERS],
                  cwd=elsewhere, env=_environment())
    report = json.loads(result.stdout.splitlines()[-1])

    assert report["editable"] == [], "the editable install's import hook leaked in"
    assert Path(report["package"]).is_relative_to(report["site"]), report["package"]
    assert Path(report["model"]).is_relative_to(report["site"]), report["model"]
    assert report["p_fake"] == pytest.approx(detector.detect(IMAGE).p_fake, abs=1e-6)
    assert report["label"] in ("real", "fake")
    assert report["heavy_after_import"] == report["heavy_after_detect"] == []
    assert report["missing"] == {name: name for name in LAYERS}


@pytest.mark.slow
def test_installed_console_script_detects_json(installed, tmp_path):
    result = _run([str(installed / "bin" / "deepfake-dct"), "detect", "--json", str(IMAGE)],
                  cwd=tmp_path, env=_environment())
    record = json.loads(result.stdout)
    assert record["path"] == str(IMAGE) and record["label"] in ("real", "fake")


def test_console_script_entry_point_is_cli_main():
    import deepfake_dct.cli

    scripts = [e for e in distribution("deepfake-dct").entry_points if e.group == "console_scripts"]
    assert [(e.name, e.value) for e in scripts] == [("deepfake-dct", "deepfake_dct.cli:main")]
    assert scripts[0].load() is deepfake_dct.cli.main
    assert (Path(sysconfig.get_path("scripts")) / "deepfake-dct").is_file()
