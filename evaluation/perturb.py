"""The robustness matrix: damage at fixed strengths, applied to the decoded image before the model's
input policy (as in the wild, where an image is re-compressed or resized before anyone scores it).

Unlike ``deepfake_dct.training.augment`` (random strengths, to train on), each condition here is one fixed strength,
and the only randomness (the noise) comes from a generator seeded by the evaluation seed and the
image's name within its class folder: the same image gets the same damage whichever class it is
filed under, whatever order it is scored in, on every run. The class is never an argument.

Every perturbation keeps the image's size (a 128x128 image shrunk to 64x64 would be refused by the
policy, which never upsamples): downscaling and cropping are followed by a bilinear resize back.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from deepfake_dct.detector.images import jpeg_roundtrip


def jpeg(rgb: np.ndarray, quality: float, rng: np.random.Generator) -> np.ndarray:
    """Re-compression as JPEG at ``quality`` (4:2:0, Pillow's libjpeg)."""
    return jpeg_roundtrip(rgb, int(quality))


def _resize(rgb: np.ndarray, width: int, height: int, resample: Image.Resampling) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize((width, height), resample))


def downscale(rgb: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Resolution loss: downscaled by ``scale`` with the area filter, then bilinearly back to its size."""
    h, w = rgb.shape[:2]
    small = _resize(rgb, max(1, round(w * scale)), max(1, round(h * scale)), Image.Resampling.BOX)
    return _resize(small, w, h, Image.Resampling.BILINEAR)


def blur(rgb: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (Pillow's GaussianBlur radius)."""
    return np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(sigma)))


def noise(rgb: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Additive Gaussian noise of standard deviation ``sigma`` on the 0-255 scale, rounded and clipped."""
    noisy = rgb.astype(np.float32) + np.float32(sigma) * rng.standard_normal(rgb.shape, dtype=np.float32)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def centre_crop(rgb: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """The centred ``fraction`` of each side, bilinearly resized back to the image's size."""
    h, w = rgb.shape[:2]
    ch, cw = max(1, round(h * fraction)), max(1, round(w * fraction))
    top, left = (h - ch) // 2, (w - cw) // 2
    return _resize(np.ascontiguousarray(rgb[top : top + ch, left : left + cw]), w, h,
                   Image.Resampling.BILINEAR)


#: Family name -> f(rgb, strength, rng), and how a strength reads in a table.
FAMILIES = {
    "jpeg": (jpeg, "JPEG q{:g}"),
    "downscale": (downscale, "downscale x{:g}"),
    "blur": (blur, "blur sigma {:g}"),
    "noise": (noise, "noise sigma {:g}"),
    "crop": (centre_crop, "centre crop {:.0%}"),
}


@dataclass(frozen=True)
class Condition:
    """One column of the robustness matrix: a chain of (family, strength) steps, applied in order."""

    name: str
    """How the condition reads in tables and plots."""
    family: str
    """The perturbation family ("clean" and "combined" for the unperturbed and the chained ones)."""
    strength: float | None
    """The family's strength (None for "clean" and "combined")."""
    steps: tuple[tuple[str, float], ...] = ()
    """(family, strength) pairs, applied left to right."""

    def __post_init__(self) -> None:
        unknown = sorted({family for family, _ in self.steps} - set(FAMILIES))
        if unknown:
            raise ValueError(f"Expected perturbation families from {sorted(FAMILIES)}, got {unknown}.")

    @classmethod
    def single(cls, family: str, strength: float) -> "Condition":
        if family not in FAMILIES:
            raise ValueError(f"Expected a perturbation family from {sorted(FAMILIES)}, got {family!r}.")
        return cls(FAMILIES[family][1].format(strength), family, strength, ((family, strength),))

    def apply(self, rgb: np.ndarray, seed: int, key: str) -> np.ndarray:
        """The damaged image. ``key`` names the image (its path within its class folder); with ``seed``
        it seeds the noise, so the result depends on the image and the seed alone."""
        rng = np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])
        for family, strength in self.steps:
            rgb = FAMILIES[family][0](rgb, strength, rng)
        return rgb


CLEAN = Condition("clean", "clean", None)
#: One plausible life of a shared photo: cropped, resized, softened, sensor-noisy, re-compressed.
COMBINED_STEPS = (("crop", 0.9), ("downscale", 0.75), ("blur", 0.5), ("noise", 2.0), ("jpeg", 85))
COMBINED = Condition(
    "combined: " + " + ".join(FAMILIES[f][1].format(s) for f, s in COMBINED_STEPS),
    "combined", None, COMBINED_STEPS,
)
#: The strengths of the robustness matrix, per family.
STRENGTHS = {
    "jpeg": (95, 85, 75, 50, 30),
    "downscale": (0.9, 0.75, 0.5),
    "blur": (0.5, 1.0, 2.0),
    "noise": (2.0, 5.0, 10.0),
    "crop": (0.9, 0.75),
}
ROBUSTNESS = (
    CLEAN,
    *(Condition.single(family, s) for family, strengths in STRENGTHS.items() for s in strengths),
    COMBINED,
)
