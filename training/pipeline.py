"""tf.data streaming from disk: memory stays flat however many images there are.

Each element is decoded, augmented and turned into network inputs by ``deepfake_dct.training.data.load_example``
(the runtime's own preprocessing) inside ``tf.numpy_function``. A file that fails to decode is recorded
in a :class:`SkipLog` and kept in the batch as zeros with sample weight 0, so it is never fatal, never
counts in the loss or the metrics, and the dataset keeps a known length.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

import numpy as np
import tensorflow as tf

from deepfake_dct.detector.images import ImageError, decode_rgb
from deepfake_dct.detector.model_file import ModelSpec
from deepfake_dct.training.augment import Augmentation
from deepfake_dct.training.data import load_example
from deepfake_dct.training.perturb import NO_PROCESSING, ProcessingChain
from deepfake_dct.training.tiles import crop_rng, sample_crops


class SkipLog:
    """Thread-safe record of files that could not be used, with the reason."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reasons: dict[str, str] = {}

    def add(self, path: str, reason: str) -> None:
        with self._lock:
            self.reasons[path] = reason

    def __len__(self) -> int:
        return len(self.reasons)


def _loaded(paths, labels, load, names, input_shape, label_shape, shuffle: bool, seed: int) -> tf.data.Dataset:
    """(path, label, a fresh random seed per element and epoch), shuffled if asked, mapped through
    ``load`` in a ``tf.numpy_function``: elements ({name: input}, label, weight) of known shapes."""

    def to_tensors(path, label, element_seed):
        out = tf.numpy_function(load, [path, label, element_seed], [tf.float32] * (len(names) + 2),
                                stateful=False)
        for tensor in out[: len(names)]:
            tensor.set_shape(input_shape)
        out[-2].set_shape(label_shape)
        out[-1].set_shape(label_shape)
        return {n: t for n, t in zip(names, out[: len(names)])}, out[-2], out[-1]

    ds = tf.data.Dataset.from_tensor_slices(
        ([str(p) for p in paths], np.asarray(labels, dtype=np.int32))
    )
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    ds = tf.data.Dataset.zip((ds, seeds)).map(lambda pl, s: (pl[0], pl[1], s))
    if shuffle:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    return ds.map(to_tensors, num_parallel_calls=tf.data.AUTOTUNE)


def make_dataset(
    paths: Sequence[Path],
    labels: Sequence[int],
    spec: ModelSpec,
    batch_size: int,
    augmentation: Augmentation | None = None,
    shuffle: bool = False,
    seed: int = 0,
    skips: SkipLog | None = None,
) -> tf.data.Dataset:
    """Batches of ({input name: float32 (B, H, W, C)}, float32 labels (B,), float32 weights (B,))."""
    names = spec.input_names
    shape = spec.input_shape
    skips = skips if skips is not None else SkipLog()

    def load(path: bytes, label: np.int32, element_seed: np.int64):
        path_str = path.decode("utf-8")
        try:
            rng = np.random.default_rng(int(element_seed) & 0xFFFFFFFF) if augmentation else None
            inputs = load_example(path_str, spec, augmentation, rng)
            return (*(inputs[n] for n in names), np.float32(label), np.float32(1.0))
        except ImageError as e:
            skips.add(path_str, str(e))
            return (*(np.zeros(shape, np.float32) for _ in names), np.float32(label), np.float32(0.0))

    ds = _loaded(paths, labels, load, names, shape, (), shuffle, seed)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def make_crop_dataset(
    paths: Sequence[Path],
    labels: Sequence[int],
    spec: ModelSpec,
    batch_size: int,
    crops_per_image: int,
    chain: ProcessingChain = NO_PROCESSING,
    shuffle: bool = False,
    seed: int = 0,
    skips: SkipLog | None = None,
) -> tf.data.Dataset:
    """Batches of native-resolution crops for a "tiles" model: each image is decoded once per epoch
    and yields ``crops_per_image`` crops, each with its own draw of ``chain`` (see
    :func:`deepfake_dct.training.tiles.sample_crops`), turned into inputs by the runtime's own
    ``ModelSpec.make_inputs``. With ``shuffle`` off (validation) every epoch sees the same crops:
    the generator is seeded by the run's seed and the file's path alone."""
    names = spec.input_names
    k = crops_per_image
    shape = (k, *spec.input_shape)
    skips = skips if skips is not None else SkipLog()

    def load(path: bytes, label: np.int32, epoch_seed: np.int64):
        path_str = path.decode("utf-8")
        rng = crop_rng(seed, path_str, int(epoch_seed) & 0xFFFFFFFF if shuffle else 0)
        try:
            inputs = spec.make_inputs(sample_crops(decode_rgb(path_str), spec.policy, k, rng, chain))
            weights = np.ones(k, np.float32)
        except ImageError as e:
            skips.add(path_str, str(e))
            inputs = {n: np.zeros(shape, np.float32) for n in names}
            weights = np.zeros(k, np.float32)
        return (*(inputs[n] for n in names), np.full(k, label, np.float32), weights)

    ds = _loaded(paths, labels, load, names, shape, (k,), shuffle, seed).unbatch()
    if shuffle:  # Mix one image's crops with other images' before they share a batch.
        ds = ds.shuffle(min(4096, 8 * batch_size * k), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
