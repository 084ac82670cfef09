"""``deepfake-dct analyze``: the figures and tables that show why frequency analysis exposes GAN images.

Each subcommand writes its figures to --out, prints a markdown section (figure links and the values it
measured), and with --doc rewrites that section of a page such as docs/ARCHITECTURE.md. Each one's
function returns that section and how many image files it had to skip as unreadable or too small.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

DEFAULT_OUT = Path("docs") / "figures"


def _link(figure: Path, args: argparse.Namespace) -> str:
    """A markdown image, its path relative to the page it goes into (or to the working folder)."""
    base = Path(args.doc).parent if args.doc else Path.cwd()
    return f"![{figure.stem}]({Path(os.path.relpath(figure, base)).as_posix()})"


def _bands(values: dict[str, float], fmt: str = "{:+.3f}") -> str:
    return " / ".join(fmt.format(v) for v in values.values())


def _band_label(name: str, limits: tuple[float, float]) -> str:
    lo, hi = limits
    return f"{name} \u2265{lo:g}" if np.isinf(hi) else f"{name} {lo:g}-{hi:g}"


def _spectra(args: argparse.Namespace) -> tuple[str, int]:
    from deepfake_dct.analysis import figures
    from deepfake_dct.analysis.spectra import BANDS, band_means, class_spectra, load_folder, power_law_slope
    from deepfake_dct.detector.images import InputPolicy, jpeg_roundtrip

    policy = InputPolicy(args.size, args.size)
    sets = {name: load_folder(folder, policy, args.max_images, args.seed)
            for name, folder in (("real", args.real), ("fake", args.fake))}
    variants = {"as stored": {name: s.images for name, s in sets.items()}}
    if args.jpeg_quality:
        variants[f"both JPEG q{args.jpeg_quality}"] = {
            name: np.stack([jpeg_roundtrip(im, args.jpeg_quality) for im in s.images])
            for name, s in sets.items()
        }
    spectra = {label: tuple(class_spectra(images[name]) for name in ("real", "fake"))
               for label, images in variants.items()}
    last = list(spectra)[-1]
    out = Path(args.out)
    grey = figures.spectra_figure(
        {label: (real.log_dct_grey, fake.log_dct_grey) for label, (real, fake) in spectra.items()},
        out / "spectra_grey.png",
    )
    real, fake = spectra[last]
    channels = figures.spectra_figure(
        {f"{last}, channel {c}": (real.log_dct_rgb[..., i], fake.log_dct_rgb[..., i])
         for i, c in enumerate("RGB")},
        out / "spectra_channels.png",
    )
    radial = figures.radial_figure(spectra, out / "spectra_radial.png")

    n = len(real.radius)
    lo = 8  # below ~8 rings the average holds too few coefficients to fit a slope through
    top = real.radius >= n // 2
    lines = [
        f"Measured by `deepfake-dct analyze spectra` on {real.count} real images from `{args.real}` "
        f"and {fake.count} fake images from `{args.fake}` "
        f"(files skipped as unreadable or too small: {sets['real'].skipped} real, "
        f"{sets['fake'].skipped} fake), "
        f"{args.size}x{args.size}.",
        "",
        f"- Mean fake \u2212 real difference of the greyscale log(|DCT|+1) by band "
        f"({' / '.join(_band_label(*item) for item in BANDS.items())} of the radius, as a fraction "
        f"of {args.size}):",
    ]
    lines += [f"  - {label}: {_bands(band_means(f.log_dct_grey - r.log_dct_grey))}"
              for label, (r, f) in spectra.items()]
    lines += [
        f"- Power-law exponent of the azimuthal power over radii {lo}-{n - 1} ({last}): "
        f"real {power_law_slope(real.radius, real.radial_power, lo, n):.2f}, "
        f"fake {power_law_slope(fake.radius, fake.radial_power, lo, n):.2f} (1/f\u00b2 is \u22122).",
        f"- Share of the greyscale AC power that is left-right antisymmetric (odd kx), {last}: "
        f"real {real.odd_kx_share:.3f}, fake {fake.odd_kx_share:.3f}; top-bottom (odd ky): "
        f"real {real.odd_ky_share:.3f}, fake {fake.odd_ky_share:.3f}.",
        f"- Fake / real power, mean over radii {n // 2}-{n - 1}: "
        + "; ".join(f"{label} {np.mean(f.radial_power[top] / r.radial_power[top]):.2f}"
                    for label, (r, f) in spectra.items()) + ".",
        "",
        _link(grey, args), _link(channels, args), _link(radial, args),
    ]
    return "\n".join(lines), sets["real"].skipped + sets["fake"].skipped


def _upsampling(args: argparse.Namespace) -> tuple[str, int]:
    from deepfake_dct.analysis import figures
    from deepfake_dct.analysis.spectra import greyscale, load_folder, mean_log_dct
    from deepfake_dct.analysis.upsampling import resample, upsampling_kernels
    from deepfake_dct.detector.images import InputPolicy

    images = load_folder(args.real, InputPolicy(args.size, args.size), args.max_images, args.seed)
    grey = greyscale(images.images)
    kernels = upsampling_kernels(np.random.default_rng(args.seed))
    spectra = {"original": mean_log_dct(grey)}
    spectra.update({name: mean_log_dct(resample(image, kernel) for image in grey)
                    for name, kernel in kernels.items()})
    # A crop of the first image around its centre, large enough to see a 2-pixel period.
    c, half = args.size // 2, 8
    first = {"original": grey[0], **{name: resample(grey[0], kernel) for name, kernel in kernels.items()}}
    crops = {name: image[c - half : c + half, c - half : c + half] for name, image in first.items()}
    figure = figures.upsampling_figure(crops, spectra, Path(args.out) / "upsampling.png")

    n = args.size
    upper = np.zeros((n, n), dtype=bool)
    upper[n // 2 :, :] = upper[:, n // 2 :] = True  # where zero insertion puts the mirrored copy
    line = np.zeros((n, n), dtype=bool)
    line[n // 2, :] = line[:, n // 2] = True  # the frequency that nearest neighbour removes exactly
    lines = [
        f"Measured by `deepfake-dct analyze upsampling` on {len(grey)} real images from "
        f"`{args.real}` (greyscale, as stored, no JPEG step; downsampled 2x by 2x2 averaging, "
        f"upsampled back to {n}x{n}; one random transposed-convolution kernel, seed {args.seed}).",
        "",
        f"| method | mean log(\\|DCT\\|+1) minus original where ky or kx \u2265 {n // 2} (the mirrored half) "
        f"| mean log(\\|DCT\\|+1) on row/column {n // 2} |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {name} | {np.mean((spectra[name] - spectra['original'])[upper]):+.3f} "
        f"| {np.mean(spectra[name][line]):.3f} |"
        for name in spectra
    ]
    lines += ["", _link(figure, args)]
    return "\n".join(lines), images.skipped


def _run_facts(run) -> str:
    test = run.spec.extra.get("test", {})
    accuracy = f", held-out accuracy {test['accuracy']:.3f}" if "accuracy" in test else ""
    return f"architecture `{run.spec.architecture}`{accuracy}"


#: Width, in coefficients, of the strips along the top and left edges of a spectrum that
#: :func:`_map_facts` reports apart: the coarsest vertical and the coarsest horizontal detail.
EDGE_STRIP = 8


def _map_facts(name: str, values: np.ndarray, what: str) -> list[str]:
    """Where an (H, W, 3) map over a network input is large: by channel and, for a log-DCT input,
    by band and on the strips of coarsest horizontal / vertical frequency."""
    from deepfake_dct.analysis.spectra import band_means

    magnitude = np.abs(values)
    lines = [f"- `{name}`: mean {what} by channel (R / G / B): "
             + " / ".join(f"{v:.3g}" for v in magnitude.mean(axis=(0, 1))) + "."]
    if name == "log_dct":
        k = EDGE_STRIP
        lines += [
            f"- `{name}`: mean {what} by band (low / middle / high): {_bands(band_means(magnitude), '{:.3g}')}.",
            f"- `{name}`: mean {what} on the first {k} columns (kx < {k}: coarse horizontal detail, any "
            f"vertical) {magnitude[:, :k].mean():.3g}; on the first {k} rows (ky < {k}) "
            f"{magnitude[:k, :].mean():.3g}; elsewhere {magnitude[k:, k:].mean():.3g}.",
        ]
    return lines


def _weights(args: argparse.Namespace) -> tuple[str, int]:
    from deepfake_dct.analysis import figures
    from deepfake_dct.analysis.saliency import linear_weight_map, load_run
    from deepfake_dct.analysis.spectra import band_means

    run = load_run(args.run)
    name = run.spec.input_names[0]
    weights = linear_weight_map(run.model)
    figure = figures.input_maps_figure({name: weights}, Path(args.out) / "logistic_weights.png",
                                       title="weight", signed=True)
    return "\n".join([
        f"Measured by `deepfake-dct analyze weights` on the run `{args.run}` ({_run_facts(run)}).",
        "",
        *_map_facts(name, weights, "|weight|"),
        f"- `{name}`: mean signed weight by band (low / middle / high; > 0 pushes towards fake): "
        f"{_bands(band_means(weights), '{:+.3g}')}.",
        "",
        _link(figure, args),
    ]), 0


def _saliency(args: argparse.Namespace) -> tuple[str, int]:
    from deepfake_dct.analysis import figures
    from deepfake_dct.analysis.saliency import held_out_paths, load_run, saliency_maps

    run = load_run(args.run, args.data_root)
    paths = held_out_paths(run.split, "fake")[: args.max_images]
    result = saliency_maps(run, paths)
    figure = figures.input_maps_figure(result.maps, Path(args.out) / "saliency.png",
                                       title="mean |\u2202p_fake/\u2202input|", signed=False)
    lines = [
        f"Measured by `deepfake-dct analyze saliency` on the run `{args.run}` ({_run_facts(run)}), "
        f"over {result.count} fake images of its held-out test split ({result.skipped} unreadable); "
        f"their mean p_fake is {result.mean_p_fake:.3f}.",
        "",
    ]
    for name, values in result.maps.items():
        lines += _map_facts(name, values, "|gradient|")
    lines += ["", _link(figure, args)]
    return "\n".join(lines), result.skipped


def _architecture(args: argparse.Namespace) -> tuple[str, int]:
    from deepfake_dct.analysis.architecture import architectures_markdown
    from deepfake_dct.training.models import ARCHITECTURES

    return architectures_markdown(ARCHITECTURES, (args.size, args.size, 3)), 0


def _history(args: argparse.Namespace) -> tuple[str, int]:
    from deepfake_dct.analysis.history import history_check

    rows, skipped = history_check(Path(args.a), Path(args.b), args.max_images, args.seed)
    lines = [
        f"Measured by `deepfake-dct analyze history --a {args.a} --b {args.b}"
        + (f" --max-images {args.max_images}" if args.max_images else "") + "`: "
        f"{rows[0]['files'][0]} vs {rows[0]['files'][1]} files, 2 crops each, a logistic probe on "
        "the crops' log-DCT (8x8 block means) trained on half the files and scored on the other "
        f"half ({skipped} files skipped). ROC AUC 0.5: the two histories look alike to it.",
        "",
        "| processing (both folders alike) | held-out probe ROC AUC |",
        "|---|---|",
    ]
    lines += [f"| {r['setting']} | {r['roc_auc']:.3f} |" for r in rows]
    return "\n".join(lines), skipped


def _calibrate(args: argparse.Namespace) -> tuple[str, int]:
    from deepfake_dct.training.calibrate import describe_calibration, recalibrate_run

    facts = recalibrate_run(Path(args.run), Path(args.data_root) if args.data_root else None, args.grid,
                            args.max_reals_flagged)
    return (f"{args.run} {describe_calibration(facts)}. Recorded in {Path(args.run) / 'spec.json'}; "
            f"`deepfake-dct export {args.run}` embeds it."), 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepfake-dct analyze",
        description="Figures and tables that show what the detector reads and why.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        p.add_argument("--doc", default=None,
                       help=f"markdown page whose `{name}` section to rewrite (e.g. docs/ARCHITECTURE.md)")
        return p

    def size(p: argparse.ArgumentParser) -> None:
        p.add_argument("--size", type=int, default=128, help="input height and width (default 128)")

    def out(p: argparse.ArgumentParser) -> None:
        p.add_argument("--out", default=str(DEFAULT_OUT), help=f"folder for the figures (default {DEFAULT_OUT})")

    def folders(p: argparse.ArgumentParser, *classes: str) -> None:
        out(p)
        size(p)
        for name in classes:
            p.add_argument(f"--{name}", required=True, help=f"folder of {name} images (searched recursively)")
        p.add_argument("--max-images", type=int, default=None,
                       help="a seeded random sample of at most N images per folder")
        p.add_argument("--seed", type=int, default=0, help="seed of the sample (and of the random kernel)")

    def run(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        out(p)
        p.add_argument("--run", required=True, help="a folder written by `deepfake-dct train`")
        return p

    p = add("spectra", _spectra, "mean log-DCT spectra of real and fake images, their difference, "
            "and the azimuthally averaged power")
    folders(p, "real", "fake")
    p.add_argument("--jpeg-quality", type=int, default=75,
                   help="also show both classes re-encoded as JPEG at this quality, so that the "
                        "container does not tell them apart (0: as stored only; default 75)")
    folders(add("upsampling", _upsampling, "downsample real images 2x, upsample them back four ways, "
                "and show the spectrum each way leaves"), "real")
    run(add("weights", _weights, "the weights of a logistic regression on the log-DCT "
            "(a run trained with --arch logistic_dct)"))
    p = run(add("saliency", _saliency, "mean |gradient of p_fake| over the fake images of a run's "
                "held-out test split"))
    p.add_argument("--max-images", type=int, default=None, help="use the first N of those images")
    p.add_argument("--data-root", default=None,
                   help="where the run's images are now, if they moved since training "
                        "(default: the root recorded in its split.json)")
    p = add("history", _history, "can compression history be read? a linear probe telling two folders "
            "of the same kind of image apart (e.g. PNG vs re-saved JPEG), under each processing")
    p.add_argument("--a", required=True, help="first folder (e.g. FFHQ as shipped, PNG)")
    p.add_argument("--b", required=True, help="second folder (e.g. FFHQ re-saved as JPEG q75)")
    p.add_argument("--max-images", type=int, default=None, help="a seeded sample of at most N per folder")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample and the crops (default 0)")
    p = add("calibrate", _calibrate, "refit a tiles run's temperature, threshold, uncertain band and "
            "out-of-scope check on its validation images, written to the run's spec.json")
    p.add_argument("--run", required=True, help="a folder written by `deepfake-dct train`")
    p.add_argument("--data-root", default=None,
                   help="where the run's images are now, if they moved since training")
    p.add_argument("--grid", type=int, default=None,
                   help="score at most GRID x GRID crops per image from now on (default: the run's)")
    p.add_argument("--max-reals-flagged", type=float, default=None, metavar="SHARE",
                   help="put the threshold where at most SHARE of the validation reals (as stored and "
                        "re-saved at q75) are flagged (default: the best balanced accuracy on validation)")
    size(add("architecture", _architecture,
             "each architecture in training.models.ARCHITECTURES, layer by layer"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``deepfake-dct analyze``; returns the exit status: 0, or 1 when some image files were skipped
    (unreadable or too small), or 2 when the inputs, a module it needs or the arguments cannot be used."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        body, skipped = args.func(args)
        if args.doc:
            from deepfake_dct.analysis.document import update_page

            update_page(args.doc, args.command, body)
    except (ValueError, OSError, ImportError) as e:  # ImportError: matplotlib or TensorFlow missing.
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    print(body)
    return 1 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
