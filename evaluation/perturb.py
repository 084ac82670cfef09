"""The robustness matrix: damage at fixed strengths, applied to the decoded image before the model's
input policy (as in the wild, where an image is re-compressed or resized before anyone scores it).

The operations are ``deepfake_dct.training.perturb``'s (one implementation, shared with training); unlike
training's random draws, each condition here is one fixed strength,
and the only randomness (the noise) comes from a generator seeded by the evaluation seed and the
image's name within its class folder: the same image gets the same damage whichever class it is
filed under, whatever order it is scored in, on every run. The class is never an argument.

The robustness families keep the image's size (a 128x128 image shrunk to 64x64 would be refused by
the policy, which never upsamples): downscaling and cropping are followed by a bilinear resize back.
The ``resize-<filter>`` families of the processing-invariance table change it, as a website does.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from deepfake_dct.training.perturb import FILTERS, OPERATIONS

#: Family name -> f(rgb, strength, rng), and how a strength reads in a table.
FAMILIES = {
    "jpeg": (OPERATIONS["jpeg"], "JPEG q{:g}"),
    "downscale": (OPERATIONS["downscale"], "downscale x{:g}"),
    "blur": (OPERATIONS["blur"], "blur sigma {:g}"),
    "sharpen": (OPERATIONS["sharpen"], "sharpen x{:g}"),
    "noise": (OPERATIONS["noise"], "noise sigma {:g}"),
    "crop": (OPERATIONS["centre_crop"], "centre crop {:.0%}"),
    **{f"resize-{name}": (OPERATIONS[f"resize-{name}"], f"resize x{{:g}} {name}") for name in FILTERS},
}


@dataclass(frozen=True)
class Condition:
    """One column of the robustness matrix: a chain of (family, strength) steps, applied in order."""

    name: str
    """How the condition reads in tables and plots."""
    family: str
    """The perturbation family ("clean" and "combined" for the unperturbed and the chained ones)."""
    strength: float | None
    """The family's strength (None for "clean" and "combined")."""
    steps: tuple[tuple[str, float], ...] = ()
    """(family, strength) pairs, applied left to right."""

    def __post_init__(self) -> None:
        unknown = sorted({family for family, _ in self.steps} - set(FAMILIES))
        if unknown:
            raise ValueError(f"Expected perturbation families from {sorted(FAMILIES)}, got {unknown}.")

    @classmethod
    def single(cls, family: str, strength: float) -> "Condition":
        if family not in FAMILIES:
            raise ValueError(f"Expected a perturbation family from {sorted(FAMILIES)}, got {family!r}.")
        return cls(FAMILIES[family][1].format(strength), family, strength, ((family, strength),))

    def apply(self, rgb: np.ndarray, seed: int, key: str) -> np.ndarray:
        """The damaged image. ``key`` names the image (its path within its class folder); with ``seed``
        it seeds the noise, so the result depends on the image and the seed alone."""
        rng = np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])
        for family, strength in self.steps:
            rgb = FAMILIES[family][0](rgb, strength, rng)
        return rgb


CLEAN = Condition("clean", "clean", None)
#: One plausible life of a shared photo: cropped, resized, softened, sensor-noisy, re-compressed.
COMBINED_STEPS = (("crop", 0.9), ("downscale", 0.75), ("blur", 0.5), ("noise", 2.0), ("jpeg", 85))
COMBINED = Condition(
    "combined: " + " + ".join(FAMILIES[f][1].format(s) for f, s in COMBINED_STEPS),
    "combined", None, COMBINED_STEPS,
)
#: The strengths of the robustness matrix, per family.
STRENGTHS = {
    "jpeg": (95, 85, 75, 50, 30),
    "downscale": (0.9, 0.75, 0.5),
    "blur": (0.5, 1.0, 2.0),
    "sharpen": (1.0, 2.0),
    "noise": (2.0, 5.0, 10.0),
    "crop": (0.9, 0.75),
}
ROBUSTNESS = (
    CLEAN,
    *(Condition.single(family, s) for family, strengths in STRENGTHS.items() for s in strengths),
    COMBINED,
)


#: The processing-invariance table: the same reals and fakes resized to half with each filter a
#: website or an uploader might use, and re-compressed at common qualities. A detector that reads
#: generation, not processing, flags about the same share of reals in every column.
INVARIANCE = (
    CLEAN,
    *(Condition.single(f"resize-{name}", 0.5) for name in FILTERS),
    *(Condition.single("jpeg", q) for q in (95, 75, 50)),
    Condition("resize x0.5 bilinear + JPEG q75", "combined", None, (("resize-bilinear", 0.5), ("jpeg", 75))),
)
