"""``--picamera`` against a stand-in ``picamera2`` that hands out frames the way the real one does, so
that a red frame reaching the model as blue (the colour-order slip of TFLite's Raspberry Pi example,
which feeds picamera2's "RGB888" array to the model as RGB) would fail here.

What the real module does, and the stand-in copies:

- ``Picamera2(camera_num=N)``; ``create_preview_configuration(main={"size": (w, h), "format": F})``
  (or ``create_video_configuration``) returns the configuration, ``configure`` applies it, ``start()``
  starts the camera; ``capture_array("main")`` blocks for the next frame and returns it as an
  (h, w, 3) uint8 array for the 24-bit formats, (h, w, 4) for the 32-bit ones; ``stop()``, ``close()``.
- libcamera names its formats after the DRM fourcc codes, which give the order of the bits in a
  little-endian word, not of the bytes: ``DRM_FORMAT_RGB888`` is "[23:0] R:G:B little endian"
  (Linux, include/uapi/drm/drm_fourcc.h), so the bytes of a pixel in memory are B, G, R. picamera2's
  own code says the same: ``Helpers.make_image`` in picamera2/request.py hands "RGB888" buffers to
  Pillow as raw mode "BGR" (and "BGR888" as "RGB", "XRGB8888" as "BGRX", "XBGR8888" as "RGBX").
  So "RGB888" is OpenCV's BGR order, and the app treats picamera frames like any other OpenCV frame.

A camera never ends: after its frames the stand-in raises KeyboardInterrupt, as Ctrl+C would.
"""

from __future__ import annotations

import io
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2", reason="the webcam app needs OpenCV (pip install opencv-python-headless)")

from deepfake_dct.apps import webcam  # noqa: E402
from deepfake_dct.detector import Detector  # noqa: E402

FAKE = Path(__file__).parent / "data" / "fake_stylegan2_f252.jpg"

#: Byte order in memory of each format, as channel indices into an RGB pixel (None: the X byte, 255).
LAYOUT = {"RGB888": (2, 1, 0), "BGR888": (0, 1, 2), "XRGB8888": (2, 1, 0, None), "XBGR8888": (0, 1, 2, None)}


def fake_face_rgb(side: int = 512) -> np.ndarray:
    """The fake sample face as RGB, nearest-upscaled by a whole factor (the policy's area downscale
    gives its pixels back). Its verdict moves when red and blue swap, unlike a flat colour's."""
    rgb = cv2.cvtColor(cv2.imread(str(FAKE)), cv2.COLOR_BGR2RGB)
    return cv2.resize(rgb, (side, side), interpolation=cv2.INTER_NEAREST)


def red_rgb(w: int = 640, h: int = 480) -> np.ndarray:
    frame = np.zeros((h, w, 3), np.uint8)
    frame[..., 0] = 255
    return frame


def stand_in_picamera2(scene_rgb: np.ndarray, frames: int = 3, fail_start: bool = False) -> types.ModuleType:
    """A ``picamera2`` module whose cameras film ``scene_rgb`` (an RGB image, resized to the
    configured size) and lay each frame out in memory as the configured format does."""
    module = types.ModuleType("picamera2")

    class Picamera2:
        made: list["Picamera2"] = []

        def __init__(self, camera_num: int = 0, **_):
            self.camera_num, self.calls, self.config = camera_num, [], None
            self.started = self.closed = False
            self.captured = 0
            Picamera2.made.append(self)

        def _configuration(self, main=None, **_):
            return {"main": {"format": "XBGR8888", "size": (640, 480), **(main or {})}, "lores": None}

        create_preview_configuration = create_video_configuration = _configuration

        def configure(self, config):
            fmt = config["main"]["format"]
            if fmt not in LAYOUT:
                raise RuntimeError(f"stand-in knows no format {fmt}")
            self.config = config
            self.calls.append("configure")

        def start(self):
            if self.config is None:
                raise RuntimeError("Camera has not been configured")
            if fail_start:
                raise RuntimeError("Failed to start camera: Device or resource busy")
            self.started = True
            self.calls.append("start")

        def capture_array(self, name="main"):
            if not self.started:
                raise RuntimeError("Camera is not running")
            if self.captured == frames:
                raise KeyboardInterrupt
            self.captured += 1
            w, h = self.config[name]["size"]
            rgb = cv2.resize(scene_rgb, (w, h), interpolation=cv2.INTER_NEAREST)
            planes = [rgb[..., c] if c is not None else np.full((h, w), 255, np.uint8)
                      for c in LAYOUT[self.config[name]["format"]]]
            return np.ascontiguousarray(np.stack(planes, axis=-1))

        def stop(self):
            self.started = False
            self.calls.append("stop")

        def close(self):
            self.closed = True
            self.calls.append("close")

    module.Picamera2 = Picamera2
    return module


