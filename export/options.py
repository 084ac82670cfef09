"""Command-line options of ``deepfake-dct export`` (argparse only: importing this loads no TensorFlow)."""

from __future__ import annotations

import argparse

VARIANTS = ("float32", "float16", "dynamic", "int8")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="a folder written by `deepfake-dct train`")
    p.add_argument("--out", default=None, help="output folder (default: RUN/export)")
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS),
                   help="float32; float16 weights; dynamic-range int8 weights; full-integer int8")
    p.add_argument("--data-root", default=None,
                   help="where the run's images are now, if they moved since training")
    p.add_argument("--representative", type=int, default=200,
                   help="training images used to calibrate full-integer int8")
    p.add_argument("--training-data", default="", help="model card: what it was trained on")
    p.add_argument("--licence", default="", help="model card: the model's licence (e.g. the data's terms)")
    p.add_argument("--limits", default="", help="model card: what the model is not for")
    p.add_argument("--max-accuracy-drop", type=float, default=0.5,
                   help="largest allowed accuracy difference from Keras, in percentage points")
