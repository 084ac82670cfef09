"""Training crops for a native-resolution ("tiles") model: what the runtime cuts, with processing.

At run time :meth:`InputPolicy.crops` cuts tiles on a fixed grid, each starting on the 16-pixel
JPEG block grid, and re-encodes them if the policy says so. In training each image yields several
crops at random positions on that same block grid, each with its own draw of the label-blind
:class:`~deepfake_dct.training.perturb.ProcessingChain`: the chain is applied to a window a little
larger than the crop would need (resizing or re-encoding a whole 1024x1024 image per crop would
cost ~20x more for the same pixels), then the crop is cut from the processed window and goes
through the policy's own JPEG step, as at run time. After a resize the old block grid is gone, and
the crop's offset is any pixel.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from deepfake_dct.detector.images import TILE_ALIGN, InputPolicy, jpeg_roundtrip
from deepfake_dct.training.perturb import NO_PROCESSING, ProcessingChain, apply_steps

#: Extra pixels around a processed window, so that resampling and blur kernels see real neighbours
#: at the crop's edges, and the crop's offset in the window can move the JPEG grid's phase.
_MARGIN = 16


def sample_crops(rgb: np.ndarray, policy: InputPolicy, count: int, rng: np.random.Generator,
                 chain: ProcessingChain = NO_PROCESSING) -> np.ndarray:
    """``count`` processed crops of the policy's input size: (count, height, width, 3) uint8.

    An image too small for one crop after its drawn resize is kept at its own size for that crop
    (the chain never upsamples, and the runtime refuses images smaller than a crop).

    Raises:
      ImageTooSmallError: the image is smaller than one crop.
    """
    policy.check_size(rgb)
    h, w = rgb.shape[:2]
    crops = []
    for _ in range(count):
        steps = chain.draw(rng)
        scale = next((s for name, s in steps if name.startswith("resize-")), 1.0)
        if min(h, w) * scale < max(policy.height, policy.width):
            steps = tuple(step for step in steps if not step[0].startswith("resize-"))
            scale = 1.0
        # The window that, once processed, holds a crop plus margin (all of the image if smaller).
        win_h = min(h, math.ceil((policy.height + 2 * _MARGIN) / scale))
        win_w = min(w, math.ceil((policy.width + 2 * _MARGIN) / scale))
        if chain.centre_p and rng.random() < chain.centre_p:  # no draw when 0: older runs replay
            top, left = _centred(rng, h, win_h), _centred(rng, w, win_w)
        else:
            top, left = _aligned(rng, h - win_h), _aligned(rng, w - win_w)
        window = np.ascontiguousarray(rgb[top : top + win_h, left : left + win_w])
        processed = apply_steps(window, steps, rng)
        ph, pw = processed.shape[:2]
        if ph < policy.height or pw < policy.width:  # rounding at the smallest sizes
            steps = tuple(s for s in steps if not s[0].startswith("resize-"))
            processed = apply_steps(window, steps, rng)
            ph, pw = processed.shape[:2]
        step = 1 if any(name.startswith("resize-") for name, _ in steps) else TILE_ALIGN
        y, x = _aligned(rng, ph - policy.height, step), _aligned(rng, pw - policy.width, step)
        crop = processed[y : y + policy.height, x : x + policy.width]
        crops.append(jpeg_roundtrip(crop, policy.jpeg_quality) if policy.jpeg_quality else crop)
    return np.stack(crops)


def _centred(rng: np.random.Generator, side: int, window: int) -> int:
    """A random offset on the block grid for a window within the middle half of ``side`` (or as
    near the middle as the window's size allows)."""
    low = min(side // 4, side - window) // TILE_ALIGN * TILE_ALIGN
    high = max(low, min(side - side // 4 - window, side - window))
    return low + _aligned(rng, high - low)


def _aligned(rng: np.random.Generator, room: int, step: int = TILE_ALIGN) -> int:
    """A random offset in 0..room on multiples of ``step`` (0 when there is no room)."""
    return int(rng.integers(0, room // step + 1)) * step


def crop_rng(seed: int, key: str, epoch: int = 0) -> np.random.Generator:
    """The generator for one image's crops: from the run's seed, the image's name and the epoch,
    never from its label or its place in the file list."""
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8")), epoch])
