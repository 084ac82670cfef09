"""Options of ``deepfake-dct export``: :class:`ExportOptions`, and the command line that only parses
arguments into them. Importing this loads no TensorFlow (``--help`` stays quick)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from pathlib import Path

VARIANTS = ("float32", "float16", "dynamic", "int8")


@dataclass(frozen=True)
class ExportOptions:
    """How :func:`deepfake_dct.export.convert.export` converts a run. Every field has a default; pass
    only what you change. Raises ValueError, saying which field and why, when a value cannot be used."""

    variants: tuple[str, ...] = VARIANTS
    """Files to write, from ``VARIANTS``: float32; float16 weights; dynamic-range int8 weights;
    full-integer int8 (calibrated on ``representative`` training images)."""
    data_root: Path | None = None
    """Where the run's images are now, if they moved since training; None: where split.json says."""
    representative: int = 200
    """Training images used to calibrate full-integer int8."""
    training_data: str = ""
    """Model card: what the model was trained on (empty: not recorded)."""
    licence: str = ""
    """Model card: the model's licence, e.g. the training data's terms (empty: not recorded)."""
    limits: str = ""
    """Model card: what the model is not for (empty: not recorded)."""
    max_accuracy_drop: float = 0.5
    """Largest allowed held-out accuracy difference from Keras, in percentage points: a variant
    over it is not written."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "variants", tuple(self.variants))
        object.__setattr__(self, "data_root", Path(self.data_root) if self.data_root else None)
        unknown = [v for v in self.variants if v not in VARIANTS]
        if not self.variants or unknown:
            raise ValueError(f"Expected variants from {VARIANTS}, got {self.variants}.")
        if self.representative < 1:
            raise ValueError(f"Expected at least 1 representative image, got {self.representative}.")

    def card(self) -> dict[str, str]:
        """The model-card entries given (training_data, licence, limits), for the model file."""
        entries = (("training_data", self.training_data), ("licence", self.licence), ("limits", self.limits))
        return {name: text for name, text in entries if text}


def options_from_args(args: argparse.Namespace) -> ExportOptions:
    """The ExportOptions that ``add_arguments``'s flags parsed into (ValueError if they cannot be used)."""
    return ExportOptions(**{f.name: getattr(args, f.name) for f in fields(ExportOptions)})


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``RUN [--out DIR]`` and one flag per ExportOptions field, defaulting to the field's default."""
    d = ExportOptions()
    p.add_argument("run", help="a folder written by `deepfake-dct train`")
    p.add_argument("--out", default=None, help="output folder (default: RUN/export)")
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(d.variants),
                   help="float32; float16 weights; dynamic-range int8 weights; full-integer int8 "
                        f"(default: {' '.join(d.variants)})")
    p.add_argument("--data-root", default=d.data_root,
                   help="where the run's images are now, if they moved since training "
                        "(default: where its split.json says)")
    p.add_argument("--representative", type=int, default=d.representative,
                   help="training images used to calibrate full-integer int8 (default: %(default)s)")
    p.add_argument("--training-data", default=d.training_data,
                   help="model card: what it was trained on (default: not recorded)")
    p.add_argument("--licence", default=d.licence,
                   help="model card: the model's licence (e.g. the data's terms) (default: not recorded)")
    p.add_argument("--limits", default=d.limits,
                   help="model card: what the model is not for (default: not recorded)")
    p.add_argument("--max-accuracy-drop", type=float, default=d.max_accuracy_drop,
                   help="largest allowed accuracy difference from Keras, in percentage points; a variant "
                        "over it is not written and the command exits 1 (default: %(default)s)")