@pytest.fixture(scope="module")
def detector():
    with Detector.from_file() as d:
        yield d


def test_stand_in_lays_rgb888_out_as_b_g_r_in_memory():
    camera = stand_in_picamera2(red_rgb()).Picamera2()
    camera.configure(camera.create_preview_configuration(main={"size": (4, 2), "format": "RGB888"}))
    camera.start()
    frame = camera.capture_array()
    assert frame.shape == (2, 4, 3) and frame.dtype == np.uint8
    assert frame.tobytes()[:3] == bytes([0, 0, 255])  # B, G, R of a red pixel


@pytest.mark.parametrize("scene", [red_rgb(), fake_face_rgb()], ids=["pure red", "fake face"])
def test_picamera_frame_reaches_the_detector_in_rgb_order(scene, detector, monkeypatch):
    expected = detector.detect(scene)  # the same picture handed over as RGB
    module = stand_in_picamera2(scene)
    monkeypatch.setitem(sys.modules, "picamera2", module)
    seen = []
    decode = detector.decode
    monkeypatch.setattr(detector, "decode", lambda image, bgr=False: seen.append(decode(image, bgr)) or seen[-1])
    h, w = scene.shape[:2]
    source = webcam.PicameraSource(0, (w, h))
    out = io.StringIO()
    summary = webcam.run(source, detector, webcam.RunOptions(json_out=out), log=lambda _: None)
    source.close()

    assert summary.frames_seen == 3 and not summary.error
    assert all(np.array_equal(rgb, scene) for rgb in seen) and len(seen) == 3
    assert {json.loads(line)["p_fake"] for line in out.getvalue().splitlines()} == {round(expected.p_fake, 6)}
    (camera,) = module.Picamera2.made
    assert camera.config["main"] == {"format": "RGB888", "size": (w, h)}
    assert camera.calls == ["configure", "start", "stop", "close"]


def test_a_swapped_frame_would_be_caught(detector):
    """The check above has teeth: on the fake face, swapping red and blue moves p_fake (the checks
    compare p_fake exactly, so any move is caught; one crop's must move clearly)."""
    face = fake_face_rgb()
    straight, swapped = detector.detect(face), detector.detect(face[..., ::-1].copy())
    assert straight.p_fake != swapped.p_fake
    assert max(abs(a.p_fake - b.p_fake) for a, b in zip(straight.crops, swapped.crops)) > 0.01


def test_main_picamera_prints_the_verdict_of_the_rgb_picture(detector, monkeypatch, capsys):
    scene = fake_face_rgb()
    module = stand_in_picamera2(scene, frames=2)
    monkeypatch.setitem(sys.modules, "picamera2", module)
    assert webcam.main(["--picamera", "1", "--no-display", "--size", "512x512"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["p_fake"] for r in lines] == [round(detector.detect(scene).p_fake, 6)] * 2
    assert [r["box"] for r in lines] == [[0, 0, 512, 512]] * 2
    (camera,) = module.Picamera2.made
    assert camera.camera_num == 1 and camera.closed


def test_main_picamera_busy_exits_2_with_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "picamera2", stand_in_picamera2(red_rgb(), fail_start=True))
    assert webcam.main(["--picamera", "--no-display"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("ERROR: cannot open CSI camera 0 with picamera2 (Failed to start camera")
