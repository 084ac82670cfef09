"""Options of ``deepfake-dct train``: :class:`TrainOptions`, and the command line that only parses
arguments into them. Importing this loads no TensorFlow (``--help`` stays quick)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Mapping

from deepfake_dct.detector.features import COLOURS, channels
from deepfake_dct.detector.images import POLICY_MODES, InputPolicy
from deepfake_dct.training.augment import PERTURBATIONS, Augmentation
from deepfake_dct.training.data import check_fractions
from deepfake_dct.training.perturb import NO_PROCESSING, ProcessingChain

#: training.models.ARCHITECTURES and ENSEMBLES (listed here so that --help loads no TensorFlow).
ARCHITECTURE_NAMES = ("dct_cnn", "logistic_dct", "pixel_cnn", "pixel_net", "native_net",
                      "dct_pixel_ensemble")
#: Learning-rate schedules ``--lr-schedule`` offers.
LR_SCHEDULES = ("constant", "cosine")
#: Filters ``--resample`` offers for downscaling larger images.
RESAMPLE_NAMES = ("area", "lanczos", "bicubic", "bilinear")


@dataclass(frozen=True)
class TrainOptions:
    """How :func:`deepfake_dct.training.train.train` trains. Every field has a default; pass only what
    you change. Raises ValueError, saying which field and why, when a value cannot be used."""

    arch: str = "dct_cnn"
    """Architecture, one of ``ARCHITECTURE_NAMES`` (an ensemble trains each member, then averages)."""
    epochs: int = 60
    """Maximum epochs per model (early stopping ends sooner)."""
    patience: int = 8
    """Epochs without validation-loss gain before stopping (the best weights are kept)."""
    batch_size: int = 32
    """Examples per training step."""
    lr: float = 1e-3
    """Adam learning rate (the starting rate, with ``lr_schedule`` "cosine")."""
    lr_schedule: str = "constant"
    """"constant", or "cosine": the rate decays to zero along a cosine over ``epochs`` (late epochs
    take small steps, so validation loss stops swinging from one epoch to the next)."""
    seed: int = 0
    """Seed of the split, the shuffling, the augmentation and the initial weights."""
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)
    """Train, validation and test fractions of each class's files (positive, summing to 1)."""
    size: int = 128
    """Model input height and width, in pixels."""
    input_mode: str = "resize"
    """How an image becomes model inputs: "tiles" (native-resolution crops on a fixed grid, never
    resampled; the verdict aggregates them) or "resize" (centre crop, downscale to ``size``)."""
    grid: int = 3
    """"tiles": at most grid x grid crops per image at run time (and in validation and test)."""
    crops_per_image: int = 4
    """"tiles": random crops each training image yields per epoch (each its own processing draw)."""
    processing: bool = False
    """"tiles": pass every training crop, real or fake alike, through the label-blind random
    processing chain (resize with a random filter, blur, noise, JPEG; ``training.perturb``)."""
    processing_history: float = 0.0
    """With ``processing``: the chance that a crop first gets a JPEG q70-80 history, either class
    alike (``ProcessingChain.history_p``)."""
    processing_grey: float = 0.0
    """With ``processing``: the chance that a crop is first turned greyscale, either class alike
    (``ProcessingChain.grey_p``)."""
    processing_centre: float = 0.0
    """With ``processing``: the chance that a crop is cut from the middle half of the image, either
    class alike (``ProcessingChain.centre_p``)."""
    processing_min_scale: float = 0.5
    """With ``processing``: the smallest resize factor the chain draws (``ProcessingChain.scale_range``
    is this to 1). Lower lets either class look like a photo downscaled a lot (LFW's faces are 1/4
    of a portrait's size), so that look cannot mark one class."""
    processing_thumbnail: float = 0.0
    """With ``processing``: the chance that a crop gets a thumbnail's whole look (about 1/4 size,
    greyscale, JPEG q70-80, together), either class alike (``ProcessingChain.thumbnail_p``)."""
    colour: str = "rgb"
    """What the network reads of each crop, one of ``COLOURS``: its RGB, or its luma alone (blind to
    greyscale and chroma subsampling by construction)."""
    resample: str = "area"
    """Filter that downscales larger images to the input size, one of ``RESAMPLE_NAMES``."""
    jpeg_quality: int = 75
    """Every image (both classes, train and test, and at run time) is re-encoded as JPEG at this
    quality before the DCT, so compression history cannot tell the classes apart; 0 turns it off."""
    augment: bool = False
    """Perturb both classes at random during training."""
    augment_ops: tuple[str, ...] | None = None
    """Which perturbations ``augment`` uses, from ``training.augment.PERTURBATIONS``; None: all."""
    augment_p: float = 0.5
    """Chance that each perturbation is applied to a training image."""
    max_per_class: int | None = None
    """Use at most this many files per class (a seeded sample, for quick experiments); None: all."""
    provenance: str = ""
    """A line recorded in the model about its data; empty: "trained by deepfake-dct on DATA_NAME"."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "split", tuple(self.split))
        if self.augment_ops is not None:
            object.__setattr__(self, "augment_ops", tuple(self.augment_ops))
        if self.arch not in ARCHITECTURE_NAMES:
            raise ValueError(f"Expected arch in {ARCHITECTURE_NAMES}, got {self.arch!r}.")
        for name, least in (("epochs", 1), ("patience", 0), ("batch_size", 1)):
            if getattr(self, name) < least:
                raise ValueError(f"Expected {name} of at least {least}, got {getattr(self, name)}.")
        if not self.lr > 0:
            raise ValueError(f"Expected a positive learning rate lr, got {self.lr}.")
        channels(self.colour)  # raises for an unknown colour
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"Expected lr_schedule in {LR_SCHEDULES}, got {self.lr_schedule!r}.")
        if not 0.0 <= self.augment_p <= 1.0:
            raise ValueError(f"Expected augment_p (a probability) in 0..1, got {self.augment_p}.")
        if self.crops_per_image < 1:
            raise ValueError(f"Expected crops_per_image of at least 1, got {self.crops_per_image}.")
        if not 0.0 <= self.processing_history <= 1.0:
            raise ValueError(f"Expected processing_history (a probability) in 0..1, got {self.processing_history}.")
        if not 0.0 <= self.processing_grey <= 1.0:
            raise ValueError(f"Expected processing_grey (a probability) in 0..1, got {self.processing_grey}.")
        if not 0.0 <= self.processing_centre <= 1.0:
            raise ValueError(f"Expected processing_centre (a probability) in 0..1, got {self.processing_centre}.")
        if not 0.0 < self.processing_min_scale <= 1.0:
            raise ValueError(f"Expected processing_min_scale (a resize factor) in (0, 1], got {self.processing_min_scale}.")
        if not 0.0 <= self.processing_thumbnail <= 1.0:
            raise ValueError(f"Expected processing_thumbnail (a probability) in 0..1, got {self.processing_thumbnail}.")
        if self.processing and self.input_mode != "tiles":
            raise ValueError("Expected processing with input_mode \"tiles\" (resize models use augment).")
        if self.max_per_class is not None and self.max_per_class < 1:
            raise ValueError(f"Expected max_per_class of at least 1 (or None: all), "
                             f"got {self.max_per_class}.")
        check_fractions(self.split)
        self.policy()
        self.augmentation()

    def policy(self) -> InputPolicy:
        """How each image becomes the model's input, in training and at run time."""
        return InputPolicy(self.size, self.size, self.resample, self.jpeg_quality, self.input_mode,
                           self.grid)

    def chain(self) -> ProcessingChain:
        """The training crops' processing: the label-blind chain, or none."""
        if not self.processing:
            return NO_PROCESSING
        return ProcessingChain(history_p=self.processing_history, grey_p=self.processing_grey,
                               centre_p=self.processing_centre, scale_range=(self.processing_min_scale, 1.0),
                               thumbnail_p=self.processing_thumbnail)

    def augmentation(self) -> Augmentation | None:
        """The training images' perturbations, or None without ``augment`` (checked either way)."""
        augmentation = Augmentation(self.augment_ops or PERTURBATIONS, self.augment_p)
        return augmentation if self.augment else None


