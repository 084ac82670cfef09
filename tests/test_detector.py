import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image

from deepfake_dct.detector import Box, Detection, Detector, DetectorOptions, ImageError, ImageTooSmallError
from deepfake_dct.detector.features import in_colour, log_dct
from helpers import encode, smooth_noise


def test_import_detector_does_not_import_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "from deepfake_dct.detector import Detector\n"
        "d = Detector.from_file()\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'scipy', 'matplotlib')]\n"
        "print(d.backend); assert not bad, bad"
    )
    # Outside the repository, where the layer folders are not importable by their own names.
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in ("ai_edge_litert", "tflite_runtime")


def test_detect_every_input_kind_gives_same_result(detector, face_like, tmp_path):
    png = encode(Image.fromarray(face_like), "PNG")
    path = tmp_path / "x.png"
    path.write_bytes(png)
    results = [
        detector.detect(face_like),
        detector.detect(np.ascontiguousarray(face_like[:, :, ::-1]), bgr=True),
        detector.detect(Image.fromarray(face_like)),
        detector.detect(png),
        detector.detect(path),
        detector.detect(str(path)),
    ]
    assert len({r.p_fake for r in results}) == 1
    r = results[0]
    assert isinstance(r, Detection) and r.label in ("real", "fake") and 0.0 <= r.p_fake <= 1.0
    assert r.label == ("fake" if r.p_fake >= r.threshold else "real")


def test_detection_is_frozen(detector, face_like):
    with pytest.raises(AttributeError):
        detector.detect(face_like).label = "real"


def test_detect_many_matches_detect(detector, rng):
    images = [smooth_noise(rng, 128, 128) for _ in range(3)]
    assert detector.detect_many(images) == [detector.detect(x) for x in images]


def test_detect_small_image_raises_not_upsampled(detector, rng):
    with pytest.raises(ImageTooSmallError, match="not upsampled"):
        detector.detect(smooth_noise(rng, 64, 64))


def test_detect_corrupt_bytes_raise_image_error(detector):
    with pytest.raises(ImageError):
        detector.detect(b"\xff\xd8\xff\xe0garbage")


def test_threshold_option_overrides_model_threshold(face_like):
    with Detector.from_file(options=DetectorOptions(threshold=0.0)) as d:
        assert d.detect(face_like).label == "fake" and d.threshold == 0.0
    with pytest.raises(ValueError, match="threshold"):
        DetectorOptions(threshold=2.0)  # refused where it is made, before any model is read


def test_analyse_inputs_are_normalised_log_dct_of_each_crop(detector, rng):
    image = smooth_noise(rng, 300, 400)
    analysis = detector.analyse(image)
    spec = detector.spec
    crops, boxes = spec.policy.crops(image)
    np.testing.assert_array_equal(analysis.crops, crops)
    expected = (log_dct(in_colour(crops, spec.colour), spec.log_eps) - spec.normalisation.mean) / spec.normalisation.std
    np.testing.assert_allclose(analysis.inputs["log_dct"], expected, rtol=1e-5, atol=1e-5)
    assert [c.box for c in analysis.detection.crops] == list(boxes)


def test_bundled_model_reads_native_tiles_and_aggregates_them(detector, rng):
    big = smooth_noise(rng, 512, 640)
    analysis = detector.analyse(big)
    assert detector.spec.policy.mode == "tiles"
    grid = detector.spec.policy.grid
    assert analysis.crops.shape == (grid * grid, 128, 128, 3)  # a grid of tiles, never resized
    np.testing.assert_array_equal(analysis.crops[0], big[:128, :128])
    scores = [c.p_fake for c in analysis.detection.crops]
    assert analysis.detection.p_fake == pytest.approx(detector.spec.aggregate(scores))


