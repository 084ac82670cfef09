"""Fakes that no single generator made: each real training image gets a "twin", its reconstruction
by a small autoencoder whose decoder upsamples one way (transposed convolution, nearest + conv,
bilinear + conv, or pixel shuffle), labelled fake. The AutoGAN idea (Zhang, Karaman and Chang 2019,
arXiv 1907.06515): a twin shows the same face or scene as its real, so the only thing that tells
the pair apart is what the upsampler left.

A twin also keeps its real's compression history: a twin of a JPEG is saved as JPEG with the real's
own quantisation tables and chroma subsampling, on the same 16-pixel block grid (its window starts
on a multiple of 16); a twin of a lossless image is saved as PNG. Public reals here are mostly JPEG
q75 re-saves and the public fakes q98-q100 files, so without twins "has been compressed hard" means
"real"; with them, half the images of any history are fakes.

    deepfake-dct dataset twins DATA            # writes DATA/{train,val}/fake/twin-<upsampler>/

Decoders are trained here, on crops of the training split's reals, for a few hundred steps: the
point is the upsampler's trace, not a good autoencoder.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Sequence

import numpy as np
from PIL import Image, JpegImagePlugin

from deepfake_dct.detector.files import expand_paths
from deepfake_dct.detector.images import TILE_ALIGN, ImageError, decode_rgb, open_image

UPSAMPLERS = ("transposed", "nearest", "bilinear", "shuffle")
TWIN_PREFIX = "twin-"


def _upsample(x, kind: str, width: int):
    """One 2x upsampling step of the given kind, to ``width`` channels."""
    from keras import layers

    if kind == "transposed":
        return layers.Conv2DTranspose(width, 3, strides=2, padding="same", activation="relu")(x)
    if kind in ("nearest", "bilinear"):
        x = layers.UpSampling2D(2, interpolation=kind)(x)
        return layers.Conv2D(width, 3, padding="same", activation="relu")(x)
    if kind == "shuffle":
        import keras

        x = layers.Conv2D(4 * width, 3, padding="same", activation="relu")(x)
        return layers.Lambda(lambda t: keras.ops.depth_to_space(t, 2), name="pixel_shuffle")(x)
    raise ValueError(f"Expected an upsampler from {UPSAMPLERS}, got {kind!r}.")


def make_decoder(kind: str, width: int = 32):
    """An autoencoder on [0, 1] RGB: a stride-2 convolution halves the resolution (to ``2 * width``
    channels, more numbers than the pixels it replaces, so little content is lost), one upsampling
    step of ``kind`` restores it, and a 3x3 convolution maps back to RGB. No skip connection: every
    output pixel comes through the upsampler."""
    import keras
    from keras import layers

    inputs = keras.Input((None, None, 3), name="rgb")
    x = layers.Conv2D(width, 3, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(2 * width, 3, strides=2, padding="same", activation="relu")(x)
    x = _upsample(x, kind, width)
    outputs = layers.Conv2D(3, 3, padding="same", name="reconstruction")(x)
    return keras.Model(inputs, outputs, name=f"decoder_{kind}")


def _window(rgb: np.ndarray, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A height x width window at a random place whose corner is on the 16-pixel block grid."""
    h, w = rgb.shape[:2]
    top = int(rng.integers(0, h - height + 1)) // TILE_ALIGN * TILE_ALIGN
    left = int(rng.integers(0, w - width + 1)) // TILE_ALIGN * TILE_ALIGN
    return rgb[top : top + height, left : left + width]


def training_crops(paths: Sequence[Path], side: int, per_image: int, seed: int) -> np.ndarray:
    """``per_image`` random side x side windows of each image at least that large, as float32 [0, 1]."""
    rng = np.random.default_rng(seed)
    crops = []
    for path in paths:
        try:
            rgb = decode_rgb(path)
        except ImageError:
            continue
        if min(rgb.shape[:2]) < side:
            continue
        crops.extend(_window(rgb, side, side, rng) for _ in range(per_image))
    if not crops:
        raise ValueError(f"No training image is at least {side}x{side} pixels.")
    return np.stack(crops).astype(np.float32) / 255.0


@dataclass(frozen=True)
class DecoderFit:
    kind: str
    steps: int
    seconds: float
    psnr_db: float
    """Reconstruction PSNR on 128x128 windows of every eighth training real (other windows than the
    64x64 ones it was fitted to): how much the decoder changes an image, not a generalisation test."""


def train_decoder(kind: str, crops: np.ndarray, held_back: np.ndarray, steps: int, seed: int,
                  batch_size: int = 16):
    """A decoder of ``kind`` fitted to ``crops`` by mean absolute error; returns it and its fit."""
    import keras

    keras.utils.set_random_seed(seed)
    model = make_decoder(kind)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mae")
    rng = np.random.default_rng(seed)
    started = time.monotonic()
    for _ in range(steps):
        batch = crops[rng.integers(0, len(crops), batch_size)]
        model.train_on_batch(batch, batch)
    seconds = time.monotonic() - started
    reconstruction = np.clip(np.asarray(model(held_back, training=False)), 0.0, 1.0)
    mse = float(np.mean((reconstruction - held_back) ** 2))
    psnr = 10.0 * np.log10(1.0 / max(mse, 1e-12))
    return model, DecoderFit(kind, steps, round(seconds, 1), round(psnr, 2))


