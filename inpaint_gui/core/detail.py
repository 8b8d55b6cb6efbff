"""Detail at full resolution for fills computed at a lower one (numpy + OpenCV).

Contextual residual aggregation (Yi et al., CVPR 2020): a network fills the hole at a working
resolution; its fill, upsampled, lacks the photo's high frequencies. The context has them: its
residual (the crop minus its own down- and up-sampled copy) is exactly what the upsampling lost.
Each hole cell of an attention grid gets a weighted sum of context cells' residual patches, with
the weights the network's attention (or patch similarity) gave between that cell and the context.

Unlike the paper, the cells' patches are blended bilinearly across cell borders (no block edges),
and the mix is brought back to the energy its sources have (as variance-preserving blending does,
Heitz & Neyret 2018), so mixing patches of grain does not average the grain away.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.blend import blend
from inpaint_gui.core.region import Region

log = logging.getLogger(__name__)

#: Most the mixed detail is amplified to restore its sources' energy.
MAX_GAIN = 4.0


@dataclass(frozen=True)
class CellWeights:
    """Where each listed query cell takes its detail from.

    cells: (Q,) flat ids (row * cols + col) in the query grid.
    sources: (Q, k) flat ids in the key grid; weights: (Q, k), each row summing to 1 (or all 0).
    """

    cells: NDArray[np.int64]
    sources: NDArray[np.int64]
    weights: NDArray[np.float32]


@dataclass(frozen=True)
class DetailMap:
    """One candidate's detail sources, in cells of the working image.

    The query grid has `rows` x `cols` cells of `stride` working pixels; keys were pooled by `pool`
    cells per side (the attention layer pools them on large inputs).
    """

    weights: CellWeights
    rows: int
    cols: int
    stride: int
    pool: int


@dataclass(frozen=True)
class Grid:
    """A grid of cells over a crop: shape (rows, cols), cell size (height, width) in crop pixels."""

    rows: int
    cols: int
    cell_h: float
    cell_w: float

    def origins(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        ys = np.floor(np.arange(self.rows) * self.cell_h).astype(np.int64)
        xs = np.floor(np.arange(self.cols) * self.cell_w).astype(np.int64)
        return ys, xs


def high_frequencies(crop: NDArray[np.uint8], work_size: tuple[int, int]) -> NDArray[np.float32]:
    """(h, w, 3) float32: crop minus its copy taken down to work_size (w, h) and back up, the same
    two resizes that bring a fill computed at work_size to the crop (area down, cubic up)."""
    h, w = crop.shape[:2]
    full = crop.astype(np.float32)
    low = cv2.resize(full, work_size, interpolation=cv2.INTER_AREA)
    return full - cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)


def transfer(
    residual: NDArray[np.float32],
    hole: NDArray[np.bool_],
    weights: CellWeights,
    grid: Grid,
    key_grid: Grid,
) -> NDArray[np.float32]:
    """(h, w, 3) detail for the hole pixels (0 elsewhere) aggregated from the residual.

    A hole pixel takes the patches of its 4 nearest cell centres, each cell's patch being its
    weighted key patches shifted to the pixel's place in the cell.
    """
    h, w = hole.shape
    out = np.zeros((h, w, 3), np.float32)
    ys, xs = np.nonzero(hole)
    if ys.size == 0 or weights.cells.size == 0:
        return out
    lookup = np.full(grid.rows * grid.cols, -1, np.int64)
    lookup[weights.cells] = np.arange(weights.cells.size)
    gy, gx = grid.origins()
    ky0, kx0 = key_grid.origins()
    # A key cell may be larger than a query cell (pooled keys): take its middle.
    cy = int(round((key_grid.cell_h - grid.cell_h) / 2))
    cx = int(round((key_grid.cell_w - grid.cell_w) / 2))
    pad = int(np.ceil(2 * max(grid.cell_h, grid.cell_w, key_grid.cell_h, key_grid.cell_w))) + 1
    padded = cv2.copyMakeBorder(residual, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    u = (ys + 0.5) / grid.cell_h - 0.5
    v = (xs + 0.5) / grid.cell_w - 0.5
    i0, j0 = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)
    fu, fv = (u - i0).astype(np.float32), (v - j0).astype(np.float32)
    acc = np.zeros((ys.size, 3), np.float32)  # sum of c * x
    energy = np.zeros(ys.size, np.float32)  # sum of c * |x|**2: what the sum's energy would be unmixed
    total = np.zeros(ys.size, np.float32)
    k = weights.weights.shape[1]
    for di, bu in ((0, 1.0 - fu), (1, fu)):
        i = np.clip(i0 + di, 0, grid.rows - 1)
        for dj, bv in ((0, 1.0 - fv), (1, fv)):
            j = np.clip(j0 + dj, 0, grid.cols - 1)
            row = lookup[i * grid.cols + j]
            ok = row >= 0
            if not ok.any():
                continue
            r = row[ok]
            b = (bu * bv)[ok]
            dy = ys[ok] - gy[i[ok]] - cy  # the pixel's place relative to its cell, key-aligned
            dx = xs[ok] - gx[j[ok]] - cx
            for n in range(k):
                c = b * weights.weights[r, n]
                src = weights.sources[r, n]
                sy = np.clip(ky0[src // key_grid.cols] + dy + pad, 0, padded.shape[0] - 1)
                sx = np.clip(kx0[src % key_grid.cols] + dx + pad, 0, padded.shape[1] - 1)
                x = padded[sy, sx]
                acc[ok] += c[:, None] * x
                energy[ok] += c * (x * x).sum(axis=1)
                total[ok] += c
    inv = np.where(total > 0, 1.0 / np.maximum(total, 1e-12), 0.0).astype(np.float32)
    acc *= inv[:, None]
    energy *= inv
    # Mixing patches averages their grain away; restore the energy the sources have, measured
    # over about a cell (a per-pixel ratio would be noise).
    t, lft = int(ys.min()), int(xs.min())
    bh, bw = int(ys.max()) - t + 1, int(xs.max()) - lft + 1
    want = np.zeros((bh, bw), np.float32)
    have = np.zeros((bh, bw), np.float32)
    want[ys - t, xs - lft] = energy
    have[ys - t, xs - lft] = (acc * acc).sum(axis=1)
    sigma = max(grid.cell_h, grid.cell_w)
    want = cv2.GaussianBlur(want, (0, 0), sigma)
    have = cv2.GaussianBlur(have, (0, 0), sigma)
    gain = np.sqrt(want / np.maximum(have, 1e-6))[ys - t, xs - lft]
    out[ys, xs] = acc * np.clip(gain, 1.0, MAX_GAIN)[:, None]
    return out


def paste_region(
    region: Region,
    prediction: NDArray[np.uint8],
    canvas: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    detail: DetailMap | None = None,
    blend_mode: str = "hard",
    band: int = 3,
) -> None:
    """Write the region's fill into canvas (in place): upsampled, with detail, blended.

    Only the region's own hole pixels (and, with feathering, `band` pixels around them) change.
    """
    sl = (slice(region.top, region.bottom), slice(region.left, region.right))
    crop = canvas[sl]
    own = mask[sl].copy()
    hole_box = getattr(region, "hole", None)
    if hole_box is not None:
        t, lft, b, r = hole_box
        keep = np.zeros_like(own)
        keep[t - region.top : b - region.top, lft - region.left : r - region.left] = True
        own &= keep
    pred = prediction[: region.work_h, : region.work_w]
    if region.scaled:
        size = (region.crop_w, region.crop_h)
        up = cv2.resize(pred.astype(np.float32), size, interpolation=cv2.INTER_CUBIC)
        if detail is not None and detail.weights.cells.size:
            sy, sx = (
                detail.stride * region.crop_h / region.work_h,
                detail.stride * region.crop_w / region.work_w,
            )
            grid = Grid(detail.rows, detail.cols, sy, sx)
            keys = Grid(
                -(-detail.rows // detail.pool),
                -(-detail.cols // detail.pool),
                sy * detail.pool,
                sx * detail.pool,
            )
            residual = high_frequencies(crop, (region.work_w, region.work_h))
            up += transfer(residual, own, detail.weights, grid, keys)
        pred = np.clip(np.rint(up), 0, 255).astype(np.uint8)
    canvas[sl] = blend(pred, crop, own, blend_mode, band)
