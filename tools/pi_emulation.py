"""The Raspberry Pi path, run on emulated 64-bit ARM and compared with this machine, number by number.

    sudo .venv/bin/python tools/pi_emulation.py [--cache DIR] [--rebuild] [--frames N]

What it does, in order:

1. Builds an arm64 Debian bookworm root filesystem (Python 3.11, the base of 64-bit Raspberry Pi OS)
   with ``mmdebstrap``, run through ``qemu-aarch64-static`` by the kernel's binfmt_misc, and caches
   it in ``--cache`` (default ``~/.cache/deepfake-dct/arm64-bookworm``): later runs reuse it, and
   pip's download cache inside it.
2. Builds this tree's wheel (``pip wheel --no-deps``) and installs it in a fresh venv inside, with
   the webcam's OpenCV only: ``pip install deepfake_dct-*.whl "opencv-python-headless<5"``, the
   dependencies pinned to the versions this side runs (so that only the CPU differs; ``--no-pin``
   takes what a Pi user gets today). It fails if the install pulled TensorFlow or Keras.
3. Runs the same commands there (the emulated CPU is a Pi 4's Cortex-A72: ``--qemu-cpu``) and here,
   each model in ``detector/models/*.tflite`` by name: ``deepfake-dct detect --json`` on the test
   images and the bundled samples, the README's Python snippet as written, and ``deepfake-dct
   webcam --video ... --no-display`` with ``--roi full`` and ``--roi face`` on a short lossless
   (FFV1) video made here with OpenCV, whose decoded frames are compared too. The same frames as
   MJPG are decoded on both sides for the report only: lossy decoders use other SIMD kernels on
   each CPU, and their pixels may differ.
4. Compares every verdict: the same records, labels, boxes and exit statuses, and each p_fake
   within one step of the model's output quantization (int8 outputs come in steps of 1/256; the
   log-DCT is float32, computed by other SIMD kernels on ARM, and its last bits may move an input
   across an int8 rounding boundary), 5e-4 for a float output of int8 weights (dynamic-range
   models quantize each activation as they run, and the last bit of that rounding differs between
   the two CPUs' kernels), or 1e-5 for a float model. Prints a report and exits 0 only
   when everything matched (1: a mismatch, 2: it could not run, e.g. without root or qemu).

Emulation proves that the Pi install works and gives the same numbers; it says nothing about speed
(qemu runs ARM code some 50x slower than the real thing). Needs root (mmdebstrap, chroot, mounts),
``mmdebstrap``, ``qemu-user-static`` and binfmt_misc (registered by this script when it can):
``apt-get install mmdebstrap qemu-user-static binfmt-support``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = Path.home() / ".cache" / "deepfake-dct" / "arm64-bookworm"
SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
BINFMT = Path("/proc/sys/fs/binfmt_misc")
QEMU_BINFMT_CONF = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")
#: Left out of the copy the wheel is built from (what .gitignore keeps out of the repository).
NOT_SOURCE = (".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", "runs", ".pytest_cache",
              ".hypothesis", ".ruff_cache")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
#: Where this script's files live inside the emulated system (recreated every run).
GUEST = Path("/srv/pi-check")
#: Installed with the wheel and pinned to this side's versions, unless --no-pin.
PINNED = ("numpy", "pillow", "ai-edge-litert", "opencv-python-headless")
#: Distributions the install must not pull (the runtime never needs TensorFlow).
FORBIDDEN = re.compile(r"^(tensorflow|tf[-_]|keras|tensorboard|jax|torch)", re.IGNORECASE)
FLOAT_TOLERANCE = 1e-5
#: Float output, int8 weights: activations quantized at run time, so one last-bit difference in an
#: activation's scale moves its int8 values a step. Seen: up to 2.2e-5 (docs/RASPBERRY_PI.md), then
#: 1.44e-4 on the webcam check's face crops with ai-edge-litert 2.3.0 (2026-12-02), labels equal.
HYBRID_TOLERANCE = 5e-4
JSON_ROUNDING = 1e-6  # detect and webcam print p_fake with 6 decimals


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- can this machine run it? ------------------------------------------------------------------


def host_problem(register: bool = True) -> str | None:
    """None when this machine can run the emulation, else one line saying what is missing. With
    ``register``, mounts binfmt_misc and registers qemu-aarch64 where only that is missing."""
    if sys.platform != "linux":
        return f"needs Linux (binfmt_misc and qemu-user), this is {sys.platform}"
    if os.geteuid() != 0:
        return "needs root (mmdebstrap, chroot and mounts)"
    missing = [name for name in ("mmdebstrap", "qemu-aarch64-static") if shutil.which(name) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (apt-get install mmdebstrap qemu-user-static binfmt-support)"
    if _aarch64_registered():
        return None
    if not register:
        return "qemu-aarch64 is not registered with binfmt_misc"
    why = _register_aarch64()
    return None if _aarch64_registered() else f"cannot register qemu-aarch64 with binfmt_misc ({why})"


def _aarch64_registered() -> bool:
    entry = BINFMT / "qemu-aarch64"
    return entry.is_file() and entry.read_text().startswith("enabled")


def _register_aarch64() -> str:
    if not (BINFMT / "register").exists():
        done = subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"mount binfmt_misc: {done.stderr.strip() or done.returncode}"
    if shutil.which("update-binfmts"):
        done = subprocess.run(["update-binfmts", "--enable", "qemu-aarch64"], capture_output=True, text=True, check=False)
        if done.returncode == 0 and _aarch64_registered():
            return ""
    if QEMU_BINFMT_CONF.is_file():  # systemd's format is the kernel's own register line
        try:
            (BINFMT / "register").write_text(QEMU_BINFMT_CONF.read_text().strip())
        except OSError as e:
            return f"write {BINFMT / 'register'}: {e}"
        return ""
    return f"neither update-binfmts nor {QEMU_BINFMT_CONF} is there"


# --- the emulated system -----------------------------------------------------------------------


def ensure_rootfs(cache: Path, rebuild: bool) -> tuple[Path, float]:
    """The cached arm64 root filesystem (built when missing or made by another recipe) and the
    seconds spent building it (0 when reused)."""
    rootfs, recipe_file = cache / "rootfs", cache / "recipe"
    recipe = ["mmdebstrap", "--arch=arm64", "--variant=apt", f"--include={','.join(PACKAGES)}", SUITE]
    if not rebuild and rootfs.is_dir() and recipe_file.is_file() and recipe_file.read_text() == shlex.join(recipe):
        return rootfs, 0.0
    cache.mkdir(parents=True, exist_ok=True)
    for stale in (rootfs, cache / "rootfs.partial"):
        if stale.exists():
            shutil.rmtree(stale)
    log(f"building the arm64 {SUITE} root filesystem in {rootfs} (a few minutes; cached afterwards)")
    start = time.perf_counter()
    _run([*recipe, str(cache / "rootfs.partial")], "mmdebstrap", timeout=1800)
    (cache / "rootfs.partial").rename(rootfs)
    recipe_file.write_text(shlex.join(recipe))
    return rootfs, time.perf_counter() - start


def _run(argv: list[str], what: str, timeout: float, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kw)
    if done.returncode != 0:
        raise SystemExit(f"ERROR: {what} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def pip_settings(rootfs: Path) -> dict[str, str]:
    """Copies this machine's pip configuration (files, and the CA bundle, constraint files they
    name) to the same paths inside, so that pip there reaches the package index the way pip here
    does; returns the PIP_* environment variables to pass on."""
    env = {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k.lower().endswith("_proxy")}
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "debug"], capture_output=True, text=True, check=False).stdout
    files = {Path(m) for m in re.findall(r"^\s+(/\S+), exists: True", listed, re.MULTILINE)}
    files |= {Path(v.strip("'\"")) for v in re.findall(r"(?:cert|constraint|client-cert)[:=]\s*(\S+)", listed)}
    files |= {Path(v) for k, v in env.items() if k in ("PIP_CERT", "PIP_CONSTRAINT", "PIP_CONFIG_FILE")}
    for path in sorted(files):
        if path.is_file():
            target = rootfs / path.relative_to("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return env


def guest_shell(rootfs: Path, script: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """Runs ``script`` with the guest's /bin/sh, chrooted into ``rootfs`` with /proc and /dev mounted in
    a private mount namespace (the mounts vanish with it, whatever happens). /sys stays out: the
    interpreter's CPU probe (cpuinfo) crashes under qemu on the host's /sys, and without it says
    "Error in cpuinfo: failed to parse ..." on stderr and carries on."""
    r = shlex.quote(str(rootfs))
    outer = (f"set -e; mount -t proc proc {r}/proc; mount --rbind /dev {r}/dev; "
             f"cp /etc/resolv.conf {r}/etc/resolv.conf; exec chroot {r} /bin/sh -c {shlex.quote(script)}")
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "--fork", "sh", "-c", outer],
                          capture_output=True, text=True, timeout=timeout, env=env, check=False)


# --- the checks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One command run on both sides. ``argv`` names files as {work}/... and the program as
    {dfd} (the deepfake-dct command) or {python}; ``kind`` says how its stdout is read."""

    name: str
    argv: tuple[str, ...]
    kind: str  # "detect", "snippet", "frames" or "webcam"
    model: str | None  # file name in detector/models, or None for the default model
    cwd: str = "{work}"
    informative: bool = False  # reported, but a difference does not fail the run


