"""The runtime: a TFLite model file in, a verdict per image out. numpy, Pillow and a TFLite interpreter."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable

import numpy as np

from deepfake_dct.detector._interpreter import create_interpreter, load_interpreter_class
from deepfake_dct.detector.images import (
    DEFAULT_MAX_PIXELS,
    Box,
    ImageError,
    ImageInput,
    decode_rgb,
    describe_source,
)
from deepfake_dct.detector.model_file import ModelFileError, ModelSpec, read_spec

LABELS = ("real", "fake")
DEFAULT_MODEL = "default.tflite"
#: A p_fake closer than this to the threshold is "uncertain" (a model file may record its own
#: width per side, ``ModelSpec.uncertain_band``): a reading aid, so that 0.49 and 0.51 are not
#: taken as opposite certainties. The label is still given by :func:`verdict`.
DEFAULT_UNCERTAIN_MARGIN = 0.1


def default_model_path() -> Path:
    """The model bundled with the package."""
    return Path(str(resources.files("deepfake_dct.detector") / "models" / DEFAULT_MODEL))


@dataclass(frozen=True)
class DetectorOptions:
    """How a :class:`Detector` runs. Every field has a default; pass only what you change."""

    num_threads: int | None = None
    """Interpreter threads; None lets the interpreter choose."""
    threshold: float | None = None
    """p_fake at or above this is labelled "fake"; None uses the threshold recorded in the model."""
    max_pixels: int = DEFAULT_MAX_PIXELS
    """Images with more pixels are refused before decoding (decompression-bomb guard)."""
    base_rate: float | None = None
    """The share of fakes you expect among the images you score (0.01: one in a hundred). p_fake is
    restated at it (:func:`at_base_rate`) from the base rate the model's calibration assumed, and the
    threshold and uncertain band move with it, so the same images are flagged: only what p_fake
    says changes. None keeps the calibration's own (``ModelSpec.calibration_base_rate``)."""

    def __post_init__(self):
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"Expected a threshold in [0, 1], got {self.threshold}.")
        if self.base_rate is not None and not 0.0 < self.base_rate < 1.0:
            raise ValueError(f"Expected a base rate (a share of fakes) in (0, 1), got {self.base_rate}.")


@dataclass(frozen=True)
class BaseRateShift:
    """From the base rate a model's calibration assumed (``from_rate``) to the caller's
    (``to_rate``): Bayes' rule under a change of prior alone (fakes and reals look as they did, only
    how common each is changes), so posterior odds are multiplied by the ratio of the prior odds.
    The one place p_fake is restated; the runtime and the app each hold one."""

    from_rate: float
    to_rate: float

    def __post_init__(self):
        for name, rate in (("from_rate", self.from_rate), ("to_rate", self.to_rate)):
            if not 0.0 < rate < 1.0:
                raise ValueError(f"Expected {name} (a share of fakes) in (0, 1), got {rate}.")

    def p_fake(self, p_fake):
        """p_fake restated at ``to_rate``; scalars or arrays; 0 and 1 stay where they are."""
        ratio = (self.to_rate / (1.0 - self.to_rate)) / (self.from_rate / (1.0 - self.from_rate))
        p = np.asarray(p_fake, dtype=np.float64)
        restated = p * ratio / (p * ratio + (1.0 - p))
        return float(restated) if restated.ndim == 0 else restated

    def operating_point(self, threshold: float,
                        margin: float | tuple[float, float]) -> tuple[float, tuple[float, float]]:
        """The threshold and (below, above) uncertain band that flag, and mark uncertain, exactly
        the images they did once every p_fake is restated (the restatement is monotone, so the
        band's edges are restated with it)."""
        low, high = uncertain_range(threshold, margin)
        restated = self.p_fake(threshold)
        return restated, (restated - self.p_fake(low), self.p_fake(high) - restated)


def at_base_rate(p_fake, from_rate: float, to_rate: float):
    """p_fake restated from one base rate to another (:class:`BaseRateShift`)."""
    return BaseRateShift(from_rate, to_rate).p_fake(p_fake)


def verdict(p_fake: float, threshold: float) -> str:
    """The one verdict rule: "fake" at or above the threshold, else "real"."""
    return LABELS[int(p_fake >= threshold)]