def recorded_arguments(data: Path, out: Path, options: TrainOptions) -> dict:
    """What ``report.json`` records under "arguments" (as JSON reads it back): a run whose record
    equals this one was trained on the same data with the same options."""
    return json.loads(json.dumps({"data": str(data), "out": str(out), **asdict(options)}))


def command_line(overrides: Mapping[str, object]) -> list[str]:
    """The ``deepfake-dct train`` flags that set these TrainOptions fields (None values: left out)."""
    argv = []
    for name, value in overrides.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, (tuple, list)):
            argv += [flag, *map(str, value)]
        elif value is not None:
            argv += [flag, str(value)]
    return argv


def options_from_args(args: argparse.Namespace) -> TrainOptions:
    """The TrainOptions that ``add_arguments``'s flags parsed into (ValueError if they cannot be used)."""
    return TrainOptions(**{f.name: getattr(args, f.name) for f in fields(TrainOptions)})


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``DATA --out RUN`` and one flag per TrainOptions field, defaulting to the field's default."""
    d = TrainOptions()
    p.add_argument("data", help="folder holding real/ and fake/ subfolders (searched recursively)")
    p.add_argument("--out", required=True, help="output folder for the model, split and report")
    p.add_argument("--arch", choices=ARCHITECTURE_NAMES, default=d.arch,
                   help="architecture (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=d.epochs,
                   help="maximum epochs (early stopping ends sooner) (default: %(default)s)")
    p.add_argument("--patience", type=int, default=d.patience,
                   help="epochs without val-loss gain before stopping (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=d.batch_size,
                   help="examples per training step (default: %(default)s)")
    p.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate (default: %(default)s)")
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=d.lr_schedule,
                   help="constant, or cosine: decay to zero over --epochs (default: %(default)s)")
    p.add_argument("--seed", type=int, default=d.seed,
                   help="seed of the split, the shuffling and the weights (default: %(default)s)")
    p.add_argument("--split", type=float, nargs=3, default=d.split, metavar=("TRAIN", "VAL", "TEST"),
                   help=f"fractions of each class's files (default: {' '.join(map(str, d.split))})")
    p.add_argument("--size", type=int, default=d.size,
                   help="model input height and width (default: %(default)s)")
    p.add_argument("--input-mode", default=d.input_mode, choices=POLICY_MODES,
                   help="tiles: native-resolution crops on a grid, never resampled; resize: centre crop "
                        "and downscale to --size (default: %(default)s)")
    p.add_argument("--grid", type=int, default=d.grid,
                   help="tiles: at most GRID x GRID crops per image at run time (default: %(default)s)")
    p.add_argument("--crops-per-image", type=int, default=d.crops_per_image,
                   help="tiles: random crops per training image per epoch (default: %(default)s)")
    processing = p.add_argument("--processing", action=argparse.BooleanOptionalAction, default=d.processing)
    processing.help = ("tiles: random resize (5 filters), blur, noise and JPEG on every training crop, "
                       "both classes alike (default: %(default)s)")
    p.add_argument("--processing-history", type=float, default=d.processing_history,
                   help="with --processing: chance a crop first gets a JPEG q70-80 history, either class "
                        "alike (default: %(default)s)")
    p.add_argument("--processing-grey", type=float, default=d.processing_grey,
                   help="with --processing: chance a crop is first turned greyscale, either class alike "
                        "(default: %(default)s)")
    p.add_argument("--processing-centre", type=float, default=d.processing_centre,
                   help="with --processing: chance a crop is cut from the middle half of the image, either "
                        "class alike (default: %(default)s)")
    p.add_argument("--processing-min-scale", type=float, default=d.processing_min_scale,
                   help="with --processing: the smallest resize factor drawn, either class alike "
                        "(default: %(default)s)")
    p.add_argument("--processing-thumbnail", type=float, default=d.processing_thumbnail,
                   help="with --processing: chance a crop instead gets a thumbnail's whole look (1/4 size, "
                        "greyscale, JPEG q70-80), either class alike (default: %(default)s)")
    p.add_argument("--colour", default=d.colour, choices=COLOURS,
                   help="what the network reads of each crop: its RGB, or its luma alone, blind to "
                        "greyscale and chroma subsampling (default: %(default)s)")
    p.add_argument("--resample", default=d.resample, choices=RESAMPLE_NAMES,
                   help="filter that downscales larger images to the input size (default: %(default)s)")
    p.add_argument("--jpeg-quality", type=int, default=d.jpeg_quality,
                   help="re-encode every image (both classes, train and test, and at run time) as JPEG "
                        "at this quality before the DCT, so compression history cannot tell the classes "
                        "apart; 0 turns it off (default: %(default)s)")
    augment = p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=d.augment)
    # Set after construction: Python 3.10's BooleanOptionalAction appends its own "(default: ...)".
    augment.help = ("perturb both classes at random (JPEG, blur, crop, noise, downscale) "
                    "(default: %(default)s)")
    p.add_argument("--augment-ops", nargs="+", choices=sorted(PERTURBATIONS), default=d.augment_ops,
                   help="which perturbations --augment uses (default: all)")
    p.add_argument("--augment-p", type=float, default=d.augment_p,
                   help="chance each perturbation is applied (default: %(default)s)")
    p.add_argument("--max-per-class", type=int, default=d.max_per_class,
                   help="use at most this many files per class (quick experiments) (default: all)")
    p.add_argument("--provenance", default=d.provenance,
                   help='a line recorded in the model about its data (default: "trained by deepfake-dct '
                        'on DATA_NAME")')
