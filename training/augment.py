"""Perturbations applied identically to both classes (the paper's perturbed-data training, Table 5).

They exist to defeat shortcuts -- above all the container shortcut of ffhq-tpdne-128, where every real
is a PNG and every fake a JPEG -- and to make the model hold up under the damage every image shared
online has suffered. Each draws a random strength and applies the operation of
``deepfake_dct.training.perturb`` (the one implementation, shared with ``evaluate``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepfake_dct.training import perturb

#: Perturbation name -> (operation, how its strength is drawn). The operations are
#: :mod:`deepfake_dct.training.perturb`'s, shared with ``evaluate``; only the draws live here.
_DRAWS = {
    "flip": (perturb.flip, lambda rng: 1.0),
    "jpeg": (perturb.jpeg, lambda rng: int(rng.integers(30, 96))),
    "blur": (perturb.blur, lambda rng: float(rng.uniform(0.1, 1.0))),
    "crop": (perturb.crop, lambda rng: float(rng.uniform(0.9, 1.0))),
    "noise": (perturb.noise, lambda rng: float(rng.uniform(0.0, 5.0))),
    "downscale": (perturb.downscale, lambda rng: float(rng.uniform(0.75, 1.0))),
}
PERTURBATIONS = tuple(_DRAWS)


@dataclass(frozen=True)
class Augmentation:
    """Which perturbations to apply, each independently with probability ``probability``."""

    names: tuple[str, ...] = ("flip", "jpeg", "blur", "crop", "noise", "downscale")
    """Perturbations, applied in this order."""
    probability: float = 0.5
    """Chance that each one is applied to a given image."""

    def __post_init__(self) -> None:
        unknown = set(self.names) - set(PERTURBATIONS)
        if unknown:
            raise ValueError(f"Expected perturbations from {sorted(PERTURBATIONS)}, got {sorted(unknown)}.")

    def __call__(self, rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for name in self.names:
            if rng.random() < self.probability:
                operation, draw = _DRAWS[name]
                rgb = operation(rgb, draw(rng), rng)
        return rgb
