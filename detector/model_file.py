"""What a detector model file carries besides the network: read (here) and written (by ``export``).

A ``.tflite`` file is a FlatBuffer whose root ``Model`` table has a ``metadata`` vector of
``(name, buffer index)`` pairs -- the slot TFLite itself uses for its own metadata. The exporter adds
two entries: ``deepfake_dct.json`` (the input definition, policy, labels, threshold, provenance) and
``deepfake_dct.normalisation`` (float32 mean then std). This module reads them with ``struct`` alone,
so the runtime needs no FlatBuffers or TensorFlow package, and one file is all a user copies.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

import numpy as np

from deepfake_dct.detector.features import DEFAULT_LOG_EPS, Normalisation, channels, in_colour, log_dct, pixel_input
from deepfake_dct.detector.images import InputPolicy
from deepfake_dct.detector.scope import Scope, ScopeReading

METADATA_NAME = "deepfake_dct.json"
NORMALISATION_NAME = "deepfake_dct.normalisation"
#: Bumped when the metadata changes in a way an older runtime cannot read: 2 added the "tiles"
#: policy (a runtime of format 1 would silently downscale such a model's input instead of tiling);
#: 3 added networks that output a logit (a runtime of format 2 would read it as a probability);
#: 4 added networks that read luma alone (a runtime of format 3 would feed them RGB).
FORMAT_TILES, FORMAT_LOGIT, FORMAT_LUMA = 2, 3, 4
FORMAT_VERSION = FORMAT_LUMA
#: What the network's output is: a probability (sigmoid inside the graph), or its logit (the
#: runtime applies the sigmoid, so that an int8 output's steps are even in logit, where the
#: crops' scores are averaged, instead of crowding every confident crop into the last step).
OUTPUTS = ("p_fake", "logit")
#: What the network reads: the log-DCT spectrum, the pixels (the paper's baseline), or both, as
#: named inputs of the network.
REPRESENTATIONS = ("log_dct", "pixels", "log_dct+pixels")


class ModelFileError(ValueError):
    """A model file this runtime cannot use; the message says why."""


@dataclass(frozen=True)
class ModelSpec:
    """Everything besides the weights that turns an image into this model's verdict."""

    policy: InputPolicy
    """How an image of any size becomes the model's input."""
    normalisation: Normalisation | None
    """Per-coefficient log-DCT statistics of the training split (None for a pixels-only model)."""
    representation: str = "log_dct"
    """One of REPRESENTATIONS: the network's named inputs, joined by "+"."""
    log_eps: float = DEFAULT_LOG_EPS
    """eps in log(|DCT| + eps)."""
    colour: str = "rgb"
    """One of ``features.COLOURS``: the channels the network reads, made from the RGB crop (:func:`in_colour`)."""
    threshold: float = 0.5
    """p_fake at or above this is labelled "fake"; chosen on the validation split."""
    output: str = "p_fake"
    """One of OUTPUTS: what the network's output tensor holds."""
    temperature: float = 1.0
    """Calibration: the image's mean crop logit is divided by this before the sigmoid (fitted on
    the validation split, so that p_fake 0.7 is right about 70% of the time); 1 = none."""
    calibration_base_rate: float | None = None
    """The share of fakes among the images :attr:`temperature` was fitted on: the base rate p_fake
    assumes (a caller who knows theirs can restate p_fake at it, ``DetectorOptions.base_rate``);
    None when the file does not record it."""
    uncertain_band: tuple[float, float] | None = None
    """How far below and above the threshold a verdict is "uncertain", measured on the validation
    split (``training.calibrate``); None: the runtime's default margin."""
    architecture: str = ""
    """Name of the model-building function that made the network."""
    provenance: str = ""
    """A short line: what it was trained on, and how."""
    extra: dict = field(default_factory=dict)
    """Free-form facts (e.g. held-out metrics) shown to users, never used to compute."""
    scope: Scope | None = None
    """The training images' spectral profile and the distance past which an image is out of scope
    (None: the model cannot say)."""

    def __post_init__(self) -> None:
        if self.representation not in REPRESENTATIONS:
            raise ValueError(
                f"Expected representation in {REPRESENTATIONS}, got {self.representation!r}."
            )
        if self.output not in OUTPUTS:
            raise ValueError(f"Expected output in {OUTPUTS}, got {self.output!r}.")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"Expected a threshold in [0, 1], got {self.threshold}.")
        if not 0.0 < self.temperature < 1e3:
            raise ValueError(f"Expected a temperature in (0, 1000), got {self.temperature}.")
        if self.calibration_base_rate is not None and not 0.0 < self.calibration_base_rate < 1.0:
            raise ValueError(f"Expected a calibration base rate in (0, 1), got {self.calibration_base_rate}.")
        if self.uncertain_band is not None:
            band = tuple(float(w) for w in self.uncertain_band)
            if len(band) != 2 or not all(0.0 <= w <= 1.0 for w in band):
                raise ValueError(f"Expected an uncertain band of two widths in [0, 1], got {self.uncertain_band!r}.")
            object.__setattr__(self, "uncertain_band", band)
        expected = self.input_shape  # raises for an unknown colour
        if "log_dct" in self.input_names and self.normalisation is None:
            raise ValueError("Expected normalisation statistics for a log_dct input.")
        if self.normalisation is not None and self.normalisation.mean.shape != expected:
            raise ValueError(
                f"Expected normalisation of shape {expected}, got {self.normalisation.mean.shape}."
            )
        if self.scope is not None and self.scope.channels != expected[2]:
            raise ValueError(f"Expected a scope of {expected[2]}-channel profiles, got {self.scope.channels}.")

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(self.representation.split("+"))

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(height, width, channels) of each of the network's inputs, one crop's."""
        return self.policy.height, self.policy.width, channels(self.colour)

    def make_inputs(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        """The network's inputs, by name, for a (height, width, 3) uint8 RGB model input or an
        (N, height, width, 3) stack of them (as :attr:`policy` cut them), each of
        :attr:`input_shape`. Training and the runtime both call this."""
        pixels = in_colour(rgb, self.colour)
        inputs = {}
        for name in self.input_names:
            if name == "log_dct":
                inputs[name] = self.normalisation.apply(log_dct(pixels, self.log_eps))
            else:
                inputs[name] = pixel_input(pixels)
        return inputs

    def read_scope(self, inputs: dict[str, np.ndarray], crops: np.ndarray) -> ScopeReading | None:
        """The out-of-scope reading of one image from its network inputs (:meth:`make_inputs`) and
        its crops' pixels; None when this model records no scope. The runtime and ``evaluate``
        both call this."""
        if self.scope is None or "log_dct" not in inputs:
            return None
        return self.scope.read(inputs["log_dct"], crops)

    def aggregate(self, crop_p_fake) -> float:
        """One image's p_fake from its crops': the mean of their logits, divided by
        :attr:`temperature`, mapped back to a probability. A mean of logits lets a few confident
        crops outweigh many unsure ones (a face pasted into a real photo), where a mean of
        probabilities would bury them. One uncalibrated crop is returned as it is."""
        p = np.asarray(crop_p_fake, dtype=np.float64).reshape(-1)
        if p.size == 0:
            raise ValueError("Expected at least one crop score.")
        if p.size == 1 and self.temperature == 1.0:
            return float(p[0])
        q = np.clip(p, 1e-6, 1.0 - 1e-6)
        logit = float(np.mean(np.log(q) - np.log1p(-q))) / self.temperature
        return float(1.0 / (1.0 + np.exp(-logit)))

    def to_json(self) -> dict:
        return {
            # The oldest format that can read this file, so older runtimes keep reading older kinds.
            "format_version": (FORMAT_LUMA if self.colour != "rgb" else
                               FORMAT_LOGIT if self.output == "logit" else
                               FORMAT_TILES if self.policy.mode == "tiles" else 1),
            "representation": self.representation,
            **({"colour": self.colour} if self.colour != "rgb" else {}),
            "log_eps": self.log_eps,
            "policy": self.policy.to_dict(),
            "labels": {"0": "real", "1": "fake"},
            "output": self.output,
            "threshold": self.threshold,
            **({"temperature": self.temperature} if self.temperature != 1.0 else {}),
            # Optional: a runtime that predates it cannot restate p_fake at another base rate.
            **({"calibration_base_rate": self.calibration_base_rate}
               if self.calibration_base_rate is not None else {}),
            # Optional: a runtime that predates it uses its default margin.
            **({"uncertain_band": list(self.uncertain_band)} if self.uncertain_band is not None else {}),
            "architecture": self.architecture,
            "provenance": self.provenance,
            "extra": self.extra,
            # Optional: a runtime that predates it ignores the key and gives no warning.
            **({"scope": self.scope.to_json()} if self.scope is not None else {}),
        }

    def normalisation_bytes(self) -> bytes:
        n = self.normalisation
        if n is None:
            return b""
        return n.mean.astype("<f4").tobytes() + n.std.astype("<f4").tobytes()

    @classmethod
    def from_json(cls, meta: dict, normalisation: Normalisation | None) -> "ModelSpec":
        """The spec from its JSON metadata and its statistics.

        Raises:
          ModelFileError: the metadata is from a newer format, incomplete, or invalid.
        """
        version = meta.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ModelFileError(
                f"Expected model metadata format {FORMAT_VERSION} or older, got {version!r}; "
                "upgrade deepfake-dct to use this model."
            )
        try:
            return cls(
                policy=InputPolicy.from_dict(meta["policy"]),
                normalisation=normalisation,
                representation=meta["representation"],
                log_eps=float(meta["log_eps"]),
                colour=str(meta.get("colour", "rgb")),
                threshold=float(meta["threshold"]),
                output=str(meta.get("output", "p_fake")),
                temperature=float(meta.get("temperature", 1.0)),
                calibration_base_rate=(None if meta.get("calibration_base_rate") is None
                                       else float(meta["calibration_base_rate"])),
                uncertain_band=_uncertain_band(meta),
                architecture=str(meta.get("architecture", "")),
                provenance=str(meta.get("provenance", "")),
                extra=dict(meta.get("extra", {})),
                scope=Scope.from_json(meta["scope"]) if "scope" in meta else None,
            )
        except (KeyError, TypeError) as e:
            raise ModelFileError(f"Model metadata is incomplete or malformed ({e!r}).") from e
        except ValueError as e:
            raise ModelFileError(f"Model metadata is invalid ({e}).") from e


def _uncertain_band(meta: dict) -> tuple[float, float] | None:
    """The recorded band; files written before it was a field kept it (or one symmetric width,
    "uncertain_margin") in "extra"."""
    extra = meta.get("extra", {})
    band = meta.get("uncertain_band", extra.get("uncertain_band"))
    if band is None and "uncertain_margin" in extra:
        band = (extra["uncertain_margin"],) * 2
    return None if band is None else tuple(band)


def _normalisation_from_blob(blob: bytes, policy: InputPolicy, colour: str) -> Normalisation | None:
    if not blob:
        return None
    shape = (policy.height, policy.width, channels(colour))
    count = int(np.prod(shape))
    if len(blob) != 2 * 4 * count:
        raise ModelFileError(
            f"Expected {2 * 4 * count} bytes of normalisation statistics for input {shape}, "
            f"got {len(blob)}."
        )
    values = np.frombuffer(blob, dtype="<f4").astype(np.float32)
    return Normalisation(mean=values[:count].reshape(shape), std=values[count:].reshape(shape))


# --- A minimal, bounds-checked FlatBuffer reader for Model.metadata ------------------------------

# Field indices in the TFLite schema (tensorflow/compiler/mlir/lite/schema/schema.fbs).
_MODEL_BUFFERS, _MODEL_METADATA = 4, 6
_METADATA_NAME, _METADATA_BUFFER = 0, 1
_BUFFER_DATA, _BUFFER_OFFSET, _BUFFER_SIZE = 0, 1, 2


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def _unpack(self, fmt: str, pos: int):
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > len(self.data):
            raise ModelFileError("Model file is truncated or not a TFLite FlatBuffer.")
        return struct.unpack_from(fmt, self.data, pos)[0]

    def field_pos(self, table: int, index: int) -> int | None:
        vtable = table - self._unpack("<i", table)
        vtable_size = self._unpack("<H", vtable)
        slot = 4 + 2 * index
        if slot >= vtable_size:
            return None
        offset = self._unpack("<H", vtable + slot)
        return table + offset if offset else None

    def deref(self, pos: int) -> int:
        return pos + self._unpack("<I", pos)

    def vector(self, table: int, index: int) -> tuple[int, int]:
        """(position of first element, length); (0, 0) when absent."""
        pos = self.field_pos(table, index)
        if pos is None:
            return 0, 0
        start = self.deref(pos)
        return start + 4, self._unpack("<I", start)

    def table_at(self, elements: int, i: int) -> int:
        return self.deref(elements + 4 * i)

    def string(self, table: int, index: int) -> str:
        start, length = self.vector(table, index)
        if start + length > len(self.data):
            raise ModelFileError("Model file is truncated or not a TFLite FlatBuffer.")
        return self.data[start : start + length].decode("utf-8", errors="replace")

    def scalar(self, table: int, index: int, fmt: str, default=0):
        pos = self.field_pos(table, index)
        return default if pos is None else self._unpack(fmt, pos)


#: Files users pass by mistake where a .tflite belongs: (leading bytes, what they are).
_OTHER_MODEL_FILES = (
    (b"PK\x03\x04", "a zip archive (a Keras .keras file?)"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (a Keras .h5 file?)"),
)


def read_metadata(model_bytes: bytes) -> dict[str, bytes]:
    """All ``Model.metadata`` entries of a ``.tflite`` file, by name.

    Raises:
      ModelFileError: the bytes are not a TFLite FlatBuffer.
    """
    if len(model_bytes) < 8 or model_bytes[4:8] != b"TFL3":
        kind = next((k for magic, k in _OTHER_MODEL_FILES if model_bytes.startswith(magic)), "")
        hint = f", got {kind}: convert a trained run with `deepfake-dct export`" if kind else ""
        raise ModelFileError(f"Expected a TFLite model (FlatBuffer with identifier 'TFL3'){hint}.")
    r = _Reader(model_bytes)
    model = r.deref(0)
    buffers, n_buffers = r.vector(model, _MODEL_BUFFERS)
    entries, n_entries = r.vector(model, _MODEL_METADATA)
    out: dict[str, bytes] = {}
    for i in range(n_entries):
        entry = r.table_at(entries, i)
        name = r.string(entry, _METADATA_NAME)
        index = r.scalar(entry, _METADATA_BUFFER, "<I")
        if index >= n_buffers:
            raise ModelFileError(f"Model metadata {name!r} points past the buffer table.")
        buf = r.table_at(buffers, index)
        start, length = r.vector(buf, _BUFFER_DATA)
        if length == 0:  # Large models keep buffers after the FlatBuffer, by offset and size.
            start = r.scalar(buf, _BUFFER_OFFSET, "<Q")
            length = r.scalar(buf, _BUFFER_SIZE, "<Q")
        if start + length > len(model_bytes):
            raise ModelFileError("Model file is truncated: a metadata buffer runs past its end.")
        out[name] = bytes(model_bytes[start : start + length])
    return out


def read_spec(model_bytes: bytes) -> ModelSpec:
    """The detector's :class:`ModelSpec` embedded in a ``.tflite`` file.

    Raises:
      ModelFileError: not a TFLite file, or a TFLite file without detector metadata.
    """
    entries = read_metadata(model_bytes)
    if METADATA_NAME not in entries:
        raise ModelFileError(
            "Expected a deepfake-dct model: this TFLite file has no deepfake_dct metadata "
            "(export models with `deepfake-dct export`)."
        )
    try:
        meta = json.loads(entries[METADATA_NAME].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"Model metadata is not valid JSON ({e}).") from e
    if not isinstance(meta, dict):
        raise ModelFileError("Model metadata is not a JSON object.")
    try:
        policy = InputPolicy.from_dict(meta["policy"])
        normalisation = _normalisation_from_blob(entries.get(NORMALISATION_NAME, b""), policy,
                                                 str(meta.get("colour", "rgb")))
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, ModelFileError):
            raise
        raise ModelFileError(f"Model metadata is invalid ({e!r}).") from e
    return ModelSpec.from_json(meta, normalisation)
