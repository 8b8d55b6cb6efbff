"""PatchMatch (Barnes et al., SIGGRAPH 2009) kernels: nearest-neighbour fields between patches of one image.

Compiled with numba (plain loops over numpy arrays; no Python objects). Conventions:
img float32 [h, w, 3]; a patch is (2r+1)^2 pixels centred on (y, x); a target patch may hang over the
image border (only its inside pixels count); a source centre is valid only where valid[y, x] is True
(the caller guarantees that its whole patch is inside the image and outside the hole).
targets are flat pixel indices (y * w + x), int64 [K].
img and src may be uint8 (the finest level: the photo itself) or float32 (coarser levels).
nnf int32 [h, w, 2] holds each target's source centre; dist float32 [h, w] the mean squared error
per pixel and channel of that match.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True)
def _distance(img, ty, tx, sy, sx, r, limit):  # pragma: no cover - compiled
    h, w = img.shape[0], img.shape[1]
    y0, y1 = max(-r, -ty), min(r, h - 1 - ty)
    x0, x1 = max(-r, -tx), min(r, w - 1 - tx)
    n = (y1 - y0 + 1) * (x1 - x0 + 1) * 3
    cap = limit * n
    d = 0.0
    for dy in range(y0, y1 + 1):
        for dx in range(x0, x1 + 1):
            for c in range(3):
                e = np.float32(img[ty + dy, tx + dx, c]) - np.float32(
                    img[sy + dy, sx + dx, c]
                )  # no uint8 wrap
                d += e * e
        if d > cap:
            return d / n
    return d / n


@njit(cache=True, nogil=True)
def _cost(img, ty, tx, sy, sx, r, limit, tex_src, tex_tgt, tex_w, occ):  # pragma: no cover - compiled
    """_distance plus tex_w[target] x the squared shortfall of the source patch's texture level below
    the level expected at the target (see exemplar.texture_maps; a busier source is not charged):
    without it the squared error prefers flat sources, because a hole being rebuilt is always
    smoother than the photo."""
    e = min(tex_src[sy, sx] - tex_tgt[ty, tx], 0.0)
    extra = tex_w[ty, tx] * e * e + occ[sy, sx]
    if extra >= limit:
        return extra
    return _distance(img, ty, tx, sy, sx, r, limit - extra) + extra


@njit(cache=True, nogil=True)
def _random_valid(valid):  # pragma: no cover - compiled
    """A random valid centre (flat index): rejection sampling, then a scan from a random start.
    valid must have a True pixel."""
    h, w = valid.shape
    for _ in range(64):
        y, x = np.random.randint(0, h), np.random.randint(0, w)
        if valid[y, x]:
            return y * w + x
    start = np.random.randint(0, h * w)
    for i in range(h * w):
        j = (start + i) % (h * w)
        if valid[j // w, j % w]:
            return j
    return -1


@njit(cache=True, nogil=True)
def random_init(targets, valid, nnf, seed):  # pragma: no cover - compiled
    """Give every target a source drawn uniformly from the valid centres."""
    np.random.seed(seed)
    w = nnf.shape[1]
    for k in range(targets.shape[0]):
        j = _random_valid(valid)
        nnf[targets[k] // w, targets[k] % w, 0] = j // w
        nnf[targets[k] // w, targets[k] % w, 1] = j % w


@njit(cache=True, nogil=True)
def upsample_nnf(coarse, targets, valid, nnf, seed):  # pragma: no cover - compiled
    """Carry a coarse field up one pyramid level: each fine target takes twice its parent's source,
    plus its own offset within the parent; an invalid result gets a random valid source."""
    np.random.seed(seed)
    ch, cw = coarse.shape[0], coarse.shape[1]
    h, w = valid.shape
    for k in range(targets.shape[0]):
        y, x = targets[k] // w, targets[k] % w
        py, px = min(y // 2, ch - 1), min(x // 2, cw - 1)
        sy = 2 * coarse[py, px, 0] + (y - 2 * py)
        sx = 2 * coarse[py, px, 1] + (x - 2 * px)
        if sy < 0 or sy >= h or sx < 0 or sx >= w or not valid[sy, sx]:
            j = _random_valid(valid)
            sy, sx = j // w, j % w
        nnf[y, x, 0] = sy
        nnf[y, x, 1] = sx


@njit(cache=True, nogil=True)
def astray(coarse, targets, nnf, out):  # pragma: no cover - compiled
    """Write to out the targets whose source is not the one upsample_nnf carries up from coarse
    (there it was not valid and a random one was drawn), in the order of targets; returns how many."""
    ch, cw = coarse.shape[0], coarse.shape[1]
    w = nnf.shape[1]
    count = 0
    for k in range(targets.shape[0]):
        y, x = targets[k] // w, targets[k] % w
        py, px = min(y // 2, ch - 1), min(x // 2, cw - 1)
        sy, sx = 2 * coarse[py, px, 0] + (y - 2 * py), 2 * coarse[py, px, 1] + (x - 2 * px)
        if nnf[y, x, 0] != sy or nnf[y, x, 1] != sx:
            out[count] = targets[k]
            count += 1
    return count


@njit(cache=True, nogil=True)
def match_distances(img, targets, nnf, dist, r, tex_src, tex_tgt, tex_w, occ):  # pragma: no cover - compiled
    w = img.shape[1]
    for k in range(targets.shape[0]):
        y, x = targets[k] // w, targets[k] % w
        dist[y, x] = _cost(img, y, x, nnf[y, x, 0], nnf[y, x, 1], r, np.inf, tex_src, tex_tgt, tex_w, occ)


@njit(cache=True, nogil=True)
def add_source_costs(targets, nnf, dist, occ):  # pragma: no cover - compiled
    """dist of every target plus occ at its match's source: match_distances with occ from distances
    taken without it, in one read per target instead of a patch's."""
    w = nnf.shape[1]
    for k in range(targets.shape[0]):
        y, x = targets[k] // w, targets[k] % w
        dist[y, x] += occ[nnf[y, x, 0], nnf[y, x, 1]]