def reconstruct(model, rgb: np.ndarray) -> np.ndarray:
    """The decoder's reconstruction of one uint8 RGB image of any size, as uint8. Called eagerly:
    a bilinear UpSampling2D cannot be traced for an input of unknown size."""
    out = np.asarray(model(rgb[None].astype(np.float32) / 255.0, training=False))[0]
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)


def twin_kind(path: Path, kinds: Sequence[str] = UPSAMPLERS) -> str:
    """The upsampler a real's twin gets: fixed by its file name's hash, never by its label or content."""
    digest = hashlib.sha256(path.name.encode()).digest()
    return kinds[digest[0] % len(kinds)]


def twin_window(rgb: np.ndarray, path: Path, max_side: int) -> np.ndarray:
    """The part of a real its twin reconstructs: at most ``max_side`` square, placed by the name's
    hash, starting on the 16-pixel block grid so a re-encode lays its blocks over the original's."""
    h, w = rgb.shape[:2]
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(path.name.encode()).digest()[:8], "little"))
    return np.ascontiguousarray(_window(rgb, min(h, max_side), min(w, max_side), rng))


def save_like(rgb: np.ndarray, original: Path, out_stem: Path) -> Path:
    """Writes ``rgb`` with ``original``'s compression: its JPEG quantisation tables and subsampling,
    or PNG for a lossless original. Returns the path written."""
    with open_image(original) as im:
        if im.format == "JPEG":
            tables, sampling = im.quantization, JpegImagePlugin.get_sampling(im)
        else:
            tables = sampling = None
    image = Image.fromarray(rgb)
    if tables is None:
        path = out_stem.with_suffix(".png")
        image.save(path, format="PNG")
    else:
        path = out_stem.with_suffix(".jpg")
        image.save(path, format="JPEG", qtables=tables, subsampling=max(sampling, 0))
    return path


@dataclass(frozen=True)
class TwinReport:
    decoders: tuple[DecoderFit, ...]
    written: dict
    """split -> upsampler -> twins written."""
    skipped: int
    seconds: float

    def summary(self) -> str:
        lines = [f"{fit.kind}: {fit.steps} steps in {fit.seconds:.0f} s, reconstruction PSNR {fit.psnr_db:.1f} dB"
                 for fit in self.decoders]
        for split, counts in self.written.items():
            lines.append(f"{split}: " + ", ".join(f"{n} twin-{k}" for k, n in sorted(counts.items())))
        lines.append(f"skipped (unreadable or too small): {self.skipped}; {self.seconds:.0f} s in all")
        return "\n".join(lines)


def make_twins(data: Path, splits: Sequence[str] = ("train", "val"), kinds: Sequence[str] = UPSAMPLERS,
               steps: int = 600, max_side: int = 512, seed: int = 0,
               progress: IO[str] | None = None) -> TwinReport:
    """Trains one decoder per upsampler on the train split's reals, then writes a twin of every real
    of ``splits`` to ``DATA/<split>/fake/twin-<upsampler>/`` (kept if already there)."""
    started = time.monotonic()
    if not (data / "train" / "real").is_dir():
        raise ValueError(f"{data / 'train' / 'real'}: no such folder (expected the dataset builder's layout).")
    train_reals = list(expand_paths([str(data / "train" / "real")]))
    if not train_reals:
        raise ValueError(f"{data / 'train' / 'real'}: no images (expected the dataset builder's layout).")
    crops = training_crops(train_reals, side=64, per_image=4, seed=seed)
    held_back = training_crops(train_reals[::8], side=128, per_image=1, seed=seed + 1)
    decoders, fits = {}, []
    for i, kind in enumerate(kinds):
        decoders[kind], fit = train_decoder(kind, crops, held_back, steps, seed + i)
        fits.append(fit)
        if progress:
            print(f"decoder {kind}: PSNR {fit.psnr_db:.1f} dB ({fit.seconds:.0f} s)", file=progress, flush=True)
    written: dict = {}
    skipped = 0
    for split in splits:
        counts = dict.fromkeys(kinds, 0)
        reals = list(expand_paths([str(data / split / "real")])) if (data / split / "real").is_dir() else []
        for n, path in enumerate(reals, 1):
            kind = twin_kind(path, kinds)
            folder = data / split / "fake" / f"{TWIN_PREFIX}{kind}"
            folder.mkdir(parents=True, exist_ok=True)
            stem = folder / f"{path.parent.name}__{path.stem}"
            if not any(stem.with_suffix(s).exists() for s in (".jpg", ".png")):
                try:
                    window = twin_window(decode_rgb(path), path, max_side)
                except ImageError:
                    skipped += 1
                    continue
                save_like(reconstruct(decoders[kind], window), path, stem)
            counts[kind] += 1
            if progress and n % 100 == 0:
                print(f"{split}: {n}/{len(reals)} twins", file=progress, flush=True)
        written[split] = counts
    report = TwinReport(tuple(fits), written, skipped, round(time.monotonic() - started, 1))
    (data / "twins.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    return report