def make_checks(models: list[str], images: list[str]) -> list[Check]:
    checks = []
    for model in models:
        m = f"{{models}}/{model}"
        checks.append(Check(f"detect {model}", ("{dfd}", "detect", "--json", "--model", m,
                                                *(f"{{work}}/inputs/{i}" for i in images)), "detect", model))
    checks.append(Check("README snippet", ("{python}", "{work}/snippet.py"), "snippet", None, "{work}/snippet"))
    checks.append(Check("decoded frames, FFV1 clip", ("{python}", "{work}/frames.py", "{work}/clip.avi"), "frames", None))
    checks.append(Check("decoded frames, MJPG clip", ("{python}", "{work}/frames.py", "{work}/clip-mjpg.avi"),
                        "frames", None, informative=True))
    for model in models:
        for roi in ("full", "face"):
            checks.append(Check(f"webcam {model} --roi {roi}",
                                ("{dfd}", "webcam", "--video", "{work}/clip.avi", "--no-display", "--roi", roi,
                                 "--model", f"{{models}}/{model}"), "webcam", model))
    return checks


def render(check: Check, places: dict[str, str]) -> tuple[list[str], str]:
    argv: list[str] = []
    for arg in check.argv:
        if arg in ("{dfd}", "{python}"):
            argv += shlex.split(places[arg[1:-1]])
        else:
            argv.append(arg.format(**places))
    return argv, check.cwd.format(**places)


