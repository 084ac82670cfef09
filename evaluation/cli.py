"""``deepfake-dct evaluate``: score a model on folders of real and fake images (optionally under the
robustness matrix), or train and compare the paper's recipes with this project's default."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from deepfake_dct.detector import ModelFileError, default_model_path

EXAMPLES = """examples:
  deepfake-dct evaluate --real REAL_DIR --fake FAKE_DIR          # the bundled model
  deepfake-dct evaluate --model model.tflite --real REAL_DIR --fake FAKE_DIR --jpeg 75 --out eval/
  deepfake-dct evaluate --model runs/paper_dct --split runs/paper_dct/split.json --robustness --out eval/
  deepfake-dct evaluate --compare --data DATA --out compare/       # DATA/real/..., DATA/fake/...
"""


def build_parser() -> argparse.ArgumentParser:
    from deepfake_dct.evaluation import compare
    from deepfake_dct.training.data import SPLITS

    p = argparse.ArgumentParser(
        prog="deepfake-dct evaluate", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Score a model on real and fake images: accuracy, ROC AUC, average precision, "
                    "confusion matrix, calibration; optionally under re-compression, resizing, blur, "
                    "noise and cropping; or compare the paper's recipes with this project's default.")
    p.add_argument("--model", help="a .tflite file (run by the runtime users run), or a training run "
                                   "folder (its model.keras, spec and threshold) (default: the bundled "
                                   "model, as for detect)")
    p.add_argument("--real", nargs="+", metavar="DIR",
                   help="folder(s) of real images (searched recursively; several: one source each) "
                        "(default: none; give --real and --fake, or --split)")
    p.add_argument("--fake", nargs="+", metavar="DIR",
                   help="folder(s) of fake images (searched recursively; several: one source each) "
                        "(default: none)")
    p.add_argument("--other", nargs="+", metavar="DIR",
                   help="folders of images the detector is not for (drawings, screenshots, text, charts): "
                        "reports the share given the out-of-scope warning, per folder (default: none)")
    p.add_argument("--split", help="a run's split.json: score only the files of --subset it lists (under "
                                   "--real/--fake, or the class folders of the data root it records) "
                                   "(default: none)")
    p.add_argument("--subset", default="test", choices=SPLITS,
                   help="with --split: which files (default: test, the held-out ones)")
    p.add_argument("--out", help="folder for report.json, scores.csv and the plots (default: print only)")
    p.add_argument("--jpeg", type=int, default=None, metavar="Q",
                   help="format matching: re-encode every image, real and fake, as JPEG at quality Q "
                        "before anything else, so a container difference cannot score as detection "
                        f"(default: off; {compare.FORMAT_JPEG} with --compare; 0 = off)")
    p.add_argument("--robustness", action="store_true",
                   help="also score under each perturbation of the robustness matrix (both classes alike) "
                        "(default: off)")
    p.add_argument("--invariance", action="store_true",
                   help="score instead under the processing-invariance conditions (resize x0.5 with each "
                        "filter, JPEG q95/75/50): the share of reals and fakes flagged, side by side "
                        "(default: off)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the noise perturbations (default: %(default)s)")
    p.add_argument("--threads", type=int, default=None,
                   help="TFLite interpreter threads (default: the interpreter's choice)")
    progress = p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    # Set after construction: Python 3.10's BooleanOptionalAction appends its own "(default: ...)".
    progress.help = ("progress on stderr: --progress a bar, --no-progress nothing (default: a bar on a "
                     "terminal, else a plain line every few seconds)")
    g = p.add_argument_group("paper comparison")
    g.add_argument("--compare", action="store_true",
                   help="train the paper's recipes and this project's default on one split of --data, "
                        "export each, and score them on its held-out test files (default: off)")
    g.add_argument("--data", help="with --compare: folder holding real/ and fake/ (default: none)")
    g.add_argument("--recipes", nargs="+", choices=sorted(compare.RECIPES), metavar="NAME",
                   default=list(compare.DEFAULT_RECIPES),
                   help=f"recipes from {', '.join(compare.RECIPES)} "
                        f"(default: {' '.join(compare.DEFAULT_RECIPES)})")
    g.add_argument("--epochs", type=int, default=compare.EPOCHS,
                   help="maximum epochs per model (default: %(default)s)")
    g.add_argument("--patience", type=int, default=compare.PATIENCE,
                   help="epochs without validation-loss gain before stopping (default: %(default)s)")
    g.add_argument("--max-per-class", type=int, default=None,
                   help="use at most this many files per class (a quick run) (default: all)")
    g.add_argument("--reuse", action="store_true",
                   help="keep runs under OUT/runs already trained with the same arguments (default: off, "
                        "train anew)")
    return p


def _check(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.jpeg is not None and not 0 <= args.jpeg <= 100:
        p.error(f"Expected --jpeg in 0..100 (0 = off), got {args.jpeg}.")
    if args.compare:
        extra = [f"--{k}" for k in ("model", "real", "fake", "split") if getattr(args, k)]
        if extra:
            p.error(f"Expected --compare without {', '.join(extra)}: it trains its own models.")
        if not args.data or not args.out:
            p.error("Expected --data and --out with --compare.")
        return
    if args.invariance and args.robustness:
        p.error("Expected --invariance or --robustness, not both.")
    if not args.split and not (args.real and args.fake):
        p.error("Expected --real and --fake folders, or --split.")


def evaluate(args: argparse.Namespace, command: str) -> dict:
    """Scores one model as the arguments say; prints the summary, writes the files if --out."""
    from deepfake_dct.evaluation.perturb import CLEAN, INVARIANCE, ROBUSTNESS
    from deepfake_dct.evaluation.report import build_report, other_rows, summary_text, write_outputs
    from deepfake_dct.evaluation.score import (describe_model, folder_items, load_model, other_items, score,
                                               seen_in_training, split_items)

    format_jpeg = args.jpeg or 0
    model = load_model(args.model or default_model_path(), args.threads)
    if args.split:
        if len(args.real or ()) > 1 or len(args.fake or ()) > 1:
            raise ValueError("Expected one --real and one --fake folder with --split (where its files are now).")
        items = split_items(Path(args.split), args.subset, *(f[0] if f else None for f in (args.real, args.fake)))
    else:
        items = folder_items(args.real, args.fake)
    conditions = INVARIANCE if args.invariance else ROBUSTNESS if args.robustness else (CLEAN,)
    scores = score(model, items, conditions, args.seed, format_jpeg, args.progress)
    other = None
    if args.other:
        other = score(model, other_items(args.other), (CLEAN,), args.seed, format_jpeg, args.progress,
                      description="scoring --other")
    model.close()
    data = {"real": args.real, "fake": args.fake, "split": args.split,
            "subset": args.subset if args.split else None,
            "seen_in_training": seen_in_training(model.run_split or args.split, scores.items)}
    report = build_report(describe_model(model), data, scores, model.threshold, args.seed, format_jpeg,
                          invariance=args.invariance, temperature=model.spec.temperature,
                          calibration_base_rate=model.spec.calibration_base_rate)
    if other is not None:
        report["other"] = other_rows(other, model.threshold)
        report["data"]["other"] = {"folders": args.other, "skipped": len(other.skipped)}
    report["command"] = command
    print(summary_text(report), end="", flush=True)
    if args.out:
        write_outputs(Path(args.out), report, scores)
        print(f"wrote {args.out}", flush=True)
    return report


def run_compare(args: argparse.Namespace) -> dict:
    from deepfake_dct.evaluation.compare import FORMAT_JPEG, compare, comparison_markdown

    comparison = compare(
        Path(args.data), Path(args.out), args.recipes, args.epochs, args.patience, args.seed,
        args.max_per_class, FORMAT_JPEG if args.jpeg is None else args.jpeg, args.reuse, args.progress,
    )
    print(comparison_markdown(comparison), flush=True)
    print(f"wrote {args.out}", flush=True)
    return comparison


def main(argv: Sequence[str]) -> int:
    """``deepfake-dct evaluate``; returns the exit status: 0, or 1 when some images could not be read
    (skipped, and listed in the report), or 2 when the model, the data or the arguments cannot be used."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    _check(parser, args)
    try:
        if args.compare:
            run_compare(args)
            return 0
        report = evaluate(args, "deepfake-dct evaluate " + " ".join(argv))
    except (ModelFileError, ValueError, OSError, ImportError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    return 1 if report["data"]["skipped"]["count"] else 0
