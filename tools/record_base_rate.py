"""Records, in an exported model file, the base rate its calibration assumed: the share of fakes
among the validation images its temperature was fitted on. ``analyze calibrate`` records it in runs
it fits now; files exported before it existed lack it, and without it ``--base-rate`` refuses them.

    python tools/record_base_rate.py MODEL.tflite VALIDATION_FOLDER

VALIDATION_FOLDER is the validation split the calibration used, as ``deepfake-dct dataset build``
writes it (``real/`` and ``fake/`` below it). Every image in it must be one the calibration scored
(none too small or unreadable): the script checks that with the model's own policy, and refuses
otherwise. The file is rewritten in place, weights untouched.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from deepfake_dct.detector import Detector, ImageError
from deepfake_dct.detector.files import expand_paths
from deepfake_dct.detector.model_file import read_spec
from deepfake_dct.export.convert import embed_spec


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path)
    p.add_argument("validation", type=Path)
    args = p.parse_args()
    detector = Detector.from_file(args.model)
    counts = {}
    for label in ("real", "fake"):
        paths = list(expand_paths([str(args.validation / label)]))
        for path in paths:
            try:
                detector.cut(detector.decode(path))
            except ImageError as e:
                print(f"ERROR: the calibration could not have scored {path} ({e})", file=sys.stderr)
                return 2
        counts[label] = len(paths)
    if not all(counts.values()):
        print(f"ERROR: expected real/ and fake/ images in {args.validation}, got {counts}", file=sys.stderr)
        return 2
    rate = counts["fake"] / (counts["fake"] + counts["real"])
    model = args.model.read_bytes()
    spec = dataclasses.replace(read_spec(model), calibration_base_rate=rate)
    args.model.write_bytes(embed_spec(model, spec))
    print(f"{args.model}: calibration base rate {rate:.4f} ({counts['fake']} fake of "
          f"{counts['fake'] + counts['real']} validation images)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
