"""The evidence map's colour scale, one definition for every app that tints crops by their p_fake
(the Streamlit page's map, the webcam overlay's): numpy only, so the webcam loop does not load
Streamlit for it."""

from __future__ import annotations

import numpy as np

#: Tint of a crop by its p_fake: 0 green, 0.5 amber, 1 red (RGB).
EVIDENCE_COLOURS = ((26, 152, 80), (254, 224, 139), (215, 48, 39))


def colours_of(values: np.ndarray, low: float, high: float, colours) -> np.ndarray:
    """Floats of any shape -> float RGB of shape (..., 3): low..high spread evenly over the stops."""
    t = np.clip((np.asarray(values, dtype=np.float64) - low) / max(high - low, 1e-6), 0.0, 1.0)
    stops = np.linspace(0.0, 1.0, len(colours))
    return np.stack([np.interp(t, stops, [c[k] for c in colours]) for k in range(3)], axis=-1)


def evidence_colour(p_fake: float) -> tuple[int, int, int]:
    """The RGB tint of a crop scored ``p_fake`` on the evidence map."""
    return tuple(int(round(c)) for c in colours_of(p_fake, 0.0, 1.0, EVIDENCE_COLOURS))
