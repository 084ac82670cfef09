"""The one record of an image's outcome, as ``detect --json`` prints it (and ``batch`` writes it)."""

import json

from PIL import Image

from deepfake_dct.cli import main
from deepfake_dct.detector.records import RECORD_FIELDS, detection_record, error_record
from helpers import smooth_noise


def test_detect_json_prints_the_shared_records_with_the_model_name(detector, tmp_path, rng, capsys):
    good, bad = tmp_path / "a.png", tmp_path / "bad.png"
    Image.fromarray(smooth_noise(rng, 128, 128)).save(good)
    bad.write_bytes(b"junk")
    assert main(["detect", "--json", str(good), str(bad)]) == 1
    scored, failed = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert scored == detection_record(good, detector.detect(good), "default.tflite")
    assert failed == error_record(bad, f"{bad}: not an image Pillow can read.", "default.tflite")


def test_record_keys_are_among_the_declared_fields(detector, face_like):
    scored = detection_record("x.png", detector.detect(face_like), "m.tflite")
    failed = error_record("y.png", "y.png: broken", "m.tflite")
    assert list(scored) == [f for f in RECORD_FIELDS if f != "error"]
    assert set(failed) == {"path", "model", "error"} < set(RECORD_FIELDS)
