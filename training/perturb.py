"""Every perturbation the project applies to an image, defined once: training's augmentations and
processing chain draw random strengths and call these; ``evaluate``'s robustness matrix and
processing-invariance table call them at fixed strengths.

Each operation is ``op(rgb, strength, rng) -> rgb`` on (H, W, 3) uint8 arrays, Pillow and numpy
only. ``rng`` is used only where the operation itself is random (noise, a crop's position), so the
same strength and the same generator state give the same image.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from deepfake_dct.detector.images import jpeg_roundtrip

#: The resampling filters a resize may use, to Pillow's.
FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "area": Image.Resampling.BOX,
}


def _resize_to(rgb: np.ndarray, width: int, height: int, resample: Image.Resampling) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize((width, height), resample))


def flip(rgb: np.ndarray, strength: float = 1.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """Horizontal mirror. Leaves |DCT| exactly unchanged (column k of the DCT-II only changes sign
    by (-1)^k), so it varies the pixels a pixel model sees without touching the spectrum."""
    return np.ascontiguousarray(rgb[:, ::-1])


def jpeg(rgb: np.ndarray, quality: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Re-compression as JPEG at ``quality`` (4:2:0, Pillow's libjpeg)."""
    return jpeg_roundtrip(rgb, int(quality))


def resize(rgb: np.ndarray, scale: float, rng: np.random.Generator | None = None,
           filter: str = "area") -> np.ndarray:
    """The image resized by ``scale`` with ``filter`` (its size changes, as when a site resizes an
    upload)."""
    h, w = rgb.shape[:2]
    return _resize_to(rgb, max(1, round(w * scale)), max(1, round(h * scale)), FILTERS[filter])


def downscale(rgb: np.ndarray, scale: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Resolution loss at the same size: downscaled by ``scale`` (area), then bilinearly back."""
    h, w = rgb.shape[:2]
    return _resize_to(resize(rgb, scale), w, h, Image.Resampling.BILINEAR)


def blur(rgb: np.ndarray, sigma: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (Pillow's GaussianBlur radius)."""
    return np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(sigma)))


