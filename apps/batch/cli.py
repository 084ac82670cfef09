"""``deepfake-dct batch``: the command line. Its own options are parsed here; every other option is
Beam's (``--runner``, ``--direct_num_workers``, ``--flink_master`` ...) and goes to the pipeline as it is."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from deepfake_dct.apps.batch import DEFAULT_MAX_BATCH_SIZE, FORMATS

#: The installation hint for a machine without Apache Beam.
INSTALL_HINT = "pip install 'deepfake-dct[batch]' (or: pip install -e '.[batch]' in a checkout)"


#: Warnings Beam 2.7x logs on every run that say nothing about the job (a BigQuery client it does not
#: need; a memory probe it skips when PyTorch is absent): hidden in this process, the others print.
_BEAM_NOISE = ("apitools not found", "Resource module is not available")


def _quiet_beam() -> None:
    logging.getLogger().addFilter(lambda record: not record.getMessage().startswith(_BEAM_NOISE))


def _quiet_local_workers(beam_args: list[str]) -> None:
    """On the DirectRunner (the default), worker processes print Beam's INFO lines and start-up
    warnings by the dozen: they log errors only unless the log level is given. A cluster's workers
    keep Beam's own default, since their logs go to the cluster's log store, not this terminal."""
    runner, names = "DirectRunner", set()
    for i, arg in enumerate(beam_args):
        name, _, value = arg.partition("=")
        names.add(name)
        if name == "--runner":
            runner = value or (beam_args[i + 1] if i + 1 < len(beam_args) else "")
    if runner in ("DirectRunner", "direct") and "--default_sdk_harness_log_level" not in names:
        beam_args.append("--default_sdk_harness_log_level=ERROR")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="deepfake-dct batch",
        allow_abbrev=False,  # an abbreviation of ours must not swallow one of Beam's options
        description="Score many images as real or GAN-generated on Apache Beam (the local DirectRunner, "
        "Flink, Spark, Dataflow): sharded JSON lines (or Parquet), one record per file, the same "
        "records as `deepfake-dct detect --json`; an unreadable file is a record with an error.",
        epilog="Every other option is a Beam pipeline option and is passed on as it is: --runner, "
        "--direct_num_workers N --direct_running_mode multi_processing (local worker processes), "
        "--flink_master HOST:PORT, --spark_master_url URL, --environment_type ..., anywhere on the line. "
        "See docs/BATCH.md.",
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="image files, folders (recursive) or glob patterns: local paths, or URIs Beam's "
                        "file systems read (gs://, s3://, hdfs://, azfs://)")
    p.add_argument("--paths-from", action="append", default=[], metavar="LIST",
                   help="a text file with one path, folder, glob or URI a line (itself a local path or a "
                        "URI); may be given several times")
    p.add_argument("--output", required=True, metavar="PREFIX",
                   help="where to write: PREFIX-00000-of-0000N.jsonl (or .parquet), local or a URI")
    p.add_argument("--format", choices=FORMATS, default="jsonl", help="jsonl (default) or parquet")
    p.add_argument("--num-shards", type=int, default=0, metavar="N",
                   help="output files (default 0: as many as the runner chooses)")
    p.add_argument("--model", help=".tflite model file, local or a URI (default: the bundled model); its "
                   "bytes travel with the job, so workers need no access to it")
    p.add_argument("--threads", type=_positive_int, default=1,
                   help="interpreter threads in each worker process (default 1: the workers are the "
                        "parallelism)")
    p.add_argument("--threshold", type=float, default=None,
                   help="override the model's threshold (default: the one recorded in the model)")
    p.add_argument("--base-rate", type=float, default=None, metavar="SHARE",
                   help="the share of fakes you expect (e.g. 0.01): p_fake is restated at it, the same "
                        "images flagged (default: the base rate the model's calibration assumed)")
    p.add_argument("--batch-size", type=_positive_int, default=DEFAULT_MAX_BATCH_SIZE, metavar="N",
                   help=f"images per inference call at most (default {DEFAULT_MAX_BATCH_SIZE}; Beam "
                        "grows batches up to it)")
    return p


def split_arguments(
    argv: Sequence[str], parser: argparse.ArgumentParser, beam: dict[str, bool]
) -> tuple[list[str], list[str]]:
    """``argv`` -> (this command's arguments, Beam's), wherever they stand: an option that is not
    ours is Beam's, with its value when Beam's parser says it takes one (``beam``: option -> whether
    it does); an option Beam's Python SDK does not define (a runner's own) takes the next word as its
    value unless that starts with "-", as Beam itself reads unknown options. Words are inputs."""
    ours = {s: action.nargs != 0 for action in parser._actions for s in action.option_strings}
    mine: list[str] = []
    beams: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        name = word.split("=", 1)[0]
        if word == "--":
            mine.extend(argv[i:])
            break
        if name in ours or not word.startswith("-") or word == "-":
            target, takes_value = mine, ours.get(name, False)
        else:
            target = beams
            takes_value = beam.get(name, i + 1 < len(argv) and not argv[i + 1].startswith("-"))
        target.append(word)
        if takes_value and "=" not in word and i + 1 < len(argv):
            target.append(argv[i + 1])
            i += 1
        i += 1
    return mine, beams


def main(argv: Sequence[str]) -> int:
    """``deepfake-dct batch``; returns the exit status: 0, or 1 when some files could not be read (each
    is a record with its error), or 2 when Beam, the model, the inputs or the arguments cannot be used."""
    parser = build_parser()
    argv = list(argv)
    if "-h" in argv or "--help" in argv:
        parser.parse_args(["--help"])  # prints the help and exits 0, with or without Beam
    _quiet_beam()
    try:
        import apache_beam  # noqa: F401
    except ImportError:
        print(f"ERROR: deepfake-dct batch needs Apache Beam: {INSTALL_HINT}.", file=sys.stderr)
        return 2
    from deepfake_dct.apps.batch.handler import DetectorModelHandler
    from deepfake_dct.apps.batch.pipeline import Job, beam_options, run
    from deepfake_dct.detector import DetectorOptions, ModelFileError

    mine, beam_args = split_arguments(argv, parser, beam_options())
    _quiet_local_workers(beam_args)
    args = parser.parse_args(mine)
    if not args.inputs and not args.paths_from:
        parser.error("expected at least one INPUT or --paths-from LIST")

    try:
        handler = DetectorModelHandler.from_file(
            args.model, DetectorOptions(num_threads=args.threads, threshold=args.threshold,
                                        base_rate=args.base_rate),
            max_batch_size=args.batch_size)
    except (ModelFileError, ImportError, ValueError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    job = Job(args.inputs, args.paths_from, handler, args.output, args.format, args.num_shards)
    counts = run(job, beam_args)
    where = f"{args.output}-*.{args.format}"
    if counts.images is None:
        print(f"Wrote {where} (this runner reports no counts).", file=sys.stderr)
        return 0
    if not counts.images:
        print(f"ERROR: Expected image files, found none in {', '.join([*args.inputs, *args.paths_from])}.",
              file=sys.stderr)
        return 2
    print(f"Scored {counts.images:,} files ({counts.unreadable:,} unreadable) with {handler.model_name}; "
          f"wrote {where}.", file=sys.stderr)
    return 1 if counts.unreadable else 0
