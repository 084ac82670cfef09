"""A model and labelled images -> p_fake for each image under each condition, by the runtime's own steps.

Per image: decode (by content) -> the format-matching JPEG step, if asked -> the condition's damage ->
the model's input policy -> the model's inputs -> the model. A ``.tflite`` model runs in
:class:`detector.Detector` (what users run, quantization and all); a Keras run folder runs its
``model.keras`` on inputs built by the same ``ModelSpec``. An image that cannot be read is recorded
with the reason and left out of every condition, so that all conditions score the same images.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from deepfake_dct.detector import Detector, ImageError, ModelSpec
from deepfake_dct.detector.detector import DEFAULT_UNCERTAIN_MARGIN, band_widths
from deepfake_dct.detector.files import expand_paths
from deepfake_dct.detector.images import decode_rgb, jpeg_roundtrip
from deepfake_dct.evaluation.perturb import CLEAN, Condition
from deepfake_dct.evaluation.progress import progress_bar
from deepfake_dct.training import rundir
from deepfake_dct.training.data import LABELS, Split, aggregate_images

#: Images decoded and scored together (a Keras model is called once per chunk).
CHUNK = 16


@dataclass(frozen=True)
class Item:
    """One labelled image."""

    path: Path
    """Where the file is."""
    label: int
    """0 = real, 1 = fake."""
    key: str
    """Its path within its class folder: names the image for the perturbations' seed."""


def folder_items(real, fake) -> list[Item]:
    """Every image file under each class's folder or folders (recursive, as ``deepfake-dct
    detect`` finds them). With several folders for a class, each image's key starts with its
    folder's name, so the per-source table names the folder it came from.

    Raises:
      ValueError: a folder is missing or holds no image files.
    """
    items = []
    for label, given in ((0, real), (1, fake)):
        folders = [Path(f) for f in ([given] if isinstance(given, (str, os.PathLike)) else given)]
        for folder in folders:
            if not folder.is_dir():
                raise ValueError(f"Expected a folder of images, got {folder} (not a folder).")
            paths = list(expand_paths([str(folder)]))
            if not paths:
                raise ValueError(f"Expected image files in {folder}, found none.")
            prefix = f"{folder.name}/" if len(folders) > 1 else ""
            items += [Item(p, label, prefix + p.relative_to(folder).as_posix()) for p in paths]
    return items


def other_items(folders) -> list[Item]:
    """Every image file under each folder of images the detector is not for (drawings,
    screenshots, text, charts), keyed by folder name so the out-of-scope table names its source.
    Their label is 0 only to fill the field: no metric of real and fake reads them.

    Raises:
      ValueError: a folder is missing or holds no image files.
    """
    items = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise ValueError(f"Expected a folder of images, got {folder} (not a folder).")
        paths = list(expand_paths([str(folder)]))
        if not paths:
            raise ValueError(f"Expected image files in {folder}, found none.")
        items += [Item(p, 0, f"{folder.name}/{p.relative_to(folder).as_posix()}") for p in paths]
    return items


def split_items(split_file: Path, subset: str, real: Path | None = None,
                fake: Path | None = None) -> list[Item]:
    """The images of one subset ("train", "val" or "test") of a training run's ``split.json``, found
    under ``real`` and ``fake`` (default: the class folders under the split's recorded data root).

    Raises:
      ValueError: the subset does not exist, or none of its files is where it is looked for.
    """
    split = Split.load(split_file)
    if subset not in split.files:
        raise ValueError(f"Expected a subset in {sorted(split.files)}, got {subset!r}.")
    class_names = {label: name for name, label in LABELS.items()}
    folders = {0: Path(real) if real else split.root / class_names[0],
               1: Path(fake) if fake else split.root / class_names[1]}
    items = []
    for relative, label in zip(split.files[subset], split.labels[subset]):
        inner = Path(*Path(relative).parts[1:])  # drop the "real/" or "fake/" of the data root
        items.append(Item(folders[label] / inner, int(label), inner.as_posix()))
    if not any(item.path.exists() for item in items):
        raise ValueError(
            f"Expected the {subset} files of {split_file} under {folders[0]} and {folders[1]}, found "
            "none; pass --real and --fake where those folders are now."
        )
    return items


def seen_in_training(split_file: Path | str | None, items: Sequence[Item]) -> int | None:
    """How many of ``items`` a training run with this ``split.json`` trained or validated on (files
    compared by resolved path); None without a split file."""
    if split_file is None:
        return None
    split = Split.load(Path(split_file))
    seen = {p.resolve() for subset in ("train", "val") for p in split.paths(subset)}
    return sum(item.path.resolve() in seen for item in items)


class TFLiteModel:
    """A ``.tflite`` model, run by the runtime users run."""

    kind = "tflite"

    def __init__(self, path: Path, num_threads: int | None = None) -> None:
        self.path = Path(path)
        self.detector = Detector.from_file(self.path, num_threads=num_threads)
        self.spec: ModelSpec = self.detector.spec
        self.threshold = self.detector.threshold
        self.run_split: Path | None = None

    def predict(self, inputs: Sequence[dict[str, np.ndarray]]) -> np.ndarray:
        """One p_fake per image from its crops' inputs (the runtime's batching and aggregation)."""
        return np.array([self.spec.aggregate(self.detector.predict_crops(x)) for x in inputs], dtype=np.float64)

    def close(self) -> None:
        self.detector.close()


