"""What a trained model reads: a linear model's weights, and a network's gradient saliency.

Both are maps over the model's input. For a log-DCT input, position is frequency: coefficient
(0, 0) is the mean brightness, and (ky, kx) grows towards the finest vertical and horizontal detail.
Keras and TensorFlow are imported inside :func:`load_run` and :func:`saliency_maps` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepfake_dct.detector.images import ImageError
from deepfake_dct.detector.model_file import ModelSpec
from deepfake_dct.training import rundir
from deepfake_dct.training.data import LABELS, Split, load_example


@dataclass(frozen=True)
class Run:
    """A training run read back: the Keras model, its spec and its file split."""

    model: object
    """The ``keras.Model`` saved as model.keras."""
    spec: ModelSpec
    split: Split


def load_run(run: Path | str, data_root: Path | str | None = None) -> Run:
    """Reads a run folder written by ``deepfake-dct train``.

    Args:
      data_root: where the split's relative file paths live; default the root recorded in
        split.json (as the training command was given it, possibly relative to its working folder).

    Raises:
      ValueError: the folder is not a complete training run.
    """
    import keras

    run = Path(run)
    missing = [name for name in (rundir.MODEL, rundir.SPEC, rundir.SPLIT) if not (run / name).is_file()]
    if missing:
        raise ValueError(f"Expected a training run in {run}, but it lacks {', '.join(missing)}.")
    split = Split.load(run / rundir.SPLIT, Path(data_root) if data_root else None)
    model = keras.saving.load_model(run / rundir.MODEL, safe_mode=True)
    return Run(model=model, spec=rundir.load_spec(run), split=split)


def linear_weight_map(model) -> np.ndarray:
    """The weights of a logistic regression on its input, reshaped to the input: (H, W, C).

    A positive weight means a larger (normalised) log-magnitude at that coefficient pushes p_fake up.

    Raises:
      ValueError: the model is not one Dense unit on its flattened input (e.g. ``--arch logistic_dct``).
    """
    weighted = [layer for layer in model.layers if layer.weights]
    input_shape = tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else None
    kernel = np.asarray(weighted[0].weights[0]) if len(weighted) == 1 else None
    if input_shape is None or kernel is None or kernel.shape != (int(np.prod(input_shape)), 1):
        raise ValueError(
            "Expected a linear model: one Dense unit on one flattened input (train it with "
            f"--arch logistic_dct), got {model.name!r} with layers "
            f"{[type(layer).__name__ for layer in model.layers]}."
        )
    return kernel[:, 0].reshape(input_shape)


def held_out_paths(split: Split, label: str) -> list[Path]:
    """The held-out test files of one class (``"real"`` or ``"fake"``)."""
    wanted = LABELS[label]
    return [split.root / f for f, y in zip(split.files["test"], split.labels["test"]) if y == wanted]


@dataclass(frozen=True)
class Saliency:
    """Mean |d p_fake / d input| over a set of images, per input of the network."""

    maps: dict[str, np.ndarray]
    """Input name -> (H, W, C) mean absolute gradient."""
    mean_p_fake: float
    """The model's mean p_fake on those images."""
    count: int
    """Images averaged."""
    skipped: int
    """Files that could not be read."""


def saliency_maps(run: Run, paths: list[Path], batch_size: int = 32) -> Saliency:
    """Mean absolute gradient of p_fake with respect to each network input, over ``paths``.

    Inputs are built by :func:`deepfake_dct.training.data.load_example`, exactly as in training and at run time
    (policy, JPEG step, log-DCT, normalisation). The gradient is taken on the normalised input, so
    every coefficient is on the same scale (one training-set standard deviation).
    """
    import tensorflow as tf

    names = run.spec.input_names
    totals = {name: None for name in names}
    p_sum, count, skipped = 0.0, 0, 0
    for start in range(0, len(paths), batch_size):
        examples = []
        for path in paths[start : start + batch_size]:
            try:
                examples.append(load_example(path, run.spec))
            except ImageError:
                skipped += 1
        if not examples:
            continue
        inputs = {name: tf.constant(np.stack([e[name] for e in examples])) for name in names}
        with tf.GradientTape() as tape:
            tape.watch(list(inputs.values()))
            p_fake = run.model(inputs, training=False)
            total = tf.reduce_sum(p_fake)
        # Images in a batch do not interact (no batch statistics at inference), so the gradient of
        # the sum holds each image's own gradient.
        grads = tape.gradient(total, inputs)
        for name in names:
            batch_total = np.abs(grads[name].numpy()).sum(axis=0, dtype=np.float64)
            totals[name] = batch_total if totals[name] is None else totals[name] + batch_total
        p_sum += float(total)
        count += len(examples)
    if count == 0:
        raise ValueError(f"Expected readable images, got none of {len(paths)}.")
    return Saliency(
        maps={name: (total / count).astype(np.float32) for name, total in totals.items()},
        mean_p_fake=p_sum / count,
        count=count,
        skipped=skipped,
    )