@njit(cache=True, nogil=True)
def improve(
    img,
    targets,
    is_target,
    valid,
    nnf,
    dist,
    r,
    iterations,
    radius,
    jumps,
    seed,
    tex_src,
    tex_tgt,
    tex_w,
    occ,
):  # pragma: no cover
    """PatchMatch iterations: propagation from the scan-order neighbours (alternating direction),
    then a random search in windows halving from `radius`, plus `jumps` uniform draws over all valid
    centres. The cost of a match is _cost's."""
    np.random.seed(seed)
    h, w = valid.shape
    n = targets.shape[0]
    for it in range(iterations):
        step = 1 if it % 2 == 0 else -1
        for i in range(n):
            k = i if step == 1 else n - 1 - i
            ty, tx = targets[k] // w, targets[k] % w
            by, bx, bd = nnf[ty, tx, 0], nnf[ty, tx, 1], dist[ty, tx]
            for a in range(2):
                ny, nx = (ty, tx - step) if a == 0 else (ty - step, tx)
                if ny < 0 or ny >= h or nx < 0 or nx >= w or not is_target[ny, nx]:
                    continue
                cy, cx = nnf[ny, nx, 0] + ty - ny, nnf[ny, nx, 1] + tx - nx
                if cy < 0 or cy >= h or cx < 0 or cx >= w or not valid[cy, cx]:
                    continue
                if cy == by and cx == bx:
                    continue
                d = _cost(img, ty, tx, cy, cx, r, bd, tex_src, tex_tgt, tex_w, occ)
                if d < bd:
                    by, bx, bd = cy, cx, d
            rad = radius
            while rad >= 1:
                cy = min(max(by + np.random.randint(-rad, rad + 1), 0), h - 1)
                cx = min(max(bx + np.random.randint(-rad, rad + 1), 0), w - 1)
                if valid[cy, cx]:
                    d = _cost(img, ty, tx, cy, cx, r, bd, tex_src, tex_tgt, tex_w, occ)
                    if d < bd:
                        by, bx, bd = cy, cx, d
                rad //= 2
            for _ in range(jumps):
                j = _random_valid(valid)
                cy, cx = j // w, j % w
                d = _cost(img, ty, tx, cy, cx, r, bd, tex_src, tex_tgt, tex_w, occ)
                if d < bd:
                    by, bx, bd = cy, cx, d
            nnf[ty, tx, 0], nnf[ty, tx, 1], dist[ty, tx] = by, bx, bd


