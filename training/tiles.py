"""Training crops for a native-resolution ("tiles") model: what the runtime cuts, with processing.

At run time :meth:`InputPolicy.crops` cuts tiles on a fixed grid. In training each image yields
several crops at random positions, each with its own draw of the label-blind
:class:`~deepfake_dct.training.perturb.ProcessingChain`: the chain is applied to a window a little
larger than the crop would need (resizing or re-encoding a whole 1024x1024 image per crop would
cost ~20x more for the same pixels), and the crop is then cut at a random offset inside the
processed window, so the 8x8 JPEG grid and a resize's phase fall anywhere in the tile.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from deepfake_dct.detector.images import InputPolicy
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
        top, left = int(rng.integers(0, h - win_h + 1)), int(rng.integers(0, w - win_w + 1))
        window = np.ascontiguousarray(rgb[top : top + win_h, left : left + win_w])
        processed = apply_steps(window, steps, rng)
        ph, pw = processed.shape[:2]
        if ph < policy.height or pw < policy.width:  # rounding at the smallest sizes
            processed = apply_steps(window, tuple(s for s in steps if not s[0].startswith("resize-")), rng)
            ph, pw = processed.shape[:2]
        y, x = int(rng.integers(0, ph - policy.height + 1)), int(rng.integers(0, pw - policy.width + 1))
        crops.append(processed[y : y + policy.height, x : x + policy.width])
    return np.stack(crops)


def crop_rng(seed: int, key: str, epoch: int = 0) -> np.random.Generator:
    """The generator for one image's crops: from the run's seed, the image's name and the epoch,
    never from its label or its place in the file list."""
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8")), epoch])
