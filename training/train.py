"""``deepfake-dct train``: folders of real and fake images -> a Keras model, its statistics, its split
and a report, scored on a held-out split the model never saw."""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import numpy as np

from deepfake_dct.detector.features import DEFAULT_LOG_EPS, Normalisation, RunningMoments, channels, in_colour, log_dct
from deepfake_dct.detector.images import ImageError
from deepfake_dct.detector.model_file import ModelSpec
from deepfake_dct.training import metrics, rundir
from deepfake_dct.training.calibrate import calibrate, predict_images, with_test_summary
from deepfake_dct.training.data import atomic_write_json, load_rgb, make_split
from deepfake_dct.training.options import TrainOptions, options_from_args, recorded_arguments
from deepfake_dct.training.tiles import crop_rng, sample_crops


#: "tiles" models: crops per training image that the normalisation statistics are computed on.
STATISTICS_CROPS = 2


def compute_normalisation(paths, options: TrainOptions, log_eps: float, skips) -> Normalisation:
    """Per-coefficient log-DCT mean/std over the training images, as the model will see them (in
    its colour): the policy's one fitted input per image, or for a "tiles" model processed random
    crops (seeded by each file's name, so a rerun computes the same statistics)."""
    policy, chain = options.policy(), options.chain()
    moments = RunningMoments()
    batch = []
    for path in paths:
        try:
            rgb = load_rgb(path)
            if policy.mode == "tiles":
                rng = crop_rng(options.seed, f"statistics:{path}")
                inputs = sample_crops(rgb, policy, STATISTICS_CROPS, rng, chain)
            else:
                inputs = [policy.apply(rgb)]
        except ImageError as e:
            skips.add(str(path), str(e))
            continue
        batch += [log_dct(in_colour(x, options.colour), log_eps) for x in inputs]
        if len(batch) >= 256:
            moments.add(np.stack(batch))
            batch = []
    if batch:
        moments.add(np.stack(batch))
    return moments.normalisation()


def predict(model, dataset) -> tuple[np.ndarray, np.ndarray]:
    """(labels, p_fake) over a dataset, in its order, leaving out the files that could not be read.
    Each model gets only the inputs it names (an ensemble member reads one of the dataset's two)."""
    labels, scores = [], []
    for inputs, y, weight in dataset:
        keep = np.asarray(weight).reshape(-1) > 0
        own = {name: inputs[name] for name in model.input}
        scores.append(np.asarray(model(own, training=False)).reshape(-1)[keep])
        labels.append(np.asarray(y).reshape(-1)[keep])
    return np.concatenate(labels).astype(int), np.concatenate(scores)


def representation_of(arch: str) -> str:
    """The named inputs an architecture (or ensemble) reads, joined by "+" in a fixed order."""
    from deepfake_dct.training.models import ARCHITECTURES, ENSEMBLES

    members = ENSEMBLES.get(arch, (arch,))
    names = {name for m in members for name in ARCHITECTURES[m][1].split("+")}
    return "+".join(n for n in ("log_dct", "pixels") if n in names)


def learning_rate(options: TrainOptions, steps_per_epoch: int):
    """Adam's learning rate: ``options.lr``, or a cosine decay from it to zero over the epochs."""
    import keras

    if options.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(options.lr, options.epochs * steps_per_epoch)
    return options.lr


