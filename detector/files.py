"""Which files a command reads: paths as given, folders walked, globs expanded. One list of image
extensions for every caller (the CLI, the webcam's folder source, evaluation, analysis)."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Iterator, Sequence

#: Extensions picked up when a folder is given (files named explicitly are always tried, by content).
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})


def expand_paths(items: Sequence[str]) -> Iterator[Path]:
    """Files as given; folders walked recursively for image files; globs expanded (sorted)."""
    for item in items:
        path = Path(item)
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
            )
        elif not path.exists() and glob.has_magic(item):
            matches = sorted(glob.glob(item, recursive=True))
            yield from (Path(m) for m in matches) if matches else [path]
        else:
            yield path