def readme_snippet() -> str:
    """The Python block of the README's "Use it from your program", as written."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    return next(b for b in blocks if "from deepfake_dct import Detector" in b)


def make_videos(work: Path, frames: int) -> None:
    """Two 640x480 clips of the same frames: the real sample face, then the fake one, bicubic-upscaled
    to 240x240 and sliding over a blurred-noise scene (Haar finds them; --roi full reads the whole
    frame). clip.avi is FFV1, lossless, so both sides decode the same pixels; clip-mjpg.avi is MJPG,
    whose decoded pixels are only compared for the report (lossy decoders differ between CPUs)."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(40, 220, (480, 640, 3), dtype=np.uint8), (31, 31), 0)
    faces = [cv2.resize(cv2.imread(str(ROOT / "tests" / "data" / name)), (240, 240), interpolation=cv2.INTER_CUBIC)
             for name in ("real_ffhq_r1281.png", "fake_stylegan2_f252.jpg")]
    writers = [cv2.VideoWriter(str(work / name), cv2.VideoWriter_fourcc(*fourcc), 10.0, (640, 480))
               for name, fourcc in (("clip.avi", "FFV1"), ("clip-mjpg.avi", "MJPG"))]
    if not all(w.isOpened() for w in writers):
        raise SystemExit("ERROR: this OpenCV cannot write FFV1 and MJPG videos.")
    for i in range(frames):
        frame = background.copy()
        x = 40 + (i * 320) // max(1, frames - 1)
        frame[120:360, x : x + 240] = faces[i * 2 // frames]
        for writer in writers:
            writer.write(frame)
    for writer in writers:
        writer.release()


#: Run by both sides' Python: one JSON line per decoded frame of the video argv[1].
FRAME_DIGESTS = (
    "import cv2, hashlib, json, sys\n"
    "cap = cv2.VideoCapture(sys.argv[1]); i = 0\n"
    "while True:\n"
    "    ok, f = cap.read()\n"
    "    if not ok: break\n"
    "    print(json.dumps({'frame': i, 'md5': hashlib.md5(f.tobytes()).hexdigest(), 'mean': float(f.mean())})); i += 1\n"
)


def prepare_work(work: Path, wheel: Path, frames: int) -> list[str]:
    """Fills ``work`` with what both sides read: inputs/, the clips, snippet/ (photo.jpg and the README
    snippet), frames.py; returns the input images' names."""
    inputs = work / "inputs"
    inputs.mkdir(parents=True)
    sources = [*sorted((ROOT / "tests" / "data").iterdir()), *sorted((ROOT / "apps" / "samples").iterdir())]
    images = []
    for path in sources:
        if path.suffix.lower() in IMAGE_SUFFIXES:
            shutil.copyfile(path, inputs / path.name)
            images.append(path.name)
    (work / "snippet").mkdir()
    shutil.copyfile(ROOT / "tests" / "data" / "fake_stylegan2_f252.jpg", work / "snippet" / "photo.jpg")
    (work / "snippet.py").write_text(readme_snippet())
    (work / "frames.py").write_text(FRAME_DIGESTS)
    make_videos(work, frames)
    shutil.copyfile(wheel, work / wheel.name)
    return images


def build_wheel(dist: Path) -> Path:
    """This tree's wheel, built from a copy (setuptools would leave build/ and an egg-info here)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source"
        shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
        _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
             "pip wheel", timeout=600)
    (wheel,) = dist.glob("deepfake_dct-*.whl")
    return wheel


def guest_script(checks: list[Check], wheel: str) -> str:
    """The shell script run inside: a fresh venv, the install, then every check, each one's stdout,
    stderr, exit status and seconds written under {work}/out."""
    w = str(GUEST)
    places = {"work": w, "models": "$MODELS", "dfd": f"{w}/venv/bin/deepfake-dct", "python": f"{w}/venv/bin/python"}
    lines = [
        "set -u",
        f"cd {w}",
        "python3 -m venv venv",
        "T0=$(date +%s.%N)",
        (f"venv/bin/pip install -q --progress-bar off --only-binary :all: -c {w}/constraints.txt "
         f"{w}/{wheel} 'opencv-python-headless<5' > out/install.log 2>&1 "
         "|| { echo install failed; tail -30 out/install.log; exit 3; }"),
        "echo $(date +%s.%N) $T0 > out/install.time",
        "venv/bin/python -m pip list --format=json > out/pip-list.json",
        "venv/bin/python -c 'import sys, platform; print(platform.machine(), platform.python_version())' > out/platform",
        ("MODELS=$(venv/bin/python -c 'import deepfake_dct.detector as d, pathlib; "
         "print(pathlib.Path(d.__file__).parent / \"models\")')"),
    ]
    for i, check in enumerate(checks):
        argv, cwd = render(check, places)
        command = " ".join('"$MODELS"' + shlex.quote(a[7:]) if a.startswith("$MODELS") else shlex.quote(a)
                           for a in argv)
        lines += [f"cd {shlex.quote(cwd)}", "T0=$(date +%s.%N)",
                  f"timeout 1200 {command} > {w}/out/{i}.out 2> {w}/out/{i}.err; echo $? > {w}/out/{i}.rc",
                  f"echo $(date +%s.%N) $T0 > {w}/out/{i}.time"]
    return "\n".join(lines) + "\n"


@dataclass
class Outcome:
    rc: int
    stdout: str
    stderr: str
    seconds: float


def run_host(checks: list[Check], work: Path, wheel_dir: Path) -> list[Outcome]:
    """The same checks here, on the wheel's own copy of the package (PYTHONPATH puts it before the
    editable install) and models."""
    env = {**os.environ, "PYTHONPATH": str(wheel_dir)}
    places = {"work": str(work), "models": str(wheel_dir / "deepfake_dct" / "detector" / "models"),
              "dfd": f"{shlex.quote(sys.executable)} -m deepfake_dct", "python": shlex.quote(sys.executable)}
    outcomes = []
    for check in checks:
        argv, cwd = render(check, places)
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200, check=False)
        outcomes.append(Outcome(done.returncode, done.stdout, done.stderr, time.perf_counter() - start))
    return outcomes


def read_guest(out: Path, n: int) -> list[Outcome]:
    outcomes = []
    for i in range(n):
        end, start = (float(v) for v in (out / f"{i}.time").read_text().split())
        outcomes.append(Outcome(int((out / f"{i}.rc").read_text()), (out / f"{i}.out").read_text(),
                                (out / f"{i}.err").read_text(), end - start))
    return outcomes


# --- comparing ------------------------------------------------------------------------------------


def records(check: Check, stdout: str) -> dict[object, dict]:
    """What a check printed, keyed so that both sides' records pair up."""
    if check.kind == "snippet":
        label, p = stdout.split()
        return {"photo.jpg": {"label": label, "p_fake": float(p)}}
    found: dict[object, dict] = {}
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if check.kind == "detect":
            found[Path(r["path"]).name] = {k: r.get(k) for k in ("label", "p_fake", "error")}
        elif check.kind == "frames":
            found[r["frame"]] = {"md5": r["md5"], "mean": r["mean"]}
        else:
            key = (r["frame"], sum(1 for k in found if k[0] == r["frame"]))
            found[key] = {k: r.get(k) for k in ("box", "status", "label", "p_fake", "p_fake_smoothed",
                                                "label_smoothed")}
    return found


