"""Where the candidates disagree: a per-pixel spread map and its heat-map renderings.

The spread is the standard deviation across candidates, averaged over the RGB
channels and scaled to 0..1 (1 = two candidates at opposite ends of the range).
Pixels every candidate fills alike score 0; pixels where the model is guessing
score high.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import InputError, mask_bbox

log = logging.getLogger(__name__)

# Half the range: the largest standard deviation 8-bit values can have.
_MAX_STD = 127.5
#: Overlays draw at least this spread at full heat, so near-identical candidates stay dim.
MIN_FULL_HEAT = 0.15


def spread_map(
    images: Sequence[NDArray[np.uint8]], mask: NDArray[np.bool_] | None = None
) -> NDArray[np.float32]:
    """Per-pixel spread across candidate images, float32 (H, W) in 0..1.

    images: two or more uint8 (H, W, 3) arrays of one size. With mask, only the
    bounding box of its True pixels is computed and everything outside the mask
    is 0 (candidates equal the input there), so cost follows the hole's size.
    Fewer than two images give an all-zero map.
    """
    if len(images) == 0:
        raise InputError("spread_map needs at least one image")
    shape = images[0].shape
    for im in images:
        if not isinstance(im, np.ndarray) or im.dtype != np.uint8 or im.ndim != 3 or im.shape[2] != 3:
            raise InputError("candidate images must be uint8 (H, W, 3) arrays")
        if im.shape != shape:
            raise InputError(f"candidate images differ in size: {im.shape[:2]} vs {shape[:2]}")
    h, w = shape[:2]
    out = np.zeros((h, w), np.float32)
    if mask is not None:
        if mask.shape != (h, w):
            raise InputError(f"mask size {mask.shape[::-1]} differs from image size {(w, h)}")
        box = mask_bbox(mask)
        if box is None:
            return out
    else:
        box = (0, 0, h, w)
    if len(images) < 2:
        return out
    top, left, bottom, right = box
    # Running mean and sum of squares one image at a time: no (N, H, W, 3) stack.
    total = np.zeros((bottom - top, right - left, 3), np.float32)
    squares = np.zeros_like(total)
    for im in images:
        crop = im[top:bottom, left:right].astype(np.float32)
        total += crop
        squares += crop * crop
    n = float(len(images))
    mean = total / n
    var = np.maximum(squares / n - mean * mean, 0.0)
    std = np.sqrt(var).mean(axis=2) / _MAX_STD
    np.clip(std, 0.0, 1.0, out=std)
    if mask is not None:
        std[~mask[top:bottom, left:right]] = 0.0
    out[top:bottom, left:right] = std
    return out


def _normalise(spread: NDArray[np.float32], vmax: float | None) -> NDArray[np.uint8]:
    if spread.ndim != 2:
        raise InputError(f"spread map must be (H, W), got {spread.shape}")
    top = float(spread.max()) if vmax is None else float(vmax)
    if top <= 0.0:
        return np.zeros(spread.shape, np.uint8)
    return (np.clip(spread / top, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def heatmap_rgb(spread: NDArray[np.float32], vmax: float | None = None) -> NDArray[np.uint8]:
    """Render a spread map as uint8 (H, W, 3) RGB with the inferno colour map.

    vmax: the spread drawn at full heat; None = the map's own maximum, so the
    most uncertain pixel is always brightest.
    """
    level = _normalise(spread, vmax)
    bgr = cv2.applyColorMap(level, cv2.COLORMAP_INFERNO)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def heatmap_rgba(
    spread: NDArray[np.float32], opacity: float = 0.7, vmax: float | None = None
) -> NDArray[np.uint8]:
    """A uint8 (H, W, 4) RGBA overlay: heat colours, alpha growing with spread.

    Pixels with zero spread are fully transparent, so it can be drawn straight
    over the canvas. opacity (0..1) is the alpha of the most uncertain pixels.
    """
    if not 0.0 <= opacity <= 1.0:
        raise InputError(f"opacity must be between 0 and 1, got {opacity}")
    level = _normalise(spread, vmax)
    rgb = cv2.cvtColor(cv2.applyColorMap(level, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)
    # Alpha rises quickly at first so faint disagreement is still visible.
    alpha = np.sqrt(level.astype(np.float32) / 255.0) * (255.0 * opacity)
    out = np.empty(level.shape + (4,), np.uint8)
    out[..., :3] = rgb
    out[..., 3] = (alpha + 0.5).astype(np.uint8)
    return out


def uncertainty_overlay(
    images: Sequence[NDArray[np.uint8]],
    mask: NDArray[np.bool_] | None = None,
    opacity: float = 0.7,
) -> NDArray[np.uint8]:
    """Full-size uint8 (H, W, 4) RGBA heat overlay of where the candidates disagree.

    Only the mask's bounding box is computed and coloured (the rest is
    transparent), so a small hole in a 6000x4000 photo costs little. Colours are
    relative to the largest spread, but never brighter than MIN_FULL_HEAT allows.
    """
    spread = spread_map(images, mask)
    h, w = spread.shape
    out = np.zeros((h, w, 4), np.uint8)
    box = mask_bbox(mask) if mask is not None else (0, 0, h, w)
    if box is None:
        return out
    top, left, bottom, right = box
    crop = spread[top:bottom, left:right]
    vmax = max(float(crop.max()), MIN_FULL_HEAT)
    out[top:bottom, left:right] = heatmap_rgba(crop, opacity, vmax)
    return out
