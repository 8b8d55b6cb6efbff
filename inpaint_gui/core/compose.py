"""Compositing and the checks every engine applies to its inputs."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray


class InputError(ValueError):
    """An image or mask that cannot be inpainted, with a message fit for the user."""


def check_image_and_mask(image: NDArray[np.uint8], mask: NDArray[np.bool_]) -> None:
    """Raise InputError unless image is uint8 (H, W, 3) RGB and mask is bool (H, W) of the same size."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise InputError(f"image must be a uint8 numpy array, got {describe(image)}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise InputError(f"image must have shape (H, W, 3) RGB, got {image.shape}")
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        raise InputError(f"mask must be a bool numpy array, got {describe(mask)}")
    if mask.ndim != 2:
        raise InputError(f"mask must have shape (H, W), got {mask.shape}")
    if mask.shape != image.shape[:2]:
        ih, iw = image.shape[:2]
        mh, mw = mask.shape
        raise InputError(f"mask size {mw}x{mh} differs from image size {iw}x{ih}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise InputError("image is empty")


def composite(
    prediction: NDArray[np.uint8], image: NDArray[np.uint8], mask: NDArray[np.bool_]
) -> NDArray[np.uint8]:
    """Masked pixels from prediction, all others bit-identical from image."""
    return np.where(mask[..., None], prediction, image)


def mask_bbox(mask: NDArray[np.bool_]) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the True pixels, exclusive end; None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def grow_box(box: tuple[int, int, int, int], by: int, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """box (top, left, bottom, right) grown by `by` pixels on every side, clipped to an image of
    shape (H, W, ...)."""
    h, w = shape[:2]
    top, left, bottom, right = box
    return max(0, top - by), max(0, left - by), min(h, bottom + by), min(w, right + by)


def describe(x: object) -> str:
    """A value's type and, for arrays, dtype and shape: for error messages."""
    if isinstance(x, np.ndarray):
        return f"array of {x.dtype} with shape {x.shape}"
    return type(x).__name__


def feather_alpha(mask: NDArray[np.bool_], radius: int) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """A soft edge: (alpha, grown) for a fill that blends into the photo over radius pixels.

    alpha is 1 on the mask and falls linearly over a ring of `radius` pixels
    (Euclidean) outside it; grown = alpha > 0 is the mask plus that ring, the
    region to generate for. With radius 0, alpha is the mask itself.
    """
    alpha = np.zeros(mask.shape, np.float32)
    grown = np.zeros(mask.shape, bool)
    box = mask_bbox(mask)
    if box is None:
        return alpha, grown
    radius = max(0, int(radius))
    h, w = mask.shape
    top, left = max(0, box[0] - radius), max(0, box[1] - radius)
    bottom, right = min(h, box[2] + radius), min(w, box[3] + radius)
    crop = mask[top:bottom, left:right]
    # distanceTransform: for each non-zero pixel, the distance to the nearest zero (a mask pixel).
    dist = cv2.distanceTransform((~crop).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ring = np.clip(1.0 - dist / (radius + 1.0), 0.0, 1.0).astype(np.float32)
    ring[dist > radius + 1e-6] = 0.0
    alpha[top:bottom, left:right] = ring
    grown[top:bottom, left:right] = ring > 0
    return alpha, grown


def feathered_fill(
    image: NDArray[np.uint8], candidate: NDArray[np.uint8], alpha: NDArray[np.float32]
) -> NDArray[np.uint8]:
    """alpha * candidate + (1 - alpha) * image, rounded; pixels with alpha 0 are image's, bit for bit."""
    a = alpha[..., None]
    out = np.rint(a * candidate.astype(np.float32) + (1.0 - a) * image.astype(np.float32)).astype(np.uint8)
    return np.where(a > 0, out, image)
