"""The edited mask as plain data: a bool array and undo-able operations on it.

Every operation changes the mask in place and returns a `MaskDiff` naming which
pixels flipped (packed bits per rectangle). Undo and redo are the same XOR of
those bits, so a diff costs one bit per pixel of its bounding box and a brush
stroke across a 6000x4000 image stays small. Diffs must be applied in history
order, which a linear undo stack guarantees.

Coordinates are image pixels as floats, (x, y) = (column, row); pixel (i, j)
covers [j, j+1) x [i, i+1), so its centre is (j + 0.5, i + 0.5).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import mask_bbox

log = logging.getLogger(__name__)

Point = tuple[float, float]
Box = tuple[int, int, int, int]  # top, left, bottom, right (exclusive end)

_SHIFT = 4  # fixed-point bits for OpenCV drawing: 1/16 pixel precision
_ONE = 1 << _SHIFT
MAX_RADIUS = 4096.0
COMBINE_MODES = ("replace", "add", "subtract")


@dataclass(frozen=True)
class Patch:
    """The pixels of one rectangle that an operation flipped, as packed bits."""

    top: int
    left: int
    height: int
    width: int
    bits: NDArray[np.uint8]  # np.packbits of the (height, width) bool flip mask

    @property
    def box(self) -> Box:
        return self.top, self.left, self.top + self.height, self.left + self.width

    def flips(self) -> NDArray[np.bool_]:
        n = self.height * self.width
        return np.unpackbits(self.bits, count=n).reshape(self.height, self.width).view(np.bool_)


@dataclass(frozen=True)
class MaskDiff:
    """What one operation (or a whole stroke) changed: rectangles of flipped pixels, in order."""

    patches: tuple[Patch, ...]

    @property
    def box(self) -> Box:
        """Bounding box of everything that changed."""
        boxes = [p.box for p in self.patches]
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )

    @property
    def boxes(self) -> list[Box]:
        """Each changed rectangle: smaller dirty regions than `box` for a long stroke."""
        return [p.box for p in self.patches]

    @property
    def nbytes(self) -> int:
        return sum(p.bits.nbytes for p in self.patches)

    @staticmethod
    def concat(diffs: Iterable[MaskDiff | None]) -> MaskDiff | None:
        """One diff doing `diffs` in order; None when none of them changed anything."""
        patches = tuple(p for d in diffs if d is not None for p in d.patches)
        return MaskDiff(patches) if patches else None


class MaskDoc:
    """A bool (H, W) mask, True = fill, with operations that return their diff."""

    def __init__(self, height: int, width: int) -> None:
        if height < 1 or width < 1:
            raise ValueError(f"mask size must be positive, got {width}x{height}")
        self._mask = np.zeros((height, width), dtype=np.bool_)

    @classmethod
    def from_array(cls, mask: NDArray[np.bool_]) -> MaskDoc:
        doc = cls(*mask.shape)
        doc._mask[:] = mask
        return doc

    @property
    def shape(self) -> tuple[int, int]:
        return self._mask.shape  # type: ignore[return-value]

    @property
    def mask(self) -> NDArray[np.bool_]:
        """The mask, read-only: change it through the operations."""
        view = self._mask.view()
        view.flags.writeable = False
        return view

    def copy(self) -> NDArray[np.bool_]:
        return self._mask.copy()

    def any(self) -> bool:
        return bool(self._mask.any())

    # -- applying diffs ------------------------------------------------------------------

    def undo(self, diff: MaskDiff) -> None:
        """Revert diff; it must be the latest change still applied."""
        for p in reversed(diff.patches):
            self._flip(p)

    def redo(self, diff: MaskDiff) -> None:
        """Apply diff again after undo."""
        for p in diff.patches:
            self._flip(p)

    def _flip(self, p: Patch) -> None:
        top, left, bottom, right = p.box
        self._mask[top:bottom, left:right] ^= p.flips()

    # -- operations ----------------------------------------------------------------------

    def stroke(self, p0: Point, p1: Point, radius: float, value: bool = True) -> MaskDiff | None:
        """Paint (value=True) or erase a round brush of `radius` swept from p0 to p1.

        Long segments are cut into pieces so each patch stays close to the stroke.
        """
        radius = float(min(max(radius, 0.5), MAX_RADIUS))
        (x0, y0), (x1, y1) = p0, p1
        length = math.hypot(x1 - x0, y1 - y0)
        step = max(4.0 * radius, 64.0)
        pieces = max(1, math.ceil(length / step))
        diffs = []
        for k in range(pieces):
            a = k / pieces
            c = (k + 1) / pieces
            q0 = (x0 + (x1 - x0) * a, y0 + (y1 - y0) * a)
            q1 = (x0 + (x1 - x0) * c, y0 + (y1 - y0) * c)
            diffs.append(self._capsule(q0, q1, radius, value))
        return MaskDiff.concat(diffs)

    def rectangle(self, p0: Point, p1: Point, value: bool = True) -> MaskDiff | None:
        """Set every pixel the rectangle with corners p0, p1 touches."""
        h, w = self.shape
        left = max(0, math.floor(min(p0[0], p1[0])))
        right = min(w, math.ceil(max(p0[0], p1[0])))
        top = max(0, math.floor(min(p0[1], p1[1])))
        bottom = min(h, math.ceil(max(p0[1], p1[1])))
        if right <= left or bottom <= top:
            return None
        new = np.full((bottom - top, right - left), value, dtype=np.bool_)
        return self._commit((top, left, bottom, right), new)

    def polygon(self, points: Sequence[Point], value: bool = True) -> MaskDiff | None:
        """Fill the closed polygon through points (a lasso); pixels whose centre is inside."""
        if len(points) < 3:
            return None
        pts = np.asarray(points, dtype=np.float64)
        if not np.isfinite(pts).all():
            raise ValueError("polygon points must be finite numbers")
        h, w = self.shape
        left = max(0, math.floor(pts[:, 0].min()) - 1)
        right = min(w, math.ceil(pts[:, 0].max()) + 1)
        top = max(0, math.floor(pts[:, 1].min()) - 1)
        bottom = min(h, math.ceil(pts[:, 1].max()) + 1)
        if right <= left or bottom <= top:
            return None
        box = (top, left, bottom, right)
        canvas = self._mask[top:bottom, left:right].astype(np.uint8)
        # Clamp far-away points so fixed-point coordinates cannot overflow int32.
        fixed = np.clip(pts - (left + 0.5, top + 0.5), -1e5, 1e5)
        poly = np.round(fixed * _ONE).astype(np.int32).reshape(-1, 1, 2)
        cv2.fillPoly(canvas, [poly], int(value), lineType=cv2.LINE_8, shift=_SHIFT)
        return self._commit(box, canvas.view(np.bool_))

    def clear(self) -> MaskDiff | None:
        return self._set_everywhere(False)

    def fill(self) -> MaskDiff | None:
        return self._set_everywhere(True)

    def invert(self) -> MaskDiff | None:
        h, w = self.shape
        return self._commit((0, 0, h, w), ~self._mask)

    def replace(self, mask: NDArray[np.bool_]) -> MaskDiff | None:
        """Make the mask equal to `mask` (same shape)."""
        if mask.shape != self.shape:
            raise ValueError(f"mask shape {mask.shape} differs from {self.shape}")
        h, w = self.shape
        return self._commit((0, 0, h, w), np.asarray(mask, dtype=np.bool_))

    def combine(
        self, region: NDArray[np.bool_], top: int, left: int, mode: str = "replace"
    ) -> MaskDiff | None:
        """Merge a mask `region` placed at (top, left) into the mask, as one operation.

        mode "replace": the mask becomes the region (cleared elsewhere); "add": the region is
        added; "subtract": the region is removed. Only pixels inside the region's rectangle
        change, and for "replace" also the old mask's pixels outside it, which are cleared.
        """
        if mode not in COMBINE_MODES:
            raise ValueError(f"unknown mode {mode!r}; valid: {', '.join(COMBINE_MODES)}")
        if region.ndim != 2:
            raise ValueError(f"region must be a 2-D bool array, got shape {region.shape}")
        h, w = self.shape
        rh, rw = region.shape
        t0, l0 = max(0, top), max(0, left)
        t1, l1 = min(h, top + rh), min(w, left + rw)
        if t1 <= t0 or l1 <= l0:
            return self.clear() if mode == "replace" else None
        region = np.asarray(region[t0 - top : t1 - top, l0 - left : l1 - left], dtype=np.bool_)
        box = (t0, l0, t1, l1)
        if mode == "replace":
            old = mask_bbox(self._mask)
            if old is not None:
                box = (min(t0, old[0]), min(l0, old[1]), max(t1, old[2]), max(l1, old[3]))
            new = np.zeros((box[2] - box[0], box[3] - box[1]), dtype=np.bool_)
            new[t0 - box[0] : t1 - box[0], l0 - box[1] : l1 - box[1]] = region
        else:
            current = self._mask[t0:t1, l0:l1]
            new = current | region if mode == "add" else current & ~region
        return self._commit(box, new)

    def grow(self, pixels: int) -> MaskDiff | None:
        """Add every pixel within `pixels` (Euclidean) of the mask."""
        if pixels <= 0:
            return None
        box = mask_bbox(self._mask)
        if box is None:
            return None
        h, w = self.shape
        top, left = max(0, box[0] - pixels), max(0, box[1] - pixels)
        bottom, right = min(h, box[2] + pixels), min(w, box[3] + pixels)
        crop = self._mask[top:bottom, left:right]
        # distanceTransform measures, for each non-zero pixel, the distance to the nearest zero.
        dist = cv2.distanceTransform((~crop).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        return self._commit((top, left, bottom, right), dist <= pixels + 1e-6)

    def shrink(self, pixels: int) -> MaskDiff | None:
        """Remove every mask pixel within `pixels` of a non-mask pixel (image edges do not count)."""
        if pixels <= 0:
            return None
        box = mask_bbox(self._mask)
        if box is None:
            return None
        h, w = self.shape
        top, left = max(0, box[0] - 1), max(0, box[1] - 1)
        bottom, right = min(h, box[2] + 1), min(w, box[3] + 1)
        crop = self._mask[top:bottom, left:right]
        # Beyond the image border the mask continues, so the border does not erode it.
        padded = np.pad(
            crop,
            ((int(top == 0), int(bottom == h)), (int(left == 0), int(right == w))),
            mode="edge",
        )
        dist = cv2.distanceTransform(padded.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        dist = dist[
            int(top == 0) : dist.shape[0] - int(bottom == h),
            int(left == 0) : dist.shape[1] - int(right == w),
        ]
        return self._commit((top, left, bottom, right), crop & (dist > pixels + 1e-6))

    # -- helpers -------------------------------------------------------------------------

    def _set_everywhere(self, value: bool) -> MaskDiff | None:
        box = mask_bbox(self._mask if not value else ~self._mask)
        if box is None:
            return None
        top, left, bottom, right = box
        return self._commit(box, np.full((bottom - top, right - left), value, dtype=np.bool_))

    def _capsule(self, p0: Point, p1: Point, radius: float, value: bool) -> MaskDiff | None:
        h, w = self.shape
        pad = radius + 1.0
        left = max(0, math.floor(min(p0[0], p1[0]) - pad))
        right = min(w, math.ceil(max(p0[0], p1[0]) + pad))
        top = max(0, math.floor(min(p0[1], p1[1]) - pad))
        bottom = min(h, math.ceil(max(p0[1], p1[1]) + pad))
        if right <= left or bottom <= top:
            return None
        canvas = self._mask[top:bottom, left:right].astype(np.uint8)
        # Pixel centres sit at integer coordinates in OpenCV, at +0.5 in ours.
        a = (round((p0[0] - left - 0.5) * _ONE), round((p0[1] - top - 0.5) * _ONE))
        b = (round((p1[0] - left - 0.5) * _ONE), round((p1[1] - top - 0.5) * _ONE))
        r = round(radius * _ONE)
        colour = int(value)
        cv2.circle(canvas, a, r, colour, -1, cv2.LINE_8, _SHIFT)
        if a != b:
            cv2.circle(canvas, b, r, colour, -1, cv2.LINE_8, _SHIFT)
            _fill_band(canvas, a, b, r, colour)
        return self._commit((top, left, bottom, right), canvas.view(np.bool_))

    def _commit(self, box: Box, new: NDArray[np.bool_]) -> MaskDiff | None:
        """Write `new` over box; return the diff of the pixels that really changed."""
        top, left, bottom, right = box
        region = self._mask[top:bottom, left:right]
        flips = region != new
        tight = mask_bbox(flips)
        if tight is None:
            return None
        t0, l0, t1, l1 = tight
        flips = flips[t0:t1, l0:l1]
        region[t0:t1, l0:l1] ^= flips
        patch = Patch(top + t0, left + l0, t1 - t0, l1 - l0, np.packbits(flips, axis=None))
        return MaskDiff((patch,))


def _fill_band(
    canvas: NDArray[np.uint8], a: tuple[int, int], b: tuple[int, int], r: int, colour: int
) -> None:
    """Fill the rectangle of half-width r around segment a-b (fixed-point coordinates)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    nx, ny = -dy / length * r, dx / length * r
    quad = np.array(
        [
            (a[0] + nx, a[1] + ny),
            (b[0] + nx, b[1] + ny),
            (b[0] - nx, b[1] - ny),
            (a[0] - nx, a[1] - ny),
        ]
    )
    cv2.fillConvexPoly(canvas, np.round(quad).astype(np.int32), colour, cv2.LINE_8, _SHIFT)
