"""The model's input, defined once: colour -> 2-D DCT-II -> log(|x| + eps) -> per-coefficient normalisation.

Training imports these functions, so the tensors a model is trained on and the tensors the runtime
feeds it are built by the same code (no train/serve skew). numpy only: no scipy, no TensorFlow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

#: Added to |DCT| before the log. Coefficients of an 8-bit image below ~0.3 are rounding noise
#: (uniform +-0.5 per pixel has std 0.29, and an orthonormal DCT keeps that std), so eps=1 squashes
#: only noise, and keeps the normalised input free of the huge negative outliers that a tiny eps
#: gives near-zero coefficients -- outliers that would waste the int8 input range.
DEFAULT_LOG_EPS = 1.0

#: The channels a network reads: the crop's RGB, or its luma alone. A luma network cannot tell a
#: greyscale photo from the colour one it was made from, nor see chroma subsampling (how JPEG
#: encoders differ most): processing that says nothing of how the face was made.
COLOURS = ("rgb", "luma")


def channels(colour: str) -> int:
    """How many channels a network input of this colour has."""
    if colour not in COLOURS:
        raise ValueError(f"Expected colour in {COLOURS}, got {colour!r}.")
    return 3 if colour == "rgb" else 1


def luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma of uint8 RGB, (..., 3) -> (..., 1) uint8, in the integer arithmetic of
    Pillow's ``convert("L")``: so a greyscale copy made that way (R = G = B = Y) has exactly the
    luma of the image it was made from, and JPEG's Y channel is this one."""
    x = np.asarray(rgb)
    if x.dtype != np.uint8 or x.ndim < 3 or x.shape[-1] != 3:
        raise ValueError(f"Expected uint8 RGB of shape (..., 3), got {x.dtype} {x.shape}.")
    weighted = x[..., 0:1] * np.uint32(19595) + x[..., 1:2] * np.uint32(38470) + x[..., 2:3] * np.uint32(7471)
    return ((weighted + np.uint32(0x8000)) >> np.uint32(16)).astype(np.uint8)


def in_colour(rgb: np.ndarray, colour: str) -> np.ndarray:
    """The channels a network of this colour reads, from uint8 RGB (..., 3)."""
    return luma(rgb) if channels(colour) == 1 else np.asarray(rgb)


@functools.lru_cache(maxsize=16)
def dct_matrix(n: int) -> np.ndarray:
    """The orthonormal DCT-II matrix D (n x n, float64): dct(x) == D @ x."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    d = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    d[0, :] = np.sqrt(1.0 / n)
    d.setflags(write=False)
    return d


@functools.lru_cache(maxsize=16)
def _dct_matrix_f32(n: int) -> np.ndarray:
    d = dct_matrix(n).astype(np.float32)
    d.setflags(write=False)
    return d


def dct2(image: np.ndarray) -> np.ndarray:
    """Orthonormal 2-D DCT-II of each channel of an (H, W), (H, W, C) or (N, H, W, C) array, in float32.

    Equal to ``scipy.fft.dctn(image, axes=(-3, -2), norm="ortho")`` (axes (0, 1) for an (H, W)
    array) to float32 precision, computed as two matrix products so that it needs numpy alone.
    """
    x = np.asarray(image, dtype=np.float32)
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"Expected an (H, W), (H, W, C) or (N, H, W, C) array, got shape {x.shape}.")
    if x.ndim == 2:
        h, w = x.shape
        return _dct_matrix_f32(h) @ x @ _dct_matrix_f32(w).T
    h, w = x.shape[-3:-1]
    rows, cols = _dct_matrix_f32(h), _dct_matrix_f32(w)
    # Channels before rows and columns, so that each channel is one matrix in a batched matmul.
    channels_first = np.moveaxis(x, -1, -3)
    out = rows @ channels_first @ cols.T
    return np.ascontiguousarray(np.moveaxis(out, -3, -1))


def log_dct(image: np.ndarray, eps: float = DEFAULT_LOG_EPS) -> np.ndarray:
    """log(|DCT(image)| + eps), float32, same shape as the image."""
    return np.log(np.abs(dct2(image)) + np.float32(eps))


@dataclass(frozen=True)
class Normalisation:
    """Per-coefficient mean and standard deviation of the log-DCT, computed on a training split."""

    mean: np.ndarray
    """(H, W, C) float32 mean of the log-DCT."""
    std: np.ndarray
    """(H, W, C) float32 standard deviation of the log-DCT, floored so that it never divides by 0."""

    def __post_init__(self) -> None:
        # Checked here, whichever way the statistics arrive (computed, .npz, a model file).
        if self.mean.shape != self.std.shape:
            raise ValueError(f"Expected mean and std of one shape, got {self.mean.shape} and {self.std.shape}.")
        if not (np.all(np.isfinite(self.mean)) and np.all(np.isfinite(self.std)) and np.all(self.std > 0)):
            raise ValueError("Expected finite normalisation statistics with std > 0.")

    def apply(self, log_spectrum: np.ndarray) -> np.ndarray:
        if log_spectrum.shape[-3:] != self.mean.shape:
            raise ValueError(
                f"Expected a log-DCT of shape {self.mean.shape}, got {log_spectrum.shape[-3:]}."
            )
        return ((log_spectrum - self.mean) / self.std).astype(np.float32)


class RunningMoments:
    """Mean and std over many arrays of one shape, accumulated in float64 (Chan et al.'s merge)."""

    def __init__(self) -> None:
        self.count = 0
        self._mean: np.ndarray | None = None
        self._m2: np.ndarray | None = None

    def add(self, batch: np.ndarray) -> None:
        """Adds a batch of shape (N, ...) of samples."""
        batch = np.asarray(batch, dtype=np.float64)
        n = batch.shape[0]
        if n == 0:
            return
        b_mean = batch.mean(axis=0)
        b_m2 = ((batch - b_mean) ** 2).sum(axis=0)
        if self._mean is None:
            self.count, self._mean, self._m2 = n, b_mean, b_m2
            return
        total = self.count + n
        delta = b_mean - self._mean
        self._mean = self._mean + delta * (n / total)
        self._m2 = self._m2 + b_m2 + delta**2 * (self.count * n / total)
        self.count = total

    def normalisation(self, min_std: float = 1e-3) -> Normalisation:
        if self._mean is None or self.count < 2:
            raise ValueError(f"Expected at least 2 samples for statistics, got {self.count}.")
        std = np.sqrt(self._m2 / (self.count - 1))
        return Normalisation(
            mean=self._mean.astype(np.float32),
            std=np.maximum(std, min_std).astype(np.float32),
        )


def pixel_input(rgb: np.ndarray) -> np.ndarray:
    """The pixel representation (the paper's pixel-CNN baseline): uint8 pixels -> float32 in [-1, 1]."""
    return np.asarray(rgb, dtype=np.float32) / np.float32(127.5) - np.float32(1.0)