@njit(cache=True, nogil=True)
def vote(src, targets, nnf, dist, hole, r, sigma2, out, rounding):  # pragma: no cover - compiled
    """Each hole pixel becomes the weighted mean of what the patches covering it copy there
    (weight exp(-dist / 2 sigma2); sigma2 <= 0: equal weights). Writes out's hole pixels only;
    rounding: 0.5 for an integer out, 0 for a float one."""
    h, w = hole.shape
    acc = np.zeros((h, w, 3), np.float32)
    wsum = np.zeros((h, w), np.float32)
    for k in range(targets.shape[0]):
        ty, tx = targets[k] // w, targets[k] % w
        sy, sx = nnf[ty, tx, 0], nnf[ty, tx, 1]
        wt = np.float32(1.0) if sigma2 <= 0 else np.float32(np.exp(-dist[ty, tx] / (2.0 * sigma2)) + 1e-12)
        for dy in range(-r, r + 1):
            y = ty + dy
            if y < 0 or y >= h:
                continue
            for dx in range(-r, r + 1):
                x = tx + dx
                if x < 0 or x >= w or not hole[y, x]:
                    continue
                for c in range(3):
                    acc[y, x, c] += wt * src[sy + dy, sx + dx, c]
                wsum[y, x] += wt
    for y in range(h):
        for x in range(w):
            if hole[y, x] and wsum[y, x] > 0:
                for c in range(3):
                    out[y, x, c] = acc[y, x, c] / wsum[y, x] + rounding


@njit(cache=True, nogil=True)
def vote_best(src, targets, nnf, dist, hole, r, out):  # pragma: no cover - compiled
    """Each hole pixel copies what the best-matching patch covering it (lowest distance) puts there:
    one real source pixel, no averaging, so the grain stays. Writes out's hole pixels only."""
    h, w = hole.shape
    best = np.full((h, w), np.inf, np.float32)
    for k in range(targets.shape[0]):
        ty, tx = targets[k] // w, targets[k] % w
        sy, sx = nnf[ty, tx, 0], nnf[ty, tx, 1]
        d = dist[ty, tx]
        for dy in range(-r, r + 1):
            y = ty + dy
            if y < 0 or y >= h:
                continue
            for dx in range(-r, r + 1):
                x = tx + dx
                if x < 0 or x >= w or not hole[y, x] or d >= best[y, x]:
                    continue
                best[y, x] = d
                for c in range(3):
                    out[y, x, c] = src[sy + dy, sx + dx, c]


@njit(cache=True, nogil=True)
def copy_centres(src, nnf, hole, out):  # pragma: no cover - compiled
    """Each hole pixel copies the centre pixel of its own patch's match: no averaging, full grain."""
    h, w = hole.shape
    for y in range(h):
        for x in range(w):
            if hole[y, x]:
                for c in range(3):
                    out[y, x, c] = src[nnf[y, x, 0], nnf[y, x, 1], c]


@njit(cache=True, nogil=True)
def half_known(img, known, out, out_known):  # pragma: no cover - compiled
    """One pyramid step: out[y, x] is the mean of img's (up to) four pixels in the 2x2 cell (y, x),
    each weighted by its known share, so hole colours never leak down; out_known the cell's mean share.
    out float32 [ceil(h/2), ceil(w/2), 3], out_known float32 [ceil(h/2), ceil(w/2)]."""
    h, w = known.shape
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            s0 = s1 = s2 = np.float32(0.0)
            k = np.float32(0.0)
            n = 0
            for yy in range(2 * y, min(2 * y + 2, h)):
                for xx in range(2 * x, min(2 * x + 2, w)):
                    wt = np.float32(known[yy, xx])
                    s0 += wt * np.float32(img[yy, xx, 0])
                    s1 += wt * np.float32(img[yy, xx, 1])
                    s2 += wt * np.float32(img[yy, xx, 2])
                    k += wt
                    n += 1
            if k > 0:
                out[y, x, 0], out[y, x, 1], out[y, x, 2] = s0 / k, s1 / k, s2 / k
            out_known[y, x] = k / n


@njit(cache=True, nogil=True)
def grey(img, out):  # pragma: no cover - compiled
    """out[y, x] = the mean of img's three channels (float32)."""
    third = np.float32(1.0 / 3.0)
    for y in range(img.shape[0]):
        for x in range(img.shape[1]):
            total = np.float32(img[y, x, 0]) + np.float32(img[y, x, 1]) + np.float32(img[y, x, 2])
            out[y, x] = total * third


