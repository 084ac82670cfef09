"""Is an image like the ones the model was trained on? A spectral profile and its distance.

The model answers for any picture, drawings and screenshots included, and for those its answer
means nothing. Every crop's normalised log-DCT (what the network reads, already computed) is
summarised as its mean in a few frequency bands per channel, averaged over the image's
crops; the image's distance from the training images is the Mahalanobis distance of that profile
from theirs. A model file records the training profiles' mean and precision and a cut-off set on
validation images (:class:`Scope`); past the cut-off, the verdict carries a warning.

Flat colour, sharp synthetic edges and rendered text put energy where photos have none, or none
where photos have some, and move the profile far; a photo of a kind the model never saw moves it
less. It is a screen for "not a photo like these", not a second detector.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

#: Frequency bands a crop's DCT is summarised in (see :func:`band_weights`).
BANDS = 8


@functools.lru_cache(maxsize=8)
def band_weights(height: int, width: int, bands: int = BANDS) -> np.ndarray:
    """(height * width, bands): averaging weights of each band, whose coefficients (u, v) are
    those with floor(bands * max(u / height, v / width)) equal to it (square rings from the DC)."""
    u = np.arange(height)[:, None] / height
    v = np.arange(width)[None, :] / width
    index = np.minimum((bands * np.maximum(u, v)).astype(int), bands - 1).reshape(-1)
    onehot = np.eye(bands, dtype=np.float32)[index]
    return onehot / onehot.sum(axis=0)


def spectral_profile(log_dct: np.ndarray, bands: int = BANDS) -> np.ndarray:
    """An image's profile from its (N, H, W, C) normalised log-DCT crops: each band's mean per
    channel, averaged over the crops, then the spread of those means over the crops (a vector of
    ``2 * C * bands`` float64 values)."""
    z = np.asarray(log_dct, dtype=np.float32)
    if z.ndim == 3:
        z = z[None]
    n, h, w, c = z.shape
    weights = band_weights(h, w, bands)
    channels_first = np.ascontiguousarray(z.reshape(n, h * w, c).transpose(0, 2, 1))
    per_crop = (channels_first @ weights).reshape(n, c * bands).astype(np.float64)
    return np.concatenate([per_crop.mean(axis=0), per_crop.std(axis=0)])


def flat_fraction(crops: np.ndarray) -> float:
    """The share of the crops' pixels whose 3x3 neighbourhood is one exact colour. Photos, even
    smooth or dark ones, have sensor noise and rarely exceed a fifth; drawings, screenshots, text
    and charts are mostly flat fills."""
    c = np.asarray(crops)
    if c.ndim == 3:
        c = c[None]
    # One 32-bit number a pixel (its three bytes), so each comparison covers all channels at once.
    colour = c[..., 0].astype(np.uint32) | (c[..., 1].astype(np.uint32) << 8) | (c[..., 2].astype(np.uint32) << 16)
    h, w = colour.shape[1], colour.shape[2]
    centre = colour[:, 1:-1, 1:-1]
    same = np.ones(centre.shape, dtype=bool)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if (dy, dx) != (1, 1):
                same &= colour[:, dy : h - 2 + dy, dx : w - 2 + dx] == centre
    return float(same.mean())


@dataclass(frozen=True)
class ScopeReading:
    """How far one image is from the training images, and the warning if it is too far."""

    distance: float
    """Mahalanobis distance of its spectral profile from the training images'."""
    flat: float
    """:func:`flat_fraction` of its crops."""
    reason: str | None
    """Why it is out of scope, or None."""


