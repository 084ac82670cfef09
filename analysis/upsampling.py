"""The paper's upsampling experiment (Frank et al., section 3): why GAN images carry a grid.

A generator grows its image by 2x upsampling steps. Each step is, exactly, *zero insertion* (put the
H x W samples on every other pixel of a 2H x 2W grid of zeros) followed by a filter. Zero insertion
mirrors the spectrum: the new upper half of the frequencies holds a reflected copy of the lower half.
The filter decides how much of that copy survives:

- nearest neighbour is the 2x2 box filter, whose response only falls to zero at the highest
  frequency: most of the mirror survives. In one dimension the DCT-II of the result is exactly
  Y[k] = sqrt(2) cos(pi k / 4N) X[k] and Y[2N - k] = -sqrt(2) sin(pi k / 4N) X[k] (0 < k < N), and
  Y[N] = 0: a copy of the spectrum, reflected about N, scaled by tan(pi k / 4N);
- bilinear ([1, 2, 1] / 2) and binomial ([1, 4, 6, 4, 1] / 8) are smoother low-pass filters that
  suppress more of the mirror, binomial most;
- a transposed convolution with stride 2 is zero insertion followed by a *learned* filter. Randomly
  initialised, that filter is no low-pass filter at all, and the mirrored copy stays at full strength.

Everything here is numpy on float images; the spectra are :func:`deepfake_dct.detector.features.log_dct`.
"""

from __future__ import annotations

import numpy as np

# The 1-D interpolation filters after zero insertion, each with a DC gain of 2 (a 2x upsampling
# spreads each sample over two), so that flat regions keep their brightness.
_BOX = np.array([1.0, 1.0])
_TRIANGLE = np.array([1.0, 2.0, 1.0]) / 2.0
_BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 8.0

#: Side of the transposed convolution's kernel: 4x4 with stride 2, as in DCGAN-style generators.
TRANSPOSED_KERNEL = 4


def downsample2x(image: np.ndarray) -> np.ndarray:
    """(2H, 2W) -> (H, W) float by averaging 2x2 blocks (area downsampling). Odd edges are cropped."""
    x = np.asarray(image, dtype=np.float64)
    h, w = x.shape[0] // 2, x.shape[1] // 2
    x = x[: 2 * h, : 2 * w]
    return x.reshape(h, 2, w, 2).mean(axis=(1, 3))


def upsample2x(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """(H, W) -> (2H, 2W): zero insertion, then convolution with the 2-D ``kernel``.

    This is what a stride-2 transposed convolution computes. The image is edge-padded before zero
    insertion, so the borders are interpolated from repeated edge pixels rather than from zeros. The
    output is aligned so that a kernel of even size k has its taps at offsets -(k/2 - 1) .. k/2 and
    one of odd size at -(k//2) .. k//2: with the 2x2 box, sample (i, j) lands on pixels 2i..2i+1.
    """
    x = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if x.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"Expected a 2-D image and kernel, got {x.shape} and {kernel.shape}.")
    pad = max(kernel.shape) // 2 + 1
    padded = np.pad(x, pad, mode="edge")
    zeros = np.zeros((2 * padded.shape[0], 2 * padded.shape[1]))
    zeros[::2, ::2] = padded
    h, w = 2 * x.shape[0], 2 * x.shape[1]
    out = np.zeros((h, w))
    # y[n] = sum_j kernel[j] * z[n - j + centre]: a correlation with the flipped kernel, tap by tap.
    for (a, b), weight in np.ndenumerate(kernel):
        top = 2 * pad - a + (kernel.shape[0] - 1) // 2
        left = 2 * pad - b + (kernel.shape[1] - 1) // 2
        out += weight * zeros[top : top + h, left : left + w]
    return out


def random_transposed_kernel(rng: np.random.Generator, size: int = TRANSPOSED_KERNEL) -> np.ndarray:
    """A (size, size) kernel drawn as Keras initialises a one-channel Conv2DTranspose (Glorot
    uniform), then scaled to the 2x2 box's L2 norm (2) so that its output has the same energy scale
    as nearest neighbour: the log in log(|DCT| + eps) is not scale-invariant."""
    limit = np.sqrt(6.0 / (2 * size * size))
    kernel = rng.uniform(-limit, limit, size=(size, size))
    return kernel * (2.0 / np.linalg.norm(kernel))


def upsampling_kernels(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The 2-D kernel of each upsampling method, by name (separable filters as outer products)."""
    return {
        "nearest": np.outer(_BOX, _BOX),
        "bilinear": np.outer(_TRIANGLE, _TRIANGLE),
        "binomial": np.outer(_BINOMIAL, _BINOMIAL),
        "transposed conv": random_transposed_kernel(rng),
    }


def resample(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The (H, W) image downsampled 2x, then upsampled back with ``kernel``."""
    return upsample2x(downsample2x(image), kernel)
