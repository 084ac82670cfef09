"""Check a candidate model against the shipping rule of docs/NATIVE.md ("A third seed", v17's rule,
which v20-v24 reuse), line by line, from the folder ``benchmarks/evaluate_native.sh`` wrote.

    python benchmarks/check_rule.py OUT        # OUT/{sources,sources_q75,invariance}/report.json

Prints PASS or FAIL with the figures for each of the rule's four lines, then other figures the
NATIVE.md tables carry. Exit status: 0 when every line passes, 1 when one fails, 2 when a report
is missing or lacks a source the rule names. The limits below are the rule's, written before any of
those models trained; change them only with a new rule written in NATIVE.md first.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Line 1: StyleGAN2 as stored, and after JPEG q75 of both classes.
STYLEGAN2_AUC, STYLEGAN2_CAUGHT = 0.99, 0.95
STYLEGAN2_Q75_AUC, STYLEGAN2_Q75_CAUGHT = 0.95, 0.10
# Line 2: real photos flagged.
ALL_REALS_FLAGGED, LFW_FLAGGED, ANY_KIND_FLAGGED, LOSSLESS_FFHQ_FLAGGED_IMAGES = 0.01, 0.02, 0.10, 4
# Line 3: StyleGAN3, never seen in training, mean ROC AUC over the real sources.
STYLEGAN3_AUC_MEAN = 0.64
# Line 4: a x0.5 resize, the out-of-scope warning, and ECE (the bundled file's, as stored / after q75).
RESIZE_POINTS, NON_PHOTOS_WARNED, ECE, ECE_Q75 = 5.0, 0.90, 0.067, 0.053


class RuleInputError(Exception):
    """A report the rule needs is missing or does not hold what the rule reads."""


def _report(folder: Path, name: str) -> dict:
    path = folder / name / "report.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise RuleInputError(f"{path}: not a readable report of `deepfake-dct evaluate` ({e})") from e


def _by_source(report: dict) -> dict[tuple[str, str], dict]:
    return {(row["class"], row["source"]): row for row in report.get("sources", [])}


def _source(rows: dict, cls: str, name: str, where: str) -> dict:
    if (cls, name) not in rows:
        raise RuleInputError(f"{where}: no {cls} source named {name!r} (has: {', '.join(n for _, n in rows)})")
    return rows[(cls, name)]


def load_reports(folder: Path) -> dict[str, dict]:
    """The three reports evaluate_native.sh writes, by folder name; raises RuleInputError."""
    return {name: _report(folder, name) for name in ("sources", "sources_q75", "invariance")}


def check(reports: dict[str, dict]) -> list[tuple[str, bool, str]]:
    """(line, passed, figures) for each line of the rule; raises RuleInputError."""
    stored, q75, inv = reports["sources"], reports["sources_q75"], reports["invariance"]
    s, q = _by_source(stored), _by_source(q75)
    reals = [row for row in stored["sources"] if row["class"] == "real"]
    n_reals = sum(row["images"] for row in reals)
    all_reals = sum(row["flagged_fake"] * row["images"] for row in reals) / n_reals
    lines = []

    sg2, sg2q = _source(s, "fake", "stylegan2", "sources"), _source(q, "fake", "stylegan2", "sources_q75")
    lines.append(("1", sg2["roc_auc_vs_reals"] >= STYLEGAN2_AUC and sg2["flagged_fake"] >= STYLEGAN2_CAUGHT
                  and sg2q["roc_auc_vs_reals"] >= STYLEGAN2_Q75_AUC and sg2q["flagged_fake"] >= STYLEGAN2_Q75_CAUGHT,
                  f"StyleGAN2 ROC AUC {sg2['roc_auc_vs_reals']:.4f} (>= {STYLEGAN2_AUC}), caught {sg2['flagged_fake']:.4f}"
                  f" (>= {STYLEGAN2_CAUGHT}); after q75 ROC AUC {sg2q['roc_auc_vs_reals']:.4f} (>= {STYLEGAN2_Q75_AUC}),"
                  f" caught {sg2q['flagged_fake']:.4f} (>= {STYLEGAN2_Q75_CAUGHT})"))

    lfw, lossless = _source(s, "real", "lfw", "sources"), _source(s, "real", "ffhq-png", "sources")
    lossless_flagged = round(lossless["flagged_fake"] * lossless["images"])
    kinds = {row["source"]: row["flagged_fake"] for row in reals if row["source"] not in ("lfw", "ffhq-png")}
    lines.append(("2", all_reals <= ALL_REALS_FLAGGED and lfw["flagged_fake"] <= LFW_FLAGGED
                  and max(kinds.values(), default=0.0) <= ANY_KIND_FLAGGED and lossless_flagged <= LOSSLESS_FFHQ_FLAGGED_IMAGES,
                  f"all {n_reals} reals {all_reals:.4f} (<= {ALL_REALS_FLAGGED}); LFW {lfw['flagged_fake']:.4f} (<= {LFW_FLAGGED});"
                  f" lossless FFHQ {lossless_flagged} of {lossless['images']} (<= {LOSSLESS_FFHQ_FLAGGED_IMAGES}); "
                  + ", ".join(f"{k} {v:.3f}" for k, v in kinds.items()) + f" (each <= {ANY_KIND_FLAGGED})"))

    sg3 = _source(s, "fake", "stylegan3", "sources")
    lines.append(("3", sg3["roc_auc_real_sources_alike"] >= STYLEGAN3_AUC_MEAN,
                  f"StyleGAN3 ROC AUC mean over real sources {sg3['roc_auc_real_sources_alike']:.4f} (>= {STYLEGAN3_AUC_MEAN});"
                  f" pooled {sg3['roc_auc_vs_reals']:.4f}; after q75 pooled {_source(q, 'fake', 'stylegan3', 'sources_q75')['roc_auc_vs_reals']:.4f}"))

    conditions = {row["condition"]: row for row in inv.get("invariance", [])}
    if "clean" not in conditions:
        raise RuleInputError("invariance: no 'clean' condition (was it run with --invariance?)")
    clean = conditions["clean"]["reals_flagged"]
    moves = {name: 100 * abs(row["reals_flagged"] - clean) for name, row in conditions.items()
             if name.startswith("resize x0.5 ") and "+" not in name}
    if not moves:
        raise RuleInputError("invariance: no 'resize x0.5 <filter>' condition")
    worst = max(moves, key=moves.get)
    every_other = next((row for row in stored.get("other", []) if row["source"] == "all"), None)
    if every_other is None:
        raise RuleInputError("sources: no out-of-scope set scored (run evaluate_native.sh with OTHER)")
    ece, ece_q75 = stored["clean"]["expected_calibration_error"], q75["clean"]["expected_calibration_error"]
    lines.append(("4", moves[worst] <= RESIZE_POINTS and every_other["out_of_scope"] >= NON_PHOTOS_WARNED
                  and ece <= ECE and ece_q75 <= ECE_Q75,
                  f"a x0.5 resize moves reals at most {moves[worst]:.1f} points (<= {RESIZE_POINTS:g}; {worst}, clean {clean:.3f});"
                  f" non-photos warned {every_other['out_of_scope']:.3f} of {every_other['images']} (>= {NON_PHOTOS_WARNED});"
                  f" ECE {ece:.3f} / after q75 {ece_q75:.3f} (<= {ECE} / {ECE_Q75})"))
    return lines


def others(reports: dict[str, dict]) -> list[str]:
    """The figures NATIVE.md's tables carry beyond the rule."""
    stored, inv = reports["sources"], reports["invariance"]
    s = _by_source(stored)
    conditions = {row["condition"]: row for row in inv.get("invariance", [])}
    out = [f"invariance ROC AUC clean {conditions['clean']['roc_auc']:.3f}"
           + (f", after JPEG q75 {conditions['JPEG q75']['roc_auc']:.3f}" if "JPEG q75" in conditions else "")]
    out += [f"{name} (never seen) pooled ROC AUC {s[('fake', name)]['roc_auc_vs_reals']:.3f}"
            for name in ("stable-diffusion", "stable-diffusion-2.1", "cyclegan") if ("fake", name) in s]
    out.append("flagged per real source: " + ", ".join(
        f"{row['source']} {row['flagged_fake']:.3f}" for row in stored["sources"] if row["class"] == "real"))
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    folder = Path(argv[0])
    try:
        reports = load_reports(folder)
        lines, extra = check(reports), others(reports)
    except (RuleInputError, KeyError, TypeError) as e:
        print(f"ERROR: {folder}: {e}", file=sys.stderr)
        return 2
    for name, passed, figures in lines:
        print(f"{'PASS' if passed else 'FAIL'}  line {name}: {figures}")
    for figures in extra:
        print(f"      {figures}")
    passed = all(p for _, p, _ in lines)
    print("every line passes" if passed else "the rule fails: " + ", ".join(f"line {n}" for n, p, _ in lines if not p))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
