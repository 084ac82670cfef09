import json

import numpy as np
import pytest
from PIL import Image

from deepfake_dct.detector import Detector, ModelFileError, default_model_path
from deepfake_dct.detector.features import Normalisation, channels
from deepfake_dct.detector.images import InputPolicy
from deepfake_dct.detector.model_file import (METADATA_NAME, ModelSpec, _normalisation_from_blob,
                                              read_metadata, read_spec)
from deepfake_dct.detector.scope import BANDS, fit_scope


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return default_model_path().read_bytes()


def small_spec(channels: int = 3, **kw) -> ModelSpec:
    shape = (8, 8, channels)
    norm = Normalisation(mean=np.zeros(shape, np.float32), std=np.ones(shape, np.float32))
    return ModelSpec(policy=InputPolicy(8, 8), normalisation=norm, **kw)


def test_read_spec_bundled_model_has_policy_and_statistics(model_bytes):
    spec = read_spec(model_bytes)
    shape = (spec.policy.height, spec.policy.width, channels(spec.colour))
    assert spec.normalisation.mean.shape == shape and (spec.normalisation.std > 0).all()
    assert 0.0 <= spec.threshold <= 1.0 and spec.provenance


def test_read_metadata_lists_tflite_and_detector_entries(model_bytes):
    names = set(read_metadata(model_bytes))
    assert METADATA_NAME in names and "min_runtime_version" in names


