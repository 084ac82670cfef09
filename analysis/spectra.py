"""Mean DCT spectra of a folder of images, and their azimuthal average.

Every spectrum here is computed by :func:`deepfake_dct.detector.features.dct2` / :func:`deepfake_dct.detector.features.log_dct`,
the model's own feature definition, and every image is made by the model's own image-to-input policy
(:class:`deepfake_dct.detector.images.InputPolicy`), so what the figures show is what the network reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from deepfake_dct.detector.files import expand_paths
from deepfake_dct.detector.features import DEFAULT_LOG_EPS, dct2, log_dct
from deepfake_dct.detector.images import ImageError, InputPolicy, decode_rgb

#: ITU-R BT.601 luma weights (what Pillow's ``convert("L")`` uses), for greyscale spectra.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class ImageSet:
    """Images of one folder, all made into the same (H, W, 3) uint8 input by one policy."""

    images: np.ndarray
    """(N, H, W, 3) uint8 RGB."""
    skipped: int
    """Files that could not be decoded or were smaller than the input."""


def load_folder(folder: Path | str, policy: InputPolicy, max_images: int | None = None,
                seed: int = 0) -> ImageSet:
    """Decodes (by content) the image files under ``folder`` and applies ``policy`` to each.

    With ``max_images``, a seeded random sample of that many files is read (sorted names often
    follow capture order or a generator's seed, so the first N are not a fair sample).

    Raises:
      ValueError: the folder holds no usable image.
    """
    paths = list(expand_paths([str(folder)]))
    if max_images is not None and max_images < len(paths):
        chosen = np.random.default_rng(seed).choice(len(paths), size=max_images, replace=False)
        paths = [paths[i] for i in sorted(chosen)]
    images, skipped = [], 0
    for path in paths:
        try:
            images.append(policy.apply(decode_rgb(path)))
        except ImageError:
            skipped += 1
    if not images:
        raise ValueError(
            f"Expected image files of at least {policy.width}x{policy.height} under {folder}, "
            f"found none usable ({skipped} skipped)."
        )
    return ImageSet(images=np.stack(images), skipped=skipped)


def greyscale(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) RGB -> (...) float32 luma in the same 0..255 range."""
    return np.asarray(rgb, dtype=np.float32) @ LUMA


def _mean_of(images: Iterable[np.ndarray], transform) -> np.ndarray:
    """Mean of ``transform(image)`` over images (an array's first axis, or any iterable of arrays of
    one shape), accumulated in float64 one image at a time so that memory stays flat."""
    total, count = None, 0
    for image in images:
        value = np.asarray(transform(image), dtype=np.float64)
        total = value if total is None else total + value
        count += 1
    if count == 0:
        raise ValueError("Expected at least one image, got none.")
    return total / count


def mean_log_dct(images: Iterable[np.ndarray], eps: float = DEFAULT_LOG_EPS) -> np.ndarray:
    """Mean log(|DCT| + eps) of (H, W) or (H, W, C) images, in float32."""
    return _mean_of(images, lambda image: log_dct(image, eps)).astype(np.float32)


def mean_power(images: Iterable[np.ndarray]) -> np.ndarray:
    """Mean DCT(image)**2 of (H, W) or (H, W, C) images, in float64."""
    return _mean_of(images, lambda image: np.square(dct2(image), dtype=np.float64))


def frequency_radius(h: int, w: int) -> np.ndarray:
    """(H, W) radial frequency sqrt(ky**2 + kx**2) of each DCT coefficient, in index units."""
    return np.hypot(*np.meshgrid(np.arange(h), np.arange(w), indexing="ij"))


def azimuthal_average(spectrum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average of an (H, W) DCT-domain array over rings of equal radial frequency.

    The DCT's zero frequency is the corner (0, 0), so the rings are quarter circles around it:
    coefficient (ky, kx) has radius sqrt(ky**2 + kx**2), rounded to the nearest integer. Only rings
    that lie wholly inside the spectrum (radius < min(H, W)) are returned; beyond them only the
    diagonal corner is left, which would bias the average towards diagonal frequencies.

    Returns:
      (radius, mean): integer radii 0 .. min(H, W) - 1 in DCT index units (index k of an N-point
      DCT-II is k / (2N) cycles per pixel), and the mean of ``spectrum`` on each ring.
    """
    spectrum = np.asarray(spectrum, dtype=np.float64)
    if spectrum.ndim != 2:
        raise ValueError(f"Expected an (H, W) spectrum, got shape {spectrum.shape}.")
    h, w = spectrum.shape
    rings = np.rint(frequency_radius(h, w)).astype(int)
    n_rings = min(h, w)
    sums = np.bincount(rings.ravel(), spectrum.ravel())[:n_rings]
    counts = np.bincount(rings.ravel())[:n_rings]
    return np.arange(n_rings), sums / counts


def power_law_slope(radius: np.ndarray, profile: np.ndarray, lo: int, hi: int) -> float:
    """The exponent a of the least-squares fit profile ~ radius**a over lo <= radius < hi."""
    keep = (radius >= lo) & (radius < hi)
    if keep.sum() < 2:
        raise ValueError(f"Expected at least 2 radii in [{lo}, {hi}), got {keep.sum()}.")
    return float(np.polyfit(np.log(radius[keep]), np.log(profile[keep]), 1)[0])


def odd_frequency_share(power: np.ndarray, axis: int) -> float:
    """Share of the AC power of an (H, W) DCT power spectrum at odd indices along ``axis``.

    DCT-II basis functions of odd index are antisymmetric about the image's centre line and those of
    even index symmetric, so along axis 1 (kx) this is the share of the image's variation that is
    left-right antisymmetric: 0 for a mirror-symmetric image, 1 for an antisymmetric one.
    """
    power = np.array(power, dtype=np.float64)
    power[0, 0] = 0.0  # the mean brightness is not variation
    odd = power[:, 1::2] if axis == 1 else power[1::2, :]
    return float(odd.sum() / power.sum())


@dataclass(frozen=True)
class ClassSpectra:
    """Mean spectra of one class of images."""

    log_dct_grey: np.ndarray
    """(H, W) mean log(|DCT| + eps) of the greyscale images."""
    log_dct_rgb: np.ndarray
    """(H, W, 3) mean log(|DCT| + eps) per RGB channel: exactly the model's input before normalisation."""
    radius: np.ndarray
    """Ring radii of :attr:`radial_power`, in DCT index units."""
    radial_power: np.ndarray
    """Azimuthal average of the mean greyscale DCT power."""
    odd_kx_share: float
    """Share of the greyscale AC power that is left-right antisymmetric (:func:`odd_frequency_share`)."""
    odd_ky_share: float
    """Share of the greyscale AC power that is top-bottom antisymmetric."""
    count: int
    """Images averaged."""


def class_spectra(images: np.ndarray, eps: float = DEFAULT_LOG_EPS) -> ClassSpectra:
    """All the spectra of one class, from (N, H, W, 3) uint8 images."""
    grey = greyscale(images)
    power = mean_power(grey)
    radius, radial = azimuthal_average(power)
    return ClassSpectra(
        log_dct_grey=mean_log_dct(grey, eps),
        log_dct_rgb=mean_log_dct(images, eps),
        radius=radius,
        radial_power=radial,
        odd_kx_share=odd_frequency_share(power, axis=1),
        odd_ky_share=odd_frequency_share(power, axis=0),
        count=len(images),
    )


#: Frequency bands by radius sqrt(ky**2 + kx**2) as a fraction of min(H, W). "high" runs on into the
#: corner (up to sqrt(2)), which holds the finest diagonal detail.
BANDS = {"low": (0.0, 0.25), "middle": (0.25, 0.5), "high": (0.5, np.inf)}


def band_means(spectrum: np.ndarray) -> dict[str, float]:
    """Mean of an (H, W) or (H, W, C) DCT-domain array over the coefficients of each of :data:`BANDS`."""
    h, w = spectrum.shape[:2]
    radius = frequency_radius(h, w) / min(h, w)
    values = np.asarray(spectrum, dtype=np.float64)
    return {name: float(values[(radius >= lo) & (radius < hi)].mean()) for name, (lo, hi) in BANDS.items()}
