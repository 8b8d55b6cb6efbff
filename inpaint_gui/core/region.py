"""Choosing, cutting out and pasting back the working region around a mask."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import grow_box, mask_bbox


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
    #: (top, left, bottom, right) of the holes this region fills, in image pixels; None = all the
    #: holes in the crop. Regions of one plan have disjoint hole boxes, so each hole pixel is
    #: pasted back by exactly one region.
    hole: tuple[int, int, int, int] | None = None

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
        top, left, bottom, right = grow_box((t, lft, b, r), m, (h, w))
    ch, cw = bottom - top, right - left
    scale = 1.0
    if max_side is not None and max(ch, cw) > max_side:
        scale = max_side / max(ch, cw)
    work_h, work_w = max(1, round(ch * scale)), max(1, round(cw * scale))
    pad_h, pad_w = (-work_h) % multiple, (-work_w) % multiple
    return Region(top, left, bottom, right, work_h, work_w, pad_h, pad_w)


def plan_regions(
    mask: NDArray[np.bool_],
    *,
    max_side: int | None,
    multiple: int,
    margin: float = 1.0,
    min_margin: int = 16,
    merge: float = 0.5,
) -> list[Region]:
    """One working region per group of nearby holes.

    The holes are the mask's 8-connected components; two are merged into one group when their
    boxes, each grown by `merge` times its own margin, touch (repeated until no groups touch), so
    one crop never has to hold two far-apart holes. Each group gets a context box `margin` times
    its size on every side (at least min_margin pixels), shifted inward at the image border
    rather than cut off, and scaled down only if it is larger than max_side. When the whole image
    already fits in max_side it is one region, as plan_region does.
    """
    h, w = mask.shape
    whole = mask_bbox(mask)
    if whole is None or (max_side is not None and max(h, w) <= max_side):
        return [plan_region(mask, max_side=max_side, multiple=multiple, margin=margin, min_margin=min_margin)]
    regions = []
    for box in _hole_groups(mask, whole, margin, min_margin, merge):
        top, left, bottom, right = _context_box(box, (h, w), margin, min_margin)
        ch, cw = bottom - top, right - left
        scale = 1.0 if max_side is None or max(ch, cw) <= max_side else max_side / max(ch, cw)
        work_h, work_w = max(1, round(ch * scale)), max(1, round(cw * scale))
        pad_h, pad_w = (-work_h) % multiple, (-work_w) % multiple
        regions.append(Region(top, left, bottom, right, work_h, work_w, pad_h, pad_w, hole=box))
    return regions


#: Connected components are found on a grid at most this many cells (OR-pooled from the mask),
#: so a 12000x8000 mask needs no full-size label image.
_GRID_CELLS = 4_000_000


def _hole_groups(
    mask: NDArray[np.bool_], whole: tuple[int, int, int, int], margin: float, min_margin: int, merge: float
) -> list[tuple[int, int, int, int]]:
    """Exact (top, left, bottom, right) boxes of the merged hole groups, disjoint, row-major order."""
    t0, l0, b0, r0 = whole
    sub = mask[t0:b0, l0:r0]
    f = max(1, int(np.ceil(np.sqrt(sub.size / _GRID_CELLS))))
    gh, gw = -(-sub.shape[0] // f), -(-sub.shape[1] // f)
    if f > 1:  # OR-pooling keeps every hole and its connectivity (holes < f px apart may join)
        padded = np.zeros((gh * f, gw * f), bool)
        padded[: sub.shape[0], : sub.shape[1]] = sub
        grid = padded.reshape(gh, f, gw, f).any(axis=(1, 3))
    else:
        grid = sub
    _, _, stats, _ = cv2.connectedComponentsWithStats(grid.astype(np.uint8), connectivity=8)
    boxes = [(int(y), int(x), int(y + hh), int(x + ww)) for x, y, ww, hh, _ in stats[1:]]  # grid cells
    while len(boxes) > 1:
        canvas = np.zeros((gh, gw), np.uint8)
        for t, lft, b, r in boxes:
            grow = merge * _margin(max(b - t, r - lft) * f, margin, min_margin) / f
            g = int(np.ceil(grow))
            canvas[max(0, t - g) : b + g, max(0, lft - g) : r + g] = 1
        count, labels = cv2.connectedComponents(canvas, connectivity=8)
        if count - 1 == len(boxes):
            break
        merged: dict[int, tuple[int, int, int, int]] = {}
        for t, lft, b, r in boxes:
            k = int(labels[t, lft])
            o = merged.get(k, (t, lft, b, r))
            merged[k] = (min(o[0], t), min(o[1], lft), max(o[2], b), max(o[3], r))
        boxes = list(merged.values())
    out = []
    for t, lft, b, r in sorted(boxes):
        t, lft, b, r = t0 + t * f, l0 + lft * f, min(b0, t0 + b * f), min(r0, l0 + r * f)
        exact = mask_bbox(mask[t:b, lft:r])
        if exact is not None:
            out.append((t + exact[0], lft + exact[1], t + exact[2], lft + exact[3]))
    return out


def _margin(size: int, margin: float, min_margin: int) -> int:
    return max(min_margin, int(round(margin * size)))


def _context_box(
    box: tuple[int, int, int, int], shape: tuple[int, int], margin: float, min_margin: int
) -> tuple[int, int, int, int]:
    """The hole box grown by its margin, moved (not cut) to stay inside the image where it fits."""
    t, lft, b, r = box
    m = _margin(max(b - t, r - lft), margin, min_margin)
    top, bottom = _shift_inside(t - m, b + m, shape[0])
    left, right = _shift_inside(lft - m, r + m, shape[1])
    return top, left, bottom, right


def _shift_inside(start: int, end: int, size: int) -> tuple[int, int]:
    if end - start >= size:
        return 0, size
    if start < 0:
        return 0, end - start
    if end > size:
        return size - (end - start), size
    return start, end


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
    out = image.copy()
    paste_into(region, prediction, out, mask)
    return out


def paste_into(
    region: Region, prediction: NDArray[np.uint8], out: NDArray[np.uint8], mask: NDArray[np.bool_]
) -> None:
    """Write the region's own hole pixels (those inside region.hole) from prediction into out, in place."""
    pred = prediction[: region.work_h, : region.work_w]
    if region.scaled:
        pred = cv2.resize(pred, (region.crop_w, region.crop_h), interpolation=cv2.INTER_CUBIC)
    t, lft, b, r = (
        region.hole if region.hole is not None else (region.top, region.left, region.bottom, region.right)
    )
    sl = (slice(t, b), slice(lft, r))
    own = mask[sl]
    view = out[sl]
    view[own] = pred[t - region.top : b - region.top, lft - region.left : r - region.left][own]