def coords(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Flat indices (y * w + x) of the True pixels, in raster order."""
    return np.flatnonzero(mask)


@njit(cache=True, nogil=True)
def vote_gradients(src, targets, nnf, dist, hole, r, sigma2, top, left, gx, gy, wx, wy):  # pragma: no cover
    """Gradient-domain voting (Darabi et al., Image Melding, 2012): every patch covering both pixels of
    a horizontal pair (y, x)-(y, x+1) with a hole pixel votes the difference its source has there.
    gx[y - top, x - left] accumulates weight x (src right - src left), wx the weights; gy, wy the same
    for vertical pairs (y, x)-(y+1, x). gx, gy float32 [bh, bw, 3] and wx, wy float32 [bh, bw] cover
    the box at (top, left); pairs outside it are skipped. Weights as in vote."""
    h, w = hole.shape
    bh, bw = wx.shape
    for k in range(targets.shape[0]):
        ty, tx = targets[k] // w, targets[k] % w
        sy, sx = nnf[ty, tx, 0], nnf[ty, tx, 1]
        wt = np.float32(1.0) if sigma2 <= 0 else np.float32(np.exp(-dist[ty, tx] / (2.0 * sigma2)) + 1e-12)
        for dy in range(-r, r + 1):
            y = ty + dy
            if y < 0 or y >= h:
                continue
            by = y - top
            for dx in range(-r, r + 1):
                x = tx + dx
                if x < 0 or x >= w:
                    continue
                bx = x - left
                if by < 0 or by >= bh or bx < 0 or bx >= bw:
                    continue
                if dx < r and x + 1 < w and (hole[y, x] or hole[y, x + 1]):
                    for c in range(3):
                        e = np.float32(src[sy + dy, sx + dx + 1, c]) - np.float32(src[sy + dy, sx + dx, c])
                        gx[by, bx, c] += wt * e
                    wx[by, bx] += wt
                if dy < r and y + 1 < h and (hole[y, x] or hole[y + 1, x]):
                    for c in range(3):
                        e = np.float32(src[sy + dy + 1, sx + dx, c]) - np.float32(src[sy + dy, sx + dx, c])
                        gy[by, bx, c] += wt * e
                    wy[by, bx] += wt


@njit(cache=True, nogil=True)
def mean_gradients(g, wt, hole, data, dy, dx):  # pragma: no cover - compiled
    """The votes of vote_gradients made means, in place: g[y, x] /= wt[y, x] for the pairs
    (y, x)-(y + dy, x + dx) that got votes; a pair with a hole pixel that no patch covers (at the
    image's border) takes data's own difference. Pairs past the box's edge and pairs without votes or
    hole pixels stay 0."""
    bh, bw = wt.shape
    tiny = np.float32(1e-12)
    for y in range(bh):
        for x in range(bw):
            w = wt[y, x]
            if w > 0:
                w = max(w, tiny)
                for c in range(3):
                    g[y, x, c] = g[y, x, c] / w
            elif y + dy < bh and x + dx < bw and (hole[y, x] or hole[y + dy, x + dx]):
                for c in range(3):
                    g[y, x, c] = data[y + dy, x + dx, c] - data[y, x, c]


@njit(cache=True, nogil=True)
def place_copy(data, image, target, hole, offset):  # pragma: no cover - compiled
    """The meld's start, in place: data (the copy) plus offset in the hole; the photo on the rest of
    the targets' ring."""
    bh, bw = hole.shape
    for y in range(bh):
        for x in range(bw):
            if hole[y, x]:
                for c in range(3):
                    data[y, x, c] = data[y, x, c] + offset[y, x, c]
            elif target[y, x]:
                for c in range(3):
                    data[y, x, c] = np.float32(image[y, x, c])


@njit(cache=True, nogil=True)
def put_hole(region, hole, values):  # pragma: no cover - compiled
    """region[hole] = values (whole numbers in 0..255, one row per hole pixel in row-major order)."""
    k = 0
    for y in range(hole.shape[0]):
        for x in range(hole.shape[1]):
            if hole[y, x]:
                for c in range(values.shape[1]):
                    region[y, x, c] = np.uint8(values[k, c])
                k += 1
