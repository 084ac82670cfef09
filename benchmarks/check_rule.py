"""Check a candidate model against a shipping rule of docs/NATIVE.md, line by line, from the folder
``benchmarks/evaluate_native.sh`` wrote.

    python benchmarks/check_rule.py [--rule v17|v25] OUT    # OUT/{sources,sources_q75,invariance}/report.json

v17 is the rule of "A third seed" (v20-v24 reuse it; the default); v25 is "The issue's own goals
as the bar": the same four checks on these reports, with the issue's limits where it sets them, so
its lines are numbered 2 to 5 as in NATIVE.md (its line 1, the gate, and line 6, the speed, are not
read off these reports); v26 ("Diffusion faces in training, as luma") is v25's with the bundled
file's ECE as its limit and two lines more, 7 (the SDFD faces) and 8 (photos warned out of scope). Prints PASS or FAIL with the figures for each line, then other figures
the NATIVE.md tables carry. Exit status: 0 when every line passes, 1 when one fails, 2 when a
report is missing or lacks a source the rule names. The limits below are the rules', each written
before the models it judges trained; change them only with a new rule written in NATIVE.md first.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    """The limits of one shipping rule; ``first_line`` is the number NATIVE.md gives its StyleGAN2 line."""

    first_line: int
    # StyleGAN2 as stored, and after JPEG q75 of both classes.
    stylegan2_auc: float
    stylegan2_caught: float
    stylegan2_q75_auc: float
    stylegan2_q75_caught: float
    # Real photos flagged: all of them, LFW, every other kind, lossless FFHQ (15 images: a count).
    all_reals_flagged: float
    lfw_flagged: float
    any_kind_flagged: float
    lossless_ffhq_flagged_images: int
    # StyleGAN3, never seen in training: ROC AUC mean over the real sources, and pooled.
    stylegan3_auc_mean: float
    stylegan3_auc_pooled: float
    # A x0.5 resize, the out-of-scope warning, and ECE (the bundled file's, as stored / after q75).
    resize_points: float = 5.0
    non_photos_warned: float = 0.90
    ece: float = 0.067
    ece_q75: float = 0.053
    # Rules from v26 on: the SDFD diffusion faces (seen in training), held out: ROC AUC pooled and
    # the share caught; and the held-out photos, real and fake, given the out-of-scope warning.
    # None: not a line of this rule.
    sdfd_auc: float | None = None
    sdfd_caught: float | None = None
    photos_warned: float | None = None


RULES = {
    "v17": Rule(first_line=1, stylegan2_auc=0.99, stylegan2_caught=0.95, stylegan2_q75_auc=0.95,
                stylegan2_q75_caught=0.10, all_reals_flagged=0.01, lfw_flagged=0.02, any_kind_flagged=0.10,
                lossless_ffhq_flagged_images=4, stylegan3_auc_mean=0.64, stylegan3_auc_pooled=0.0),
    "v25": Rule(first_line=2, stylegan2_auc=0.95, stylegan2_caught=0.90, stylegan2_q75_auc=0.90,
                stylegan2_q75_caught=0.0, all_reals_flagged=0.05, lfw_flagged=0.10, any_kind_flagged=0.10,
                lossless_ffhq_flagged_images=4, stylegan3_auc_mean=0.64, stylegan3_auc_pooled=0.90),
    "v26": Rule(first_line=2, stylegan2_auc=0.95, stylegan2_caught=0.90, stylegan2_q75_auc=0.90,
                stylegan2_q75_caught=0.0, all_reals_flagged=0.05, lfw_flagged=0.10, any_kind_flagged=0.10,
                lossless_ffhq_flagged_images=4, stylegan3_auc_mean=0.64, stylegan3_auc_pooled=0.90,
                ece=0.0325, ece_q75=0.0302, sdfd_auc=0.85, sdfd_caught=0.50, photos_warned=0.05),
}


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


def check(reports: dict[str, dict], rule: Rule = RULES["v17"]) -> list[tuple[str, bool, str]]:
    """(line, passed, figures) for each line of ``rule``; raises RuleInputError."""
    r, n = rule, rule.first_line
    stored, q75, inv = reports["sources"], reports["sources_q75"], reports["invariance"]
    s, q = _by_source(stored), _by_source(q75)
    reals = [row for row in stored["sources"] if row["class"] == "real"]
    n_reals = sum(row["images"] for row in reals)
    all_reals = sum(row["flagged_fake"] * row["images"] for row in reals) / n_reals
    lines = []

    sg2, sg2q = _source(s, "fake", "stylegan2", "sources"), _source(q, "fake", "stylegan2", "sources_q75")
    lines.append((str(n), sg2["roc_auc_vs_reals"] >= r.stylegan2_auc and sg2["flagged_fake"] >= r.stylegan2_caught
                  and sg2q["roc_auc_vs_reals"] >= r.stylegan2_q75_auc and sg2q["flagged_fake"] >= r.stylegan2_q75_caught,
                  f"StyleGAN2 ROC AUC {sg2['roc_auc_vs_reals']:.4f} (>= {r.stylegan2_auc}), caught {sg2['flagged_fake']:.4f}"
                  f" (>= {r.stylegan2_caught}); after q75 ROC AUC {sg2q['roc_auc_vs_reals']:.4f} (>= {r.stylegan2_q75_auc}),"
                  f" caught {sg2q['flagged_fake']:.4f} (>= {r.stylegan2_q75_caught})"))

    lfw, lossless = _source(s, "real", "lfw", "sources"), _source(s, "real", "ffhq-png", "sources")
    lossless_flagged = round(lossless["flagged_fake"] * lossless["images"])
    kinds = {row["source"]: row["flagged_fake"] for row in reals if row["source"] not in ("lfw", "ffhq-png")}
    lines.append((str(n + 1), all_reals <= r.all_reals_flagged and lfw["flagged_fake"] <= r.lfw_flagged
                  and max(kinds.values(), default=0.0) <= r.any_kind_flagged
                  and lossless_flagged <= r.lossless_ffhq_flagged_images,
                  f"all {n_reals} reals {all_reals:.4f} (<= {r.all_reals_flagged}); LFW {lfw['flagged_fake']:.4f} (<= {r.lfw_flagged});"
                  f" lossless FFHQ {lossless_flagged} of {lossless['images']} (<= {r.lossless_ffhq_flagged_images}); "
                  + ", ".join(f"{k} {v:.3f}" for k, v in kinds.items()) + f" (each <= {r.any_kind_flagged})"))

    sg3 = _source(s, "fake", "stylegan3", "sources")
    lines.append((str(n + 2), sg3["roc_auc_real_sources_alike"] >= r.stylegan3_auc_mean
                  and sg3["roc_auc_vs_reals"] >= r.stylegan3_auc_pooled,
                  f"StyleGAN3 ROC AUC mean over real sources {sg3['roc_auc_real_sources_alike']:.4f} (>= {r.stylegan3_auc_mean});"
                  f" pooled {sg3['roc_auc_vs_reals']:.4f} (>= {r.stylegan3_auc_pooled:g}); after q75 pooled {_source(q, 'fake', 'stylegan3', 'sources_q75')['roc_auc_vs_reals']:.4f}"))

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
    lines.append((str(n + 3), moves[worst] <= r.resize_points and every_other["out_of_scope"] >= r.non_photos_warned
                  and ece <= r.ece and ece_q75 <= r.ece_q75,
                  f"a x0.5 resize moves reals at most {moves[worst]:.1f} points (<= {r.resize_points:g}; {worst}, clean {clean:.3f});"
                  f" non-photos warned {every_other['out_of_scope']:.3f} of {every_other['images']} (>= {r.non_photos_warned});"
                  f" ECE {ece:.4f} / after q75 {ece_q75:.4f} (<= {r.ece} / {r.ece_q75})"))
    if r.sdfd_auc is not None:
        sd = _source(s, "fake", "stable-diffusion-2.1", "sources")
        lines.append((str(n + 5), sd["roc_auc_vs_reals"] >= r.sdfd_auc and sd["flagged_fake"] >= r.sdfd_caught,
                      f"SDFD ROC AUC pooled {sd['roc_auc_vs_reals']:.4f} (>= {r.sdfd_auc}), caught {sd['flagged_fake']:.4f}"
                      f" (>= {r.sdfd_caught}); after q75 {_source(q, 'fake', 'stable-diffusion-2.1', 'sources_q75')['roc_auc_vs_reals']:.4f}"))
    if r.photos_warned is not None:
        if (photos := _photos_warned(stored)) is None:
            raise RuleInputError("sources: no out-of-scope shares (the model file records no scope)")
        warned, n_photos = photos
        lines.append((str(n + 6), warned <= r.photos_warned,
                      f"held-out photos warned out of scope {warned:.4f} of {n_photos} (<= {r.photos_warned})"))
    return lines


def _photos_warned(stored: dict) -> tuple[float, int] | None:
    """(share given the out-of-scope warning, images) over every held-out photo, real and fake;
    None when the report has no out-of-scope shares (a model file without a scope)."""
    photos = stored["sources"]
    if not all("out_of_scope" in row for row in photos):
        return None
    n = sum(row["images"] for row in photos)
    return sum(row["out_of_scope"] * row["images"] for row in photos) / n, n


def others(reports: dict[str, dict]) -> list[str]:
    """The figures NATIVE.md's tables carry beyond the rule."""
    stored, inv = reports["sources"], reports["invariance"]
    s = _by_source(stored)
    conditions = {row["condition"]: row for row in inv.get("invariance", [])}
    out = [f"invariance ROC AUC clean {conditions['clean']['roc_auc']:.3f}"
           + (f", after JPEG q75 {conditions['JPEG q75']['roc_auc']:.3f}" if "JPEG q75" in conditions else "")]
    out += [f"{name} (never seen{' by native_v1 runs' if name == 'stable-diffusion-2.1' else ''}) pooled ROC AUC "
            f"{s[('fake', name)]['roc_auc_vs_reals']:.3f}"
            for name in ("stable-diffusion", "stable-diffusion-2.1", "cyclegan") if ("fake", name) in s]
    out.append("flagged per real source: " + ", ".join(
        f"{row['source']} {row['flagged_fake']:.3f}" for row in stored["sources"] if row["class"] == "real"))
    if (photos := _photos_warned(stored)) is not None:  # issue 13: at most 5%; v26 made it a rule line
        warned, n = photos
        out.append(f"held-out photos warned out of scope {warned:.3f} of {n} (issue 13: <= 0.05); per source: "
                   + ", ".join(f"{row['source']} {row['out_of_scope']:.3f}" for row in stored["sources"]))
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="check an evaluate_native.sh folder against a NATIVE.md rule")
    parser.add_argument("--rule", choices=sorted(RULES), default="v17", help="which rule (default: v17)")
    parser.add_argument("folder", type=Path, help="the OUT folder evaluate_native.sh wrote")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        reports = load_reports(args.folder)
        lines, extra = check(reports, RULES[args.rule]), others(reports)
    except (RuleInputError, KeyError, TypeError) as e:
        print(f"ERROR: {args.folder}: {e}", file=sys.stderr)
        return 2
    print(f"rule {args.rule}")
    for name, passed, figures in lines:
        print(f"{'PASS' if passed else 'FAIL'}  line {name}: {figures}")
    for figures in extra:
        print(f"      {figures}")
    passed = all(p for _, p, _ in lines)
    print("every line passes" if passed else "the rule fails: " + ", ".join(f"line {n}" for n, p, _ in lines if not p))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
