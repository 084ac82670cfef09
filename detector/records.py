"""One image's outcome as a flat record: what ``deepfake-dct detect --json`` prints and
``deepfake-dct batch`` writes, made here once so that the two agree key for key and value for value."""

from __future__ import annotations

import os

from deepfake_dct.detector.detector import Detection

#: Every key a record can have, in order: the columns of a table of records (a scored record has no
#: "error"; an error record has only "path", "model" and "error").
RECORD_FIELDS = ("path", "label", "p_fake", "threshold", "uncertain", "out_of_scope", "model", "error")


def detection_record(path: str | os.PathLike, detection: Detection, model: str) -> dict:
    """A scored image: p_fake rounded to 6 decimals, the threshold it was compared with, whether it
    is near that threshold, why it is out of scope (null when it is not), and the model file's name."""
    return {"path": str(path), "label": detection.label, "p_fake": round(detection.p_fake, 6),
            "threshold": detection.threshold, "uncertain": detection.uncertain,
            "out_of_scope": detection.out_of_scope, "model": model}


def crop_records(detection: Detection) -> list[dict]:
    """Each crop the model read: its box in the decoded image's pixels and its own p_fake."""
    return [{"top": c.box.top, "left": c.box.left, "height": c.box.height, "width": c.box.width,
             "p_fake": round(c.p_fake, 6)} for c in detection.crops]


def error_record(path: str | os.PathLike, error: Exception | str, model: str) -> dict:
    """An image that could not be scored: the error's message (which names the file)."""
    return {"path": str(path), "error": str(error), "model": model}
