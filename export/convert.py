"""``deepfake-dct export``: a trained run -> ``.tflite`` variants that carry their own metadata, each
scored against the Keras model on the held-out split before it is written.

Only TFLite builtin ops are allowed (no Flex / SELECT_TF_OPS), so every file runs on ai-edge-litert on
a Raspberry Pi. A variant whose accuracy moves more than ``--max-accuracy-drop`` points from Keras is
not written, and the command exits 1.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from deepfake_dct.detector.detector import Detector
from deepfake_dct.detector.images import ImageError
from deepfake_dct.detector.model_file import METADATA_NAME, NORMALISATION_NAME, ModelSpec
from deepfake_dct.export.options import VARIANTS, ExportOptions, options_from_args
from deepfake_dct.export.quiet import held_output
from deepfake_dct.training import metrics, rundir
from deepfake_dct.training.data import Split, aggregate_images, atomic_write_bytes, atomic_write_json, image_inputs


def convert(model, variant: str, representative: Callable[[], Iterator[list]] | None = None) -> bytes:
    """Keras model -> TFLite flatbuffer bytes for one variant (builtin ops only)."""
    if variant not in VARIANTS:
        raise ValueError(f"Expected a variant in {VARIANTS}, got {variant!r}.")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if variant == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif variant == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif variant == "int8":
        if representative is None:
            raise ValueError("Expected a representative dataset for full-integer int8.")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def logit_model(model):
    """The same network without its final sigmoid, when it ends in a separate ``p_fake`` sigmoid
    activation (``native_net``), else None: its output is then a logit (``ModelSpec.output``)."""
    import keras

    try:
        last = model.get_layer("p_fake")
    except ValueError:
        return None
    if not isinstance(last, keras.layers.Activation) or keras.activations.serialize(last.activation) != "sigmoid":
        return None
    return keras.Model(model.input, last.input, name=f"{model.name}_logit")


def embed_spec(tflite: bytes, spec: ModelSpec) -> bytes:
    """Adds the spec as two ``Model.metadata`` entries (see ``deepfake_dct.detector.model_file``),
    replacing those of a file that has them already (re-embedding a refitted spec)."""
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(tflite))
    entries = [
        (METADATA_NAME, json.dumps(spec.to_json(), sort_keys=True).encode("utf-8")),
        (NORMALISATION_NAME, spec.normalisation_bytes()),
    ]
    ours = {METADATA_NAME, NORMALISATION_NAME}
    for m in model.metadata or []:
        if _text(m.name) in ours:  # a file embedded before: empty the old payload, never keep two
            model.buffers[m.buffer].data = None
    model.metadata = [m for m in (model.metadata or []) if _text(m.name) not in ours]
    for name, payload in entries:
        if not payload:
            continue
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(payload, dtype=np.uint8)
        model.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name = name
        entry.buffer = len(model.buffers) - 1
        model.metadata.append(entry)
    return flatbuffer_utils.convert_object_to_bytearray(model)


def _text(name) -> str:
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)


def held_out_examples(split: Split, spec: ModelSpec, name: str = "test"):
    """(each image's inputs by name, (N, H, W, 3) for its N crops; labels) for one split, built as
    the runtime builds them."""
    examples, labels = [], []
    for path, label in zip(split.paths(name), split.labels[name]):
        try:
            examples.append(image_inputs(path, spec))
        except ImageError:
            continue
        labels.append(label)
    return examples, np.asarray(labels, dtype=int)


def score_keras(model, examples: list[dict[str, np.ndarray]], spec: ModelSpec) -> np.ndarray:
    """p_fake per image from the Keras model: every crop in one predict, aggregated per image as
    the runtime aggregates them."""
    return aggregate_images(lambda stacked: model.predict(stacked, verbose=0), examples, spec)


def representative_dataset(split: Split, spec: ModelSpec, model, count: int, seed: int = 0):
    """A generator over the crops of ``count`` training images (one per call), inputs in the Keras
    model's input order."""
    rng = np.random.default_rng(seed)
    paths = split.paths("train")
    chosen = [paths[i] for i in rng.permutation(len(paths))[:count]]
    order = [t.name.split(":")[0] for t in model.inputs]

    def generate():
        for path in chosen:
            try:
                inputs = image_inputs(path, spec)
            except ImageError:
                continue
            for i in range(len(inputs[spec.input_names[0]])):
                yield [inputs[_input_key(name, spec)][i : i + 1] for name in order]

    return generate


def _input_key(keras_input_name: str, spec: ModelSpec) -> str:
    for name in spec.input_names:
        if name in keras_input_name:
            return name
    raise ValueError(f"Expected Keras input names containing {spec.input_names}, got {keras_input_name!r}.")


def score_tflite(tflite: bytes, examples: list[dict[str, np.ndarray]]) -> np.ndarray:
    """p_fake for each image through the runtime itself (quantization, batching, aggregation)."""
    detector = Detector(tflite)
    return np.array([detector.spec.aggregate(detector.predict_crops(e)) for e in examples])


def export(run: Path, out: Path | None = None, options: ExportOptions = ExportOptions()) -> dict:
    """Converts, embeds and checks every requested variant of a training run; writes those that pass
    (``model_VARIANT.tflite``) and ``export_report.json`` under ``out`` (None: ``run/export``) and
    returns the report (each variant's "passed" says whether it was written).

    Raises:
      OSError: the run's files (model, spec, split) cannot be read.
      ValueError: they do not describe a usable run.
    """
    import keras

    run = Path(run)
    out = Path(out) if out else run / "export"
    model = keras.models.load_model(run / rundir.MODEL, compile=False, safe_mode=True)
    spec = rundir.load_spec(run)
    split = Split.load(run / rundir.SPLIT, options.data_root)
    out.mkdir(parents=True, exist_ok=True)  # only once the run is known to be usable
    inputs, labels = held_out_examples(split, spec)
    with held_output():
        keras_scores = score_keras(model, inputs, spec)
    keras_metrics = metrics.summary(labels, keras_scores, spec.threshold)
    report = {"run": str(run), "held_out_n": int(labels.size), "keras": keras_metrics,
              "max_accuracy_drop_pp": options.max_accuracy_drop, "variants": {}}
    card = options.card()
    logits = logit_model(model)
    for variant in options.variants:
        started = time.time()
        representative = None
        if variant == "int8":
            representative = representative_dataset(split, spec, model, options.representative)
        variant_spec = ModelSpec(**{**vars(spec), "output": "p_fake" if logits is None else "logit",
                                    "extra": {**spec.extra, **card, "variant": variant}})
        with held_output():  # the converter's chatter, shown only if it fails
            tflite = embed_spec(convert(logits or model, variant, representative), variant_spec)
        scores = score_tflite(tflite, inputs)
        tflite_metrics = metrics.summary(labels, scores, spec.threshold)
        drop_pp = 100.0 * abs(tflite_metrics["accuracy"] - keras_metrics["accuracy"])
        passed = drop_pp <= options.max_accuracy_drop
        path = out / f"model_{variant}.tflite"
        if passed:
            atomic_write_bytes(path, tflite)
        report["variants"][variant] = {
            "file": str(path) if passed else None,
            "bytes": len(tflite),
            "accuracy": tflite_metrics["accuracy"],
            "roc_auc": tflite_metrics["roc_auc"],
            "accuracy_difference_pp": round(drop_pp, 3),
            "mean_abs_p_fake_difference": float(np.mean(np.abs(scores - keras_scores))),
            "passed": passed,
            "seconds": round(time.time() - started, 1),
        }
        verdict = "ok" if passed else f"FAILED (limit {options.max_accuracy_drop} pp): not written"
        print(
            f"{variant:8s} {len(tflite) / 1024:8.1f} KiB  accuracy {tflite_metrics['accuracy']:.4f} "
            f"(Keras {keras_metrics['accuracy']:.4f}, diff {drop_pp:.2f} pp)  "
            f"mean |dp| {report['variants'][variant]['mean_abs_p_fake_difference']:.5f}  {verdict}",
            flush=True,
        )
    atomic_write_json(out / "export_report.json", report)
    return report


def refusal_advice(report: dict) -> str:
    """What to do when the parity gate refused variants: a larger held-out split, or the explicit
    limit (the one used is recorded in export_report.json)."""
    refused = {name: v for name, v in report["variants"].items() if not v["passed"]}
    worst = max(v["accuracy_difference_pp"] for v in refused.values())
    n = report["held_out_n"]
    return (
        f"Not written: {', '.join(refused)} (held-out accuracy moved up to {worst:.2f} pp from Keras, "
        f"limit {report['max_accuracy_drop_pp']} pp). On {n} held-out images one image is "
        f"{100 / max(n, 1):.2f} pp: "
        f"train on more images so that the held-out split grows, or accept the difference with "
        f"--max-accuracy-drop {math.ceil(worst * 10 - 1e-9) / 10:.1f} (recorded in export_report.json)."
    )


def main(args: argparse.Namespace) -> int:
    """``deepfake-dct export``: 0 when every variant passed, 1 when any was refused (saying what to
    do), 2 (one "ERROR: ..." line) when an option or the run cannot be used."""
    try:
        report = export(Path(args.run), Path(args.out) if args.out else None, options_from_args(args))
    except (OSError, ValueError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    if all(v["passed"] for v in report["variants"].values()):
        return 0
    print(refusal_advice(report), file=sys.stderr)
    return 1
