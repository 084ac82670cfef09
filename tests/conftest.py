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


# --- a tiny training run, shared by test_training.py and test_export.py ------------------------------

#: Side of the synthetic images, and of the tiny run's model input.
SYNTHETIC_SIZE = 32


@pytest.fixture(scope="session")
def synthetic_size() -> int:
    return SYNTHETIC_SIZE


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory) -> Path:
    """90 "real" 1/f-noise PNGs and 90 "fakes" made as the paper explains GAN artifacts arise: a
    smaller image upsampled 2x by nearest neighbour or bilinear interpolation, which leaves a periodic
    grid in the DCT spectrum; plus one corrupt real file. SYNTHETIC_SIZE square."""
    from PIL import Image

    root = tmp_path_factory.mktemp("synthetic")
    rng = np.random.default_rng(1)
    for label in ("real", "fake"):
        (root / label).mkdir()
    for i in range(90):
        Image.fromarray(smooth_noise(rng, SYNTHETIC_SIZE, SYNTHETIC_SIZE)).save(root / "real" / f"r{i}.png")
        small = Image.fromarray(smooth_noise(rng, SYNTHETIC_SIZE // 2, SYNTHETIC_SIZE // 2))
        resample = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR)[i % 2]
        small.resize((SYNTHETIC_SIZE, SYNTHETIC_SIZE), resample).save(root / "fake" / f"f{i}.png")
    (root / "real" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    return root


@pytest.fixture(scope="session")
def trained_run(synthetic_data, tmp_path_factory) -> Path:
    """The paper's DCT CNN trained on ``synthetic_data`` through the command line (no JPEG policy
    step, at most 25 epochs). Read it, never write into it: tests export to their own folders."""
    pytest.importorskip("tensorflow")
    from deepfake_dct.cli import main

    run = tmp_path_factory.mktemp("run")
    code = main(["train", str(synthetic_data), "--out", str(run), "--arch", "dct_cnn",
                 "--size", str(SYNTHETIC_SIZE), "--jpeg-quality", "0", "--epochs", "25", "--patience", "6"])
    assert code == 0
    return run


@pytest.fixture(scope="session")
def presplit_data(tmp_path_factory):
    """train/val/test folders of 1/f-noise "reals" and 2x nearest/bilinear-upsampled "fakes", 64x96
    pixels: several 32x32 tiles each."""
    from PIL import Image

    root = tmp_path_factory.mktemp("presplit")
    rng = np.random.default_rng(3)
    for split, n in (("train", 40), ("val", 12), ("test", 12)):
        for label in ("real", "fake"):
            folder = root / split / label / "gen"
            folder.mkdir(parents=True)
            for i in range(n):
                if label == "real":
                    image = Image.fromarray(smooth_noise(rng, 64, 96))
                else:
                    resample = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR)[i % 2]
                    image = Image.fromarray(smooth_noise(rng, 32, 48)).resize((96, 64), resample)
                image.save(folder / f"{label[0]}{i}.png")
    return root