def test_thumbnail_model_downscales_a_centre_crop(rng):
    from deepfake_dct.detector import default_model_path

    big = smooth_noise(rng, 512, 640)
    with Detector.from_file(default_model_path().with_name("thumbnail128.tflite")) as thumbnail:
        analysis = thumbnail.analyse(big)
    assert analysis.crops.shape == (1, 128, 128, 3)
    (crop,) = analysis.detection.crops
    assert crop.box == Box(top=0, left=64, height=512, width=512)
    assert crop.p_fake == analysis.detection.p_fake


def test_detector_shared_between_threads_gives_serial_results(detector, rng):
    images = [smooth_noise(rng, 128, 128) for _ in range(8)]
    expected = [detector.detect(x).p_fake for x in images]
    got = [None] * len(images)

    def work(i):
        for _ in range(5):
            got[i] = detector.detect(images[i]).p_fake

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == expected


def test_bundled_model_on_shared_images_separates_class_means(detector, shared_data):
    """A sanity check on real data (these files may include training images: held-out scores are
    in the model's training report and come from `deepfake-dct evaluate`, not from here)."""
    reals = sorted((shared_data / "real").iterdir())[:20]
    fakes = sorted((shared_data / "fake").iterdir())[:20]
    scores_real = [detector.detect(p).p_fake for p in reals]
    scores_fake = [detector.detect(p).p_fake for p in fakes]
    assert np.mean(scores_fake) > np.mean(scores_real)


def test_detect_after_close_raises_clear_error(face_like):
    detector = Detector.from_file()
    detector.close()
    with pytest.raises(ValueError, match="closed"):
        detector.detect(face_like)


# --- start-up chatter and the "uncertain" rule -----------------------------------------------------


def test_loading_a_model_prints_nothing_on_stderr(tmp_path):
    code = "from deepfake_dct.detector import Detector\nDetector.from_file().close()\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""


def test_native_stderr_filter_drops_only_the_delegate_line(capfd):
    import os

    from deepfake_dct.detector._interpreter import _without_native_chatter

    with _without_native_chatter():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"ERROR: a real problem\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "ERROR: a real problem\nafter\n"


def test_detection_uncertain_within_the_models_margin(detector, face_like):
    from deepfake_dct.detector import is_uncertain

    result = detector.detect(face_like)
    band = detector.spec.uncertain_band  # the bundled model's, measured per side on validation
    assert result.uncertain_margin == detector.uncertain_margin == tuple(band)
    assert result.uncertain == is_uncertain(result.p_fake, result.threshold, tuple(band))
    near = Detection("real", 0.45, 0.5)
    assert near.uncertain and not Detection("real", 0.3, 0.5).uncertain
    assert not Detection("fake", 0.58, 0.5, uncertain_margin=0.05).uncertain
    lopsided = (0.3, 0.05)  # wide below the threshold, narrow above
    assert Detection("real", 0.25, 0.5, uncertain_margin=lopsided).uncertain
    assert not Detection("fake", 0.58, 0.5, uncertain_margin=lopsided).uncertain
    assert Detection("fake", 0.5, 0.5, uncertain_margin=lopsided).uncertain


def test_uncertain_range_is_the_band_around_the_threshold_clipped_to_0_1():
    from deepfake_dct.detector import band_widths, uncertain_range

    assert band_widths(0.1) == (0.1, 0.1) and band_widths((0.5, 0.0)) == (0.5, 0.0)
    assert uncertain_range(0.5, 0.1) == pytest.approx((0.4, 0.6))
    assert uncertain_range(0.7, (0.5, 0.0)) == pytest.approx((0.2, 0.7))
    assert uncertain_range(0.95, (1.0, 0.1)) == (0.0, 1.0)


