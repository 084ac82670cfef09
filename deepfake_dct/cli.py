"""``deepfake-dct``: detect, train, export. Heavy modules load inside their subcommand only, so
``deepfake-dct detect`` never imports TensorFlow."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence


def _detect(args: argparse.Namespace) -> int:
    from deepfake_dct.detector import Detector, DetectorOptions, ImageError, ModelFileError
    from deepfake_dct.detector.files import count_files, expand_paths
    from deepfake_dct.detector.records import crop_records, detection_record, error_record

    try:
        detector = Detector.from_file(
            args.model, DetectorOptions(num_threads=args.threads, threshold=args.threshold,
                                        base_rate=args.base_rate)
        )
    except (ModelFileError, ImportError, ValueError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    seen = failures = 0
    with detector:
        for path in expand_paths(args.paths):
            seen += 1
            try:
                result = detector.detect(path)
            except ImageError as e:
                failures += 1
                if args.json:
                    print(json.dumps(error_record(path, e, detector.model_name)), flush=True)
                else:
                    print(f"{path}\tERROR\t{e}", flush=True)
                continue
            if args.json:
                record = detection_record(path, result, detector.model_name)
                if args.explain:
                    record["crops"] = crop_records(result)
                print(json.dumps(record), flush=True)
            else:
                hedge = "\tuncertain" if result.uncertain else ""
                scope = f"\tout of scope: {result.out_of_scope}" if result.out_of_scope else ""
                print(f"{path}\t{result.label}\tp_fake={result.p_fake:.4f}{hedge}{scope}", flush=True)
                if args.explain:
                    for c in result.crops:
                        box = c.box
                        print(f"  crop top={box.top} left={box.left} {box.width}x{box.height}"
                              f"\tp_fake={c.p_fake:.4f}", flush=True)
    if not seen:
        others = count_files(args.paths)
        found = ("no files" if not others else "1 file, not an image" if others == 1
                 else f"{others} files, none of them an image")
        print(f"ERROR: Expected image files in {', '.join(args.paths)}, found {found}.", file=sys.stderr)
        return 2
    return 1 if failures else 0


def _quiet_tensorflow() -> None:
    """TensorFlow's C++ start-up chatter hides the lines that matter; errors still print."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _train(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from deepfake_dct.training.train import main as train_main

    return train_main(args)


def _export(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from deepfake_dct.export.quiet import held_output

    try:
        with held_output():  # TensorFlow's import banner (shown if the import fails)
            from deepfake_dct.export.convert import main as export_main
    except ImportError as e:
        print(f"ERROR: export needs TensorFlow: pip install 'deepfake-dct[train]' ({e}).", file=sys.stderr)
        return 2
    return export_main(args)


def _run_streamlit_app(argv: Sequence[str]) -> int:
    """``deepfake-dct app [--port N] [--model FILE]``: the Streamlit uploader."""
    from deepfake_dct.apps.launch import main as app_main

    return app_main(list(argv))


def _run_webcam(argv: Sequence[str]) -> int:
    from deepfake_dct.apps.webcam import main as webcam_main

    return webcam_main(list(argv))


def _run_evaluate(argv: Sequence[str]) -> int:
    from deepfake_dct.evaluation.cli import main as evaluate_main

    return evaluate_main(list(argv))


def _run_analyze(argv: Sequence[str]) -> int:
    _quiet_tensorflow()
    from deepfake_dct.analysis.cli import main as analyze_main

    return analyze_main(list(argv))


def _run_dataset(argv: Sequence[str]) -> int:
    from deepfake_dct.training.dataset import main as dataset_main

    return dataset_main(list(argv))


def _run_ensemble(argv: Sequence[str]) -> int:
    _quiet_tensorflow()
    from deepfake_dct.training.ensemble import main as ensemble_main

    return ensemble_main(list(argv))


def _run_batch(argv: Sequence[str]) -> int:
    from deepfake_dct.apps.batch.cli import main as batch_main

    return batch_main(list(argv))


#: Subcommands that own their whole argument list (their --help is their own).
DELEGATED = {
    "dataset": _run_dataset,
    "app": _run_streamlit_app,
    "webcam": _run_webcam,
    "evaluate": _run_evaluate,
    "analyze": _run_analyze,
    "batch": _run_batch,
    "ensemble": _run_ensemble,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepfake-dct", description="Detect GAN-generated images from their DCT spectrum."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("detect", help="classify images as real or fake")
    p.add_argument("paths", nargs="+", help="image files, folders (recursive) or glob patterns")
    p.add_argument("--model", help=".tflite model file (default: the bundled model)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per image (default: one tab-separated line: path, label, "
                        "p_fake, and \"uncertain\" when p_fake is near the threshold)")
    p.add_argument("--explain", action="store_true",
                   help="also give each crop the model read: its box and its own p_fake (default: off)")
    p.add_argument("--threads", type=int, default=None,
                   help="interpreter threads (default: the interpreter's choice)")
    p.add_argument("--threshold", type=float, default=None,
                   help="override the model's threshold (default: the one recorded in the model)")
    p.add_argument("--base-rate", type=float, default=None, metavar="SHARE",
                   help="the share of fakes you expect (e.g. 0.01): p_fake is restated at it, the same "
                        "images flagged (default: the base rate the model's calibration assumed)")
    p.set_defaults(func=_detect)

    p = sub.add_parser("train", help="train a model on a folder with real/ and fake/ subfolders")
    _add_train_arguments(p)
    p.set_defaults(func=_train)

    p = sub.add_parser("export", help="convert a trained model to TFLite and prove parity")
    _add_export_arguments(p)
    p.set_defaults(func=_export)

    sub.add_parser("app", help="open the Streamlit uploader (see: deepfake-dct app --help)")
    sub.add_parser("webcam", help="classify camera or video frames (see: deepfake-dct webcam --help)")
    sub.add_parser("evaluate", help="score a model, robustness matrix, paper comparison (see --help)")
    sub.add_parser("analyze", help="spectra, upsampling artifacts, architecture (see --help)")
    sub.add_parser("dataset", help="assemble a training folder from public sources (see --help)")
    sub.add_parser("ensemble", help="join runs of one recipe at other seeds into one averaged network (see --help)")
    sub.add_parser("batch", help="score many images on Apache Beam, sharded output (see --help)")
    return parser


def _add_train_arguments(p: argparse.ArgumentParser) -> None:
    from deepfake_dct.training.options import add_arguments

    add_arguments(p)


def _add_export_arguments(p: argparse.ArgumentParser) -> None:
    from deepfake_dct.export.options import add_arguments

    add_arguments(p)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        return DELEGATED[argv[0]](argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
