"""The RunInference model handler around the runtime's :class:`Detector`, and the one function that
turns a file into its record.

What travels to the workers is the handler itself: the ``.tflite`` file's bytes, its name and the
:class:`DetectorOptions`. Each worker process builds one :class:`Detector` from those bytes (RunInference
shares it between the process's threads) and needs the base install only: numpy, Pillow and a TFLite
interpreter, never TensorFlow. Elements are paths, not image bytes: a worker reads each file as it
scores it, so a batch of large images never sits in memory at once.

Each image is one ``detect`` call, as in ``deepfake-dct detect``, so its record is the same by
construction: stacking a batch's crops into one interpreter call was measured no faster on this
CPU (the bundled model: 2.5 ms an image one at a time, 2.7 ms in invokes of 16 or 64), so batches
serve to amortise Beam's per-call cost, not the model's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.ml.inference.base import ModelHandler

from deepfake_dct.apps.batch import DEFAULT_MAX_BATCH_SIZE
from deepfake_dct.detector import Detector, DetectorOptions, ImageError
from deepfake_dct.detector.images import DEFAULT_MAX_FILE_BYTES, describe_source
from deepfake_dct.detector.records import detection_record, error_record

#: The metrics namespace of the counters the pipeline keeps (images scored, images unreadable).
METRICS_NAMESPACE = "deepfake_dct"


def is_local(path: str) -> bool:
    """A path without a ``scheme://`` (a file on the machine that reads it) rather than a URI that
    Beam's FileSystems reads (gs://, s3://, hdfs://, azfs://)."""
    return FileSystems.get_scheme(path) is None


def score_file(detector: Detector, path: str, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> dict:
    """One file's record, exactly as ``deepfake-dct detect --json`` writes it for a local path (the
    runtime reads the file, as ``detect`` does); a URI is read through Beam's FileSystems and its
    errors name the URI. Only what ``detect`` also reports becomes an error record: a file that cannot
    be read or decoded (:class:`ImageError`), or a URI that cannot be opened; anything else is a bug
    and fails the bundle."""
    try:
        detection = detector.detect(path if is_local(path) else read_uri(path, max_file_bytes))
    except ImageError as e:
        return error_record(path, _naming(e, path), detector.model_name)
    return detection_record(path, detection, detector.model_name)


def read_uri(uri: str, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    """A remote file's bytes, refusing one over ``max_file_bytes`` after reading no more than that.

    Raises:
      ImageError: the file cannot be opened or read, or is over the limit.
    """
    try:
        with FileSystems.open(uri, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            data = f.read(max_file_bytes + 1)
    except (OSError, ValueError) as e:  # BeamIOError is an OSError; an unknown scheme a ValueError
        raise ImageError(f"{uri}: cannot read the file ({e}).") from e
    if len(data) > max_file_bytes:
        raise ImageError(f"{uri}: file is over the limit of {max_file_bytes:,} bytes.")
    return data


def _naming(error: ImageError, path: str) -> str:
    """The error's message naming the file: the runtime names a path it was given, but calls bytes
    ``<bytes>``, so a URI's name is put in its place."""
    message, anonymous = str(error), f"{describe_source(b'')}: "
    return f"{path}: {message[len(anonymous):]}" if message.startswith(anonymous) else message


def _one_blas_thread() -> None:
    """One BLAS thread in this worker process, as ``import deepfake_dct`` asks of OpenBLAS through
    OPENBLAS_NUM_THREADS -- which only counts before numpy loads, and a Beam worker has loaded numpy
    before it unpickles this handler. The runtime's 128x128 matrix products gain nothing from BLAS
    threads, and threads spinning beside the other workers' slow a busy machine many times over.
    (Local DirectRunner workers inherit the variable from the launcher; cluster workers do not.)"""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the [batch] extra installs it; without it, only the variable helps
        return
    threadpool_limits(1, user_api="blas")


class DetectorModelHandler(ModelHandler[str, dict, Detector]):
    """RunInference's handler: paths in, ``detect --json`` records out, one :class:`Detector` per
    worker process built from the model's bytes."""

    def __init__(
        self,
        model_bytes: bytes,
        model_name: str,
        options: DetectorOptions | None = None,
        *,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    ) -> None:
        super().__init__()
        self._max_batch_size = max_batch_size
        self._model_bytes = bytes(model_bytes)
        self._model_name = model_name
        self._options = options or DetectorOptions()

    @classmethod
    def from_file(
        cls, path: str | None, options: DetectorOptions | None = None, **kw
    ) -> "DetectorModelHandler":
        """Reads the model on the launcher (a local path or any FileSystems URI; the bundled model
        when None) and checks it by loading it once, so that a bad model fails before the job starts.

        Raises:
          ModelFileError: the file cannot be read or is not a deepfake-dct model.
        """
        from deepfake_dct.detector import ModelFileError, default_model_path

        if path is None or is_local(path):
            with Detector.from_file(path, options) as detector:  # the runtime's own checks and messages
                name = detector.model_name
            data = Path(default_model_path() if path is None else path).read_bytes()
        else:
            try:
                with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                    data = f.read()
            except (OSError, ValueError) as e:
                raise ModelFileError(f"{path}: cannot read the model file ({e}).") from e
            name = path.rstrip("/").rsplit("/", 1)[-1]
            try:
                Detector(data, options, name=name).close()
            except ModelFileError as e:
                raise ModelFileError(f"{path}: {e}") from e
        return cls(data, name, options, **kw)

    @property
    def model_name(self) -> str:
        return self._model_name

    def load_model(self) -> Detector:
        _one_blas_thread()
        return Detector(self._model_bytes, self._options, name=self._model_name)

    def run_inference(
        self, batch: Sequence[str], model: Detector, inference_args: dict[str, Any] | None = None
    ) -> Iterable[dict]:
        return [score_file(model, path) for path in batch]

    def batch_elements_kwargs(self) -> dict[str, Any]:
        return {"min_batch_size": 1, "max_batch_size": self._max_batch_size}

    def get_num_bytes(self, batch: Sequence[str]) -> int:
        """The size of what the batch carries (its paths), not the default's pickle of it."""
        return sum(len(path.encode()) for path in batch)

    def get_metrics_namespace(self) -> str:
        return METRICS_NAMESPACE
