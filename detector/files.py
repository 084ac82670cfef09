"""Which files a command reads: paths as given, folders walked, globs expanded. One rule for every
caller (the CLI, the webcam's folder source, evaluation, analysis): in a folder, a file is an image
when its extension says so or its first bytes do."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Iterator, Sequence

#: Extensions picked up when a folder is given (files named explicitly are always tried, by content).
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})

#: The first bytes of the formats above: a folder's file that starts with one of these is picked up
#: whatever its name (a PNG saved as ``.dat``). WebP is checked apart (RIFF....WEBP).
IMAGE_SIGNATURES = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",  # PNG
    b"GIF87a",
    b"GIF89a",
    b"BM",  # BMP
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",  # TIFF, big-endian
)


def has_image_signature(path: Path) -> bool:
    """Whether the file starts like a JPEG, PNG, GIF, BMP, WebP or TIFF (False if it cannot be read)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return head.startswith(IMAGE_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def is_image_file(path: Path) -> bool:
    """In a folder: an image by its extension, or else by its first bytes."""
    return path.is_file() and (path.suffix.lower() in IMAGE_EXTENSIONS or has_image_signature(path))


def expand_paths(items: Sequence[str]) -> Iterator[Path]:
    """Files as given; folders walked recursively for image files (:func:`is_image_file`); globs
    expanded (sorted)."""
    for item in items:
        path = Path(item)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if is_image_file(p))
        elif not path.exists() and glob.has_magic(item):
            matches = sorted(glob.glob(item, recursive=True))
            yield from (Path(m) for m in matches) if matches else [path]
        else:
            yield path


def count_files(items: Sequence[str]) -> int:
    """How many files the folders among ``items`` hold (recursive), images or not: what a command
    that found no image says it found instead."""
    return sum(1 for item in items if Path(item).is_dir() for p in Path(item).rglob("*") if p.is_file())