def test_read_spec_truncated_file_raises(model_bytes):
    with pytest.raises(ModelFileError):
        read_spec(model_bytes[: len(model_bytes) // 3])


def test_read_spec_random_bytes_raise(rng):
    with pytest.raises(ModelFileError, match="Expected a TFLite model"):
        read_spec(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())


def test_read_spec_keras_zip_raises_clear_message():
    with pytest.raises(ModelFileError, match="Expected a TFLite model"):
        read_spec(b"PK\x03\x04" + b"\0" * 100)


def test_read_spec_tflite_without_detector_metadata_raises(model_bytes):
    renamed = model_bytes.replace(METADATA_NAME.encode(), b"someone_else.json")
    with pytest.raises(ModelFileError, match="no deepfake_dct metadata"):
        read_spec(renamed)


def test_spec_from_newer_format_version_is_refused():
    meta = small_spec().to_json()
    meta["format_version"] = 99
    with pytest.raises(ModelFileError, match="upgrade deepfake-dct"):
        ModelSpec.from_json(meta, small_spec().normalisation)


def test_a_logit_output_is_format_3_so_older_runtimes_refuse_it_and_bad_outputs_are_refused():
    meta = small_spec(output="logit").to_json()
    assert meta["format_version"] == 3 and meta["output"] == "logit"
    assert ModelSpec.from_json(meta, small_spec().normalisation).output == "logit"
    assert small_spec().to_json()["format_version"] < 3 and small_spec().to_json()["output"] == "p_fake"
    with pytest.raises(ModelFileError, match="output"):
        ModelSpec.from_json({**meta, "output": "probits"}, small_spec().normalisation)


def test_spec_missing_field_is_refused():
    meta = small_spec().to_json()
    del meta["policy"]
    with pytest.raises(ModelFileError, match="incomplete"):
        ModelSpec.from_json(meta, small_spec().normalisation)


def test_spec_json_roundtrip_keeps_every_field():
    spec = small_spec(threshold=0.3, architecture="dct_cnn", provenance="p", extra={"a": 1})
    again = ModelSpec.from_json(json.loads(json.dumps(spec.to_json())), spec.normalisation)
    assert again.to_json() == spec.to_json()


def test_spec_log_dct_without_statistics_is_invalid():
    with pytest.raises(ValueError, match="normalisation"):
        ModelSpec(policy=InputPolicy(8, 8), normalisation=None, representation="log_dct")


def test_detector_from_truncated_file_names_the_file(tmp_path, model_bytes):
    path = tmp_path / "broken.tflite"
    path.write_bytes(model_bytes[:1000])
    with pytest.raises(ModelFileError, match="broken.tflite"):
        Detector.from_file(path)


def test_detector_from_missing_file_raises(tmp_path):
    with pytest.raises(ModelFileError, match="cannot read the model file"):
        Detector.from_file(tmp_path / "nope.tflite")


def test_every_bundled_model_loads_with_its_card():
    for path in sorted(default_model_path().parent.glob("*.tflite")):
        with Detector.from_file(path) as detector:
            assert detector.spec.extra.get("licence", "").startswith("Non-commercial"), path.name
            assert detector.spec.input_names == ("log_dct", "pixels"), path.name


def test_aggregate_is_mean_logit_over_temperature_and_one_uncalibrated_crop_as_is():
    spec = small_spec()
    assert spec.aggregate([0.3]) == 0.3
    assert spec.aggregate([0.5, 0.9, 0.1]) == pytest.approx(0.5)
    assert spec.aggregate([0.9, 0.9]) == pytest.approx(0.9)
    calibrated = small_spec(temperature=2.0)
    assert calibrated.aggregate([0.9]) == pytest.approx(1 / (1 + np.exp(-np.log(9) / 2)))
    with pytest.raises(ValueError, match="at least one crop"):
        spec.aggregate([])


def test_temperature_round_trips_and_older_files_read_as_uncalibrated():
    spec = small_spec(temperature=1.7)
    assert ModelSpec.from_json(spec.to_json(), spec.normalisation).temperature == 1.7
    assert "temperature" not in small_spec().to_json()
    with pytest.raises(ValueError, match="temperature"):
        small_spec(temperature=0.0)


def test_calibration_base_rate_round_trips_and_older_files_read_without_one():
    spec = small_spec(calibration_base_rate=0.38)
    assert ModelSpec.from_json(spec.to_json(), spec.normalisation).calibration_base_rate == 0.38
    assert "calibration_base_rate" not in small_spec().to_json()
    assert ModelSpec.from_json(small_spec().to_json(), spec.normalisation).calibration_base_rate is None
    for bad in (0.0, 1.0, 1.2):
        with pytest.raises(ValueError, match="calibration base rate"):
            small_spec(calibration_base_rate=bad)


def test_uncertain_band_round_trips_and_older_files_keep_theirs_from_extra():
    spec = small_spec(uncertain_band=[0.4, 0.1])
    assert spec.uncertain_band == (0.4, 0.1)
    assert ModelSpec.from_json(spec.to_json(), spec.normalisation).uncertain_band == (0.4, 0.1)
    assert "uncertain_band" not in small_spec().to_json()
    older = small_spec(extra={"uncertain_band": [0.3, 0.05]}).to_json()
    assert ModelSpec.from_json(older, spec.normalisation).uncertain_band == (0.3, 0.05)
    oldest = small_spec(extra={"uncertain_margin": 0.2}).to_json()
    assert ModelSpec.from_json(oldest, spec.normalisation).uncertain_band == (0.2, 0.2)
    assert ModelSpec.from_json(small_spec().to_json(), spec.normalisation).uncertain_band is None
    for bad in ([0.1], [0.1, 1.5], [-0.1, 0.1]):
        with pytest.raises(ValueError, match="uncertain band"):
            small_spec(uncertain_band=bad)


def test_a_luma_model_gets_one_channel_the_same_for_a_photo_and_its_greyscale_copy(rng):
    spec = small_spec(channels=1, colour="luma", representation="log_dct+pixels")
    photo = rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    grey = np.stack([np.asarray(Image.fromarray(x).convert("L").convert("RGB")) for x in photo])
    inputs, grey_inputs = spec.make_inputs(photo), spec.make_inputs(grey)
    assert spec.input_shape == (8, 8, 1)
    for name in ("log_dct", "pixels"):
        assert inputs[name].shape == (2, 8, 8, 1)
        np.testing.assert_array_equal(inputs[name], grey_inputs[name])
    assert not np.array_equal(small_spec().make_inputs(photo)["log_dct"], small_spec().make_inputs(grey)["log_dct"])


def test_a_luma_model_is_format_4_round_trips_and_rgb_files_stay_as_they_were():
    spec = small_spec(channels=1, colour="luma", output="logit")
    meta = spec.to_json()
    assert meta["format_version"] == 4 and meta["colour"] == "luma"
    assert ModelSpec.from_json(meta, spec.normalisation).colour == "luma"
    assert "colour" not in small_spec().to_json() and small_spec(output="logit").to_json()["format_version"] == 3
    assert ModelSpec.from_json(small_spec().to_json(), small_spec().normalisation).colour == "rgb"
    with pytest.raises(ModelFileError, match="colour"):
        ModelSpec.from_json({**meta, "colour": "cmyk"}, spec.normalisation)
    with pytest.raises(ValueError, match=r"normalisation of shape \(8, 8, 1\)"):
        small_spec(colour="luma")  # three channels of statistics for a one-channel input


def test_a_luma_models_statistics_and_scope_are_read_as_one_channel(rng):
    spec = small_spec(channels=1, colour="luma")
    blob = spec.normalisation_bytes()
    read = _normalisation_from_blob(blob, spec.policy, "luma")
    np.testing.assert_array_equal(read.mean, spec.normalisation.mean)
    with pytest.raises(ModelFileError, match="bytes of normalisation"):
        _normalisation_from_blob(blob, spec.policy, "rgb")
    one_channel = fit_scope(list(rng.standard_normal((50, 4, BANDS))), list(rng.standard_normal((20, 4, BANDS))),
                            np.zeros(20))
    assert one_channel.channels == 1
    assert small_spec(channels=1, colour="luma", scope=one_channel).scope is one_channel
    with pytest.raises(ValueError, match="scope of 3-channel"):
        small_spec(scope=one_channel)
