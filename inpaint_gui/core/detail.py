"""Detail at full resolution for fills computed at a lower one (numpy + OpenCV).

Contextual residual aggregation (Yi et al., CVPR 2020): a network fills the hole at a working
resolution; its fill, upsampled, lacks the photo's high frequencies. The context has them: its
residual (the crop minus its own down- and up-sampled copy) is exactly what the upsampling lost.
Each hole cell of an attention grid gets a weighted sum of context cells' residual patches, with
the weights the network's attention (or patch similarity) gave between that cell and the context.

Unlike the paper, the cells' patches are blended bilinearly across cell borders (no block edges),
and the mix is brought back to the energy its sources have (as variance-preserving blending does,
Heitz & Neyret 2018), so mixing patches of grain does not average the grain away, and up to the
context's mean energy (see `transfer`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.blend import RING, blend
from inpaint_gui.core.compose import mask_bbox
from inpaint_gui.core.region import Region

log = logging.getLogger(__name__)

#: Most the mixed detail is amplified to restore its sources' energy.
MAX_GAIN = 4.0
#: Hole pixels mixed at a time (bounds the temporaries to some tens of MB).
CHUNK = 1 << 19
#: The smallest filter with no response at the working image's Nyquist frequency ([1, 2, 1] / 4 along
#: each axis). A network's sub-pixel output layer leaves a faint 2-px checkerboard in its fills; scaled
#: up 5x it is a grid of 10 px, plain at 100%. Scaled fills are filtered before they are scaled up, and
#: the context's round trip in high_frequencies is filtered the same way, so the detail transfer puts
#: back from the photo the band the filter takes out of the fill.
NOTCH = np.array([0.25, 0.5, 0.25], np.float32)
#: The smallest filter with no response to the 2-px checkerboard alone (the diagonal Nyquist frequency,
#: (-1)^(x+y)); stripes of 2 px keep half their amplitude and flat areas all of it. For fills at native
#: size, which NOTCH would blur more: every 8th eval/faces image at 128 px, the faces network, LPIPS
#: 0.065 -> 0.059 and KID x10^3 6.8 -> 4.3 on irregular holes, 0.073 -> 0.071 and 6.9 -> 4.3 on object
#: holes; the sharpness ratios, which the checkerboard propped up, 0.76 / 0.91 -> 0.67 / 0.86 and
#: 0.63 / 0.85 -> 0.55 / 0.81 (energy / magnitude). NOTCH itself: 0.059 / 4.4 and 0.072 / 5.6, with
#: the object holes' magnitude ratio at 0.77.
CHECKER = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], np.float32) / 8


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
    steps that bring a fill computed at work_size to the crop (area down, NOTCH, cubic up)."""
    h, w = crop.shape[:2]
    full = crop.astype(np.float32)
    low = smooth_nyquist(cv2.resize(full, work_size, interpolation=cv2.INTER_AREA))
    return full - cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)


def smooth_nyquist(image: NDArray) -> NDArray[np.float32]:
    """image (float32) filtered by NOTCH along both axes: no 2-px checkerboard or stripes are left."""
    return cv2.sepFilter2D(image.astype(np.float32), -1, NOTCH, NOTCH, borderType=cv2.BORDER_REFLECT_101)


