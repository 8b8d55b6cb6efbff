"""Where each hole cell of a working-resolution fill takes its full-resolution detail from.

From a network's attention map, or from patch similarity in the candidate's own fill; the transfer
itself (numpy) is core.detail.paste_region.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from inpaint_gui.core.detail import CellWeights, DetailMap

log = logging.getLogger(__name__)

#: Context keys each hole cell takes its detail from.
TOP_KEYS = 3


def _cells(work_mask: torch.Tensor, stride: int, pool: int) -> tuple[int, int, torch.Tensor, torch.Tensor]:
    """(rows, cols, query cell ids [Q], usable key cells [M]) of the grid of `stride`-pixel cells.

    Queries are the hole's cells and their neighbours (a hole pixel mixes its 4 nearest cells).
    Keys must be clear of the hole by a cell: the residual there still sees hole pixels. Cells in
    the working image's padding may serve as keys: the padding mirrors the image.
    """
    hp, wp = work_mask.shape[-2:]
    rows, cols = hp // stride, wp // stride
    hole = F.adaptive_max_pool2d(work_mask.float().cpu(), (rows, cols))  # [1, 1, rows, cols]
    near = F.max_pool2d(hole, 3, stride=1, padding=1)  # [1, 1, rows, cols]
    usable = ~F.max_pool2d(near, pool, ceil_mode=True).bool().flatten()  # [M]
    query = torch.nonzero(near.bool().flatten()).flatten()
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
    stride: int,
    pool: int,
    k: int = TOP_KEYS,
) -> list[DetailMap]:
    """DetailMaps from an attention layer's maps.

    attn: [N, HW, M] softmax rows over (pooled) key cells; work_mask: [1, 1, Hp, Wp], 1 = hole.
    """
    rows, cols, query, usable = _cells(work_mask, stride, pool)
    if attn.shape[-1] != usable.numel():
        raise ValueError(f"attention has {attn.shape[-1]} keys, expected {usable.numel()}")
    k = max(1, min(k, int(usable.sum())))
    cells = query.numpy().astype(np.int64)
    keep = usable.to(attn.device)
    maps = []
    for a in attn:
        scores = a[query.to(a.device)].float().masked_fill(~keep, -1.0)  # [Q, M]; softmax rows are >= 0
        idx, w = _top(scores, k)
        maps.append(DetailMap(CellWeights(cells, idx, w), rows, cols, stride, pool))
    return maps


def similarity_detail(
    fills: torch.Tensor, work_mask: torch.Tensor, stride: int, k: int = TOP_KEYS
) -> list[DetailMap]:
    """DetailMaps from patch similarity in each candidate's own working-resolution fill, for
    networks without an attention map: fills [N, 3, Hp, Wp]; each cell is described by its
    neighbourhood (two cells wide) sampled at half-cell steps."""
    rows, cols, query, usable = _cells(work_mask, stride, 1)
    k = max(1, min(k, int(usable.sum())))
    cells = query.numpy().astype(np.int64)
    step = max(1, stride // 2)
    small = F.avg_pool2d(fills.float(), step)  # [N, 3, 2 rows, 2 cols] when stride is even
    per = stride // step
    feats = F.unfold(small, 2 * per, stride=per, padding=per // 2)  # [N, 3*(2per)^2, L]
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
