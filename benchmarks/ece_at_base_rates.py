"""How wrong may a stated base rate be? The expected calibration error of an evaluation's clean
scores restated at its own share of fakes times each factor (0.25 .. 4), from the files
``deepfake-dct evaluate --out DIR`` writes.

    python benchmarks/ece_at_base_rates.py DIR [DIR ...]

Needs a model file that records its calibration's base rate (``report.json`` then holds it under
``calibration.at_own_base_rate``). Prints one line per DIR; nothing is fitted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from deepfake_dct.detector import at_base_rate
from deepfake_dct.evaluation.metrics import expected_calibration_error
from deepfake_dct.evaluation.report import read_clean_scores

FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)


def main(folders: list[str]) -> int:
    for folder in map(Path, folders):
        try:
            own = json.loads((folder / "report.json").read_text())["calibration"].get("at_own_base_rate")
            labels, p_fake = read_clean_scores(folder / "scores.csv")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            print(f"ERROR: {folder}: not a folder `deepfake-dct evaluate --out` wrote ({e})", file=sys.stderr)
            return 2
        if own is None:
            print(f"ERROR: {folder}: the model file records no calibration base rate", file=sys.stderr)
            return 2
        share = float(labels.mean())
        errors = [f"x{k:g} {expected_calibration_error(labels, at_base_rate(p_fake, own['calibration_base_rate'], min(share * k, 0.999))):.4f}"
                  for k in FACTORS]
        print(f"{folder}: {share:.4f} fake; ECE at that base rate times " + ", ".join(errors))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