def p_fake_tolerance(model: Path) -> float:
    """How far p_fake may move between the two CPUs for this model: one step of a quantized output
    (its scale), :data:`HYBRID_TOLERANCE` for a float output computed with int8 weights (a
    dynamic-range model), else :data:`FLOAT_TOLERANCE`."""
    import numpy as np

    from deepfake_dct.detector import Detector

    with Detector.from_file(model) as detector:
        scale = float(detector.interpreter.get_output_details()[0]["quantization"][0])
        int8_weights = any(t["dtype"] == np.int8 for t in detector.interpreter.get_tensor_details())
    if scale > 0:
        return scale
    return HYBRID_TOLERANCE if int8_weights else FLOAT_TOLERANCE


@dataclass
class Comparison:
    name: str
    n: int
    identical: int
    max_diff: float
    tolerance: float
    problems: list[str]
    x86_s: float
    arm_s: float
    informative: bool = False


def compare(check: Check, x86: Outcome, arm: Outcome, tolerance: float) -> Comparison:
    problems = []
    if x86.rc != arm.rc:
        problems.append(f"exit status {x86.rc} on x86, {arm.rc} on arm64: {arm.stderr.strip()[-300:]}")
    try:
        a, b = records(check, x86.stdout), records(check, arm.stdout)
    except (ValueError, KeyError) as e:
        return Comparison(check.name, 0, 0, 0.0, tolerance, [*problems, f"unreadable output ({e})"], x86.seconds, arm.seconds)
    if not a:
        problems.append(f"no records on x86: {x86.stderr.strip()[-300:]}")
    if a.keys() != b.keys():
        problems.append(f"records differ: x86 only {sorted(a.keys() - b.keys())[:5]}, arm64 only {sorted(b.keys() - a.keys())[:5]}")
    identical, max_diff = 0, 0.0
    for key in a.keys() & b.keys():
        ra, rb = a[key], b[key]
        same = True
        for field in ra:
            va, vb = ra[field], rb[field]
            if isinstance(va, float) and isinstance(vb, float):
                diff = abs(va - vb)
                max_diff = max(max_diff, diff)
                same &= diff == 0
                if diff > tolerance:
                    problems.append(f"{key}: {field} {va} on x86, {vb} on arm64")
            elif va != vb:
                same = False
                problems.append(f"{key}: {field} {va!r} on x86, {vb!r} on arm64")
        identical += same
    return Comparison(check.name, len(a), identical, max_diff, tolerance, problems, x86.seconds, arm.seconds)


