"""The compiled inner loop of core.detail's transfer (numba), apart so numba loads only when used."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def mix_pixels(
    flat, stride_y, ys, xs, lookup, wts, key_y, key_x, gy, gx, cy, cx, cell_h, cell_w, acc, energy
):  # pragma: no cover - compiled
    """_mix, one pixel at a time (compiled: the numpy version's gathers took 6x as long): writes
    acc [P, 3] and energy [P]; flat is the padded residual as [pixels, 3], stride_y its row length."""
    rows, cols = gy.shape[0], gx.shape[0]
    limit = flat.shape[0] - 1
    k = wts.shape[1]
    for p in range(ys.shape[0]):
        y, x = ys[p], xs[p]
        u = (y + 0.5) / cell_h - 0.5
        v = (x + 0.5) / cell_w - 0.5
        i0, j0 = int(np.floor(u)), int(np.floor(v))
        fu, fv = np.float32(u - i0), np.float32(v - j0)
        a0 = a1 = a2 = np.float32(0.0)
        e = np.float32(0.0)
        total = np.float32(0.0)
        for di in range(2):
            bu = np.float32(1.0) - fu if di == 0 else fu
            i = min(max(i0 + di, 0), rows - 1)
            dy = y - gy[i] - cy
            for dj in range(2):
                bv = np.float32(1.0) - fv if dj == 0 else fv
                j = min(max(j0 + dj, 0), cols - 1)
                r = lookup[i * cols + j]
                b = bu * bv
                base = dy * stride_y + x - gx[j] - cx
                for n in range(k):
                    c = b * wts[r, n]
                    idx = min(max(key_y[r, n] * stride_y + key_x[r, n] + base, 0), limit)
                    x0, x1, x2 = flat[idx, 0], flat[idx, 1], flat[idx, 2]
                    a0 += c * x0
                    a1 += c * x1
                    a2 += c * x2
                    e += c * (x0 * x0 + x1 * x1 + x2 * x2)
                    total += c
        if total > 0:
            inv = np.float32(1.0) / max(total, np.float32(1e-12))
            acc[p, 0], acc[p, 1], acc[p, 2] = a0 * inv, a1 * inv, a2 * inv
            energy[p] = e * inv