def remove_checkerboard(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """uint8 image filtered by CHECKER: no 2-px checkerboard is left."""
    out = cv2.filter2D(image.astype(np.float32), -1, CHECKER, borderType=cv2.BORDER_REFLECT_101)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def padding_for(grid: Grid, key_grid: Grid) -> int:
    """How far past the crop a source pixel of `transfer` can lie."""
    return int(np.ceil(2 * max(grid.cell_h, grid.cell_w, key_grid.cell_h, key_grid.cell_w))) + 1


def transfer(
    padded: NDArray[np.float32],
    pad: int,
    hole: NDArray[np.bool_],
    offset: tuple[int, int],
    weights: CellWeights,
    grid: Grid,
    key_grid: Grid,
    target: float | None = None,
) -> NDArray[np.float32]:
    """(h, w, 3) detail for the hole pixels (0 elsewhere) aggregated from the crop's residual.

    target: the mean energy (squared residual, summed over channels) the detail should have, e.g.
    the context's; None = its sources'. Patches are chosen for looking like the fill, and a
    working-resolution fill is smoother than the photo, so they come from the smoother parts of
    the context: left alone, the detail is weaker than the context's (about 0.4 of the photo's
    gradient energy on eval/photos-full instead of ~1).

    padded: the residual with `pad` (padding_for) mirrored pixels on every side; hole: (h, w), a
    box of the crop at offset (top, left). A hole pixel takes the patches of its 4 nearest cell
    centres, each cell's patch being its weighted key patches shifted to the pixel's place in it.
    """
    h, w = hole.shape
    out = np.zeros((h, w, 3), np.float32)
    hy, hx = np.nonzero(hole)
    if hy.size == 0 or weights.cells.size == 0:
        return out
    lookup = np.full(grid.rows * grid.cols, -1, np.int64)
    lookup[weights.cells] = np.arange(weights.cells.size)
    k = weights.weights.shape[1]
    # A cell without weights (not listed) contributes nothing: its coefficient is 0.
    wts = np.vstack([weights.weights, np.zeros((1, k), np.float32)])
    srcs = np.vstack([weights.sources, np.zeros((1, k), np.int64)])
    lookup[lookup < 0] = len(wts) - 1
    ky0, kx0 = key_grid.origins()
    keys = (ky0[srcs // key_grid.cols] + pad, kx0[srcs % key_grid.cols] + pad)  # (Q + 1, k) each
    # The energy restored to the mix is measured on a grid of half cells, smoothed.
    f = max(1.0, min(grid.cell_h, grid.cell_w) / 2)
    gh, gw = max(1, int(np.ceil(h / f))), max(1, int(np.ceil(w / f)))
    cells = (hy / f).astype(np.int64) * gw + (hx / f).astype(np.int64)
    want = np.zeros(gh * gw)
    have = np.zeros(gh * gw)
    # In chunks, so a hole of many megapixels needs no gigabytes of per-pixel temporaries.
    for start in range(0, hy.size, CHUNK):
        sl = slice(start, start + CHUNK)
        acc, energy = _mix(padded, hy[sl] + offset[0], hx[sl] + offset[1], lookup, wts, keys, grid, key_grid)
        out[hy[sl], hx[sl]] = acc
        want += np.bincount(cells[sl], energy, gh * gw)
        have += np.bincount(cells[sl], np.einsum("ij,ij->i", acc, acc), gh * gw)
    # Mixing patches averages their grain away; restore the energy the sources have, measured
    # over about a cell (a per-pixel ratio would be noise).
    want_s = cv2.GaussianBlur(want.reshape(gh, gw).astype(np.float32), (0, 0), 2.0)
    have_s = cv2.GaussianBlur(have.reshape(gh, gw).astype(np.float32), (0, 0), 2.0)
    scale = 1.0
    if target is not None and want.sum() > 0:
        scale = float(np.clip(np.sqrt(target * hy.size / want.sum()), 1.0, MAX_GAIN))
    gain = np.clip(scale * np.sqrt(want_s / np.maximum(have_s, 1e-6)), 1.0, MAX_GAIN * scale).ravel()
    for start in range(0, hy.size, CHUNK):
        sl = slice(start, start + CHUNK)
        out[hy[sl], hx[sl]] *= gain[cells[sl]][:, None]
    return out


def _mix(
    padded: NDArray[np.float32],
    ys: NDArray[np.int64],
    xs: NDArray[np.int64],
    lookup: NDArray[np.int64],
    wts: NDArray[np.float32],
    keys: tuple[NDArray[np.int64], NDArray[np.int64]],
    grid: Grid,
    key_grid: Grid,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """For crop pixels (ys, xs): the normalised mix of their sources [P, 3] and the mean energy of
    those sources [P] (what the mix would have if its sources were one). Each pixel takes the
    patches of its 4 nearest cells (bilinear weights), each cell's k keys with their weights."""
    from inpaint_gui.core.detail_mix import mix_pixels  # numba loads on first use, not with the app

    gy, gx = grid.origins()
    # A key cell may be larger than a query cell (pooled keys): take its middle.
    cy = int(round((key_grid.cell_h - grid.cell_h) / 2))
    cx = int(round((key_grid.cell_w - grid.cell_w) / 2))
    acc = np.zeros((ys.size, 3), np.float32)
    energy = np.zeros(ys.size, np.float32)
    mix_pixels(
        padded.reshape(-1, 3), padded.shape[1], ys, xs, lookup, wts, keys[0], keys[1], gy, gx, cy, cx,
        float(grid.cell_h), float(grid.cell_w), acc, energy,
    )  # fmt: skip
    return acc, energy


def paste_region(
    region: Region,
    prediction: NDArray[np.uint8],
    canvas: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    detail: DetailMap | None = None,
    blend_mode: str = "hard",
    band: int = 3,
    cache: dict | None = None,
) -> None:
    """Write the region's fill into canvas (in place): upsampled, with detail, blended.

    Only the region's own hole pixels (and, with feathering, `band` pixels around them) change.
    cache: a dict kept for one region over its candidates (the crop's residual is computed once).
    """
    hole_box = region.hole or (region.top, region.left, region.bottom, region.right)
    own_box = mask_bbox(mask[hole_box[0] : hole_box[2], hole_box[1] : hole_box[3]])
    if own_box is None:
        return
    # Work in the own holes' box, grown for the blend's ring and band, inside the crop.
    grow = max(band, RING) + 2
    t = max(region.top, hole_box[0] + own_box[0] - grow)
    lft = max(region.left, hole_box[1] + own_box[1] - grow)
    b = min(region.bottom, hole_box[0] + own_box[2] + grow)
    r = min(region.right, hole_box[1] + own_box[3] + grow)
    sub = (slice(t, b), slice(lft, r))
    own = np.zeros((b - t, r - lft), bool)
    ht, hl = max(t, hole_box[0]), max(lft, hole_box[1])
    hb, hr = min(b, hole_box[2]), min(r, hole_box[3])
    own[ht - t : hb - t, hl - lft : hr - lft] = mask[ht:hb, hl:hr]
    pred = prediction[: region.work_h, : region.work_w]
    if region.scaled:
        up = _upsample(pred, region, (t - region.top, lft - region.left, b - t, r - lft))
        if detail is not None and detail.weights.cells.size:
            sy = detail.stride * region.crop_h / region.work_h
            sx = detail.stride * region.crop_w / region.work_w
            grid = Grid(detail.rows, detail.cols, sy, sx)
            keys = Grid(
                -(-detail.rows // detail.pool),
                -(-detail.cols // detail.pool),
                sy * detail.pool,
                sx * detail.pool,
            )
            cache = {} if cache is None else cache
            if "residual" not in cache:
                crop = canvas[region.top : region.bottom, region.left : region.right]
                pad = padding_for(grid, keys)
                residual = high_frequencies(crop, (region.work_w, region.work_h))
                cache["residual"] = (cv2.copyMakeBorder(residual, *(pad,) * 4, cv2.BORDER_REFLECT_101), pad)
                cache["energy"] = _context_energy(
                    residual, mask[region.top : region.bottom, region.left : region.right], grid
                )
            padded, pad = cache["residual"]
            offset = (t - region.top, lft - region.left)
            up += transfer(padded, pad, own, offset, detail.weights, grid, keys, cache["energy"])
        pred = np.clip(np.rint(up), 0, 255).astype(np.uint8)
    else:
        pred = pred[t - region.top : b - region.top, lft - region.left : r - region.left]
    canvas[sub] = blend(pred, canvas[sub], own, blend_mode, band)


def warm_up() -> None:
    """Compile the transfer kernel (about a second, once per install) or load it from numba's cache."""
    grid = Grid(2, 2, 4.0, 4.0)
    keys = (np.zeros((1, 1), np.int64), np.zeros((1, 1), np.int64))
    _mix(np.zeros((8, 8, 3), np.float32), np.zeros(1, np.int64), np.zeros(1, np.int64),
         np.zeros(4, np.int64), np.ones((1, 1), np.float32), keys, grid, grid)  # fmt: skip


def _context_energy(residual: NDArray[np.float32], hole: NDArray[np.bool_], grid: Grid) -> float:
    """Mean squared residual (summed over channels) of the crop away from its holes by a cell."""
    r = max(1, int(np.ceil(max(grid.cell_h, grid.cell_w))))
    near = cv2.dilate(hole.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8))
    known = (near == 0).astype(np.uint8)
    if not known.any():
        return 0.0
    squares = np.einsum("ijc,ijc->ij", residual, residual)  # no gather of the known pixels
    return float(cv2.mean(squares, mask=known)[0])


def _upsample(pred: NDArray[np.uint8], region: Region, box: tuple[int, int, int, int]) -> NDArray[np.float32]:
    """The part box = (top, left, height, width) of pred, smoothed at its Nyquist frequency (NOTCH),
    scaled to the crop's size as cv2.resize(pred, crop size, INTER_CUBIC) would give it, without
    scaling the rest."""
    top, left, h, w = box
    ax, ay = region.work_w / region.crop_w, region.work_h / region.crop_h
    # resize maps an output pixel x to the source at (x + 0.5) * a - 0.5.
    m = np.array([[ax, 0, (left + 0.5) * ax - 0.5], [0, ay, (top + 0.5) * ay - 0.5]], np.float64)
    flags = cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(smooth_nyquist(pred), m, (w, h), flags=flags, borderMode=cv2.BORDER_REPLICATE)
