"""Mask hygiene before a fill: small gaps left inside a brushed mask closed, the mask grown on request.

A brushed mask often leaves a few unpainted pixels inside the object (a 23 x 14 px gap at 20 MP is
easy to miss at fit-to-window zoom). Every engine then keeps those pixels as they are, in the middle
of the fill: they come back as floating specks of the removed object. close_gaps paints such islands;
an unpainted area large enough to be kept on purpose (a person left standing inside a ring of
removed clutter) stays.

grow_mask adds an object's halo or soft shadow edge: every pixel within N pixels (Euclidean) of the
mask.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import mask_bbox

#: An unpainted island wholly surrounded by the mask is closed when it has at most this many pixels...
GAP_PIXELS = 64
#: ...or at most this share of the photo's pixels (480 px at 6000 x 4000, 400 at 20 MP).
GAP_SHARE = 2e-5
#: Largest grow setting, pixels.
MAX_GROW = 64


def gap_limit(shape: tuple[int, int]) -> int:
    """The largest island (pixels) that close_gaps closes in a photo of this (h, w)."""
    return max(GAP_PIXELS, int(GAP_SHARE * shape[0] * shape[1]))


def close_gaps(mask: NDArray[np.bool_], limit: int | None = None) -> tuple[NDArray[np.bool_], int]:
    """(mask with its small enclosed gaps closed, how many were closed).

    A gap is a 4-connected set of False pixels that does not reach the image border and has at most
    `limit` pixels (default gap_limit of the mask's shape). The mask is returned as given (not a
    copy) when no gap is closed.
    """
    box = mask_bbox(mask)
    if box is None:
        return mask, 0
    limit = gap_limit(mask.shape) if limit is None else int(limit)
    top, left, bottom, right = box
    # Enclosed gaps lie within the mask's box; one px of "unpainted" around it joins everything open to
    # the outside (or to the image border) into one component.
    crop = np.pad(~mask[top:bottom, left:right], 1, constant_values=True).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(crop, connectivity=4)
    outside = labels[0, 0]
    small = np.zeros(count, bool)
    small[1:] = stats[1:, cv2.CC_STAT_AREA] <= limit
    small[outside] = False
    closed = int(small.sum())
    if not closed:
        return mask, 0
    out = mask.copy()
    out[top:bottom, left:right] |= small[labels[1:-1, 1:-1]]
    return out, closed


def grow_mask(mask: NDArray[np.bool_], pixels: int) -> NDArray[np.bool_]:
    """The mask plus every pixel within `pixels` (Euclidean distance) of it; 0 gives it back as is."""
    pixels = int(pixels)
    if pixels < 0:
        raise ValueError(f"grow must be at least 0 pixels, got {pixels}")
    box = mask_bbox(mask)
    if pixels == 0 or box is None:
        return mask
    h, w = mask.shape
    top, left = max(0, box[0] - pixels), max(0, box[1] - pixels)
    bottom, right = min(h, box[2] + pixels), min(w, box[3] + pixels)
    crop = mask[top:bottom, left:right]
    # For each unmasked pixel, the exact distance to the nearest mask pixel.
    dist = cv2.distanceTransform((~crop).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    out = mask.copy()
    out[top:bottom, left:right] = dist <= pixels + 1e-6
    return out
