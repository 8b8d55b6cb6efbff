"""Putting a working-resolution fill back into a full-size photo: detail transfer and blending.

The pieces that need no torch are in core.detail and core.blend; this module turns a network's
attention map into the cells' weights and runs the steps for one region of one candidate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from inpaint_gui.core.blend import blend
from inpaint_gui.core.detail import CellWeights, Grid, high_frequencies, transfer
from inpaint_gui.core.region import Region

log = logging.getLogger(__name__)

#: Context keys each hole cell takes its detail from.
TOP_KEYS = 4


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


def _cells(work_mask: torch.Tensor, work_hw: tuple[int, int], stride: int, pool: int):
    """(rows, cols, query cell ids [Q], usable key cells [M]) of the grid of `stride`-pixel cells."""
    hp, wp = work_mask.shape[-2:]
    rows, cols = hp // stride, wp // stride
    hole = F.adaptive_max_pool2d(work_mask.float().cpu(), (rows, cols))  # [1, 1, rows, cols]
    near = F.max_pool2d(hole, 3, stride=1, padding=1)[0, 0].bool()  # hole cells and their neighbours
    inside = torch.zeros(rows, cols, dtype=torch.bool)
    inside[: -(-work_hw[0] // stride), : -(-work_hw[1] // stride)] = True
    # Keys must be clear of the hole by a cell (the residual there still sees hole pixels) and
    # wholly inside the unpadded image.
    full = torch.zeros(rows, cols, dtype=torch.bool)
    full[: work_hw[0] // stride, : work_hw[1] // stride] = True
    bad = (near | ~full).float()[None, None]
    usable = ~F.max_pool2d(bad, pool, ceil_mode=True).bool().flatten()  # [M]
    query = torch.nonzero((near & inside).flatten()).flatten()
    return rows, cols, query, usable


def _top(scores: torch.Tensor, k: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Each row's k best keys and their weights renormalised to sum 1; scores [Q, M], unusable < 0."""
    w, idx = torch.topk(scores, k, dim=1)
    w = w.clamp_min(0)
    w = w / w.sum(dim=1, keepdim=True).clamp_min(1e-12)
    return idx.cpu().numpy().astype(np.int64), w.cpu().numpy().astype(np.float32)


def attention_detail(
    attn: torch.Tensor,
    work_mask: torch.Tensor,
    work_hw: tuple[int, int],
    stride: int,
    pool: int,
    k: int = TOP_KEYS,
) -> list[DetailMap]:
    """DetailMaps from an attention layer's maps.

    attn: [N, HW, M] softmax rows over (pooled) key cells; work_mask: [1, 1, Hp, Wp], 1 = hole;
    work_hw: the working image's size before padding.
    """
    rows, cols, query, usable = _cells(work_mask, work_hw, stride, pool)
    if attn.shape[-1] != usable.numel():
        raise ValueError(f"attention has {attn.shape[-1]} keys, expected {usable.numel()}")
    k = max(1, min(k, int(usable.sum())))
    cells = query.numpy().astype(np.int64)
    keep = usable.to(attn.device)
    maps = []
    for a in attn:
        scores = a[query.to(a.device)].float().masked_fill(~keep, -1.0)  # [Q, M]; softmax rows are >= 0
        idx, w = _top(scores, k)
        maps.append(DetailMap(CellWeights(cells, idx, w), rows, cols, stride, 1 if pool < 1 else pool))
    return maps


def similarity_detail(
    fills: torch.Tensor, work_mask: torch.Tensor, work_hw: tuple[int, int], stride: int, k: int = TOP_KEYS
) -> list[DetailMap]:
    """DetailMaps from patch similarity in each candidate's own working-resolution fill, for
    networks without an attention map: fills [N, 3, Hp, Wp]; each cell is described by its
    neighbourhood (two cells wide) sampled at half-cell steps."""
    rows, cols, query, usable = _cells(work_mask, work_hw, stride, 1)
    k = max(1, min(k, int(usable.sum())))
    cells = query.numpy().astype(np.int64)
    step = max(1, stride // 2)
    small = F.avg_pool2d(fills.float(), step)  # [N, 3, 2 rows, 2 cols] when stride is even
    per = stride // step
    feats = F.unfold(small, 2 * per, stride=per, padding=per // 2)  # [N, 3*(2per)^2, L]
    feats = (
        feats[..., : rows * cols]
        if feats.shape[-1] >= rows * cols
        else F.pad(feats, (0, rows * cols - feats.shape[-1]))
    )
    keys = usable.to(fills.device)
    maps = []
    for f in feats:
        q = f[:, query.to(f.device)].T  # [Q, D]
        d = torch.cdist(q, f.T)  # [Q, M]
        h = torch.topk(d.masked_fill(~keys, float("inf")), k, largest=False).values.mean().clamp_min(1e-6)
        scores = torch.exp(-d / h).masked_fill(~keys, -1.0)
        idx, w = _top(scores, k)
        maps.append(DetailMap(CellWeights(cells, idx, w), rows, cols, stride, 1))
    return maps


def finish_region(
    region: Region,
    prediction: NDArray[np.uint8],
    canvas: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    detail: DetailMap | None,
    blend_mode: str,
    band: int,
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
