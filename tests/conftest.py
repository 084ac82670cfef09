"""Shared fixtures: small images made on the fly, and the shared data folder when it exists."""

from __future__ import annotations

import os

# Before numpy loads: one OpenBLAS thread, as `import deepfake_dct` sets for the runtime (threaded BLAS
# on 128x128 products spins against the other threads; the suite ran 7x slower under load).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import io  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ffhq-tpdne-128"


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kw)
    return buffer.getvalue()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def face_like(rng) -> np.ndarray:
    """A 128x128 smooth RGB image (low-pass noise): photo-like spectrum, no upsampling grid."""
    return smooth_noise(rng, 128, 128)


def smooth_noise(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """RGB uint8 noise with a 1/f amplitude spectrum, like natural images."""
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    amplitude = 1.0 / np.maximum(np.hypot(fy, fx), 1.0 / max(height, width))
    channels = []
    for _ in range(3):
        phase = rng.uniform(0, 2 * np.pi, (height, width))
        field = np.real(np.fft.ifft2(amplitude * np.exp(1j * phase)))
        field = (field - field.mean()) / (field.std() + 1e-9)
        channels.append(np.clip(128 + 40 * field, 0, 255))
    return np.stack(channels, axis=-1).astype(np.uint8)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (tests that need it skip outside the workspace)")
    return SHARED_DATA