# --- the whole run -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cache", type=Path, default=Path(os.environ.get("DEEPFAKE_DCT_PI_CACHE", DEFAULT_CACHE)),
                   help=f"where the arm64 root filesystem is kept between runs (default {DEFAULT_CACHE})")
    p.add_argument("--rebuild", action="store_true", help="build the root filesystem anew")
    p.add_argument("--frames", type=int, default=12, help="frames in the test video (default 12)")
    p.add_argument("--qemu-cpu", default="cortex-a72", help="CPU qemu emulates (default cortex-a72, a Pi 4's)")
    p.add_argument("--no-pin", action="store_true", help="install the newest dependencies, not this side's versions")
    p.add_argument("--check", action="store_true", help="only say whether this machine can run it")
    args = p.parse_args(argv)

    problem = host_problem(register=not args.check)
    if args.check or problem:
        print(f"cannot run the arm64 emulation here: {problem}" if problem else "this machine can run it")
        return 2 if problem else 0
    started = time.perf_counter()
    rootfs, build_s = ensure_rootfs(args.cache, args.rebuild)
    work_guest = rootfs / GUEST.relative_to("/")
    if work_guest.exists():
        shutil.rmtree(work_guest)
    (work_guest / "out").mkdir(parents=True)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        wheel = build_wheel(tmp / "dist")
        wheel_s = time.perf_counter() - t
        wheel_dir = tmp / "wheel"
        zipfile.ZipFile(wheel).extractall(wheel_dir)
        models_dir = wheel_dir / "deepfake_dct" / "detector" / "models"
        models = sorted(m.name for m in models_dir.glob("*.tflite"))
        images = prepare_work(tmp / "work", wheel, args.frames)
        shutil.copytree(tmp / "work", work_guest, dirs_exist_ok=True)
        pins = [] if args.no_pin else [f"{name}=={metadata.version(name)}" for name in PINNED]
        (work_guest / "constraints.txt").write_text("".join(f"{pin}\n" for pin in pins))
        checks = make_checks(models, images)

        env = {**pip_settings(rootfs), "QEMU_CPU": args.qemu_cpu, "HOME": "/root", "LANG": "C.UTF-8",
               "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        log(f"installing and running {len(checks)} checks on emulated arm64 ({args.qemu_cpu})")
        t = time.perf_counter()
        done = guest_shell(rootfs, guest_script(checks, wheel.name), env, timeout=3600)
        arm_s = time.perf_counter() - t
        if done.returncode != 0:
            print(f"ERROR: the arm64 run exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
            return 2
        out = work_guest / "out"
        end, start = (float(v) for v in (out / "install.time").read_text().split())
        install_s = end - start
        installed = {d["name"].lower(): d["version"] for d in json.loads((out / "pip-list.json").read_text())}
        machine, python = (out / "platform").read_text().split()
        arm = read_guest(out, len(checks))

        log(f"running the same {len(checks)} checks here")
        t = time.perf_counter()
        x86 = run_host(checks, tmp / "work", wheel_dir)
        x86_s = time.perf_counter() - t
        tolerances = {m: p_fake_tolerance(models_dir / m) for m in models}
        default = p_fake_tolerance(wheel_dir / "deepfake_dct" / "detector" / "models" / "default.tflite")

    results = []
    for check, a, b in zip(checks, x86, arm):
        tolerance = (tolerances[check.model] if check.model else default) + JSON_ROUNDING
        if check.kind == "snippet":
            tolerance += 1e-3  # it prints p_fake with 3 decimals
        results.append(compare(check, a, b, tolerance))
        results[-1].informative = check.informative
    forbidden = sorted(name for name in installed if FORBIDDEN.match(name))

    print(f"arm64 under qemu ({args.qemu_cpu}): {machine}, Debian {SUITE}, Python {python}; x86: Python "
          f"{sys.version.split()[0]}")
    print(f"installed there with {wheel.name} and opencv-python-headless<5 "
          f"({'pinned to this side' if pins else 'newest'}): "
          + ", ".join(f"{n} {v}" for n, v in sorted(installed.items()) if n not in ("pip", "setuptools")))
    print("TensorFlow/Keras pulled: " + (", ".join(forbidden) if forbidden else "none"))
    print("models: " + ", ".join(f"{m} (p_fake tolerance {tolerances[m]:.6g})" for m in models))
    print(f"{'check':34} {'records':>7} {'identical':>9} {'max |dp|':>9} {'tolerance':>9} {'x86 s':>6} {'arm s':>6}  result")
    for r in results:
        verdict = "match" if not r.problems else "differs (informative)" if r.informative else "MISMATCH"
        print(f"{r.name:34} {r.n:7d} {r.identical:9d} {r.max_diff:9.6f} {r.tolerance:9.6f} {r.x86_s:6.1f} "
              f"{r.arm_s:6.1f}  {verdict}")
        if r.informative and r.problems:
            print(f"    {r.n - r.identical} of {r.n} frames decode to other pixels (mean pixel value apart by up to "
                  f"{r.max_diff:.3f}); the webcam checks read the FFV1 clip")
            continue
        for problem in r.problems[:5]:
            print(f"    {problem}")
    print(f"times: root filesystem {f'built in {build_s:.0f} s' if build_s else 'cached'}, wheel {wheel_s:.0f} s, "
          f"arm64 install {install_s:.0f} s, arm64 install + checks {arm_s:.0f} s, x86 checks {x86_s:.0f} s, "
          f"total {time.perf_counter() - started:.0f} s")
    ok = not forbidden and all(not r.problems or r.informative for r in results)
    print("ALL MATCHED" if ok else "NOT ALL MATCHED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
