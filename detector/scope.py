"""Is an image like the ones the model was trained on? A spectral profile and its distance.

The model answers for any picture, drawings and screenshots included, and for those its answer
means nothing. Every crop's normalised log-DCT (what the network reads, already computed) is
summarised as its mean in a few frequency bands per channel (:func:`band_means`), averaged over the
image's crops; the image's distance from the training images is the Mahalanobis distance of that
profile from theirs, past a cut-off set on validation images the verdict carries a warning.

How far is far depends on how many crops were averaged: a crop's band means are its image's plus
the crop's own departure from them, so the mean of *n* crops varies as ``B + W / n``, ``B`` the
covariance of images' means and ``W`` that of crops about their image's mean (:class:`Scope`). One
cut-off then serves an image of sixteen crops, whose mean is tight enough that a blur shows, and an
image of one, which a single smooth crop must not push out. (Files fitted before 2026-12-03 held
one covariance of sixteen-crop images and the crops' spread, and warned a quarter of one-crop photos;
they are still read as they were fitted.)

Flat colour, sharp synthetic edges and rendered text put energy where photos have none, or none
where photos have some, and move the profile far; a photo of a kind the model never saw moves it
less. It is a screen for "not a photo like these", not a second detector.
"""

from __future__ import annotations

import dataclasses
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


def band_means(log_dct: np.ndarray, bands: int = BANDS) -> np.ndarray:
    """(N, C * bands) float64: each of the (N, H, W, C) normalised log-DCT crops' mean in each band,
    per channel."""
    z = np.asarray(log_dct, dtype=np.float32)
    if z.ndim == 3:
        z = z[None]
    n, h, w, c = z.shape
    channels_first = np.ascontiguousarray(z.reshape(n, h * w, c).transpose(0, 2, 1))
    return (channels_first @ band_weights(h, w, bands)).reshape(n, c * bands).astype(np.float64)


def spectral_profile(log_dct: np.ndarray, bands: int = BANDS, spread: bool = False) -> np.ndarray:
    """An image's profile from its (N, H, W, C) normalised log-DCT crops: their :func:`band_means`
    averaged over the crops (``C * bands`` values); with ``spread``, as files fitted before
    2026-12-03 read it, followed by those means' spread over the crops."""
    per_crop = band_means(log_dct, bands)
    mean = per_crop.mean(axis=0)
    return np.concatenate([mean, per_crop.std(axis=0)]) if spread else mean


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
    between: np.ndarray
    """Covariance of the training images' mean profiles about :attr:`mean` (``B``)."""
    within: np.ndarray
    """Covariance of a crop's band means about its image's mean (``W``; zeros in older files)."""
    cutoff: float
    """Distances above this get the out-of-scope warning (set on validation images)."""
    flat_cutoff: float = 1.0
    """A :func:`flat_fraction` above this gets the warning too (set on validation images)."""
    bands: int = BANDS
    spread: bool = False
    """Whether the profile also holds the crops' spread (files fitted before 2026-12-03)."""

    def __post_init__(self) -> None:
        n = self.mean.shape[0] if self.mean.ndim == 1 else -1
        per_channel = self._values_per_channel
        if n not in (per_channel, 3 * per_channel) or self.between.shape != (n, n) or self.within.shape != (n, n):
            raise ValueError(f"Expected a profile of {per_channel} values (one channel) or "
                             f"{3 * per_channel} (three) and two square covariances, got "
                             f"{self.mean.shape}, {self.between.shape} and {self.within.shape}.")
        if not (all(np.all(np.isfinite(a)) for a in (self.mean, self.between, self.within))
                and np.isfinite(self.cutoff) and self.cutoff > 0 and 0 < self.flat_cutoff <= 1):
            raise ValueError("Expected finite scope statistics and a positive cut-off.")
        try:
            np.linalg.cholesky(self.between)
            np.linalg.cholesky(self.within + 1e-12 * np.eye(n))
        except np.linalg.LinAlgError:
            raise ValueError("Expected positive definite scope covariances.") from None

    @property
    def _values_per_channel(self) -> int:
        return self.bands * (2 if self.spread else 1)

    @property
    def channels(self) -> int:
        """Channels of the log-DCT this scope profiles."""
        return self.mean.shape[0] // self._values_per_channel

    def distance(self, log_dct: np.ndarray) -> float:
        """Mahalanobis distance of the crops' profile from the training images', under the
        covariance of a mean of that many crops (``B + W / n``)."""
        crops = 1 if np.ndim(log_dct) == 3 else len(log_dct)
        return self.distance_of_mean(spectral_profile(log_dct, self.bands, self.spread), crops)

    def distance_of_mean(self, profile: np.ndarray, crops: int) -> float:
        """:meth:`distance` of a profile already averaged over ``crops`` crops."""
        d = np.asarray(profile, dtype=np.float64) - self.mean
        return float(np.sqrt(max(d @ np.linalg.solve(self.between + self.within / crops, d), 0.0)))

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
        """Seven significant digits a number (float32's precision): two 24x24 covariances in about
        12 KB of the model file."""
        def short(values) -> list[float]:
            return [float(f"{x:.7g}") for x in np.asarray(values).reshape(-1)]

        return {"bands": self.bands, "spread": self.spread, "mean": short(self.mean), "between": short(self.between),
                "within": short(self.within), "cutoff": float(self.cutoff), "flat_cutoff": float(self.flat_cutoff)}

    @classmethod
    def from_json(cls, meta: dict) -> "Scope":
        """A scope as :meth:`to_json` writes it, or as files fitted before 2026-12-03 did: their
        one precision matrix, with the spread in the profile, is ``B`` alone (``W`` zero)."""
        mean = np.asarray(meta["mean"], dtype=np.float64)
        n = mean.shape[0]
        if "between" in meta:
            between = np.asarray(meta["between"], dtype=np.float64).reshape(n, n)
            within = np.asarray(meta["within"], dtype=np.float64).reshape(n, n)
        else:
            between = np.linalg.inv(np.asarray(meta["precision"], dtype=np.float64).reshape(n, n))
            within = np.zeros((n, n))
        return cls(mean=mean, between=between, within=within, cutoff=float(meta["cutoff"]),
                   flat_cutoff=float(meta.get("flat_cutoff", 1.0)), bands=int(meta.get("bands", BANDS)),
                   spread=bool(meta.get("spread", True)))


