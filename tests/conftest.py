"""Shared fixtures: the bundled detector, Keras, small images made on the fly, and the shared data
folder when it exists. Test modules ask for these by name and never import this file; plain
functions that make images are in helpers.py."""

from __future__ import annotations

import os

# Before numpy loads: one OpenBLAS thread, as `import deepfake_dct` sets for the runtime (threaded BLAS
# on 128x128 products spins against the other threads; the suite ran 7x slower under load).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402
from typing import Iterator  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# encode and smooth_noise stay importable from here for the test files that still do
# `from conftest import ...`; new code imports them from helpers.
from helpers import encode, smooth_noise  # noqa: E402, F401

from deepfake_dct.detector import Detector  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ffhq-tpdne-128"


@pytest.fixture(scope="session")
def detector() -> Iterator[Detector]:
    """The bundled model, loaded once for the session and shared by every test (and thread) that
    asks: tests that close a detector or change its options make their own."""
    with Detector.from_file() as d:
        yield d


@pytest.fixture(scope="session")
def keras():
    """The keras module; the test is skipped without TensorFlow."""
    pytest.importorskip("tensorflow", reason="needs TensorFlow (pip install -e .[train])")
    import keras

    return keras


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def face_like(rng) -> np.ndarray:
    """A 128x128 smooth RGB image (low-pass noise): photo-like spectrum, no upsampling grid."""
    return smooth_noise(rng, 128, 128)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (tests that need it skip outside the workspace)")
    return SHARED_DATA

