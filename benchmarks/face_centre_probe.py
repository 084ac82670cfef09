"""Which step of a small greyscale face photo's life (LFW's: downscaled, greyscale, JPEG q75) does
a training run read as fake? Validation reals and fakes of one source each go through each step
alone and together, and through a plain 250x250 crop of the image's centre (one tile: the face,
nothing resized); prints each class's mean p_fake and the share at or above the run's threshold.

    python benchmarks/face_centre_probe.py RUN --real DATA/val/real/ffhq --fake DATA/val/fake/stylegan2

Validation images only: what it finds may shape the next recipe without touching the test split.
Needs TensorFlow (.[train]).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from deepfake_dct.training.perturb import greyscale, jpeg

SIDE = 250  # LFW's size


def _down(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize((SIDE, SIDE), Image.LANCZOS))


def _centre(rgb: np.ndarray) -> np.ndarray:
    top, left = (rgb.shape[0] - SIDE) // 2, (rgb.shape[1] - SIDE) // 2
    return rgb[top:top + SIDE, left:left + SIDE]


def _q75(rgb: np.ndarray) -> np.ndarray:
    return jpeg(rgb, 75)


STEPS = {
    "as stored": lambda im: im,
    "greyscale": greyscale,
    "greyscale, JPEG q75": lambda im: _q75(greyscale(im)),
    f"down to {SIDE}x{SIDE} (Lanczos)": _down,
    f"down to {SIDE}x{SIDE}, JPEG q75": lambda im: _q75(_down(im)),
    f"down to {SIDE}x{SIDE}, greyscale, JPEG q75 (as LFW)": lambda im: _q75(greyscale(_down(im))),
    f"centre {SIDE}x{SIDE} crop (one tile, nothing resized)": _centre,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a training run folder (model.keras, spec.json)")
    parser.add_argument("--real", type=Path, required=True, help="folder of real images (validation)")
    parser.add_argument("--fake", type=Path, required=True, help="folder of fake images (validation)")
    parser.add_argument("--max-images", type=int, default=40, help="per class, in name order")
    args = parser.parse_args()

    from deepfake_dct.detector.files import expand_paths
    from deepfake_dct.detector.images import ImageError
    from deepfake_dct.training import rundir
    from deepfake_dct.training.data import load_rgb

    if not (args.run / rundir.MODEL).is_file():
        parser.error(f"{args.run} holds no {rundir.MODEL}: not a folder written by `deepfake-dct train`")
    images = {}
    for kind, folder in (("real", args.real), ("fake", args.fake)):
        paths = sorted(expand_paths([str(folder)]))[: args.max_images] if folder.is_dir() else []
        if not paths:
            parser.error(f"--{kind} {folder}: not a folder of images")
        try:
            images[kind] = [load_rgb(p) for p in paths]
        except ImageError as e:
            parser.error(str(e))

    import keras

    from deepfake_dct.training.calibrate import score_rgb

    model = keras.models.load_model(args.run / rundir.MODEL, compile=False, safe_mode=True)
    spec = rundir.load_spec(args.run)
    print(f"{args.run} (threshold {spec.threshold:.3f}); {len(images['real'])} reals from {args.real}, "
          f"{len(images['fake'])} fakes from {args.fake}")
    print("| step | reals: mean p_fake | reals flagged | fakes: mean p_fake | fakes caught |")
    print("|---|---|---|---|---|")
    for name, step in STEPS.items():
        cells = []
        for k in ("real", "fake"):
            p = np.array([score_rgb(model, spec, step(im)) for im in images[k]])
            cells += [f"{p.mean():.3f}", f"{np.mean(p >= spec.threshold):.2f}"]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