def sharpen(rgb: np.ndarray, amount: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """An unsharp mask of radius 2 pixels adding ``amount`` times the detail back (Pillow's
    UnsharpMask, percent = 100 x amount, no threshold): what phones and photo editors do to a photo,
    lifting the high frequencies where blur lowers them."""
    return np.asarray(Image.fromarray(rgb).filter(ImageFilter.UnsharpMask(2, round(100 * amount), 0)))


def greyscale(rgb: np.ndarray, strength: float = 1.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """Black and white (Pillow's ITU-R 601 luma), stored as three equal channels, as a greyscale
    photo decodes."""
    return np.asarray(Image.fromarray(rgb).convert("L").convert("RGB"))


def noise(rgb: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Additive Gaussian noise of standard deviation ``sigma`` on the 0-255 scale, rounded and clipped."""
    noisy = rgb.astype(np.float32) + np.float32(sigma) * rng.standard_normal(rgb.shape, dtype=np.float32)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def crop(rgb: np.ndarray, fraction: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """A window of ``fraction`` of each side, bilinearly resized back to the image's size: centred
    without ``rng``, at a random position drawn from it otherwise."""
    h, w = rgb.shape[:2]
    ch, cw = max(1, round(h * fraction)), max(1, round(w * fraction))
    if rng is None:
        top, left = (h - ch) // 2, (w - cw) // 2
    else:
        top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    window = np.ascontiguousarray(rgb[top : top + ch, left : left + cw])
    return _resize_to(window, w, h, Image.Resampling.BILINEAR)


def centre_crop(rgb: np.ndarray, fraction: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """The centred ``fraction`` of each side, bilinearly resized back to the image's size."""
    return crop(rgb, fraction, None)


#: Operation name -> op(rgb, strength, rng). "resize-<filter>" changes the image's size.
OPERATIONS = {
    "flip": flip,
    "jpeg": jpeg,
    "downscale": downscale,
    "blur": blur,
    "sharpen": sharpen,
    "greyscale": greyscale,
    "noise": noise,
    "crop": crop,
    "centre_crop": centre_crop,
    **{f"resize-{name}": functools.partial(resize, filter=name) for name in FILTERS},
}


@dataclass(frozen=True)
class ProcessingChain:
    """The random life of a photo before anyone scores it, applied to both classes alike.

    Every draw comes from the generator the caller passes, never from the label: a real and a fake
    face go through the same distribution of resizes, blurs, noise and re-compressions, so that
    processing carries no information about the class. Order: history, greyscale, resize, blur, noise,
    JPEG (as an image is resized, softened or sharpened, then saved). The random crop offset that moves the 8x8 JPEG
    grid against the model's crops is the crop sampler's job (see ``deepfake_dct.training.tiles``).
    """

    history_p: float = 0.0
    """Chance of a JPEG re-encode at a quality in ``history_range`` before anything else: a
    compression history given to either class alike, so that having one (most public reals were
    re-saved at q75, the fakes hardly compressed) stops telling the classes apart."""
    history_range: tuple[int, int] = (70, 80)
    grey_p: float = 0.0
    """Chance of turning the image greyscale first (a black-and-white photo, like LFW's): the public
    reals include greyscale faces, the fakes none, so colour must not be what marks a real."""
    centre_p: float = 0.0
    """Chance that a crop is cut from the middle half of the image (each side's central 50%) rather
    than anywhere: where a portrait's face is. The crop sampler reads it (placement is no pixel
    operation). Both classes alike, so that faces filling the frame (close-ups, as one generator's
    outputs all are) do not make face skin itself a sign of one class."""
    resize_p: float = 0.3
    """Chance of a resize; its filter is drawn uniformly from ``filters``."""
    scale_range: tuple[float, float] = (0.5, 1.0)
    """The resize factor, drawn log-uniformly in this range (never above 1: no upsampling)."""
    filters: tuple[str, ...] = tuple(FILTERS)
    """Resampling filters a resize draws from."""
    blur_p: float = 0.1
    """Chance of a Gaussian blur with sigma uniform in (0.2, ``max_blur``)."""
    max_blur: float = 1.0
    noise_p: float = 0.1
    """Chance of Gaussian noise with sigma uniform in (0, ``max_noise``)."""
    max_noise: float = 3.0
    jpeg_p: float = 0.8
    """Chance of a JPEG re-encode at a quality drawn uniformly in ``quality_range``. Set with
    ``deepfake-dct analyze history`` (docs/NATIVE.md): at 0.7 and q60-95 a linear probe still told
    FFHQ as shipped (PNG) from FFHQ re-saved at q75 (ROC AUC 0.59), and a network trained so called
    lossless FFHQ faces fake; at 0.8 and q50-90 the probe is at chance (0.50)."""
    quality_range: tuple[int, int] = (50, 90)
    thumbnail_p: float = 0.0
    """Chance that a crop gets a thumbnail's whole look instead of the steps above: resized by a
    factor in ``thumbnail_scale_range``, greyscale, then JPEG at a quality in ``thumbnail_quality_range``,
    all three together, either class alike. LFW's 250x250 greyscale q75 faces are a real source
    with that look; drawn as independent steps it almost never comes together on a fake, and a
    network learns the look as "real" (docs/NATIVE.md, native_v10 and native_v12)."""
    thumbnail_scale_range: tuple[float, float] = (0.2, 0.3)
    thumbnail_quality_range: tuple[int, int] = (70, 80)

    def __post_init__(self) -> None:
        unknown = set(self.filters) - set(FILTERS)
        if unknown or not self.filters:
            raise ValueError(f"Expected filters from {sorted(FILTERS)}, got {sorted(self.filters)}.")
        for name in ("scale_range", "thumbnail_scale_range"):
            low, high = getattr(self, name)
            if not 0 < low <= high <= 1:
                raise ValueError(f"Expected {name}: 0 < low <= high <= 1, got {(low, high)}.")
        for name in ("quality_range", "history_range", "thumbnail_quality_range"):
            low, high = getattr(self, name)
            if not 1 <= low <= high <= 100:
                raise ValueError(f"Expected {name}: JPEG qualities 1 <= low <= high <= 100, got {(low, high)}.")
        for name in ("history_p", "grey_p", "centre_p", "resize_p", "blur_p", "noise_p", "jpeg_p", "thumbnail_p"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"Expected {name} in [0, 1], got {getattr(self, name)}.")

    def draw(self, rng: np.random.Generator) -> tuple[tuple[str, float], ...]:
        """The steps for one image: (operation, strength) pairs, in order. Every step's random
        numbers are drawn whether or not it applies, so one step's probability does not shift the
        others' draws."""
        u = rng.random(4)
        low, high = self.scale_range
        scale = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        name = self.filters[int(rng.integers(len(self.filters)))]
        sigma_blur = float(rng.uniform(0.2, self.max_blur))
        sigma_noise = float(rng.uniform(0.0, self.max_noise))
        quality = int(rng.integers(self.quality_range[0], self.quality_range[1] + 1))
        steps = []
        if self.history_p:  # drawn only when used, so chains without it keep their draws
            history = int(rng.integers(self.history_range[0], self.history_range[1] + 1))
            if rng.random() < self.history_p:
                steps.append(("jpeg", history))
        if self.grey_p and rng.random() < self.grey_p:  # likewise
            steps.append(("greyscale", 1.0))
        if u[0] < self.resize_p and scale < 1.0:
            steps.append((f"resize-{name}", scale))
        if u[1] < self.blur_p:
            steps.append(("blur", sigma_blur))
        if u[2] < self.noise_p:
            steps.append(("noise", sigma_noise))
        if u[3] < self.jpeg_p:
            steps.append(("jpeg", quality))
        if self.thumbnail_p:  # drawn last and only when used, so chains without it keep their draws
            t_low, t_high = self.thumbnail_scale_range
            t_scale = float(np.exp(rng.uniform(np.log(t_low), np.log(t_high))))
            t_quality = int(rng.integers(self.thumbnail_quality_range[0], self.thumbnail_quality_range[1] + 1))
            if rng.random() < self.thumbnail_p:
                return ((f"resize-{name}", t_scale), ("greyscale", 1.0), ("jpeg", t_quality))
        return tuple(steps)

    def __call__(self, rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return apply_steps(rgb, self.draw(rng), rng)


#: No processing at all (validation and test images are scored as they are).
NO_PROCESSING = ProcessingChain(history_p=0.0, grey_p=0.0, resize_p=0.0, blur_p=0.0, noise_p=0.0, jpeg_p=0.0)


def apply_steps(rgb: np.ndarray, steps, rng: np.random.Generator) -> np.ndarray:
    """Applies (operation, strength) pairs left to right."""
    for name, strength in steps:
        rgb = OPERATIONS[name](rgb, strength, rng)
    return rgb
