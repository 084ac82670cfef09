"""Property-based fuzzing of the decoding path: any bytes give a verdict or an ImageError, never
another exception. Bounded (a fixed number of examples) so that it fits in CI."""

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from deepfake_dct.detector import ImageError


def _valid_images() -> list[bytes]:
    rng = np.random.default_rng(0)
    out = []
    for fmt in ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF"):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (130, 140, 3), dtype=np.uint8)).save(buffer, format=fmt)
        out.append(buffer.getvalue())
    return out


VALID = _valid_images()


def mutated(data: st.DataObject) -> bytes:
    """A valid image with a few bytes overwritten, cut short, or spliced: the interesting failures."""
    original = bytearray(data.draw(st.sampled_from(VALID)))
    for _ in range(data.draw(st.integers(0, 8))):
        original[data.draw(st.integers(0, len(original) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(original)))
    return bytes(original[: cut if data.draw(st.booleans()) else len(original)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_detect_mutated_image_bytes_verdict_or_image_error(detector, data):
    payload = mutated(data)
    try:
        result = detector.detect(payload)
    except ImageError as e:
        assert str(e)
    else:
        assert result.label in ("real", "fake") and 0.0 <= result.p_fake <= 1.0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=4096))
def test_detect_random_bytes_raise_image_error(detector, payload):
    with pytest.raises(ImageError):
        detector.detect(payload)