def band_widths(margin: float | tuple[float, float]) -> tuple[float, float]:
    """(below, above) widths of an uncertain band given as one width for both sides or as a pair."""
    return margin if isinstance(margin, tuple) else (margin, margin)


def uncertain_range(threshold: float, margin: float | tuple[float, float]) -> tuple[float, float]:
    """The p_fake range the uncertain band covers, clipped to [0, 1] (for showing it)."""
    below, above = band_widths(margin)
    return max(threshold - below, 0.0), min(threshold + above, 1.0)


def is_uncertain(p_fake: float, threshold: float, margin: float | tuple[float, float] = DEFAULT_UNCERTAIN_MARGIN) -> bool:
    """The one "uncertain" rule: p_fake within ``margin`` of the threshold; a (below, above) pair
    gives each side its own width (a model file's validation-measured band)."""
    below, above = band_widths(margin)
    return threshold - p_fake < below if p_fake < threshold else p_fake - threshold < above


@dataclass(frozen=True)
class CropScore:
    """One model input's score and where in the image it was cut."""

    box: Box
    p_fake: float


@dataclass(frozen=True)
class Detection:
    """One image's verdict. 0 = real, 1 = fake, everywhere."""

    label: str
    """"real" or "fake"."""
    p_fake: float
    """The model's probability that the image is fake, in [0, 1] (aggregated over the crops)."""
    threshold: float
    """The threshold p_fake was compared with."""
    crops: tuple[CropScore, ...] = ()
    """Each model input's own score and box, in the decoded image's pixels (one for a "resize"
    policy: the region that was downscaled)."""
    uncertain_margin: float | tuple[float, float] = DEFAULT_UNCERTAIN_MARGIN
    """The model's margin around the threshold within which the verdict is "uncertain": one width
    for both sides, or (below, above)."""
    out_of_scope: str | None = None
    """Why the image is unlike what the model was trained on (a drawing, a screenshot...), so that
    its verdict should not be trusted; None when it is in scope or the model file cannot tell."""
    scope_distance: float | None = None
    """The image's spectral distance from the training images (``deepfake_dct.detector.scope``);
    None when the model file records no scope."""
    flat_fraction: float | None = None
    """The share of its crops' pixels in flat fills (``deepfake_dct.detector.scope``); None when
    the model file records no scope."""

    @property
    def is_fake(self) -> bool:
        return self.label == "fake"

    @property
    def uncertain(self) -> bool:
        """p_fake is within ``uncertain_margin`` of the threshold (:func:`is_uncertain`)."""
        return is_uncertain(self.p_fake, self.threshold, self.uncertain_margin)


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything one detection computed, for apps that draw it: they draw, the runtime decides."""

    detection: Detection
    rgb: np.ndarray
    """The decoded image, (H, W, 3) uint8 RGB."""
    crops: np.ndarray
    """The model inputs as pixels, (N, height, width, 3) uint8, cut by the model's policy."""
    inputs: dict[str, np.ndarray]
    """The network's float32 inputs by name, (N, height, width, channels), as fed (before quantization)."""