@dataclass(frozen=True, eq=False)
class Scope:
    """The training images' profiles, summarised, and how far is too far."""

    mean: np.ndarray
    """Mean profile of the training images."""
    precision: np.ndarray
    """Inverse of their (shrunk) covariance."""
    cutoff: float
    """Distances above this get the out-of-scope warning (set on validation images)."""
    flat_cutoff: float = 1.0
    """A :func:`flat_fraction` above this gets the warning too (set on validation images)."""
    bands: int = BANDS

    def __post_init__(self) -> None:
        n = self.mean.shape[0] if self.mean.ndim == 1 else -1
        if n not in (2 * self.bands, 6 * self.bands) or self.precision.shape != (n, n):
            raise ValueError(f"Expected a profile of {2 * self.bands} values (one channel) or "
                             f"{6 * self.bands} (three) and its square precision, got "
                             f"{self.mean.shape} and {self.precision.shape}.")
        if not (np.all(np.isfinite(self.mean)) and np.all(np.isfinite(self.precision))
                and np.isfinite(self.cutoff) and self.cutoff > 0 and 0 < self.flat_cutoff <= 1):
            raise ValueError("Expected finite scope statistics and a positive cut-off.")

    @property
    def channels(self) -> int:
        """Channels of the log-DCT this scope profiles."""
        return self.mean.shape[0] // (2 * self.bands)

    def distance(self, log_dct: np.ndarray) -> float:
        """Mahalanobis distance of the crops' profile from the training images'."""
        d = spectral_profile(log_dct, self.bands) - self.mean
        return float(np.sqrt(max(d @ self.precision @ d, 0.0)))

    def read(self, log_dct: np.ndarray, crops: np.ndarray) -> ScopeReading:
        """The reading of one image from its crops' normalised log-DCT and their pixels."""
        distance, flat = self.distance(log_dct), flat_fraction(crops)
        reason = None
        if flat > self.flat_cutoff:
            reason = (f"{flat:.0%} of its pixels are flat fills (photos here: at most {self.flat_cutoff:.0%}), "
                      "as in drawings, screenshots, text and charts")
        elif distance > self.cutoff:
            reason = (f"its spectrum is unlike the photos this model was trained on (distance {distance:.1f}, "
                      f"cut-off {self.cutoff:.1f}): a drawing, screenshot, text or heavily processed image")
        return ScopeReading(distance, flat, None if reason is None else f"{reason}; the verdict is unreliable")

    def to_json(self) -> dict:
        """Seven significant digits a number (float32's precision): a 48x48 precision matrix in
        about 25 KB of the model file."""
        def short(values) -> list[float]:
            return [float(f"{x:.7g}") for x in np.asarray(values).reshape(-1)]

        return {"bands": self.bands, "mean": short(self.mean), "precision": short(self.precision),
                "cutoff": float(self.cutoff), "flat_cutoff": float(self.flat_cutoff)}

    @classmethod
    def from_json(cls, meta: dict) -> "Scope":
        mean = np.asarray(meta["mean"], dtype=np.float64)
        n = mean.shape[0]
        return cls(mean=mean, precision=np.asarray(meta["precision"], dtype=np.float64).reshape(n, n),
                   cutoff=float(meta["cutoff"]), flat_cutoff=float(meta.get("flat_cutoff", 1.0)),
                   bands=int(meta.get("bands", BANDS)))


def fit_scope(train_profiles, val_profiles, val_flat, quantile: float = 0.99, shrinkage: float = 0.05,
              bands: int = BANDS) -> Scope:
    """A :class:`Scope` from the training images' profiles; each cut-off is the ``quantile`` of the
    validation images' readings (images the statistics were not computed from), so that about
    ``2 * (1 - quantile)`` of images like them are warned. The covariance is shrunk toward its
    diagonal so that a few hundred images give a stable inverse."""
    train = np.asarray(train_profiles, dtype=np.float64)
    val = np.asarray(val_profiles, dtype=np.float64)
    if train.ndim != 2 or train.shape[0] < 2 or val.ndim != 2 or val.shape[0] < 1:
        raise ValueError(f"Expected profiles of several training and validation images, got {train.shape} and {val.shape}.")
    mean = train.mean(axis=0)
    cov = np.cov(train, rowvar=False)
    cov = (1 - shrinkage) * cov + shrinkage * np.diag(np.diag(cov)) + 1e-9 * np.eye(cov.shape[0])
    precision = np.linalg.inv(cov)
    d = val - mean
    distances = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", d, precision, d), 0.0))
    flat_cutoff = float(np.clip(np.quantile(np.asarray(val_flat, dtype=np.float64), quantile), 1e-3, 1.0))
    return Scope(mean=mean, precision=precision, cutoff=float(np.quantile(distances, quantile)),
                 flat_cutoff=flat_cutoff, bands=bands)
