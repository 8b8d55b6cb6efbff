"""Writing masks as files: an 8-bit PNG, white (255) = fill, black = keep.

Reading is image_io.load_mask, which the CLI uses too, so a mask saved from
the app is one the CLI accepts.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from inpaint_gui.core.files import atomic_write
from inpaint_gui.core.image_io import ImageError

log = logging.getLogger(__name__)


def save_mask(path: str | os.PathLike[str], mask: NDArray[np.bool_]) -> Path:
    """Write mask (bool (H, W), True = fill) as a greyscale PNG, atomically; returns the path."""
    path = Path(path)
    if mask.dtype != np.bool_ or mask.ndim != 2:
        raise ValueError(f"mask must be a bool (H, W) array, got {mask.dtype} {mask.shape}")
    if path.suffix.lower() != ".png":
        raise ImageError(f"{path}: masks are saved as PNG; use a .png name")
    image = Image.fromarray(mask.astype(np.uint8) * 255)  # 2-D uint8: mode "L"
    try:
        with atomic_write(path) as file:
            image.save(file, format="PNG")
    except OSError as exc:
        raise ImageError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    log.info("saved a mask of %d pixels to %s", int(mask.sum()), path)
    return path
