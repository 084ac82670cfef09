import importlib.util
import json
import sys

import numpy as np
import pytest
from PIL import Image

from deepfake_dct.cli import main
from deepfake_dct.detector import Detector
from deepfake_dct.detector.files import expand_paths
from helpers import encode, smooth_noise


@pytest.fixture
def image_folder(tmp_path, rng):
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(smooth_noise(rng, 128, 128)).save(folder / "a.png")
    Image.fromarray(smooth_noise(rng, 160, 128)).save(folder / "sub" / "b.jpg", quality=90)
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_detect_json_lines_have_path_label_p_fake(image_folder, capsys):
    assert main(["detect", "--json", str(image_folder)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["path"].split("/")[-1] for r in lines] == ["a.png", "b.jpg"]
    for record in lines:
        assert record["label"] in ("real", "fake") and 0.0 <= record["p_fake"] <= 1.0


def test_detect_bad_file_reports_error_continues_and_exits_nonzero(image_folder, tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff" + b"junk" * 10)
    tiny = tmp_path / "tiny.png"
    tiny.write_bytes(encode(Image.new("RGB", (20, 20)), "PNG"))
    code = main(["detect", "--json", str(bad), str(image_folder / "a.png"), str(tiny)])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert "error" in records[0] and "bad.jpg" in records[0]["error"]
    assert records[1]["label"] in ("real", "fake")
    assert "not upsampled" in records[2]["error"]


def test_detect_plain_output_one_line_per_image(image_folder, capsys):
    assert main(["detect", str(image_folder / "a.png")]) == 0
    out = capsys.readouterr().out.strip().split("\t")
    assert out[0].endswith("a.png") and out[1] in ("real", "fake") and out[2].startswith("p_fake=")


def test_detect_glob_pattern_is_expanded(image_folder):
    assert [p.name for p in expand_paths([str(image_folder / "**" / "*.jpg")])] == ["b.jpg"]


def test_detect_bad_model_exits_2_with_message(image_folder, tmp_path, capsys):
    model = tmp_path / "model.tflite"
    model.write_bytes(b"not a model")
    assert main(["detect", "--model", str(model), str(image_folder)]) == 2
    assert "ERROR" in capsys.readouterr().err


def test_detect_subcommand_does_not_import_tensorflow(image_folder):
    import subprocess
    import sys

    code = (
        "import sys\nfrom deepfake_dct.cli import main\n"
        f"rc = main(['detect', {str(image_folder / 'a.png')!r}])\n"
        "assert 'tensorflow' not in sys.modules\nsys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# --- One exit status for every command: 0 ok, 1 some inputs failed, 2 unusable model, inputs or arguments


def test_detect_folder_without_images_exits_2_with_message(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["detect", str(tmp_path / "empty")]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"ERROR: Expected image files in {tmp_path / 'empty'}, found no files.\n"
    assert captured.out == ""


def test_detect_folder_of_non_images_exits_2_saying_what_it_found(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "data.csv").write_text("a,b\n")
    assert main(["detect", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    expected = f"ERROR: Expected image files in {tmp_path}, found 2 files, none of them an image.\n"
    assert captured.err == expected
    assert captured.out == ""


def test_detect_folder_finds_a_png_renamed_dat(image_folder, capsys):
    (image_folder / "a.png").rename(image_folder / "a.dat")
    assert main(["detect", "--json", str(image_folder)]) == 0
    assert [json.loads(line)["path"].split("/")[-1] for line in capsys.readouterr().out.splitlines()] == [
        "a.dat", "b.jpg"]


def test_detect_marks_uncertain_near_the_threshold_in_text_and_json(image_folder, detector, capsys):
    path = image_folder / "a.png"
    p_fake = detector.detect(path).p_fake
    near, far = min(p_fake + 0.05, 1.0), (0.0 if p_fake > 0.5 else 1.0)
    assert main(["detect", "--threshold", str(near), str(path)]) == 0
    assert "uncertain" in capsys.readouterr().out.rstrip("\n").split("\t")[3:]  # smooth noise may be out of scope too
    assert main(["detect", "--threshold", str(far), str(path)]) == 0
    assert "uncertain" not in capsys.readouterr().out.rstrip("\n").split("\t")[3:]
    assert main(["detect", "--json", "--threshold", str(near), str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["uncertain"] is True


def test_detect_base_rate_restates_p_fake_and_keeps_the_verdict(image_folder, detector, capsys):
    from deepfake_dct.detector import at_base_rate

    path = image_folder / "a.png"
    plain = detector.detect(path)
    assert main(["detect", "--json", "--base-rate", "0.01", str(path)]) == 0
    record = json.loads(capsys.readouterr().out)
    rate = detector.spec.calibration_base_rate
    assert record["p_fake"] == pytest.approx(at_base_rate(plain.p_fake, rate, 0.01), abs=1e-6)
    assert record["threshold"] == pytest.approx(at_base_rate(plain.threshold, rate, 0.01))
    assert (record["label"], record["uncertain"]) == (plain.label, plain.uncertain)
    assert main(["detect", "--base-rate", "1", str(path)]) == 2
    assert "ERROR: Expected a base rate (a share of fakes) in (0, 1), got 1.0." in capsys.readouterr().err


def analyze_upsampling(folder, out) -> int:
    return main(["analyze", "upsampling", "--real", str(folder), "--size", "16", "--out", str(out)])


def test_analyze_unreadable_file_skipped_exits_1(image_folder, tmp_path, capsys):
    (image_folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert analyze_upsampling(image_folder, tmp_path) == 1
    assert "on 2 real images" in capsys.readouterr().out


def test_analyze_without_matplotlib_exits_2_with_message(image_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert analyze_upsampling(image_folder, tmp_path) == 2
    assert capsys.readouterr().err.startswith("ERROR: import of matplotlib")


def test_app_without_tflite_interpreter_exits_2_with_message(tmp_path, monkeypatch, capsys):
    if importlib.util.find_spec("streamlit") is None:
        pytest.skip("the app needs Streamlit")

    def no_interpreter(*args, **kwargs):
        raise ImportError("no TFLite interpreter: pip install ai-edge-litert")

    monkeypatch.setattr(Detector, "from_file", no_interpreter)
    assert main(["app", "--model", str(tmp_path / "model.tflite")]) == 2
    assert capsys.readouterr().err == "ERROR: no TFLite interpreter: pip install ai-edge-litert\n"


def test_detect_explain_gives_each_crop_its_box_and_score(tmp_path, capsys):
    path = tmp_path / "big.png"
    Image.fromarray(smooth_noise(np.random.default_rng(2), 300, 400)).save(path)
    assert main(["detect", "--json", "--explain", str(path)]) == 0
    record = json.loads(capsys.readouterr().out)
    with Detector.from_file() as detector:
        expected = detector.detect(path)
    assert [(c["top"], c["left"], c["height"], c["width"]) for c in record["crops"]] == [
        (c.box.top, c.box.left, c.box.height, c.box.width) for c in expected.crops]
    assert [c["p_fake"] for c in record["crops"]] == [round(c.p_fake, 6) for c in expected.crops]
