"""Runtime benchmark: prints figures, asserts nothing. Everything is measured in this one run.

    python benchmarks/bench_detector.py [--model FILE] [--run RUN_DIR] [--repeats N]

Figures (median and p90 over --repeats calls, after warm-up):
  - one crop's network inputs through the model's own definition (colour, DCT, log, normalise;
    numpy);
  - one full ``Detector.detect`` on an encoded 128x128 PNG and a 1024x1024 JPEG (decode included),
    the latter also with its ``--explain`` crop records (goal: at most 20% more time) and, for a
    model with a scope, without the out-of-scope check (what that check costs);
  - the same network through Keras ``predict`` on one image (needs --run and TensorFlow), and the
    ratio Keras / runtime for the network call alone and for detect;
  - the model file size, and the peak RSS of a fresh process that imports ``detector`` and detects.
Goals from the issue, printed beside the figures: DCT+normalise < 1 ms; detect >= 10x faster than
Keras predict; runtime RSS < 150 MB.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepfake_dct.detector import Detector  # noqa: E402
from deepfake_dct.detector.records import crop_records, detection_record  # noqa: E402


def timings_ms(fn, repeats: int, warmup: int = 5) -> np.ndarray:
    for _ in range(warmup):
        fn()
    out = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        fn()
        out[i] = (time.perf_counter() - start) * 1000.0
    return out


def paired_timings_ms(fn_a, fn_b, repeats: int, warmup: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Both functions timed in turn, call after call, so that a machine whose speed drifts slows
    each alike and their ratio stays fair."""
    for _ in range(warmup):
        fn_a(), fn_b()
    a, b = np.empty(repeats), np.empty(repeats)
    for i in range(repeats):
        for fn, out in ((fn_a, a), (fn_b, b)):
            start = time.perf_counter()
            fn()
            out[i] = (time.perf_counter() - start) * 1000.0
    return a, b


def line(name: str, ms: np.ndarray, goal: str = "") -> None:
    print(f"{name:48s} median {np.median(ms):8.3f} ms   p90 {np.percentile(ms, 90):8.3f} ms  {goal}")


def test_image(size: int, fmt: str) -> bytes:
    rng = np.random.default_rng(size)
    small = rng.integers(0, 256, (size // 8 + 1, size // 8 + 1, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


# VmHWM (peak resident set of this process image), not ru_maxrss: Linux carries ru_maxrss across
# fork+exec, so a child of a process that loaded TensorFlow would report TensorFlow's memory.
RSS_PROBE = """
import sys
from deepfake_dct.detector import Detector
d = Detector.from_file(sys.argv[1] if len(sys.argv) > 1 else None)
for _ in range(20):
    d.detect(PNG)
status = open("/proc/self/status").read().split("\\n")
print(int(next(l for l in status if l.startswith("VmHWM:")).split()[1]) / 1024.0)
"""


def peak_rss_mb(model: str | None, png: bytes) -> float:
    code = f"PNG = {png!r}\n" + RSS_PROBE
    args = [sys.executable, "-c", code] + ([model] if model else [])
    result = subprocess.run(args, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help=".tflite (default: bundled)")
    parser.add_argument("--run", default=None, help="training run folder, for the Keras comparison")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    detector = Detector.from_file(args.model, num_threads=args.threads)
    spec = detector.spec
    png128, jpg1024 = test_image(spec.policy.height, "PNG"), test_image(1024, "JPEG")
    fitted = detector.cut(detector.decode(png128))[0][0]
    inputs = {name: x[0] for name, x in detector.spec.make_inputs(fitted[None]).items()}
    print(f"model: {detector.model_name} ({detector.model_size_bytes / 1024:.1f} KiB), "
          f"architecture {spec.architecture}, inputs {spec.input_names}, backend {detector.backend}, "
          f"threads {args.threads}, repeats {args.repeats}")

    if spec.normalisation is not None:
        line(f"inputs of one crop ({'x'.join(map(str, spec.input_shape))}, {spec.colour})",
             timings_ms(lambda: spec.make_inputs(fitted), args.repeats), "goal < 1 ms")
    line("network call (runtime predict)", invoke := timings_ms(lambda: detector.predict(inputs), args.repeats))
    detect128 = timings_ms(lambda: detector.detect(png128), args.repeats)
    line("detect, 128x128 PNG bytes", detect128)
    few = max(20, args.repeats // 5)

    def record_of(d: Detector):
        """One detect of the 1024x1024 JPEG by ``d`` and its --json record, as a function to time."""
        return lambda: json.dumps(detection_record("x.jpg", d.detect(jpg1024), "m"))

    plain_record = record_of(detector)

    def explained() -> str:
        detection = detector.detect(jpg1024)
        return json.dumps({**detection_record("x.jpg", detection, "m"), "crops": crop_records(detection)})

    plain, explain = paired_timings_ms(plain_record, explained, few)
    line("detect, 1024x1024 JPEG bytes (+ its --json record)", plain)
    line("detect --explain, 1024x1024 JPEG (crop records)", explain)
    print(f"{'ratio explain / plain detect (taken in turn)':48s} {np.median(explain / plain):8.2f}x   goal <= 1.20x")
    if spec.scope is not None:
        bare = Detector.from_file(args.model, num_threads=args.threads)
        bare.spec = dataclasses.replace(spec, scope=None)
        scoped, unscoped = paired_timings_ms(plain_record, record_of(bare), few)
        print(f"{'out-of-scope check, ms a 1024x1024 JPEG (in turn)':48s} {np.median(scoped - unscoped):8.2f} ms")

    if args.run:
        import os

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        model = keras.models.load_model(Path(args.run) / "model.keras", compile=False, safe_mode=True)
        batch = {k: v[None] for k, v in inputs.items()}
        keras_ms = timings_ms(lambda: model.predict(batch, verbose=0), max(20, args.repeats // 5))
        line("Keras model.predict, one image", keras_ms)
        print(f"{'ratio Keras predict / runtime network call':48s} {np.median(keras_ms) / np.median(invoke):8.1f}x")
        print(f"{'ratio Keras predict / runtime detect (128 PNG)':48s} "
              f"{np.median(keras_ms) / np.median(detect128):8.1f}x   goal >= 10x")

    rss = peak_rss_mb(args.model, png128)
    print(f"{'peak RSS, process importing detector + 20 detects':48s} {rss:8.1f} MB   goal < 150 MB")
    print(json.dumps({"model_bytes": detector.model_size_bytes, "rss_mb": round(rss, 1)}))


if __name__ == "__main__":
    main()