class Detector:
    """Classifies images as real or GAN-generated from their DCT spectrum.

    Use :meth:`from_file`. One Detector may be shared between threads: inference is serialised by a
    lock, since a TFLite interpreter is not thread-safe. For parallel throughput, make one per thread.
    """

    def __init__(self, model_bytes: bytes, options: DetectorOptions | None = None, name: str = "") -> None:
        self.options = options or DetectorOptions()
        self.model_name = name
        self.model_size_bytes = len(model_bytes)
        self.spec: ModelSpec = read_spec(model_bytes)
        interpreter_class, self.backend = load_interpreter_class()
        try:
            self._interpreter = create_interpreter(
                interpreter_class, model_content=model_bytes, num_threads=self.options.num_threads
            )
        except (ValueError, RuntimeError) as e:
            raise ModelFileError(f"The TFLite interpreter cannot load this model ({e}).") from e
        self._lock = threading.Lock()
        self._inputs = self._match_inputs()
        self._batch_size = 1
        self._batched = self._batch_capable()
        outputs = self._interpreter.get_output_details()
        if len(outputs) != 1 or int(np.prod(outputs[0]["shape"])) != 1:
            raise ModelFileError(
                f"Expected a model with one output holding p_fake, got outputs "
                f"{[_shape(o) for o in outputs]}."
            )
        self._output = outputs[0]
        self.base_rate_shift: BaseRateShift | None = self._base_rate_shift()
        margin = self.spec.uncertain_band or DEFAULT_UNCERTAIN_MARGIN
        threshold = self.options.threshold
        if threshold is None:
            self.threshold = self.spec.threshold
            if self.base_rate_shift is not None:
                self.threshold, margin = self.base_rate_shift.operating_point(self.threshold, margin)
        else:
            self.threshold = float(threshold)
        self.uncertain_margin: float | tuple[float, float] = margin

    def _base_rate_shift(self) -> BaseRateShift | None:
        """From the model's calibration base rate to the caller's (None when none is given)."""
        rate = self.options.base_rate
        if rate is None:
            return None
        if self.spec.calibration_base_rate is None:
            raise ValueError(f"Expected a model file that records its calibration's base rate to restate "
                             f"p_fake at {rate}; this one does not (refit it: deepfake-dct analyze calibrate).")
        return BaseRateShift(self.spec.calibration_base_rate, rate)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike | None = None,
        options: DetectorOptions | None = None,
        *,
        num_threads: int | None = None,
    ) -> "Detector":
        """Loads a ``.tflite`` model exported by ``deepfake-dct export`` (the bundled one by default).

        Raises:
          ModelFileError: the file is missing, truncated, or not a deepfake-dct model.
        """
        path = Path(path) if path is not None else default_model_path()
        if num_threads is not None:
            options = DetectorOptions(**{**vars(options or DetectorOptions()), "num_threads": num_threads})
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ModelFileError(f"{path}: cannot read the model file ({e.strerror or e}).") from e
        try:
            return cls(data, options, name=path.name)
        except ModelFileError as e:
            raise ModelFileError(f"{path}: {e}") from e

    def _match_inputs(self) -> dict[str, dict]:
        """Maps the spec's input names to the interpreter's input tensors, checking their shapes."""
        details = self._interpreter.get_input_details()
        names = self.spec.input_names
        if len(details) != len(names):
            raise ModelFileError(f"Expected a model with {len(names)} input(s) {names}, got {len(details)}.")
        if len(names) == 1:
            matched = {names[0]: details[0]}
        else:
            matched = {}
            for name in names:
                hits = [d for d in details if name in d["name"]]
                if len(hits) != 1:
                    raise ModelFileError(f"Expected one model input named like {name!r}, got {len(hits)}.")
                matched[name] = hits[0]
        expected = [1, *self.spec.input_shape]
        for name, d in matched.items():
            if _shape(d) != expected:
                raise ModelFileError(f"Expected input {name!r} of shape {expected}, got {_shape(d)}.")
        return matched

    def _batch_capable(self) -> bool:
        """Whether every input's batch dimension is dynamic (-1 in its shape signature), so that all
        of an image's crops run in one invoke (asked once, at load)."""
        return all(int(d.get("shape_signature", d["shape"])[0]) == -1 for d in self._inputs.values())

    @property
    def interpreter(self):
        """The underlying TFLite interpreter, for inspection (tensor and op details) only: run
        inference through :meth:`predict` or :meth:`detect`, which hold the lock."""
        return self._interpreter

    # --- the pipeline, step by step -------------------------------------------------------------

    def decode(self, image: ImageInput, bgr: bool = False) -> np.ndarray:
        """Any input -> (H, W, 3) uint8 RGB, within this detector's pixel budget."""
        return decode_rgb(image, bgr=bgr, max_pixels=self.options.max_pixels)

    def cut(self, rgb: np.ndarray) -> tuple[np.ndarray, tuple[Box, ...]]:
        """The model's image-to-input policy: (N, height, width, 3) uint8 crops and their boxes."""
        return self.spec.policy.crops(rgb)

    def predict(self, inputs: dict[str, np.ndarray]) -> float:
        """p_fake for one model input's preprocessed arrays, (height, width, channels) each."""
        return float(self.predict_crops({name: x[None] for name, x in inputs.items()})[0])

    def predict_crops(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """p_fake of each of N crops, from preprocessed (N, height, width, channels) arrays: one invoke for
        all of them where the model's batch dimension is dynamic, else one per crop."""
        n = len(next(iter(inputs.values())))
        with self._lock:
            if self._interpreter is None:
                raise ValueError("Expected an open Detector, got one that was closed.")
            if self._batched:
                return self._invoke(inputs, n)
            return np.concatenate([self._invoke({k: v[i : i + 1] for k, v in inputs.items()}, 1)
                                   for i in range(n)])

    def _invoke(self, inputs: dict[str, np.ndarray], n: int) -> np.ndarray:
        """Runs the interpreter on a batch of n (the lock held): quantize, invoke, dequantize."""
        if n != self._batch_size:
            for detail in self._inputs.values():
                self._interpreter.resize_tensor_input(detail["index"], [n, *detail["shape"][1:]])
            self._interpreter.allocate_tensors()
            self._batch_size = n
        for name, detail in self._inputs.items():
            self._interpreter.set_tensor(detail["index"], _quantize(inputs[name], detail))
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._output["index"])
        out = _dequantize(raw, self._output).reshape(n).astype(np.float64)
        if self.spec.output == "logit":
            return 1.0 / (1.0 + np.exp(-out))
        return np.clip(out, 0.0, 1.0)

    def analyse(self, image: ImageInput, bgr: bool = False) -> Analysis:
        """Detects, and returns what the detection computed along the way (for apps that draw it).

        Raises:
          ImageError: the image cannot be read, or is smaller than the model's input.
        """
        rgb = self.decode(image, bgr=bgr)
        try:
            crops, boxes = self.cut(rgb)
        except ImageError as e:
            if isinstance(image, (str, os.PathLike, bytes, bytearray, memoryview)):
                # Name the file, as decoding errors do (an array or PIL image has no name to give).
                raise type(e)(f"{describe_source(image)}: {e}") from e
            raise
        inputs = self.spec.make_inputs(crops)
        scores = self.predict_crops(inputs)
        p_fake = self.spec.aggregate(scores)
        if self.base_rate_shift is not None:
            p_fake = self.base_rate_shift.p_fake(p_fake)
        reading = self.spec.read_scope(inputs, crops)
        detection = Detection(
            label=verdict(p_fake, self.threshold),
            p_fake=p_fake,
            threshold=self.threshold,
            crops=tuple(CropScore(box, float(p)) for box, p in zip(boxes, scores)),
            uncertain_margin=self.uncertain_margin,
            out_of_scope=None if reading is None else reading.reason,
            scope_distance=None if reading is None else reading.distance,
            flat_fraction=None if reading is None else reading.flat,
        )
        return Analysis(detection=detection, rgb=rgb, crops=crops, inputs=inputs)

    def detect(self, image: ImageInput, bgr: bool = False) -> Detection:
        """Classifies one image: a path, encoded bytes, a PIL image, or a uint8 array.

        Args:
          image: the image. Arrays are RGB unless ``bgr`` is set (OpenCV frames).
          bgr: the array is in OpenCV's BGR order.

        Raises:
          ImageError: the image cannot be read, or is smaller than the model's input.
        """
        return self.analyse(image, bgr=bgr).detection

    def detect_many(self, images: Iterable[ImageInput], bgr: bool = False) -> list[Detection]:
        """Classifies several images; raises on the first that cannot be read."""
        return [self.detect(image, bgr=bgr) for image in images]

    def close(self) -> None:
        self._interpreter = None

    def __enter__(self) -> "Detector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _shape(detail: dict) -> list[int]:
    """A tensor's shape as plain ints (the interpreter gives numpy ints, which print as np.int32(1))."""
    return [int(v) for v in detail["shape"]]


def _quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    dtype = detail["dtype"]
    if dtype == np.float32:
        return x.astype(np.float32)
    scale, zero_point = detail["quantization"]
    info = np.iinfo(dtype)
    q = np.rint(x / np.float32(scale)) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def _dequantize(q: np.ndarray, detail: dict) -> np.ndarray:
    if detail["dtype"] == np.float32:
        return q.astype(np.float32)
    scale, zero_point = detail["quantization"]
    return (q.astype(np.float32) - zero_point) * np.float32(scale)