def test_at_base_rate_multiplies_the_odds_by_the_ratio_of_prior_odds():
    from deepfake_dct.detector import at_base_rate

    assert at_base_rate(0.7, 0.3, 0.3) == pytest.approx(0.7)
    restated = at_base_rate(0.5, 0.5, 0.01)  # even odds at a 1:1 prior are 1:99 at a 1:99 one
    assert restated == pytest.approx(0.01)
    p = np.array([0.0, 0.2, 0.9, 1.0])
    odds = lambda q: q / (1 - q)
    out = at_base_rate(p, 0.38, 0.05)
    assert out[0] == 0.0 and out[-1] == 1.0 and np.all(np.diff(out) > 0)
    np.testing.assert_allclose(odds(out[1:3]) / odds(p[1:3]), odds(0.05) / odds(0.38))
    np.testing.assert_allclose(at_base_rate(out, 0.05, 0.38), p)
    with pytest.raises(ValueError, match="to_rate"):
        at_base_rate(0.5, 0.3, 1.0)


def test_base_rate_shift_moves_the_operating_point_with_p_fake():
    from deepfake_dct.detector import BaseRateShift

    shift = BaseRateShift(0.38, 0.05)
    threshold, (below, above) = shift.operating_point(0.7, (0.5, 0.1))
    assert threshold == pytest.approx(shift.p_fake(0.7))
    assert threshold - below == pytest.approx(shift.p_fake(0.2))
    assert threshold + above == pytest.approx(shift.p_fake(0.8))
    p = np.linspace(0.01, 0.99, 50)
    assert np.array_equal(p >= 0.7, shift.p_fake(p) >= threshold)  # the same images flagged
    with pytest.raises(ValueError, match="from_rate"):
        BaseRateShift(0.0, 0.5)


def test_base_rate_restates_p_fake_and_flags_the_same_images(rng):
    from deepfake_dct.detector import at_base_rate

    images = [smooth_noise(rng, 256, 256) for _ in range(3)]
    images += [np.repeat(np.repeat(smooth_noise(rng, 128, 128), 2, 0), 2, 1)]  # upsampled: fake-like
    with Detector.from_file() as plain, Detector.from_file(options=DetectorOptions(base_rate=0.01)) as rare:
        rate = plain.spec.calibration_base_rate
        assert rate is not None  # the bundled file records its calibration's base rate
        assert plain.base_rate_shift is None and rare.base_rate_shift.to_rate == 0.01
        assert rare.threshold == pytest.approx(at_base_rate(plain.threshold, rate, 0.01))
        for image in images:
            a, b = plain.detect(image), rare.detect(image)
            assert b.p_fake == pytest.approx(at_base_rate(a.p_fake, rate, 0.01))
            assert (a.label, a.uncertain) == (b.label, b.uncertain)
            assert [c.p_fake for c in a.crops] == [c.p_fake for c in b.crops]  # crops: the network's own
        low, high = plain.uncertain_margin
        assert rare.uncertain_margin == pytest.approx((
            rare.threshold - at_base_rate(max(plain.threshold - low, 0.0), rate, 0.01),
            at_base_rate(min(plain.threshold + high, 1.0), rate, 0.01) - rare.threshold))
    with Detector.from_file(options=DetectorOptions(base_rate=0.01, threshold=0.2)) as given:
        assert given.threshold == 0.2  # a threshold the caller gives is on the scale they read
    with pytest.raises(ValueError, match="base rate"):
        DetectorOptions(base_rate=1.5)


def test_base_rate_needs_a_model_file_that_records_its_calibrations(tmp_path):
    import dataclasses

    from deepfake_dct.detector import default_model_path
    from deepfake_dct.detector.model_file import read_spec
    from deepfake_dct.export.convert import embed_spec

    bundled = default_model_path().read_bytes()
    older = tmp_path / "older.tflite"
    older.write_bytes(embed_spec(bundled, dataclasses.replace(read_spec(bundled), calibration_base_rate=None)))
    with Detector.from_file(older) as d:  # reads as before without it
        assert d.spec.calibration_base_rate is None
    with pytest.raises(ValueError, match="records its calibration's base rate"):
        Detector.from_file(older, DetectorOptions(base_rate=0.1))