def _shrunk(cov: np.ndarray, shrinkage: float) -> np.ndarray:
    """``cov`` shrunk toward its diagonal, so that a few hundred images give a stable inverse."""
    return (1 - shrinkage) * cov + shrinkage * np.diag(np.diag(cov))


def fit_scope(train_images, val_images, val_flat, quantile: float = 0.99, shrinkage: float = 0.05,
              bands: int = BANDS) -> Scope:
    """A :class:`Scope` from the training images' crops, one (n_crops, values) array of
    :func:`band_means` an image: ``W`` pooled over the crops about their image's mean, ``B`` the
    covariance of the images' means less the ``W / n`` each carries (method of moments; its
    eigenvalues floored at a thousandth of the largest, so it stays positive definite). Each cut-off
    is the ``quantile`` of the validation images' readings, images the statistics were not computed
    from, so that about ``2 * (1 - quantile)`` of images like them are warned."""
    train = [np.asarray(x, dtype=np.float64) for x in train_images]
    val = [np.asarray(x, dtype=np.float64) for x in val_images]
    if (len(train) < 2 or not val or any(x.ndim != 2 or len(x) < 1 for x in train + val)
            or len({x.shape[1] for x in train + val}) != 1):
        raise ValueError("Expected band means of several training images and at least one validation image, "
                         "an (n_crops, values) array each.")
    means = np.stack([x.mean(axis=0) for x in train])
    crops = np.array([len(x) for x in train])
    dof = int(np.sum(crops - 1))
    within = (sum((x - x.mean(axis=0)).T @ (x - x.mean(axis=0)) for x in train) / dof if dof
              else np.zeros((means.shape[1],) * 2))
    values, vectors = np.linalg.eigh(np.cov(means, rowvar=False) - within * np.mean(1.0 / crops))
    floor = max(1e-3 * values.max(), 1e-9)
    between = (vectors * np.maximum(values, floor)) @ vectors.T
    scope = Scope(mean=means.mean(axis=0), between=_shrunk(between, shrinkage), within=_shrunk(within, shrinkage),
                  cutoff=1.0, bands=bands)
    distances = [scope.distance_of_mean(x.mean(axis=0), len(x)) for x in val]
    flat_cutoff = float(np.clip(np.quantile(np.asarray(val_flat, dtype=np.float64), quantile), 1e-3, 1.0))
    return dataclasses.replace(scope, cutoff=float(np.quantile(distances, quantile)), flat_cutoff=flat_cutoff)
