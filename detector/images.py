"""Decoding and the image-to-input policy: any image a user has -> the RGB array the model reads.

Every failure here is an :class:`ImageError` with a sentence a person can act on; nothing is guessed.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps

ImageInput = Union[str, os.PathLike, bytes, bytearray, memoryview, Image.Image, np.ndarray]

#: Refuse images with more pixels than this before decoding them (a 30000x30000 PNG of a few KB
#: would otherwise take 2.7 GB to decode). 64 MP covers most camera photos; raise it for larger ones.
DEFAULT_MAX_PIXELS = 64_000_000
#: Refuse files larger than this before reading them.
DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024

# The resampling filters a policy may name, to Pillow's.
_RESAMPLE = {
    "area": Image.Resampling.BOX,
    "lanczos": Image.Resampling.LANCZOS,
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
}


class ImageError(ValueError):
    """An input that cannot become a model input; the message says why."""


class ImageTooSmallError(ImageError):
    """The image is smaller than the model's input: it is never upsampled to fit."""


#: The ways a policy may turn an image into model inputs.
POLICY_MODES = ("resize", "tiles")


@dataclass(frozen=True)
class Box:
    """Where a model input came from, in the decoded image's pixels."""

    top: int
    left: int
    height: int
    width: int


@dataclass(frozen=True)
class InputPolicy:
    """How an image of any size becomes the model's (height, width) inputs. Recorded in the model file.

    Two modes:

    - ``"tiles"`` (native resolution): the model reads ``height`` x ``width`` crops of the image's own
      pixels, never resampled, on a fixed grid of at most ``grid`` x ``grid`` tiles spread evenly
      over the image (one centred tile where the image holds only one), each starting on a multiple
      of 16 (:data:`TILE_ALIGN`). The verdict aggregates the tiles' scores. Resampling changes exactly the high frequencies a GAN leaves its traces in, so
      this mode never resamples at all.
    - ``"resize"`` (the first models'): a large image is centre-cropped to the input's aspect ratio
      and downscaled with ``resample``, as their training thumbnails were made. One input per image.

    Either way an image smaller than the input is refused: upsampling would paint exactly the grid
    the model looks for.
    """

    height: int = 128
    """Model input height in pixels."""
    width: int = 128
    """Model input width in pixels."""
    resample: str = "area"
    """"resize" mode: filter for downscaling larger images: "area", "lanczos", "bicubic", "bilinear"."""
    jpeg_quality: int = 0
    """If not 0, each model input is re-encoded as JPEG at this quality (4:2:0, libjpeg's tables via
    Pillow), as every training image was: a PNG and a JPEG of one face then reach the network with
    the same compression history, and a model cannot learn "lossless means real"."""
    mode: str = "resize"
    """"tiles" (native-resolution crops) or "resize" (one downscaled input)."""
    grid: int = 3
    """"tiles" mode: at most grid x grid tiles per image."""

    def __post_init__(self) -> None:
        if not 0 <= self.jpeg_quality <= 100:
            raise ValueError(f"Expected jpeg_quality in 0..100 (0 = off), got {self.jpeg_quality}.")
        if self.height < 8 or self.width < 8:
            raise ValueError(f"Expected an input size of at least 8x8, got {self.height}x{self.width}.")
        if self.resample not in _RESAMPLE:
            raise ValueError(f"Expected resample in {sorted(_RESAMPLE)}, got {self.resample!r}.")
        if self.mode not in POLICY_MODES:
            raise ValueError(f"Expected mode in {POLICY_MODES}, got {self.mode!r}.")
        if not 1 <= self.grid <= 16:
            raise ValueError(f"Expected grid in 1..16, got {self.grid}.")

    def to_dict(self) -> dict:
        d = {
            "height": self.height,
            "width": self.width,
            "resample": self.resample,
            "jpeg_quality": self.jpeg_quality,
        }
        if self.mode != "resize":  # Files of the first format carry no mode: they are all "resize".
            d.update(mode=self.mode, grid=self.grid)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "InputPolicy":
        return cls(
            height=int(d["height"]),
            width=int(d["width"]),
            resample=str(d["resample"]),
            jpeg_quality=int(d.get("jpeg_quality", 0)),
            mode=str(d.get("mode", "resize")),
            grid=int(d.get("grid", 3)),
        )

    def check_size(self, rgb: np.ndarray) -> None:
        """Raises :class:`ImageTooSmallError` for an image smaller than one model input."""
        h, w = rgb.shape[:2]
        if h < self.height or w < self.width:
            raise ImageTooSmallError(
                f"Expected an image of at least {self.width}x{self.height} pixels, got {w}x{h}; "
                "it is not upsampled, since resampling would change the frequencies the model reads."
            )

    def boxes(self, image_height: int, image_width: int) -> tuple[Box, ...]:
        """Where the model inputs come from in an image of this size (row-major, top left first)."""
        if self.mode == "resize":
            crop_h, crop_w = self._aspect_crop(image_height, image_width)
            return (Box((image_height - crop_h) // 2, (image_width - crop_w) // 2, crop_h, crop_w),)
        tops = _grid_positions(image_height, self.height, self.grid)
        lefts = _grid_positions(image_width, self.width, self.grid)
        return tuple(Box(t, l, self.height, self.width) for t in tops for l in lefts)

    def crops(self, rgb: np.ndarray) -> tuple[np.ndarray, tuple[Box, ...]]:
        """(H, W, 3) uint8 RGB -> ((N, height, width, 3) uint8 model inputs, their N boxes).

        Raises:
          ImageTooSmallError: the image is smaller than one input.
        """
        self.check_size(rgb)
        boxes = self.boxes(*rgb.shape[:2])
        if self.mode == "resize":
            return self.apply(rgb)[None], boxes
        stack = np.stack([rgb[b.top : b.top + b.height, b.left : b.left + b.width] for b in boxes])
        if self.jpeg_quality:
            stack = np.stack([jpeg_roundtrip(crop, self.jpeg_quality) for crop in stack])
        return stack, boxes

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        """"resize" mode: (H, W, 3) uint8 RGB -> (height, width, 3) uint8: fit, then the JPEG step."""
        if self.mode != "resize":
            raise ValueError(f"Expected a resize policy for one fitted input, got mode {self.mode!r}: use crops().")
        fitted = self.fit(rgb)
        return jpeg_roundtrip(fitted, self.jpeg_quality) if self.jpeg_quality else fitted

    def _aspect_crop(self, h: int, w: int) -> tuple[int, int]:
        """The largest centred crop with the input's aspect ratio (integer arithmetic, no float drift)."""
        crop_h, crop_w = h, w
        if h * self.width > w * self.height:
            crop_h = max(self.height, w * self.height // self.width)
        else:
            crop_w = max(self.width, h * self.width // self.height)
        return crop_h, crop_w

    def fit(self, rgb: np.ndarray) -> np.ndarray:
        """"resize" mode: (H, W, 3) uint8 RGB -> (height, width, 3) uint8: centre crop to aspect,
        then downscale."""
        self.check_size(rgb)
        h, w = rgb.shape[:2]
        if (h, w) == (self.height, self.width):
            return rgb
        (box,) = self.boxes(h, w)
        cropped = rgb[box.top : box.top + box.height, box.left : box.left + box.width]
        if (box.height, box.width) == (self.height, self.width):
            return np.ascontiguousarray(cropped)
        resized = Image.fromarray(cropped).resize(
            (self.width, self.height), resample=_RESAMPLE[self.resample]
        )
        return np.asarray(resized)


#: Tiles start on multiples of this: a JPEG's 16x16 colour blocks (8x8 luma, 4:2:0 chroma). A tile
#: then keeps the blocking of the file as stored in phase with its own, so re-encoding it (a
#: policy's JPEG step) lays its blocks over the old ones instead of across them, whatever the class.
TILE_ALIGN = 16


def _grid_positions(length: int, tile: int, count: int) -> list[int]:
    """Up to ``count`` tile offsets spread evenly over ``length`` (one centred if only one fits),
    each rounded down to a multiple of :data:`TILE_ALIGN`."""
    n = max(1, min(count, length // tile))
    if n == 1:
        return [(length - tile) // 2 // TILE_ALIGN * TILE_ALIGN]
    return [i * (length - tile) // (n - 1) // TILE_ALIGN * TILE_ALIGN for i in range(n)]


def jpeg_roundtrip(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Encodes an RGB uint8 array as JPEG (4:2:0) at ``quality`` and decodes it again."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=int(quality), subsampling="4:2:0")
    buffer.seek(0)
    with Image.open(buffer) as im:
        return np.asarray(im.convert("RGB"))


def describe_source(source: ImageInput) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return f"<{type(source).__name__}>"


def open_image(
    source: ImageInput,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Image.Image:
    """Opens a path or bytes lazily (header only), decoding by content, never by file extension.

    The pixel budget itself is checked by :func:`decode_rgb`, from the header; ``max_pixels`` here
    only words the refusal of an image so large that Pillow's own guard (2 x
    ``Image.MAX_IMAGE_PIXELS``, 178,956,970 pixels by default) stops it while reading the header.
    """
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"{path}: no such file.")
        size = path.stat().st_size
        if size > max_file_bytes:
            raise ImageError(f"{path}: file is {size:,} bytes, over the limit of {max_file_bytes:,}.")
        data = path.read_bytes()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > max_file_bytes:
            raise ImageError(f"Data is {len(data):,} bytes, over the limit of {max_file_bytes:,}.")
    else:
        raise ImageError(
            "Expected a path, bytes, a PIL image or a numpy array, "
            f"got {type(source).__name__}."
        )
    if not data:
        raise ImageError(f"{describe_source(source)}: the file is empty.")
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS; our own budget (decode_rgb) decides instead, so
            # that a caller's max_pixels above Pillow's warning level is honoured.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        raise ImageError(
            f"{describe_source(source)}: over the limit of {max_pixels:,} pixels; refused before decoding "
            f"(Pillow: {e})"
        ) from e
    except Image.UnidentifiedImageError as e:
        raise ImageError(f"{describe_source(source)}: not an image Pillow can read.") from e
    except Exception as e:  # Pillow's format plugins raise many types on hostile input.
        raise ImageError(f"{describe_source(source)}: cannot read the image ({type(e).__name__}: {e}).") from e


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB, keeping what a viewer would see."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info):
        # Composited over white by paste-with-mask: one RGB copy instead of alpha_composite's
        # three RGBA ones (a 64 MP RGBA PNG: peak memory 1.29 GB before, 1.10 GB after).
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
        return background
    if mode.startswith("I;16") or mode == "I":
        # 16-bit (or 32-bit integer) samples: map 0..65535 onto 0..255, rounding to nearest
        # ((x + 128) // 257 == rint(x / 257) for integers), in integers: 4 bytes a pixel, not 8.
        wide = np.clip(np.asarray(im), 0, 65535).astype(np.uint32)
        grey = ((wide + 128) // 257).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    if mode == "F":
        grey = np.clip(np.rint(np.asarray(im, dtype=np.float64)), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    return im.convert("RGB")


def decode_rgb(
    source: ImageInput,
    bgr: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> np.ndarray:
    """Any supported input -> (H, W, 3) uint8 RGB, EXIF orientation applied, first frame if animated.

    Args:
      source: a path, encoded bytes, a PIL image, or a uint8 numpy array of shape (H, W), (H, W, 1),
        (H, W, 3) or (H, W, 4).
      bgr: the numpy array is in OpenCV's BGR(A) order (ignored for other inputs, which carry their
        own colour meaning).
      max_pixels: refuse larger images before decoding them.

    Raises:
      ImageError: the input cannot be read; the message says why.
    """
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source, bgr)
    im = open_image(source, max_file_bytes, max_pixels)
    width, height = im.size
    if width * height > max_pixels:
        raise ImageError(
            f"{describe_source(source)}: {width}x{height} is {width * height:,} pixels, over the limit of "
            f"{max_pixels:,}; refused before decoding."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked above
            if getattr(im, "is_animated", False):
                im.seek(0)
            im.load()
            # In place (no copy of an upright image) unless the image is the caller's own.
            im = ImageOps.exif_transpose(im, in_place=im is not source) or im
            rgb = _to_rgb(im)
            return np.array(rgb, dtype=np.uint8)
    except Exception as e:  # Pillow's format plugins raise many types on hostile input.
        raise ImageError(f"{describe_source(source)}: cannot decode the image ({type(e).__name__}: {e}).") from e


def _array_to_rgb(array: np.ndarray, bgr: bool) -> np.ndarray:
    if array.dtype != np.uint8:
        raise ImageError(f"Expected a uint8 array, got dtype {array.dtype}.")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        return np.ascontiguousarray(np.repeat(array[:, :, None], 3, axis=2))
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ImageError(f"Expected an (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array, got {array.shape}.")
    rgb = array[:, :, :3]
    if bgr:
        rgb = rgb[:, :, ::-1]
    return np.ascontiguousarray(rgb)