def fit_one(arch: str, train_ds, val_ds, options: TrainOptions, out: Path, steps_per_epoch: int):
    """Builds and fits one architecture on the inputs it reads; returns (model, history dict)."""
    import keras

    from deepfake_dct.training.models import ARCHITECTURES

    build, representation = ARCHITECTURES[arch]
    names = representation.split("+")

    def select(inputs, label, weight):
        return {n: inputs[n] for n in names}, label, weight

    model = build((options.size, options.size, channels(options.colour)))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate(options, steps_per_epoch)),
        loss="binary_crossentropy",
        weighted_metrics=["accuracy", keras.metrics.AUC(name="auc")],
    )
    print(f"training {arch} ({model.count_params():,} parameters)", flush=True)
    history = model.fit(
        train_ds.map(select),
        validation_data=val_ds.map(select),
        epochs=options.epochs,
        shuffle=False,  # the dataset reshuffles itself each epoch
        verbose=2,
        callbacks=[
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=options.patience,
                                          restore_best_weights=True),
            keras.callbacks.BackupAndRestore(str(out / f"backup_{arch}"), double_checkpoint=True),
        ],
    )
    return model, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def train(data: Path, out: Path, options: TrainOptions = TrainOptions()) -> dict:
    """Trains on ``data`` (real/ and fake/ subfolders) one architecture, or each member of an
    ensemble, then joined; writes the model, its spec, the split and ``report.json`` under ``out``
    (resuming an interrupted run there) and returns the report.

    Raises:
      ValueError: the data cannot be split as asked (a missing or empty class folder, too few images).
    """
    started = time.time()
    data, out = Path(data), Path(out)
    # The data first, before TensorFlow loads and anything is written: a folder without real/ or
    # fake/ is refused at once, and leaves no output folder behind.
    split = make_split(data, options.split, options.seed, options.max_per_class)

    import keras

    from deepfake_dct.training.models import ENSEMBLES, make_average_ensemble
    from deepfake_dct.training.pipeline import SkipLog, make_crop_dataset, make_dataset

    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(options.seed)
    atomic_write_json(out / rundir.SPLIT, split.to_json())
    counts = {s: len(split.files[s]) for s in split.files}
    print(f"split: {counts} (written to {out / rundir.SPLIT})", flush=True)

    representation = representation_of(options.arch)
    policy = options.policy()
    skips = SkipLog()
    normalisation = None
    if "log_dct" in representation:
        normalisation = compute_normalisation(split.paths("train"), options, DEFAULT_LOG_EPS, skips)
    spec = ModelSpec(
        policy=policy,
        normalisation=normalisation,
        representation=representation,
        log_eps=DEFAULT_LOG_EPS,
        colour=options.colour,
        architecture=options.arch,
        provenance=options.provenance or f"trained by deepfake-dct on {data.name}",
    )

    tiles = policy.mode == "tiles"

    def dataset(name: str, shuffle: bool = False):
        if tiles:  # Validation crops are processed too (seeded per file): scored as trained.
            return make_crop_dataset(split.paths(name), split.labels[name], spec, options.batch_size,
                                     options.crops_per_image, options.chain(), shuffle=shuffle,
                                     seed=options.seed, skips=skips)
        return make_dataset(split.paths(name), split.labels[name], spec, options.batch_size,
                            augmentation=options.augmentation() if shuffle else None, shuffle=shuffle,
                            seed=options.seed, skips=skips)

    def scored(model, name: str):
        """(labels, p_fake) of a subset's images, as the runtime would score them."""
        if tiles:
            return predict_images(model, split.paths(name), split.labels[name], spec, skips)
        return predict(model, val_ds if name == "val" else test_ds)

    train_ds = dataset("train", shuffle=True)
    val_ds, test_ds = dataset("val"), dataset("test")

    examples = counts["train"] * (options.crops_per_image if tiles else 1)
    steps_per_epoch = math.ceil(examples / options.batch_size)
    members, member_reports = [], {}
    for arch in ENSEMBLES.get(options.arch, (options.arch,)):
        member, history = fit_one(arch, train_ds, val_ds, options, out, steps_per_epoch)
        members.append(member)
        member_reports[arch] = {"parameters": int(member.count_params()),
                                "epochs_run": len(history["loss"]), "history": history}
    if options.arch in ENSEMBLES:
        model = make_average_ensemble(members, name=options.arch)
        for arch, member in zip(member_reports, members):
            labels, scores = scored(member, "val")
            member_reports[arch]["validation"] = metrics.summary(labels, scores, 0.5)
            labels, scores = scored(member, "test")
            member_reports[arch]["test_at_0.5"] = metrics.summary(labels, scores, 0.5)
    else:
        model = members[0]

    calibration_facts = None
    if tiles:  # temperature, threshold, uncertain band and scope, fitted on validation images
        calibration = calibrate(model, spec, split, skips)
        spec, calibration_facts = calibration.spec, calibration.facts
        val_labels, val_scores = calibration.validation
    else:
        val_labels, val_scores = scored(model, "val")
        spec = dataclasses.replace(spec, threshold=metrics.best_threshold(val_labels, val_scores))
    threshold, temperature = spec.threshold, spec.temperature
    test_labels, test_scores = scored(model, "test")
    spec, test = with_test_summary(spec, test_labels, test_scores)

    tmp = out / ".model.tmp.keras"
    model.save(tmp)
    tmp.replace(out / rundir.MODEL)
    rundir.save_spec(out, spec)
    report = {
        "command": "deepfake-dct train " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["train"] else "",
        "arguments": recorded_arguments(data, out, options),
        "architecture": options.arch,
        "representation": representation,
        "parameters": int(model.count_params()),
        "members": member_reports,
        "split_counts": counts,
        "skipped": {"count": len(skips), "files": skips.reasons},
        "threshold": threshold,
        "temperature": temperature,
        "calibration": calibration_facts,
        "processing_chain": dataclasses.asdict(options.chain()) if options.processing else None,
        "validation": metrics.summary(val_labels, val_scores, threshold),
        "test": test,
        "test_at_0.5": metrics.summary(test_labels, test_scores, 0.5),
        "scored_on": ("held-out test split, each image on its grid of native-resolution crops, as at "
                      "run time" if tiles else
                      f"held-out test split; every image through JPEG q{options.jpeg_quality} "
                      "(both classes, format-matched)" if options.jpeg_quality else "held-out test split"),
        "seconds": round(time.time() - started, 1),
    }
    atomic_write_json(out / rundir.REPORT, report)
    return report


def main(args: argparse.Namespace) -> int:
    """``deepfake-dct train``: 0 when trained, 2 (one "ERROR: ..." line) when an option or the data
    cannot be used."""
    try:
        report = train(Path(args.data), Path(args.out), options_from_args(args))
    except ValueError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    t = report["test"]
    print(
        f"test (held-out, n={t['n']}): accuracy {t['accuracy']:.4f}, ROC AUC {t['roc_auc']:.4f}, "
        f"threshold {t['threshold']:.3f}; skipped {report['skipped']['count']} unreadable file(s); "
        f"wrote {args.out}",
        flush=True,
    )
    return 0

