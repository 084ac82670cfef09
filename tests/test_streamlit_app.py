"""The Streamlit uploader, driven by streamlit.testing.v1.AppTest (no browser, no server).

Verdicts are checked against ``Detector.detect`` on the same file, so a better bundled model does not
break these tests; the known class of a sample is checked only where the current model gets it right.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

pytest.importorskip("streamlit", reason="the app needs streamlit (pip install -e .[apps])")
from streamlit.testing.v1 import AppTest  # noqa: E402

from deepfake_dct.apps.streamlit_app import SAMPLES_DIR, sample_images  # noqa: E402
from deepfake_dct.detector import Detector, ModelSpec  # noqa: E402
from deepfake_dct.detector.features import channels  # noqa: E402
from helpers import encode  # noqa: E402

APP = Path(__file__).resolve().parents[1] / "apps" / "streamlit_app.py"
MIME = {".png": "image/png", ".jpg": "image/jpeg"}


# --- Helpers -------------------------------------------------------------------------------------


def _start() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _upload(at: AppTest, files: list[tuple[str, bytes]], uploader: str = "images") -> AppTest:
    at.file_uploader(key=uploader).set_value(
        [(name, data, MIME.get(Path(name).suffix, "application/octet-stream")) for name, data in files]
    )
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _table(at: AppTest) -> dict[str, dict]:
    """The results table, by file name."""
    return {row["file"]: row for row in at.container("results").dataframe[0].value.to_dict("records")}


def _sample(name: str) -> tuple[str, bytes]:
    return name, (SAMPLES_DIR / name).read_bytes()


def _sample_the_model_gets_right(detector: Detector, truth: str) -> tuple[str, bytes]:
    for image in sample_images():
        if image.truth == truth and detector.detect(image.data).label == truth:
            return image.name, image.data
    pytest.skip(f"the bundled model gets no {truth} sample right")


@pytest.fixture(scope="module")
def test_model(tmp_path_factory, detector, keras) -> Path:
    """A model exported by the tests themselves: the export path, a different network and card."""
    from deepfake_dct.export.convert import convert, embed_spec

    policy = detector.spec.policy
    inputs = keras.Input((policy.height, policy.width, channels(detector.spec.colour)), name="log_dct")
    x = keras.layers.GlobalAveragePooling2D()(inputs)
    outputs = keras.layers.Dense(
        1, activation="sigmoid", kernel_initializer=keras.initializers.Constant(0.05),
        bias_initializer=keras.initializers.Constant(1.0),
    )(x)
    spec = ModelSpec(**{
        **vars(detector.spec), "representation": "log_dct", "threshold": 0.6,
        "architecture": "test_pooled_dense",
        "provenance": "exported by tests/test_streamlit_app.py",
        "extra": {"licence": "Test licence.", "limits": "Test limits."},
    })
    path = tmp_path_factory.mktemp("model") / "test_model.tflite"
    path.write_bytes(embed_spec(convert(keras.Model(inputs, outputs), "float32"), spec))
    return path


# --- Tests -----------------------------------------------------------------------------------------


def test_app_started_without_images_shows_prompt_and_bundled_model(detector):
    at = _start()

    assert any("Upload images" in i.value for i in at.info)
    assert any(detector.model_name in m.value for m in at.sidebar.markdown)
    assert at.slider(key="threshold:startup").value == pytest.approx(detector.threshold)
    how = next(e for e in at.expander if e.label.startswith("How it works"))
    steps = how.markdown[0].value
    assert "at native resolution (never resampled)" in steps and "downscaled" not in steps  # a tiles model
    layers = how.dataframe[0].value
    assert list(layers.columns) == ["op", "output_shape", "dtype", "parameters"]
    assert "DELEGATE" not in set(layers["op"])


def test_app_stated_base_rate_restates_p_fake_and_keeps_every_verdict(detector):
    from deepfake_dct.detector import DetectorOptions

    files = [_sample_the_model_gets_right(detector, "real"), _sample_the_model_gets_right(detector, "fake")]
    at = _upload(_start(), files)
    assert at.number_input(key="base-rate:startup").value == pytest.approx(
        100 * detector.spec.calibration_base_rate, abs=0.01)
    before = _table(at)
    at.number_input(key="base-rate:startup").set_value(1.0)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    after = _table(at)
    with Detector.from_file(options=DetectorOptions(base_rate=0.01)) as rare:
        assert at.slider(key="threshold:startup@0.01").value == pytest.approx(rare.threshold, abs=1e-3)
        for name, data in files:
            expected = rare.detect(data)
            assert after[name]["p_fake"] == pytest.approx(expected.p_fake, abs=1e-4)
            assert after[name]["verdict"] == before[name]["verdict"] == expected.label
            assert after[name]["uncertain"] == before[name]["uncertain"] == expected.uncertain


def test_app_real_and_fake_uploaded_verdicts_match_detector_and_truth(detector):
    files = [_sample_the_model_gets_right(detector, "real"), _sample_the_model_gets_right(detector, "fake")]

    at = _upload(_start(), files)

    table = _table(at)
    assert list(table) == [name for name, _ in files]
    for index, (name, data) in enumerate(files):
        expected = detector.detect(data)
        truth = name.split("_")[0]
        assert table[name]["verdict"] == expected.label == truth
        assert table[name]["p_fake"] == pytest.approx(expected.p_fake, abs=1e-4)
        assert table[name]["threshold"] == pytest.approx(expected.threshold)
        assert table[name]["time_ms"] > 0
        shown = at.container(f"result-{index}")
        assert shown.subheader[0].value == name
        assert expected.label.capitalize() in shown.markdown[0].value
        reads, spectrum = (image.proto.imgs[0].caption for image in shown.get("image")[:2])
        luma = detector.spec.colour == "luma"  # the pictures say which channels the model reads
        assert ("as its luma (brightness) alone" in reads) == luma
        assert spectrum.startswith("Its log-DCT spectrum " + ("(of its luma)" if luma else "(mean of R, G, B)"))
    assert at.container("results").download_button[0].label == "Download as CSV"


def test_app_samples_switched_on_every_sample_shown_with_known_answer(detector):
    at = _start()
    at.toggle(key="samples").set_value(True)
    at.run()

    table = _table(at)
    assert sorted(table) == sorted(image.name for image in sample_images())
    for image in sample_images():
        assert table[image.name]["verdict"] == detector.detect(image.data).label
        assert table[image.name]["known_answer"] == image.truth


def _png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header for a huge image, with no pixel data: a decompression bomb's first bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _small_png(size: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (128, 64, 32)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_app_unreadable_files_each_get_an_error_while_others_remain(detector):
    good_name, good = _sample("real_camera_nikon-e995.png")
    jpeg = (Path(__file__).parent / "data" / "fake_stylegan2_f252.jpg").read_bytes()
    bad = {
        "truncated.jpg": jpeg[: len(jpeg) // 2],
        "corrupt.jpg": jpeg[:200] + bytes(len(jpeg) - 200),
        "notes.png": b"These are my notes, not an image.\n",
        "tiny.png": _small_png(32),
        "bomb.png": _png_claiming(9000, 9000),
    }

    at = _upload(_start(), [(good_name, good), *bad.items()])

    errors = [e.value for e in at.error]
    assert len(errors) == len(bad)
    for name in bad:
        assert any(e.startswith(f"Cannot classify {name}: ") for e in errors), (name, errors)
    assert any("not an image" in e for e in errors)
    assert any("at least 128x128" in e for e in errors)
    assert any("refused before decoding" in e for e in errors)
    assert not any("<bytes>" in e or "Traceback" in e for e in errors)
    table = _table(at)
    assert table[good_name]["verdict"] == detector.detect(good).label
    assert {table[name]["verdict"] for name in bad} == {"error"}


def test_app_threshold_slider_moved_to_zero_every_image_fake():
    at = _upload(_start(), [_sample("real_camera_nikon-e995.png"), _sample("real_ffhq_01092.png")])
    at.slider(key="threshold:startup").set_value(0.0)
    at.run()

    assert {row["verdict"] for row in _table(at).values()} == {"fake"}


def test_app_model_exported_by_tests_uploaded_is_used(test_model, detector, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["streamlit_app.py", "--allow-model-upload"])
    custom = Detector.from_file(test_model)
    files = [_sample("real_camera_nikon-e995.png"), _sample("fake_stylegan2_0131.png")]
    at = _start()
    assert "Model upload is on" in " ".join(c.value for c in at.sidebar.caption)

    _upload(at, [(test_model.name, test_model.read_bytes())], uploader="model_file")
    _upload(at, files)

    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert test_model.name in sidebar and "exported by tests/test_streamlit_app.py" in sidebar
    assert "Test licence." in sidebar and "Test limits." in sidebar
    threshold = next(s for s in at.slider if s.key.startswith("threshold:"))
    assert threshold.value == pytest.approx(0.6)
    table = _table(at)
    for name, data in files:
        expected = custom.detect(data)
        assert table[name]["p_fake"] == pytest.approx(expected.p_fake, abs=1e-4)
        assert table[name]["verdict"] == expected.label
    # Not the bundled model's scores (on one of the two at least: both may be sure of a fake).
    assert any(table[name]["p_fake"] != pytest.approx(detector.detect(data).p_fake, abs=1e-3)
               for name, data in files)


def test_app_unusable_model_uploaded_refused_and_previous_model_kept(test_model, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["streamlit_app.py", "--allow-model-upload"])
    at = _start()
    _upload(at, [(test_model.name, test_model.read_bytes())], uploader="model_file")

    _upload(at, [("broken.tflite", b"TFL3 but not really a model")], uploader="model_file")

    errors = [e.value for e in at.sidebar.error]
    assert len(errors) == 1 and errors[0].startswith("broken.tflite cannot be used: ")
    assert errors[0].endswith(f"Still using {test_model.name}.")
    assert any(test_model.name in m.value for m in at.sidebar.markdown)


def test_app_model_upload_is_off_by_default_and_the_sidebar_says_so():
    at = _start()

    assert not [u for u in at.get("file_uploader") if u.key == "model_file"]
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "Model upload is off" in captions and "--allow-model-upload" in captions


def test_app_results_table_drops_empty_columns_and_explains_the_rest(detector):
    at = _upload(_start(), [_sample("real_camera_nikon-e995.png"), _sample("fake_stylegan2_0131.png")])
    table = next(iter(_table(at).values()))
    assert "known_answer" not in table and "message" not in table  # uploads: nothing to put there
    assert "`uncertain`" in at.container("results").caption[0].value

    at = _upload(at, [_sample("real_camera_nikon-e995.png"), ("notes.png", b"not an image")])
    table = _table(at)
    assert table["notes.png"]["message"] and "known_answer" not in table["notes.png"]
    assert "`message`: why a file could not be classified" in at.container("results").caption[0].value


def test_app_meter_shows_the_threshold_with_the_texts_precision():
    from deepfake_dct.apps.streamlit_app import meter_html

    html = meter_html(0.7, 0.502, 0.1)
    assert "threshold 0.502</span>" in html and "threshold 0.50<" not in html


def test_app_started_with_model_argument_uses_that_model(test_model, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["streamlit_app.py", "--model", str(test_model)])

    at = _start()

    assert any(test_model.name in m.value for m in at.sidebar.markdown)
    assert at.slider(key="threshold:startup").value == pytest.approx(0.6)


def test_app_started_with_missing_model_shows_error(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["streamlit_app.py", "--model", str(tmp_path / "missing.tflite")])

    at = AppTest.from_file(str(APP), default_timeout=60).run()

    assert not at.exception
    assert at.error[0].value.startswith("Cannot load the model: ")
    assert "missing.tflite" in at.error[0].value


def test_app_spectrum_pictures_are_rgb_and_scaled(detector):
    from deepfake_dct.apps.streamlit_app import PICTURE_SCALE, analyse, departure_picture, spectrum_picture

    analysis = analyse(detector, (SAMPLES_DIR / "fake_stylegan2_0131.png").read_bytes())

    h, w = analysis.model_input.shape[:2]
    for picture in (spectrum_picture(analysis.spectrum), departure_picture(analysis.departure)):
        assert picture.shape == (PICTURE_SCALE * h, PICTURE_SCALE * w, 3) and picture.dtype == np.uint8
        assert picture.min() < picture.max()


# --- The launcher: `deepfake-dct app` ---------------------------------------------------------------


def test_launch_command_headless_with_port_and_model_after_double_dash():
    from deepfake_dct.apps.launch import build_parser, streamlit_command

    command = streamlit_command(build_parser().parse_args(["--port", "9123", "--model", "m.tflite"]))

    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(APP)]
    pairs = dict(zip(command[5:command.index("--")], command[6:command.index("--")]))
    assert pairs["--server.headless"] == "true" and pairs["--server.port"] == "9123"
    assert pairs["--server.address"] == "localhost"
    assert command[command.index("--"):] == ["--", "--model", str(Path("m.tflite").resolve())]
    assert "--allow-model-upload" not in command


def test_launch_allow_model_upload_is_passed_to_the_app():
    from deepfake_dct.apps.launch import build_parser, streamlit_command

    command = streamlit_command(build_parser().parse_args(["--allow-model-upload"]))

    assert command[command.index("--"):] == ["--", "--allow-model-upload"]


def test_launch_unusable_model_exits_2_with_one_line_message(tmp_path, capsys):
    from deepfake_dct.apps.launch import main

    model = tmp_path / "broken.tflite"
    model.write_bytes(b"not a model")

    assert main(["--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ERROR: ") and "broken.tflite" in err and err.count("\n") == 1


def test_launch_streamlit_missing_exits_2_naming_the_install(monkeypatch, capsys):
    from deepfake_dct.apps import launch

    monkeypatch.setattr(launch.importlib.util, "find_spec", lambda name: None)

    assert launch.main([]) == 2
    assert capsys.readouterr().err == "ERROR: the app needs Streamlit: pip install 'deepfake-dct[apps]'\n"


def test_launch_via_cli_runs_streamlit_with_one_blas_thread(monkeypatch):
    from deepfake_dct.apps import launch
    from deepfake_dct.cli import main as cli_main

    started = []

    def fake_execve(path, command, env):
        started.append((path, command, env))

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setattr(launch.os, "execve", fake_execve)

    assert cli_main(["app", "--port", "9124"]) == 0
    (path, command, env), = started
    assert path == command[0] == sys.executable
    assert command[3:5] == ["run", str(APP)] and "--" not in command
    assert env["OPENBLAS_NUM_THREADS"] == "1"


def test_app_threshold_near_p_fake_verdict_marked_uncertain(detector):
    name, data = _sample("fake_stylegan2_0131.png")
    p_fake = detector.detect(data).p_fake
    below, above = detector.uncertain_margin  # the bundled model's band, measured per side
    # Put the threshold a little way from p_fake (within the slider's 0..1) on a side whose band is
    # wider than that.
    step = min(0.05, (1.0 - p_fake) / 2) if below > 0.05 else min(0.05, p_fake / 2)
    threshold = round(p_fake + step if below > 0.05 else p_fake - step, 3)
    assert max(below, above) > 0.05 and 0.0 < threshold < 1.0
    at = _upload(_start(), [(name, data)])

    at.slider(key="threshold:startup").set_value(threshold)
    at.run()

    verdict = at.container("result-0").markdown[0].value
    assert ("Real" if threshold > p_fake else "Fake") in verdict and "uncertain" in verdict


def test_evidence_picture_tints_each_crop_by_its_own_score():
    from deepfake_dct.apps.streamlit_app import evidence_picture
    from deepfake_dct.detector import Box, CropScore

    rgb = np.full((256, 512, 3), 128, np.uint8)
    crops = (CropScore(Box(0, 0, 128, 128), 0.0), CropScore(Box(128, 384, 128, 128), 1.0))
    picture = evidence_picture(rgb, crops)
    assert picture.shape == (256, 512, 3)
    green, red = picture[64, 64].astype(int), picture[192, 448].astype(int)
    assert green[1] > green[0] and red[0] > red[1]  # green where real, red where fake
    np.testing.assert_array_equal(picture[64, 256], [128, 128, 128])  # no crop there: untouched


def test_evidence_picture_of_a_large_image_is_shrunk_for_display_only():
    from deepfake_dct.apps.streamlit_app import EVIDENCE_SIDE, evidence_picture
    from deepfake_dct.detector import Box, CropScore

    picture = evidence_picture(np.zeros((1024, 2048, 3), np.uint8), (CropScore(Box(0, 0, 128, 128), 0.5),))
    assert max(picture.shape[:2]) == EVIDENCE_SIDE


def test_app_warns_when_an_image_is_not_a_photo_and_says_why(detector):
    chart = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(chart)
    for i, height in enumerate((120, 200, 80, 160)):
        draw.rectangle((40 + 80 * i, 280 - height, 90 + 80 * i, 280), fill=(60, 90, 200))
    drawing = encode(chart, "PNG")
    expected = detector.detect(drawing)
    if expected.out_of_scope is None:
        pytest.skip("the bundled model records no scope")

    at = _upload(_start(), [("chart.png", drawing), _sample("real_camera_nikon-e995.png")])

    table = _table(at)
    assert table["chart.png"]["out_of_scope"] == expected.out_of_scope
    assert "flat fills" in at.container("result-0").warning[0].value
    assert not at.container("result-1").warning
    assert "`out_of_scope`" in at.container("results").caption[0].value