class KerasModel:
    """A training run's ``model.keras``, with the run's spec (policy, normalisation, threshold)."""

    kind = "keras"

    def __init__(self, run: Path) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
        import keras

        self.path = Path(run)
        self.model = keras.models.load_model(self.path / rundir.MODEL, compile=False, safe_mode=True)
        self.spec: ModelSpec = rundir.load_spec(self.path)
        self.threshold = self.spec.threshold
        split = self.path / rundir.SPLIT
        self.run_split: Path | None = split if split.is_file() else None

    def predict(self, inputs: Sequence[dict[str, np.ndarray]]) -> np.ndarray:
        """One p_fake per image: all images' crops in one call, aggregated per image as the
        runtime does."""
        return aggregate_images(lambda batch: self.model(batch, training=False), list(inputs), self.spec)

    def close(self) -> None:
        self.model = None


def load_model(path: str | os.PathLike, num_threads: int | None = None) -> TFLiteModel | KerasModel:
    """A ``.tflite`` file, or a training run folder (or the ``model.keras`` inside one).

    Raises:
      ModelFileError: a ``.tflite`` that cannot be used.
      ValueError: a run folder without ``model.keras`` and ``spec.json``.
    """
    path = Path(path)
    if path.suffix == ".keras":
        path = path.parent
    if path.is_dir():
        missing = [name for name in (rundir.MODEL, rundir.SPEC) if not (path / name).is_file()]
        if missing:
            raise ValueError(f"Expected a training run folder with {' and '.join(missing)}, got {path}.")
        return KerasModel(path)
    return TFLiteModel(path, num_threads)


def describe_model(model: TFLiteModel | KerasModel) -> dict:
    spec = model.spec
    return {
        "path": str(model.path),
        "kind": model.kind,
        "architecture": spec.architecture,
        "representation": spec.representation,
        "variant": spec.extra.get("variant", "keras" if model.kind == "keras" else ""),
        "threshold": model.threshold,
        "uncertain_band": list(band_widths(spec.uncertain_band or DEFAULT_UNCERTAIN_MARGIN)),
        "policy": spec.policy.to_dict(),
        "provenance": spec.provenance,
    }


def condition_crops(rgb: np.ndarray, spec: ModelSpec, condition: Condition, key: str, seed: int = 0,
                    format_jpeg: int = 0) -> np.ndarray:
    """One decoded image's model inputs as pixels, (N, H, W, 3) uint8, under one condition:
    format step, damage, policy."""
    if format_jpeg:
        rgb = jpeg_roundtrip(rgb, format_jpeg)
    crops, _ = spec.policy.crops(condition.apply(rgb, seed, key))
    return crops


def model_inputs(rgb: np.ndarray, spec: ModelSpec, condition: Condition, key: str, seed: int = 0,
                 format_jpeg: int = 0) -> dict[str, np.ndarray]:
    """One decoded image's network inputs, (N, H, W, 3) for its N crops, under one condition:
    format step, damage, policy, features."""
    return spec.make_inputs(condition_crops(rgb, spec, condition, key, seed, format_jpeg))


@dataclass
class Scores:
    """p_fake of every readable image under every condition."""

    conditions: tuple[Condition, ...]
    items: list[Item]
    """The images scored, in order."""
    p_fake: np.ndarray
    """(len(conditions), len(items)) float64."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Unreadable files: path -> reason."""
    seconds: float = 0.0
    out_of_scope: np.ndarray | None = None
    """(len(conditions), len(items)) bool: the runtime's out-of-scope warning; None when the model
    file records no scope."""

    @property
    def labels(self) -> np.ndarray:
        return np.array([item.label for item in self.items], dtype=int)


def score(model: TFLiteModel | KerasModel, items: Sequence[Item],
          conditions: Sequence[Condition] = (CLEAN,), seed: int = 0, format_jpeg: int = 0,
          progress: bool | None = None, description: str = "scoring") -> Scores:
    """Scores every image under every condition. ``progress`` on stderr: True a bar, False none,
    None a bar on a terminal, else a plain line every few seconds (``evaluation.progress``)."""
    started = time.time()
    conditions = tuple(conditions)
    kept: list[Item] = []
    skipped: dict[str, str] = {}
    chunks: list[np.ndarray] = []
    scoped, warned = model.spec.scope is not None, []
    with progress_bar(len(items), description, progress) as bar:
        for start in range(0, len(items), CHUNK):
            inputs, chunk_kept = [], []
            for item in items[start : start + CHUNK]:
                try:
                    rgb = decode_rgb(item.path)
                    crops = [condition_crops(rgb, model.spec, c, item.key, seed, format_jpeg) for c in conditions]
                except ImageError as e:
                    skipped[str(item.path)] = str(e)
                    continue
                image_inputs = [model.spec.make_inputs(c) for c in crops]
                if scoped:
                    warned.append([model.spec.read_scope(x, c).reason is not None
                                   for x, c in zip(image_inputs, crops)])
                inputs += image_inputs
                chunk_kept.append(item)
            if chunk_kept:
                chunks.append(model.predict(inputs).reshape(len(chunk_kept), len(conditions)))
                kept += chunk_kept
            bar.update(len(items[start : start + CHUNK]))
    p_fake = np.concatenate(chunks).T if chunks else np.zeros((len(conditions), 0))
    out_of_scope = None
    if scoped:
        out_of_scope = np.array(warned, dtype=bool).reshape(len(kept), len(conditions)).T
    return Scores(conditions, kept, p_fake, skipped, round(time.time() - started, 1), out_of_scope)
