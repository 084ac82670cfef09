"""Folders of real and fake images -> a seeded file-level split -> examples built by the runtime's code.

Labels are explicit, never inferred from folder order: real = 0, fake = 1. The split is made on files,
before any augmentation, and written next to the model so that nothing downstream scores an image the
model trained on. No TensorFlow here: the tf.data pipeline lives in ``deepfake_dct.training.pipeline``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepfake_dct.detector.images import decode_rgb
from deepfake_dct.detector.model_file import ModelSpec
from deepfake_dct.training.augment import Augmentation

LABELS = {"real": 0, "fake": 1}
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Split:
    """Relative paths and labels of each split, under one data root."""

    root: Path
    files: dict[str, list[str]]
    labels: dict[str, list[int]]

    def paths(self, split: str) -> list[Path]:
        return [self.root / f for f in self.files[split]]

    def to_json(self) -> dict:
        return {"root": str(self.root), "files": self.files, "labels": self.labels}

    @classmethod
    def from_json(cls, d: dict, root: Path | None = None) -> "Split":
        return cls(root=Path(root or d["root"]), files=d["files"], labels=d["labels"])

    @classmethod
    def load(cls, path: Path, root: Path | None = None) -> "Split":
        return cls.from_json(json.loads(Path(path).read_text()), root)


def list_class_files(root: Path) -> dict[str, list[str]]:
    """Every regular, non-hidden file under ``root/real`` and ``root/fake`` (recursive), as sorted
    paths relative to ``root``. Whether a file is an image is decided by its content, later.

    Raises:
      ValueError: a class folder is missing or holds no files.
    """
    out = {}
    for name in LABELS:
        folder = root / name
        if not folder.is_dir():
            raise ValueError(f"Expected a folder {folder} (the data root needs real/ and fake/).")
        files = sorted(
            str(p.relative_to(root))
            for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
        if not files:
            raise ValueError(f"Expected image files in {folder}, found none.")
        out[name] = files
    return out


def check_fractions(fractions) -> None:
    """Raises ValueError unless ``fractions`` (train, val, test) are three positive numbers summing to 1."""
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-6 or min(fractions) <= 0:
        raise ValueError(f"Expected three positive fractions summing to 1, got {tuple(fractions)}.")


def is_presplit(root: Path) -> bool:
    """Whether ``root`` holds train/, val/ and test/, each with real/ and fake/ (the layout
    ``deepfake-dct dataset build`` writes, its splits decided before training)."""
    return all((Path(root) / s / name).is_dir() for s in SPLITS for name in LABELS)


def presplit(root: Path, max_per_class: int | None = None, seed: int = 0) -> Split:
    """The split a pre-split folder already is (optionally a seeded sample of at most
    ``max_per_class`` files per class and subset)."""
    files = {s: [] for s in SPLITS}
    labels = {s: [] for s in SPLITS}
    rng = np.random.default_rng(seed)
    for split in SPLITS:
        for name, class_files in list_class_files(Path(root) / split).items():
            order = np.sort(rng.permutation(len(class_files))[:max_per_class])
            files[split] += [f"{split}/{class_files[i]}" for i in order]
            labels[split] += [LABELS[name]] * len(order)
    return Split(root=Path(root), files=files, labels=labels)


def make_split(root: Path, fractions=(0.7, 0.15, 0.15), seed: int = 0,
               max_per_class: int | None = None) -> Split:
    """A seeded, stratified split of the files of each class into train/val/test (optionally of a
    seeded sample of at most ``max_per_class`` files per class). A folder that is already split
    (:func:`is_presplit`) keeps its own split; ``fractions`` then do not apply."""
    check_fractions(fractions)
    if is_presplit(root):
        return presplit(root, max_per_class, seed)
    files = {s: [] for s in SPLITS}
    labels = {s: [] for s in SPLITS}
    rng = np.random.default_rng(seed)
    for name, class_files in list_class_files(root).items():
        order = rng.permutation(len(class_files))[:max_per_class]
        n_train = int(round(fractions[0] * len(order)))
        n_val = int(round(fractions[1] * len(order)))
        parts = (order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :])
        for split, idx in zip(SPLITS, parts):
            files[split] += [class_files[i] for i in idx]
            labels[split] += [LABELS[name]] * len(idx)
    for split in SPLITS:
        if len(set(labels[split])) < 2:
            raise ValueError(f"Expected both classes in the {split} split; add more images.")
    return Split(root=root, files=files, labels=labels)


def load_rgb(path: Path | str, augmentation: Augmentation | None = None,
             rng: np.random.Generator | None = None) -> np.ndarray:
    """Decodes an image (by content) and applies the augmentation, if any, before the policy: the
    damage an image suffered in the wild happens before the runtime ever sees it."""
    rgb = decode_rgb(path)
    if augmentation is not None:
        rgb = augmentation(rgb, rng if rng is not None else np.random.default_rng())
    return rgb


def load_example(path: Path | str, spec: ModelSpec, augmentation: Augmentation | None = None,
                 rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """One image's network inputs, built exactly as the runtime builds them (plus augmentation).

    Raises:
      ImageError: the file cannot be decoded or is smaller than the input.
    """
    return spec.make_inputs(spec.policy.apply(load_rgb(path, augmentation, rng)))


def image_inputs(path: Path | str, spec: ModelSpec) -> dict[str, np.ndarray]:
    """One image's network inputs for every crop the policy cuts, (N, H, W, C) by name: exactly what
    the runtime feeds for this file (N = 1 for a "resize" policy).

    Raises:
      ImageError: the file cannot be decoded or is smaller than one input.
    """
    crops, _ = spec.policy.crops(load_rgb(path))
    return spec.make_inputs(crops)


#: The most crops :func:`aggregate_images` passes to ``predict_crops`` at once: a Keras call on
#: thousands of 128x128 crops holds gigabytes of activations.
CROPS_PER_CALL = 256


def aggregate_images(predict_crops, examples: list[dict[str, np.ndarray]], spec: ModelSpec) -> np.ndarray:
    """One p_fake per image from each image's crop inputs (:func:`image_inputs`): every crop of
    every image through ``predict_crops`` (stacked inputs by name -> a score per crop), in calls of
    at most :data:`CROPS_PER_CALL` crops, then each image's scores aggregated as the runtime
    aggregates them."""
    stacked = {n: np.concatenate([e[n] for e in examples]) for n in spec.input_names}
    total = len(stacked[spec.input_names[0]])
    crops = np.concatenate([
        np.asarray(predict_crops({n: x[i : i + CROPS_PER_CALL] for n, x in stacked.items()}),
                   dtype=np.float64).reshape(-1)
        for i in range(0, total, CROPS_PER_CALL)])
    ends = np.cumsum([len(e[spec.input_names[0]]) for e in examples])[:-1]
    return np.array([spec.aggregate(c) for c in np.split(crops, ends)])


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Writes via a temp file and rename, so an interruption never leaves half a file behind."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2) + "\n").encode("utf-8"))


__all__ = [
    "LABELS",
    "aggregate_images",
    "SPLITS",
    "Split",
    "atomic_write_bytes",
    "atomic_write_json",
    "is_presplit",
    "image_inputs",
    "list_class_files",
    "load_example",
    "load_rgb",
    "make_split",
    "presplit",
]
