"""The evaluation's figures, written as PNG with matplotlib (headless): ROC curve, p_fake histograms per
class, reliability diagram, and accuracy / ROC AUC against perturbation strength."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepfake_dct.evaluation import metrics  # noqa: E402
from deepfake_dct.training.metrics import roc_auc  # noqa: E402

DPI = 80
CLASS_COLOURS = {"real": "tab:blue", "fake": "tab:red"}


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, pil_kwargs={"optimize": True})
    plt.close(fig)
    return path


def roc_plot(path: Path, labels, scores, threshold: float) -> Path:
    """The ROC curve, its area, and the operating point at the model's threshold."""
    fpr, tpr, _ = metrics.roc_points(labels, scores)
    (tn, fp), (fn, tp) = metrics.confusion_matrix(labels, scores, threshold)
    fig, ax = plt.subplots(figsize=(4.5, 4.5), layout="constrained")
    ax.plot(fpr, tpr, color="tab:purple", label=f"ROC (AUC {roc_auc(labels, scores):.4f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    ax.plot(fp / (fp + tn), tp / (tp + fn), "o", color="black", label=f"threshold {threshold:.3f}")
    ax.set(xlabel="false positive rate (reals called fake)", ylabel="true positive rate (fakes caught)",
           xlim=(0, 1), ylim=(0, 1.01), title="ROC curve")
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def histogram_plot(path: Path, labels, scores, threshold: float) -> Path:
    """p_fake of the reals and of the fakes, and the threshold between them."""
    labels, scores = np.asarray(labels), np.asarray(scores)
    fig, ax = plt.subplots(figsize=(5.5, 3.5), layout="constrained")
    edges = np.linspace(0, 1, 26)
    for label, name in ((0, "real"), (1, "fake")):
        ax.hist(scores[labels == label], bins=edges, alpha=0.55, color=CLASS_COLOURS[name],
                label=f"{name} (n={int((labels == label).sum())})")
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3f}")
    ax.set(xlabel="p_fake", ylabel="images", title="Scores per class")
    ax.legend(fontsize=8)
    return _save(fig, path)


def reliability_plot(path: Path, bins: list[dict], ece: float, uncalibrated: list[dict] | None = None,
                     uncalibrated_ece: float | None = None) -> Path:
    """Fraction of fakes against mean p_fake per bin (the diagonal is perfect calibration), and how
    many images fell in each bin; with ``uncalibrated``, the same images' bins without the model's
    temperature beside them (before and after calibration)."""
    filled = [b for b in bins if b["count"]]
    widths = [b["upper"] - b["lower"] for b in filled]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(4.5, 5.5), sharex=True,
                                      gridspec_kw={"height_ratios": (3, 1)}, layout="constrained")
    top.bar([b["lower"] for b in filled], [b["fraction_fake"] for b in filled], width=widths,
            align="edge", edgecolor="black", color="tab:orange", alpha=0.7, label="fraction fake")
    top.plot([b["mean_p_fake"] for b in filled], [b["fraction_fake"] for b in filled], "o",
             color="black", markersize=4, label="bin mean p_fake")
    title = f"Reliability (ECE {ece:.4f})"
    if uncalibrated is not None:
        raw = [b for b in uncalibrated if b["count"]]
        top.plot([b["mean_p_fake"] for b in raw], [b["fraction_fake"] for b in raw], "s--", color="tab:blue",
                 markersize=4, label=f"without temperature (ECE {uncalibrated_ece:.4f})")
        title = f"Reliability (ECE {ece:.4f}; before calibration {uncalibrated_ece:.4f})"
    top.plot([0, 1], [0, 1], color="grey", linestyle=":", label="calibrated")
    top.set(ylabel="fraction fake", ylim=(0, 1), title=title)
    top.title.set_fontsize(9)
    top.legend(fontsize=8, loc="upper left")
    bottom.bar([b["lower"] for b in filled], [b["count"] for b in filled], width=widths, align="edge",
               edgecolor="black", color="lightgrey")
    bottom.set(xlabel="p_fake", ylabel="images", xlim=(0, 1))
    return _save(fig, path)


def write_score_plots(out: Path, labels, scores, clean: dict, calibration: dict | None = None) -> list[Path]:
    """roc.png, histogram.png and reliability.png (before and after calibration when the model has
    a temperature) for one set of scores and its metrics."""
    before = None
    if calibration and calibration["temperature"] != 1.0:
        before = (calibration["reliability"]["uncalibrated"], calibration["expected_calibration_error_uncalibrated"])
    return [
        roc_plot(out / "roc.png", labels, scores, clean["threshold"]),
        histogram_plot(out / "histogram.png", labels, scores, clean["threshold"]),
        reliability_plot(out / "reliability.png", clean["reliability"], clean["expected_calibration_error"],
                         *(before or ())),
    ]


def robustness_plot(path: Path, results: dict[str, list[dict]]) -> Path:
    """One panel per perturbation family: accuracy (solid) and ROC AUC (dashed) from no damage to the
    strongest, for each model in ``results`` (name -> condition rows, the clean row first)."""
    families = list(dict.fromkeys(r["family"] for rows in results.values() for r in rows[1:]))
    columns = 3
    rows_of_panels = -(-len(families) // columns)
    fig, axes = plt.subplots(rows_of_panels, columns, figsize=(4 * columns, 3.1 * rows_of_panels),
                             sharey=True, squeeze=False, layout="constrained")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, family in zip(axes.flat, families):
        for colour, (name, rows) in zip(colours, results.items()):
            chain = [rows[0]] + [r for r in rows[1:] if r["family"] == family]
            ticks = ["none"] + [r["condition"] if r["strength"] is None else f"{r['strength']:g}"
                                for r in chain[1:]]
            x = np.arange(len(chain))
            ax.plot(x, [r["accuracy"] for r in chain], "o-", color=colour, label=f"{name}: accuracy")
            ax.plot(x, [r["roc_auc"] for r in chain], "s--", color=colour, label=f"{name}: ROC AUC",
                    alpha=0.7)
            ax.set_xticks(x, ticks if family != "combined" else ["none", "combined"])
        ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
        ax.set(title=family, xlabel="strength", ylim=(0.3, 1.02))
    for ax in axes.flat[len(families):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", fontsize=8, ncol=min(4, len(handles)))
    return _save(fig, path)
