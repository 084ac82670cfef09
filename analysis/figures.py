"""The figures of ``deepfake-dct analyze``, drawn with matplotlib's object API (no pyplot, so no
global backend state) and saved as small palette PNGs. Every function takes computed arrays and a
path; nothing here computes a result."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from deepfake_dct.analysis.spectra import ClassSpectra, azimuthal_average

_DPI = 80
_CHANNELS = ("R", "G", "B")


def _figure(rows: int, cols: int, panel: float = 2.6):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(cols * panel + 0.4, rows * panel), layout="constrained")
    return fig, fig.subplots(rows, cols, squeeze=False)


def save_png(fig, path: Path | str) -> Path:
    """Saves a figure as an optimised, dithered 256-colour PNG: heatmaps stay smooth and legible at
    about half the size of a full-colour PNG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    buffer.seek(0)
    with Image.open(buffer) as im:
        im.convert("RGB").quantize(colors=256).save(path, optimize=True)
    return path


def _heatmap(ax, data, title, cmap="viridis", vmin=None, vmax=None, frequency=True, **kw):
    image = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest", **kw)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    if frequency:
        ax.set_xlabel("horizontal frequency kx \u2192", fontsize=7)
        ax.set_ylabel("\u2190 vertical frequency ky", fontsize=7)
    ax.figure.colorbar(image, ax=ax, shrink=0.8).ax.tick_params(labelsize=7)


def _range(*maps) -> tuple[float, float]:
    """One colour range for several spectra: their 0.5th to 99.5th percentile, so that the few
    lowest-frequency coefficients, orders of magnitude above the rest, do not flatten the picture."""
    values = np.concatenate([np.ravel(m) for m in maps])
    return float(np.percentile(values, 0.5)), float(np.percentile(values, 99.5))


def _symmetric_limit(data) -> float:
    """A colour limit for signed maps: the 99.5th percentile of |data|, so one extreme coefficient
    (often the mean brightness at (0, 0)) does not wash out the rest."""
    return float(np.percentile(np.abs(data), 99.5)) or 1.0


def spectra_figure(rows: dict[str, tuple[np.ndarray, np.ndarray]], path):
    """One row per label: the real and the fake mean spectrum on one colour scale, and fake - real."""
    fig, axes = _figure(len(rows), 3, panel=2.3)
    for (label, (real, fake)), ax in zip(rows.items(), axes):
        low, high = _range(real, fake)
        _heatmap(ax[0], real, f"real: {label}", vmin=low, vmax=high)
        _heatmap(ax[1], fake, f"fake: {label}", vmin=low, vmax=high)
        limit = _symmetric_limit(fake - real)
        _heatmap(ax[2], fake - real, f"fake \u2212 real: {label}", cmap="RdBu_r", vmin=-limit, vmax=limit)
    return save_png(fig, path)


def radial_figure(rows: dict[str, tuple[ClassSpectra, ClassSpectra]], path):
    """Azimuthally averaged DCT power of each class (log-log, with a 1/f^2 guide) and fake / real."""
    fig, axes = _figure(1, 2, panel=3.6)
    ax_power, ax_ratio = axes[0]
    styles = ("--", "-")
    for (label, (real, fake)), style in zip(rows.items(), styles):
        f = real.radius[1:] / (2.0 * len(real.radius))  # DCT index k of N -> k / 2N cycles per pixel
        ax_power.loglog(f, real.radial_power[1:], style, color="tab:blue", label=f"real, {label}")
        ax_power.loglog(f, fake.radial_power[1:], style, color="tab:red", label=f"fake, {label}")
        ax_ratio.semilogx(f, fake.radial_power[1:] / real.radial_power[1:], style, color="k", label=label)
    # A 1/f^2 line through the last row's real spectrum at the lowest non-zero frequency.
    guide = real.radial_power[1] * (f / f[0]) ** -2.0
    ax_power.loglog(f, guide, ":", color="grey", label="1/f\u00b2 guide")
    ax_power.set(xlabel="radial frequency (cycles / pixel)", ylabel="mean DCT power",
                 title="azimuthal average of the greyscale DCT power")
    ax_ratio.axhline(1.0, color="grey", lw=0.8)
    ax_ratio.set(xlabel="radial frequency (cycles / pixel)", ylabel="fake power / real power",
                 title="fake / real power by frequency")
    for ax in (ax_power, ax_ratio):
        ax.legend(fontsize=7)
        ax.title.set_fontsize(9)
    return save_png(fig, path)


def upsampling_figure(crops: dict[str, np.ndarray], spectra: dict[str, np.ndarray], path):
    """One column per method: a magnified crop of one image, its mean log-DCT spectrum, and that
    spectrum minus the original's. The first entry of each dict is the original."""
    names = list(spectra)
    fig, axes = _figure(3, len(names), panel=2.3)
    reference = spectra[names[0]]
    diffs = {name: spectra[name] - reference for name in names}
    limit = max(_symmetric_limit(d) for d in diffs.values())
    low, high = _range(*spectra.values())
    for column, name in enumerate(names):
        _heatmap(axes[0, column], crops[name], f"{name}\n(crop, pixels)", cmap="gray", frequency=False)
        _heatmap(axes[1, column], spectra[name], "mean log(|DCT|+1)", vmin=low, vmax=high)
        _heatmap(axes[2, column], diffs[name], f"minus {names[0]}", cmap="RdBu_r", vmin=-limit, vmax=limit)
    return save_png(fig, path)


def input_maps_figure(maps: dict[str, np.ndarray], path, title: str, signed: bool):
    """A 2 x 2 block per network input: a heatmap of each channel of an (H, W, 3) map over the input, and
    for a log-DCT input the azimuthal average of its mean over the channels. ``signed``
    maps (weights) use a diverging colour scale; unsigned ones (|gradients|) a log scale."""
    from matplotlib.colors import LogNorm

    fig, axes = _figure(2 * len(maps), 2, panel=3.0)
    for (name, values), block in zip(maps.items(), axes.reshape(len(maps), 4)):
        ax = list(block)  # R, G, B, then the summary panel: a 2 x 2 block per input
        frequency = name == "log_dct"
        if signed:
            limit = _symmetric_limit(values)
            scale = {"cmap": "RdBu_r", "vmin": -limit, "vmax": limit}
        else:
            positive = values[values > 0]
            scale = {"norm": LogNorm(vmin=np.percentile(positive, 1), vmax=positive.max())}
        for c in range(3):
            _heatmap(ax[c], values[..., c], f"{title}\n{name}, channel {_CHANNELS[c]}",
                     frequency=frequency, **scale)
        if frequency:
            # Signed maps average to where they push up or down; unsigned ones to how much.
            radius, profile = azimuthal_average(values.mean(axis=-1))
            f = radius / (2.0 * len(radius))
            if signed:
                ax[3].plot(f, profile, color="k")
                ax[3].axhline(0.0, color="grey", lw=0.8)
            else:
                ax[3].semilogy(f, profile, color="k")
            ax[3].set(xlabel="radial frequency (cycles / pixel)", ylabel=f"mean {title}",
                      title="azimuthal average of the channel mean")
            ax[3].title.set_fontsize(9)
        else:
            _heatmap(ax[3], np.abs(values).mean(axis=-1), f"{name}, mean |value| of R, G, B",
                     frequency=False, **({} if signed else scale))
    return save_png(fig, path)
