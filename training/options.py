"""Command-line options of ``deepfake-dct train`` (argparse only: importing this loads no TensorFlow)."""

from __future__ import annotations

import argparse

from deepfake_dct.training.augment import PERTURBATIONS

#: training.models.ARCHITECTURES and ENSEMBLES (listed here so that --help loads no TensorFlow).
ARCHITECTURE_NAMES = ("dct_cnn", "logistic_dct", "pixel_cnn", "pixel_net", "native_net",
                      "dct_pixel_ensemble")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="folder holding real/ and fake/ subfolders (searched recursively)")
    p.add_argument("--out", required=True, help="output folder for the model, split and report")
    p.add_argument("--arch", choices=ARCHITECTURE_NAMES, default="dct_cnn", help="architecture")
    p.add_argument("--epochs", type=int, default=60, help="maximum epochs (early stopping ends sooner)")
    p.add_argument("--patience", type=int, default=8, help="epochs without val-loss gain before stopping")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0, help="seed of the split, the shuffling and the weights")
    p.add_argument("--split", type=float, nargs=3, default=(0.7, 0.15, 0.15), metavar=("TRAIN", "VAL", "TEST"))
    p.add_argument("--size", type=int, default=128, help="model input height and width")
    p.add_argument("--resample", default="area", choices=("area", "lanczos", "bicubic", "bilinear"),
                   help="filter that downscales larger images to the input size")
    p.add_argument("--jpeg-quality", type=int, default=75,
                   help="re-encode every image (both classes, train and test, and at run time) as JPEG "
                        "at this quality before the DCT, so compression history cannot tell the classes "
                        "apart; 0 turns it off")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=False,
                   help="perturb both classes at random (JPEG, blur, crop, noise, downscale)")
    p.add_argument("--augment-ops", nargs="+", choices=sorted(PERTURBATIONS), default=None,
                   help="which perturbations --augment uses (default: all)")
    p.add_argument("--augment-p", type=float, default=0.5, help="chance each perturbation is applied")
    p.add_argument("--max-per-class", type=int, default=None,
                   help="use at most this many files per class (quick experiments)")
    p.add_argument("--provenance", default="", help="a line recorded in the model about its data")
