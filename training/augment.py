"""Perturbations applied identically to both classes (the paper's perturbed-data training, Table 5).

They exist to defeat shortcuts -- above all the container shortcut of ffhq-tpdne-128, where every real
is a PNG and every fake a JPEG -- and to make the model hold up under the damage every image shared
online has suffered. Each is a pure function of (image, rng); Pillow and numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from deepfake_dct.detector.images import jpeg_roundtrip


def flip(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Horizontal mirror. Leaves |DCT| exactly unchanged (column k of the DCT-II only changes sign
    by (-1)^k), so it varies the pixels a pixel model sees without touching the spectrum."""
    return np.ascontiguousarray(rgb[:, ::-1])


def jpeg(rgb: np.ndarray, rng: np.random.Generator, low: int = 30, high: int = 95) -> np.ndarray:
    """Re-compression at a random quality in [low, high]."""
    return jpeg_roundtrip(rgb, int(rng.integers(low, high + 1)))


def blur(rgb: np.ndarray, rng: np.random.Generator, max_sigma: float = 1.0) -> np.ndarray:
    """Gaussian blur with sigma uniform in [0.1, max_sigma]."""
    radius = float(rng.uniform(0.1, max_sigma))
    return np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(radius)))


def crop(rgb: np.ndarray, rng: np.random.Generator, min_fraction: float = 0.9) -> np.ndarray:
    """A random crop of at least ``min_fraction`` of each side, resized back (as in the paper)."""
    h, w = rgb.shape[:2]
    f = float(rng.uniform(min_fraction, 1.0))
    ch, cw = max(1, int(round(h * f))), max(1, int(round(w * f)))
    top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    window = Image.fromarray(rgb[top : top + ch, left : left + cw])
    return np.asarray(window.resize((w, h), Image.Resampling.BILINEAR))


def noise(rgb: np.ndarray, rng: np.random.Generator, max_sigma: float = 5.0) -> np.ndarray:
    """Additive Gaussian noise, sigma uniform in [0, max_sigma] on the 0-255 scale."""
    sigma = float(rng.uniform(0.0, max_sigma))
    noisy = rgb.astype(np.float32) + rng.normal(0.0, sigma, rgb.shape).astype(np.float32)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def downscale(rgb: np.ndarray, rng: np.random.Generator, min_scale: float = 0.75) -> np.ndarray:
    """Resolution loss: downscale by a factor in [min_scale, 1) (area), then back to the size."""
    h, w = rgb.shape[:2]
    s = float(rng.uniform(min_scale, 1.0))
    small = Image.fromarray(rgb).resize(
        (max(1, int(round(w * s))), max(1, int(round(h * s)))), Image.Resampling.BOX
    )
    return np.asarray(small.resize((w, h), Image.Resampling.BILINEAR))


PERTURBATIONS = {"flip": flip, "jpeg": jpeg, "blur": blur, "crop": crop, "noise": noise, "downscale": downscale}


@dataclass(frozen=True)
class Augmentation:
    """Which perturbations to apply, each independently with probability ``probability``."""

    names: tuple[str, ...] = ("flip", "jpeg", "blur", "crop", "noise", "downscale")
    """Perturbations, applied in this order."""
    probability: float = 0.5
    """Chance that each one is applied to a given image."""

    def __post_init__(self) -> None:
        unknown = set(self.names) - set(PERTURBATIONS)
        if unknown:
            raise ValueError(f"Expected perturbations from {sorted(PERTURBATIONS)}, got {sorted(unknown)}.")

    def __call__(self, rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for name in self.names:
            if rng.random() < self.probability:
                rgb = PERTURBATIONS[name](rgb, rng)
        return rgb
