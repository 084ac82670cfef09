"""Plain functions that make test images, for the test modules and for scripts in this folder
(``from helpers import smooth_noise``): pytest puts this folder on ``sys.path`` for the tests, Python
for ``python tests/test_reliability.py``. Fixtures live in conftest.py; nothing imports conftest."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    """The bytes of ``image`` saved as ``fmt`` (Pillow's save options in ``kw``)."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kw)
    return buffer.getvalue()


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


#: The crop size of the small tiles runs (``presplit_data``'s images hold several).
TILE = 32


def trained_tiles_run(data, run, **changes):
    """(run folder, report) of a small native_net trained on 2x2 tiles of ``data``."""
    import pytest

    pytest.importorskip("tensorflow")
    from deepfake_dct.training.options import TrainOptions
    from deepfake_dct.training.train import train

    options = TrainOptions(**{"arch": "native_net", "size": TILE, "input_mode": "tiles", "grid": 2,
                              "crops_per_image": 2, "processing": True, "jpeg_quality": 0, "epochs": 3,
                              "patience": 3, "batch_size": 16, **changes})
    return run, train(data, run, options)
