"""The pipeline: inputs -> the files they name -> one record each -> sharded JSON lines or Parquet.

    inputs (Create) + lists of paths (ReadFromText)
      -> Expand (each input into its files, as ``detect`` expands them)
      -> Reshuffle (spread the files over the workers)
      -> RunInference (:class:`DetectorModelHandler`: read, decode, score; errors are records)
      -> Count (metrics: images, unreadable) -> WriteToText / WriteToParquet
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Iterator, Sequence

import apache_beam as beam
from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.ml.inference.base import RunInference
from apache_beam.options.pipeline_options import PipelineOptions

from deepfake_dct.apps.batch import FORMATS
from deepfake_dct.apps.batch.handler import METRICS_NAMESPACE, DetectorModelHandler, is_local
from deepfake_dct.detector.files import IMAGE_EXTENSIONS, expand_paths
from deepfake_dct.detector.records import RECORD_FIELDS

_images = Metrics.counter(METRICS_NAMESPACE, "images")
_unreadable = Metrics.counter(METRICS_NAMESPACE, "unreadable")


@dataclass(frozen=True)
class Counts:
    """What a finished run scored (a counter never incremented is 0); None where the runner keeps no
    metrics."""

    images: int | None
    unreadable: int | None


def expand_input(item: str) -> Iterator[str]:
    """One input -> the files it names. A local path goes through ``detect``'s own expansion (files as
    given, folders walked for images, globs expanded), so that both name every file alike; a URI
    through Beam's FileSystems: a glob is matched, a folder (a prefix with no object of its own)
    listed for files with an image extension, anything else taken as a file. What matches nothing is
    passed on as it is and becomes an error record, as in ``detect``."""
    if is_local(item):
        yield from (str(path) for path in expand_paths([item]))
    elif glob.has_magic(item):
        yield from _match(item) or [item]
    elif item.endswith("/") or not _exists(item):
        listed = _match(item.rstrip("/") + "/**")
        found = [p for p in listed if PurePosixPath(p).suffix.lower() in IMAGE_EXTENSIONS]
        yield from found or [item]
    else:
        yield item


def _match(pattern: str) -> list[str]:
    try:
        return sorted(m.path for result in FileSystems.match([pattern]) for m in result.metadata_list)
    except BeamIOError:
        return []


def _exists(uri: str) -> bool:
    try:
        return FileSystems.exists(uri)
    except BeamIOError:
        return False


def list_lines(line: str) -> Iterator[str]:
    """A line of a list of paths -> the path on it (surrounding white space dropped; blank lines
    name nothing)."""
    line = line.strip()
    if line:
        yield line


def _count(record: dict) -> dict:
    _images.inc()
    if "error" in record:
        _unreadable.inc()
    return record


def parquet_schema():
    """The Parquet columns: every record field, null where a record has no such key."""
    import pyarrow as pa

    types = {"path": pa.string(), "label": pa.string(), "p_fake": pa.float64(), "threshold": pa.float64(),
             "uncertain": pa.bool_(), "out_of_scope": pa.string(), "model": pa.string(), "error": pa.string()}
    return pa.schema([(name, types[name]) for name in RECORD_FIELDS])


def _row(record: dict) -> dict:
    return {name: record.get(name) for name in RECORD_FIELDS}


@dataclass(frozen=True)
class Job:
    """What to score and where to write it."""

    inputs: Sequence[str]
    """Files, folders and globs: local paths or URIs."""
    lists: Sequence[str]
    """Text files that list more of them, one a line."""
    handler: DetectorModelHandler
    output: str
    """The output prefix: ``OUTPUT-00000-of-0000N.jsonl`` (or ``.parquet``)."""
    fmt: str = "jsonl"
    num_shards: int = 0
    """0: as many as the runner chooses."""

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"Expected a format in {FORMATS}, got {self.fmt!r}.")
        if not self.inputs and not self.lists:
            raise ValueError("Expected inputs or lists of paths, got neither.")


def build(pipeline: beam.Pipeline, job: Job) -> None:
    """Adds the job's steps to ``pipeline``."""
    sources = []
    if job.inputs:
        sources.append(pipeline | "Inputs" >> beam.Create(list(job.inputs)))
    for i, path in enumerate(job.lists):
        sources.append(pipeline | f"Read list {i}" >> beam.io.ReadFromText(path)
                       | f"Paths {i}" >> beam.FlatMap(list_lines))
    records = (
        sources
        | "All inputs" >> beam.Flatten()
        | "Expand" >> beam.FlatMap(expand_input)
        | "Spread" >> beam.Reshuffle()
        | "Detect" >> RunInference(job.handler)
        | "Count" >> beam.Map(_count)
    )
    if job.fmt == "jsonl":
        _ = (records | "JSON" >> beam.Map(json.dumps)
             | "Write" >> beam.io.WriteToText(job.output, file_name_suffix=".jsonl",
                                              num_shards=job.num_shards))
    else:
        _ = (records | "Rows" >> beam.Map(_row)
             | "Write" >> beam.io.WriteToParquet(job.output, parquet_schema(), file_name_suffix=".parquet",
                                                 num_shards=job.num_shards))


def run(job: Job, beam_args: Sequence[str] = ()) -> Counts:
    """Builds the job's pipeline with Beam's own options (``--runner`` and the rest), runs it to the
    end and returns what it counted."""
    pipeline = beam.Pipeline(options=PipelineOptions(list(beam_args)))
    build(pipeline, job)
    result = pipeline.run()
    result.wait_until_finish()
    return _counts(result)


def beam_options() -> dict[str, bool]:
    """Every option string Beam's PipelineOptions define -> whether it takes a value (False: a flag
    such as ``--save_main_session``), read from the parser Beam builds for them."""
    parsers = []
    PipelineOptions([]).get_all_options(add_extra_args_fn=parsers.append)
    return {s: action.nargs != 0 for action in parsers[0]._actions for s in action.option_strings}


def _counts(result) -> Counts:
    try:
        counters = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))["counters"]
    except (NotImplementedError, KeyError, AttributeError):
        return Counts(None, None)
    found = {}
    for counter in counters:
        value = counter.committed if counter.committed is not None else counter.attempted
        found[counter.key.metric.name] = found.get(counter.key.metric.name, 0) + (value or 0)
    return Counts(found.get("images", 0), found.get("unreadable", 0))
