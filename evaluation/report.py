"""Scores -> the report: metrics per condition, the robustness table (markdown and JSON), the text
printed, and the files one evaluation writes (``report.json``, ``scores.csv``, plots)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from deepfake_dct.detector.detector import at_base_rate, is_uncertain
from deepfake_dct.evaluation import metrics
from deepfake_dct.evaluation.score import Scores
from deepfake_dct.training.data import atomic_write_bytes, atomic_write_json

#: Columns of the robustness table: (key in a condition's metrics, heading).
TABLE_COLUMNS = (
    ("accuracy", "accuracy"),
    ("balanced_accuracy", "balanced acc."),
    ("real_accuracy", "real acc."),
    ("fake_accuracy", "fake acc."),
    ("roc_auc", "ROC AUC"),
    ("average_precision", "AP"),
    ("expected_calibration_error", "ECE"),
)


def source_of(item) -> str:
    """The source an image belongs to: the first folder of its path within its class folder (a
    dataset built by ``deepfake-dct dataset build`` files each generator or photo set in its own),
    or "(top level)" for files directly in the class folder."""
    parts = item.key.split("/")
    return parts[0] if len(parts) > 1 else "(top level)"


def source_rows(scores: Scores, threshold: float, condition: int = 0,
                uncertain_band: tuple[float, float] | None = None) -> list[dict]:
    """Per source, under one condition: how many images, the share flagged fake at ``threshold``,
    and, for a fake source, ROC AUC against all the real images scored (threshold-free: how well
    this source alone is told from real photos) and against each real source alone: their mean
    (every real source weighing the same) and the lowest, with its name. The pooled figure follows
    the largest real source; a model that learns to recognise that source (a real set it was
    trained on) lifts it for every fake while the per-source ones show what it tells apart. With
    the model's ``uncertain_band`` (below, above), also the share whose verdict the runtime marks
    "uncertain". With more than one source, also the expected calibration error of all the other
    images, this source left out: the pooled ECE cannot be split by source (its bins mix them), so
    the sources whose removal lowers it most are the ones its gap comes from."""
    from deepfake_dct.training.metrics import roc_auc

    labels, p = scores.labels, scores.p_fake[condition]
    sources = np.array([source_of(item) for item in scores.items], dtype=object)
    real = labels == 0
    real_sources = sorted(set(sources[real]))
    several = len(real_sources) + len(set(sources[~real])) > 1  # else no image would be left out
    rows = []
    for label in (0, 1):
        for source in sorted(set(sources[labels == label])):
            mask = (sources == source) & (labels == label)
            row = {"class": "real" if label == 0 else "fake", "source": source,
                   "images": int(mask.sum()), "flagged_fake": float((p[mask] >= threshold).mean()),
                   "roc_auc_vs_reals": None}
            if label == 1 and real.any():
                each = {}
                for r in real_sources:
                    pair = mask | (real & (sources == r))
                    each[r] = roc_auc(labels[pair], p[pair])
                worst = min(each, key=each.get)
                row.update(roc_auc_vs_reals=roc_auc(labels[mask | real], p[mask | real]),
                           roc_auc_vs_each_real_source=each,
                           roc_auc_real_sources_alike=float(np.mean(list(each.values()))),
                           lowest_real_source=worst)
            if uncertain_band is not None:
                row["uncertain"] = float(np.mean([is_uncertain(float(x), threshold, uncertain_band) for x in p[mask]]))
            if scores.out_of_scope is not None:
                row["out_of_scope"] = float(scores.out_of_scope[condition][mask].mean())
            if several:
                row["ece_without"] = metrics.expected_calibration_error(labels[~mask], p[~mask])
            rows.append(row)
    return rows


def source_table(rows: list[dict]) -> str:
    optional = [(key, heading) for key, heading in (("uncertain", "uncertain"), ("out_of_scope", "out of scope"),
                                                    ("ece_without", "ECE without it"))
                if rows and key in rows[0]]
    def lowest(r: dict) -> str | None:
        worst = r.get("lowest_real_source")
        return None if worst is None else f"{r['roc_auc_vs_each_real_source'][worst]:.4f} ({worst})"

    return markdown_table(
        ["class", "source", "images", "flagged fake", "ROC AUC vs all reals", "mean over real sources",
         "lowest (real source)"] + [h for _, h in optional],
        [[r["class"], r["source"], r["images"], r["flagged_fake"], r["roc_auc_vs_reals"],
          r.get("roc_auc_real_sources_alike"), lowest(r)] + [r[key] for key, _ in optional] for r in rows],
    )


def other_rows(scores: Scores, threshold: float) -> list[dict]:
    """Per source of images the detector is not for: how many, the share given the out-of-scope
    warning, and the share the verdict would have called fake."""
    sources = np.array([source_of(item) for item in scores.items])

    def row(source: str, mask: np.ndarray) -> dict:
        warned = None if scores.out_of_scope is None else float(scores.out_of_scope[0][mask].mean())
        return {"source": source, "images": int(mask.sum()), "out_of_scope": warned,
                "flagged_fake": float((scores.p_fake[0][mask] >= threshold).mean())}

    rows = [row(source, sources == source) for source in sorted(set(sources))]
    if len(rows) > 1:
        rows.append(row("all", np.ones(len(sources), dtype=bool)))
    return rows


def other_table(rows: list[dict]) -> str:
    return markdown_table(["source (not photos)", "images", "out of scope", "flagged fake"],
                          [[r["source"], r["images"], r["out_of_scope"], r["flagged_fake"]] for r in rows])


def invariance_rows(scores: Scores, threshold: float) -> list[dict]:
    """Per condition: the share of reals and of fakes flagged, and ROC AUC."""
    labels = scores.labels
    rows = []
    for c, p in zip(scores.conditions, scores.p_fake):
        m = metrics.evaluate(labels, p, threshold)
        rows.append({"condition": c.name, "reals_flagged": 1.0 - m["real_accuracy"],
                     "fakes_flagged": m["fake_accuracy"], "roc_auc": m["roc_auc"]})
    return rows


def invariance_table(rows: list[dict]) -> str:
    return markdown_table(
        ["condition", "reals flagged fake", "fakes flagged fake", "ROC AUC"],
        [[r["condition"], r["reals_flagged"], r["fakes_flagged"], r["roc_auc"]] for r in rows],
    )


def condition_rows(scores: Scores, threshold: float) -> list[dict]:
    """One entry per condition: its name, family, strength and every metric at ``threshold``."""
    labels = scores.labels
    return [
        {"condition": c.name, "family": c.family, "strength": c.strength,
         **metrics.evaluate(labels, p, threshold)}
        for c, p in zip(scores.conditions, scores.p_fake)
    ]


def markdown_table(headings: list[str], rows: list[list]) -> str:
    """A GitHub markdown table; floats with 4 decimals, None as an empty cell."""
    def cell(value) -> str:
        if value is None:
            return ""
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def robustness_table(rows: list[dict]) -> str:
    return markdown_table(
        ["condition"] + [heading for _, heading in TABLE_COLUMNS],
        [[row["condition"]] + [row[key] for key, _ in TABLE_COLUMNS] for row in rows],
    )


def format_note(format_jpeg: int, policy_jpeg: int) -> str:
    """A sentence on what the images went through before the model: the format step, the policy."""
    policy = (f"the model's own policy then re-encodes every fitted image as JPEG q{policy_jpeg}, as at "
              "run time" if policy_jpeg else "the model's policy has no JPEG step")
    if format_jpeg:
        return (f"--jpeg {format_jpeg}: every image, real and fake, was re-encoded as JPEG q{format_jpeg} "
                "(4:2:0) after decoding and before any perturbation, so that both classes reach the "
                f"model with a JPEG history; {policy}.")
    return (f"No format-matching step: images were scored as stored; {policy}"
            + (", which masks some but not all of a PNG-versus-JPEG difference." if policy_jpeg else "."))


def calibration_summary(scores: Scores, temperature: float, calibration_base_rate: float | None = None) -> dict:
    """The clean scores' calibration with the model's temperature and without it (temperature 1:
    each image's mean crop logit as it is), the reliability bins of each, and the calibrated ECE
    with the classes weighing half each (a test set of 97% reals shows the prior's shift from
    validation's in the plain ECE; the balanced one shows the calibration at a 1:1 prior). And a
    bound: the lowest ECE any temperature the model file could hold reaches on these very images
    (read off them, so no result): an ECE goal below it needs another kind of calibration or a
    better ranking, not a refit of the temperature. And, when the model file records the base rate
    its calibration assumed, the ECE with p_fake restated at these images' own share of fakes
    (:func:`~deepfake_dct.detector.at_base_rate`, what ``DetectorOptions.base_rate`` does for a
    caller who knows their mix): one number read off the labels, no fit."""
    from deepfake_dct.training.metrics import TEMPERATURES, apply_temperature

    labels, p = scores.labels, scores.p_fake[0]
    raw = apply_temperature(p, 1.0 / temperature)
    errors = [metrics.expected_calibration_error(labels, apply_temperature(raw, t)) for t in TEMPERATURES]
    best = int(np.argmin(errors))
    share = float(np.mean(labels)) if len(labels) else 0.0
    own_rate = None
    if calibration_base_rate is not None and 0.0 < share < 1.0:
        restated = at_base_rate(p, calibration_base_rate, share)
        own_rate = {"base_rate": share, "calibration_base_rate": calibration_base_rate,
                    "expected_calibration_error": metrics.expected_calibration_error(labels, restated)}
    bins = {"calibrated": metrics.reliability_bins(labels, p), "uncalibrated": metrics.reliability_bins(labels, raw)}
    return {"temperature": temperature,
            "expected_calibration_error": metrics.expected_calibration_error(labels, p),
            "expected_calibration_error_uncalibrated": metrics.expected_calibration_error(labels, raw),
            "expected_calibration_error_balanced": metrics.expected_calibration_error(labels, p, class_balanced=True),
            "best_temperature_here": {"temperature": float(TEMPERATURES[best]), "expected_calibration_error": errors[best]},
            "at_own_base_rate": own_rate,
            "reliability": bins}


def build_report(model: dict, data: dict, scores: Scores, threshold: float, seed: int,
                 format_jpeg: int, invariance: bool = False, temperature: float = 1.0,
                 calibration_base_rate: float | None = None) -> dict:
    """The whole report of one evaluation (clean metrics first, then each perturbation, if any).
    With ``invariance``, the conditions are :data:`~deepfake_dct.evaluation.perturb.INVARIANCE`'s
    and are reported as the processing-invariance table instead of the robustness matrix."""
    rows = condition_rows(scores, threshold)
    counts = [int((scores.labels == label).sum()) for label in (0, 1)]
    return {
        "model": model,
        "data": {**data, "scored": {"real": counts[0], "fake": counts[1]},
                 "skipped": {"count": len(scores.skipped), "files": scores.skipped}},
        "format_matching": {"jpeg_quality": format_jpeg,
                            "note": format_note(format_jpeg, model["policy"]["jpeg_quality"])},
        "clean": rows[0],
        "calibration": calibration_summary(scores, temperature, calibration_base_rate),
        "sources": source_rows(scores, threshold, uncertain_band=_band(model.get("uncertain_band"))),
        "robustness": {"seed": seed, "conditions": rows[1:]} if len(rows) > 1 and not invariance else None,
        "invariance": invariance_rows(scores, threshold) if invariance else None,
        "seconds": scores.seconds,
    }


def _band(widths) -> tuple[float, float] | None:
    return None if widths is None else (float(widths[0]), float(widths[1]))


def summary_text(report: dict) -> str:
    """What the command prints: the clean metrics, the confusion matrix and the robustness table."""
    c = report["clean"]
    (tn, fp), (fn, tp) = c["confusion_matrix"]
    data = report["data"]
    lines = [
        f"model: {report['model']['path']} ({report['model']['kind']}, "
        f"{report['model']['architecture'] or 'unknown architecture'}, threshold {c['threshold']:.4f})",
        f"scored {data['scored']['real']} real + {data['scored']['fake']} fake images; "
        f"skipped {data['skipped']['count']} unreadable file(s)"
        + (f"\nWARNING: {data['seen_in_training']} of them are training or validation files of the "
           "model's split: these numbers are not held-out" if data.get("seen_in_training") else ""),
        report["format_matching"]["note"],
        f"accuracy {c['accuracy']:.4f}  balanced {c['balanced_accuracy']:.4f}  real {c['real_accuracy']:.4f}"
        f"  fake {c['fake_accuracy']:.4f}",
        f"ROC AUC {c['roc_auc']:.4f}  average precision {c['average_precision']:.4f}  "
        f"expected calibration error {c['expected_calibration_error']:.4f}"
        + (f" (temperature {report['calibration']['temperature']:.3f}; without it "
           f"{report['calibration']['expected_calibration_error_uncalibrated']:.4f})"
           if report.get("calibration") and report["calibration"]["temperature"] != 1.0 else "")
        + (f"; with the two classes weighing half each {report['calibration']['expected_calibration_error_balanced']:.4f}"
           f"; the lowest any temperature reaches on these very images (a bound, not a result): "
           f"{report['calibration']['best_temperature_here']['expected_calibration_error']:.4f} "
           f"at {report['calibration']['best_temperature_here']['temperature']:.3f}"
           if report.get("calibration") else "")
        + (f"; restated at these images' own base rate ({own['base_rate']:.4f} fake, from the "
           f"calibration's {own['calibration_base_rate']:.4f}; --base-rate) {own['expected_calibration_error']:.4f}"
           if (own := (report.get("calibration") or {}).get("at_own_base_rate")) else ""),
        f"confusion (rows truth, columns verdict): real->real {tn}  real->fake {fp}  "
        f"fake->real {fn}  fake->fake {tp}",
        f"where at most 5% of these reals are flagged (threshold {c['at_5pct_reals_flagged']['threshold']:.4f}, "
        f"read off these images): {c['at_5pct_reals_flagged']['fakes_caught']:.4f} of the fakes caught",
    ]
    if len({(r["class"], r["source"]) for r in report["sources"]}) > 2:
        lines += ["", "per source (clean):", source_table(report["sources"]).rstrip()]
    if report["robustness"]:
        lines += ["", robustness_table([c] + report["robustness"]["conditions"]).rstrip()]
    if report.get("invariance"):
        lines += ["", "processing invariance (both classes alike):",
                  invariance_table(report["invariance"]).rstrip()]
    if report.get("other"):
        if report["other"][0]["out_of_scope"] is None:
            lines += ["", "the model file records no scope: it cannot warn about images it is not for"]
        lines += ["", "images that are not photos (--other):", other_table(report["other"]).rstrip()]
    return "\n".join(lines) + "\n"


def scores_csv(scores: Scores) -> bytes:
    """One row per image: path, label, then p_fake under each condition."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["path", "label"] + [c.name for c in scores.conditions])
    for i, item in enumerate(scores.items):
        writer.writerow([str(item.path), item.label] + [f"{p:.6f}" for p in scores.p_fake[:, i]])
    return buffer.getvalue().encode("utf-8")


def read_clean_scores(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(labels, clean p_fake) of a ``scores.csv`` that :func:`scores_csv` wrote; ValueError, with
    the file's name, for anything else, a file without a single score included."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        labels, p_fake = np.array([int(r["label"]) for r in rows]), np.array([float(r["clean"]) for r in rows])
    except (OSError, KeyError, ValueError, TypeError) as e:
        raise ValueError(f"{path}: not a readable scores.csv of `deepfake-dct evaluate` ({e!r})") from e
    if not len(labels):
        raise ValueError(f"{path}: a scores.csv without a single score")
    return labels, p_fake


def write_outputs(out: Path, report: dict, scores: Scores) -> list[Path]:
    """report.json, robustness.md (with --robustness), scores.csv and the plots; returns the paths."""
    from deepfake_dct.evaluation import plots

    out.mkdir(parents=True, exist_ok=True)
    written = plots.write_score_plots(out, scores.labels, scores.p_fake[0], report["clean"],
                                      report.get("calibration"))
    if report["robustness"]:
        rows = [report["clean"]] + report["robustness"]["conditions"]
        atomic_write_bytes(out / "robustness.md", robustness_table(rows).encode("utf-8"))
        written += [out / "robustness.md",
                    plots.robustness_plot(out / "robustness.png", {Path(report["model"]["path"]).name: rows})]
    if report.get("invariance"):
        atomic_write_bytes(out / "invariance.md", invariance_table(report["invariance"]).encode("utf-8"))
        written.append(out / "invariance.md")
    atomic_write_bytes(out / "sources.md", source_table(report["sources"]).encode("utf-8"))
    written.append(out / "sources.md")
    atomic_write_bytes(out / "scores.csv", scores_csv(scores))
    written.append(out / "scores.csv")
    report["files"] = [str(p) for p in written] + [str(out / "report.json")]
    atomic_write_json(out / "report.json", report)
    return written + [out / "report.json"]
