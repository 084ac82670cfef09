"""``deepfake-dct ensemble RUN RUN ... --out RUN``: finished runs of one recipe, trained at different
seeds, joined into one network that averages their p_fake on each crop, then calibrated as a run.

Why: one run of a recipe is not a measurement of it. The same command at seeds 0 and 1 flagged 0.1%
and 5.1% of the held-out LFW faces (docs/NATIVE.md, "Luma alone"); averaging networks that err
differently is the standard cure for that variance, and costs one network's time per member.

Each member keeps the normalisation it trained with. The joined model is fed the first member's
normalised log-DCT, as its spec says; for every other member an affine layer (a Keras
``Normalization`` with constant statistics) turns that into the member's own normalisation, exactly:
``(x0 * std0 + mean0 - mean_i) / std_i``. Runs whose inputs differ in any other way (policy, colour,
representation, log epsilon) or whose split differs (one member's training images would be
another's validation) are refused.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Sequence


from deepfake_dct.detector.model_file import ModelSpec
from deepfake_dct.training import rundir
from deepfake_dct.training.calibrate import calibrate, describe_calibration, predict_images, with_test_summary
from deepfake_dct.training.data import Split, atomic_write_json


def check_joinable(specs: Sequence[ModelSpec], splits: Sequence[dict], runs: Sequence[Path]) -> None:
    """Raises ValueError naming the first run whose inputs or split differ from the first run's."""
    if len(runs) < 2:
        raise ValueError(f"Expected at least two runs to join, got {len(runs)}.")
    first = specs[0]
    for run, spec, split in zip(runs[1:], specs[1:], splits[1:]):
        for field in ("policy", "representation", "colour", "log_eps", "output"):
            if getattr(spec, field) != getattr(first, field):
                raise ValueError(f"{run} reads other inputs than {runs[0]}: its {field} is "
                                 f"{getattr(spec, field)!r}, not {getattr(first, field)!r}.")
        if (spec.normalisation is None) != (first.normalisation is None):
            raise ValueError(f"{run} and {runs[0]} differ in whether they normalise a log-DCT.")
        if split["files"] != splits[0]["files"] or split["labels"] != splits[0]["labels"]:
            raise ValueError(f"{run} was split differently from {runs[0]}: one member's training "
                             "images would be another's validation. Join runs of one split.")


def _renormalising(member, spec: ModelSpec, reference: ModelSpec, name: str):
    """``member`` behind a layer that turns ``reference``'s normalised log-DCT into ``spec``'s."""
    import keras
    from keras import layers

    inputs = {n: keras.Input(t.shape[1:], name=n) for n, t in member.input.items()}
    fed = dict(inputs)
    if spec.normalisation is not None:
        ref, own = reference.normalisation, spec.normalisation
        shift = (own.mean - ref.mean) / ref.std
        scale = own.std / ref.std
        adapter = layers.Normalization(axis=(-3, -2, -1), mean=shift, variance=scale ** 2,
                                       name=f"{name}_normalisation")
        fed["log_dct"] = adapter(inputs["log_dct"])
    return keras.Model(inputs, member(fed), name=name)


def join_runs(runs: Sequence[Path], out: Path, data_root: Path | None = None) -> dict:
    """Joins ``runs`` into the run folder ``out`` (model, spec, split, report), calibrated on their
    shared validation split at their grid and scored on the held-out test split; returns the report.

    Raises:
      ValueError: fewer than two runs, or runs that read other inputs or were split differently.
      FileNotFoundError: a run folder lacks its model, spec or split.
    """
    started = time.time()
    runs, out = [Path(r) for r in runs], Path(out)
    specs = [rundir.load_spec(r) for r in runs]
    splits = [json.loads((r / rundir.SPLIT).read_text()) for r in runs]
    check_joinable(specs, splits, runs)

    import keras

    from deepfake_dct.training.models import make_average_ensemble
    from deepfake_dct.training.pipeline import SkipLog

    members = [_renormalising(keras.models.load_model(r / rundir.MODEL, compile=False, safe_mode=True),
                              spec, specs[0], f"member_{i}")
               for i, (r, spec) in enumerate(zip(runs, specs))]
    architecture = f"{len(runs)} x {specs[0].architecture or 'network'}, p_fake averaged"
    model = make_average_ensemble(members, name="seed_ensemble")
    spec = dataclasses.replace(specs[0], architecture=architecture,
                               provenance=f"{specs[0].provenance}; {len(runs)} runs joined: "
                                          + ", ".join(r.name for r in runs))
    split, skips = Split.from_json(splits[0], data_root), SkipLog()
    calibration = calibrate(model, spec, split, skips)
    labels, scores = predict_images(model, split.paths("test"), split.labels["test"], calibration.spec, skips)
    spec, test = with_test_summary(calibration.spec, labels, scores)

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / rundir.SPLIT, splits[0])
    tmp = out / ".model.tmp.keras"
    model.save(tmp)
    tmp.replace(out / rundir.MODEL)
    rundir.save_spec(out, spec)
    report = {
        "command": "deepfake-dct ensemble " + " ".join(map(str, runs)) + f" --out {out}",
        "architecture": architecture,
        "representation": spec.representation,
        "parameters": int(model.count_params()),
        "members": {str(r): {"threshold": s.threshold, "temperature": s.temperature} for r, s in zip(runs, specs)},
        "split_counts": {s: len(f) for s, f in splits[0]["files"].items()},
        "skipped": {"count": len(skips), "files": skips.reasons},
        "threshold": spec.threshold,
        "temperature": spec.temperature,
        "calibration": calibration.facts,
        "test": test,
        "scored_on": "held-out test split, each image on its grid of native-resolution crops, as at run time",
        "seconds": round(time.time() - started, 1),
    }
    atomic_write_json(out / rundir.REPORT, report)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``deepfake-dct ensemble``: 0 when joined, 2 (one "ERROR: ..." line) when the runs cannot be."""
    parser = argparse.ArgumentParser(
        prog="deepfake-dct ensemble",
        description="Join finished runs of one recipe (other seeds, one split) into one network that "
                    "averages their p_fake per crop; calibrates it on their validation split.")
    parser.add_argument("runs", nargs="+", help="run folders written by `deepfake-dct train`")
    parser.add_argument("--out", required=True, help="the joined run folder (export it as any run)")
    parser.add_argument("--data-root", help="where the runs' data now lives (default: as recorded in split.json)")
    args = parser.parse_args(argv)
    try:
        report = join_runs([Path(r) for r in args.runs], Path(args.out),
                           Path(args.data_root) if args.data_root else None)
    except (ValueError, FileNotFoundError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    print(f"{args.out}: {report['architecture']}, {report['parameters']:,} parameters; "
          + describe_calibration({**report["calibration"], "test": report["test"]})
          + f". `deepfake-dct export {args.out}` makes its model file.", flush=True)
    return 0
