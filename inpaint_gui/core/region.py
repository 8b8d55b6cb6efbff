"""Choosing, cutting out and pasting back the working region around a mask."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import mask_bbox


@dataclass(frozen=True)
class Region:
    """Where an engine works: a crop of the image, scaled, then padded.

    top/left/bottom/right: the crop in image pixels (exclusive end).
    work_h/work_w: the crop's size after scaling (before padding).
    pad_h/pad_w: rows/columns added at the bottom/right to reach the engine's size multiple.
    """

    top: int
    left: int
    bottom: int
    right: int
    work_h: int
    work_w: int
    pad_h: int
    pad_w: int

    @property
    def crop_h(self) -> int:
        return self.bottom - self.top

    @property
    def crop_w(self) -> int:
        return self.right - self.left

    @property
    def scaled(self) -> bool:
        return (self.work_h, self.work_w) != (self.crop_h, self.crop_w)


def plan_region(
    mask: NDArray[np.bool_],
    *,
    max_side: int | None,
    multiple: int,
    margin: float = 1.0,
    min_margin: int = 16,
) -> Region:
    """Pick the crop around the mask and the scale the engine works at.

    The whole image is used when it already fits in max_side; otherwise a crop
    around the mask with `margin` times the hole size of context on every side,
    scaled down only if it is still larger than max_side.
    """
    h, w = mask.shape
    box = mask_bbox(mask)
    if box is None:
        box = (0, 0, h, w)
    if max_side is not None and max(h, w) <= max_side:
        top, left, bottom, right = 0, 0, h, w
    else:
        t, lft, b, r = box
        m = max(min_margin, int(round(margin * max(b - t, r - lft))))
        top, left, bottom, right = max(0, t - m), max(0, lft - m), min(h, b + m), min(w, r + m)
    ch, cw = bottom - top, right - left
    scale = 1.0
    if max_side is not None and max(ch, cw) > max_side:
        scale = max_side / max(ch, cw)
    work_h, work_w = max(1, round(ch * scale)), max(1, round(cw * scale))
    pad_h, pad_w = (-work_h) % multiple, (-work_w) % multiple
    return Region(top, left, bottom, right, work_h, work_w, pad_h, pad_w)


def cut(
    region: Region, image: NDArray[np.uint8], mask: NDArray[np.bool_]
) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """The engine's input: image [h, w, 3] and mask [h, w] cropped, scaled and padded."""
    img = image[region.top : region.bottom, region.left : region.right]
    msk = mask[region.top : region.bottom, region.left : region.right]
    if region.scaled:
        size = (region.work_w, region.work_h)
        img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        # Any coverage counts as hole, so the scaled hole contains the original one.
        cover = cv2.resize(msk.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        msk = cover > 0
    if region.pad_h or region.pad_w:
        pads = ((0, region.pad_h), (0, region.pad_w))
        img = np.pad(img, (*pads, (0, 0)), mode="symmetric")
        msk = np.pad(msk, pads, mode="constant", constant_values=False)
    return np.ascontiguousarray(img), np.ascontiguousarray(msk)


def paste(
    region: Region,
    prediction: NDArray[np.uint8],
    image: NDArray[np.uint8],
    mask: NDArray[np.bool_],
) -> NDArray[np.uint8]:
    """Put an engine's output back: masked pixels from prediction, all others from image."""
    pred = prediction[: region.work_h, : region.work_w]
    if region.scaled:
        pred = cv2.resize(pred, (region.crop_w, region.crop_h), interpolation=cv2.INTER_CUBIC)
    out = image.copy()
    sl = (slice(region.top, region.bottom), slice(region.left, region.right))
    out[sl] = np.where(mask[sl][..., None], pred, image[sl])
    return out
