"""Screened Poisson reconstruction of a hole from target gradients (Bhat et al. 2008; Darabi et al. 2012).

The hole's pixels u minimise, over every 4-neighbour pair with a hole pixel,

    sum (u_q - u_p - g_pq)^2  +  lam * sum_hole (u_p - c_p)^2

with the pixels outside the hole fixed to the photo's. g are the voted gradients of the copied
patches, c the copy itself: the gradients say what the fill looks like, the small screening term
keeps its colours where the copy put them far from the border, and the fixed border makes it meet
the photo without a step. Where two copied sources meet, their gradients (not their colours) are
what is kept, so the seam between them dissolves over about 1 / sqrt(lam) pixels.

Solved by conjugate gradients with a Jacobi preconditioner, starting from c (numba; SciPy is not a
dependency of the app). The screening makes the system well conditioned: the correction is local to
seams and the border, and a few dozen iterations settle it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

#: Screening weight: a colour step between two copied sources is spread over about 1 / sqrt(LAMBDA) px.
LAMBDA = 0.02
#: Conjugate-gradient iterations at most, and the relative residual at which they stop.
MAX_ITERATIONS = 150
TOLERANCE = 1e-3


def screened_poisson(
    data: NDArray[np.float32],
    hole: NDArray[np.bool_],
    gx: NDArray[np.float32],
    gy: NDArray[np.float32],
    lam: float = LAMBDA,
    iterations: int = MAX_ITERATIONS,
    tolerance: float = TOLERANCE,
) -> NDArray[np.float32]:
    """The hole rebuilt from gradients, float32 [h, w, c]; pixels outside the hole are data's.

    data: float32 [h, w, c], the colours the screening term pulls towards inside the hole and the
    fixed values outside it. gx[y, x]: the wanted u[y, x+1] - u[y, x]; gy[y, x]: u[y+1, x] - u[y, x]
    (float32 [h, w, c]). lam > 0.
    """
    x = solve(hole_system(data, hole, gx, gy, lam), iterations, tolerance)
    out = np.array(data, dtype=np.float32)
    out[hole] = x
    return out


@dataclass(frozen=True)
class HoleSystem:
    """The linear system of one hole (hole_system): per hole pixel in row-major order, its hole
    neighbours' numbers (-1: none), the diagonal, the right side and the start. It holds none of the
    frame-sized inputs, so a caller can let those go before the solve."""

    neighbours: NDArray[np.int32]  # [n, 4]
    diag: NDArray[np.float32]  # [n]
    rhs: NDArray[np.float32]  # [n, c]
    start: NDArray[np.float32]  # [n, c]


def hole_system(
    data: NDArray[np.float32],
    hole: NDArray[np.bool_],
    gx: NDArray[np.float32],
    gy: NDArray[np.float32],
    lam: float = LAMBDA,
) -> HoleSystem:
    """The system of screened_poisson's hole pixels, built in one pass over the frame (arguments as
    there). solve gives their values, float32 [n, c] in the order of data[hole], with no copy of
    the frame (the caller writes them where it wants)."""
    if lam <= 0:
        raise ValueError(f"the screening weight must be positive, got {lam}")
    if data.ndim != 3 or data.shape[:2] != hole.shape or gx.shape != data.shape or gy.shape != data.shape:
        raise ValueError(f"shapes differ: data {data.shape}, hole {hole.shape}, gx {gx.shape}, gy {gy.shape}")
    data, gx, gy = (np.asarray(a, dtype=np.float32) for a in (data, gx, gy))
    n = int(np.count_nonzero(hole))
    ch = data.shape[2]
    x = np.empty((n, ch), np.float32)
    neighbours = np.full((n, 4), -1, np.int32)
    rhs = np.empty((n, ch), np.float32)
    diag = np.empty(n, np.float32)
    if n:
        _system(data, hole, gx, gy, np.float32(lam), neighbours, rhs, diag, x)
    return HoleSystem(neighbours, diag, rhs, x)


def solve(
    system: HoleSystem, iterations: int = MAX_ITERATIONS, tolerance: float = TOLERANCE
) -> NDArray[np.float32]:
    """The hole's values, float32 [n, c] (the system's start array, solved in place)."""
    x = system.start
    if x.shape[0]:
        _cg(system.neighbours, system.diag, system.rhs, x, iterations, tolerance)
    return x


@njit(cache=True, nogil=True)
def _system(data, hole, gx, gy, lam, neighbours, rhs, diag, x):  # pragma: no cover - compiled
    """Per hole pixel p, numbered in row-major order: its hole neighbours (number or -1), the
    diagonal deg + lam, the right side sum_q s_pq + sum_{q known} data_q + lam data_p (s_pq the
    wanted u_p - u_q) and the start x = data_p. One pass over the grid, no index arrays."""
    h, w = hole.shape
    ch = data.shape[2]
    # The number of each hole pixel, one row at a time: the row above's are kept to link to them.
    above = np.full(w, -1, np.int32)
    row = np.full(w, -1, np.int32)
    count = 0
    for y in range(h):
        for xx in range(w):
            if hole[y, xx]:
                row[xx] = count
                count += 1
            else:
                row[xx] = -1
        for xx in range(w):
            k = row[xx]
            if k < 0:
                continue
            deg = 0
            for c in range(ch):
                rhs[k, c] = lam * data[y, xx, c]
                x[k, c] = data[y, xx, c]
            for j in range(4):
                if j == 0:
                    qy, qx = y, xx + 1
                elif j == 1:
                    qy, qx = y, xx - 1
                elif j == 2:
                    qy, qx = y + 1, xx
                else:
                    qy, qx = y - 1, xx
                if qy < 0 or qy >= h or qx < 0 or qx >= w:
                    continue
                deg += 1
                for c in range(ch):
                    if j == 0:
                        s = -gx[y, xx, c]
                    elif j == 1:
                        s = gx[qy, qx, c]
                    elif j == 2:
                        s = -gy[y, xx, c]
                    else:
                        s = gy[qy, qx, c]
                    rhs[k, c] += s
                if hole[qy, qx]:
                    # Below's number is not known yet: that link is made from below (j == 3).
                    if j == 0:
                        neighbours[k, 0] = k + 1
                    elif j == 1:
                        neighbours[k, 1] = k - 1
                    elif j == 3:
                        q = above[qx]
                        neighbours[k, 3] = q
                        neighbours[q, 2] = k
                else:
                    for c in range(ch):
                        rhs[k, c] += data[qy, qx, c]
            diag[k] = deg + lam
        for xx in range(w):
            above[xx] = row[xx]


@njit(cache=True, nogil=True)
def _cg(neighbours, diag, b, x, iterations, tolerance):  # pragma: no cover - compiled
    """Preconditioned conjugate gradients for A x = b, every channel at once (A: diag on the
    diagonal, -1 to each hole neighbour; symmetric positive definite since lam > 0). b, x: float32
    [n, c]; x holds the start and gets the result. Each channel stops on its own relative residual.
    Returns the iterations run."""
    n, ch = x.shape
    r = np.empty((n, ch), np.float32)
    p = np.empty((n, ch), np.float32)
    ap = np.empty((n, ch), np.float32)
    bnorm = np.zeros(ch)
    rz = np.zeros(ch)
    rr = np.zeros(ch)
    for k in range(n):
        for c in range(ch):
            s = diag[k] * x[k, c]
            for j in range(4):
                q = neighbours[k, j]
                if q >= 0:
                    s -= x[q, c]
            r[k, c] = b[k, c] - s
            p[k, c] = r[k, c] / diag[k]
            rz[c] += r[k, c] * p[k, c]
            rr[c] += r[k, c] * r[k, c]
            bnorm[c] += b[k, c] * b[k, c]
    active = np.ones(ch, np.bool_)
    pap = np.zeros(ch)
    alpha = np.zeros(ch)
    beta = np.zeros(ch)
    done = 0
    for _ in range(iterations):
        for c in range(ch):
            active[c] = active[c] and np.sqrt(rr[c]) > tolerance * (np.sqrt(bnorm[c]) + 1e-12)
        if not active.any():
            break
        done += 1
        pap[:] = 0.0
        for k in range(n):
            for c in range(ch):
                s = diag[k] * p[k, c]
                for j in range(4):
                    q = neighbours[k, j]
                    if q >= 0:
                        s -= p[q, c]
                ap[k, c] = s
                pap[c] += p[k, c] * s
        for c in range(ch):
            alpha[c] = rz[c] / (pap[c] + 1e-30) if active[c] else 0.0
        rz_new = np.zeros(ch)
        rr[:] = 0.0
        for k in range(n):
            for c in range(ch):
                x[k, c] += alpha[c] * p[k, c]
                r[k, c] -= alpha[c] * ap[k, c]
                z = r[k, c] / diag[k]
                rz_new[c] += r[k, c] * z
                rr[c] += r[k, c] * r[k, c]
        for c in range(ch):
            beta[c] = rz_new[c] / (rz[c] + 1e-30)
            rz[c] = rz_new[c]
        for k in range(n):
            for c in range(ch):
                if active[c]:
                    p[k, c] = r[k, c] / diag[k] + beta[c] * p[k, c]
    return done
