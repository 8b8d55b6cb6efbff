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
    if lam <= 0:
        raise ValueError(f"the screening weight must be positive, got {lam}")
    if data.shape[:2] != hole.shape or gx.shape != data.shape or gy.shape != data.shape:
        raise ValueError(f"shapes differ: data {data.shape}, hole {hole.shape}, gx {gx.shape}, gy {gy.shape}")
    out = np.ascontiguousarray(data, dtype=np.float32).copy()
    if not hole.any():
        return out
    index = np.full(hole.shape, -1, np.int32)
    ys, xs = np.nonzero(hole)
    index[ys, xs] = np.arange(ys.size, dtype=np.int32)
    neighbours = np.full((ys.size, 4), -1, np.int32)
    rhs = np.empty((ys.size, data.shape[2]), np.float32)
    diag = np.empty(ys.size, np.float32)
    _system(
        out, index, ys.astype(np.int32), xs.astype(np.int32), gx, gy, np.float32(lam), neighbours, rhs, diag
    )
    x = np.ascontiguousarray(out[ys, xs])
    _cg(neighbours, diag, rhs, x, iterations, tolerance)
    out[ys, xs] = x
    return out


@njit(cache=True, nogil=True)
def _system(data, index, ys, xs, gx, gy, lam, neighbours, rhs, diag):  # pragma: no cover - compiled
    """Per hole pixel p: its hole neighbours (index or -1), the diagonal deg + lam and the right side
    sum_q s_pq + sum_{q known} data_q + lam data_p, s_pq the wanted u_p - u_q."""
    h, w = index.shape
    ch = data.shape[2]
    for k in range(ys.shape[0]):
        y, x = ys[k], xs[k]
        deg = 0
        for c in range(ch):
            rhs[k, c] = lam * data[y, x, c]
        for j in range(4):
            if j == 0:
                qy, qx = y, x + 1
            elif j == 1:
                qy, qx = y, x - 1
            elif j == 2:
                qy, qx = y + 1, x
            else:
                qy, qx = y - 1, x
            if qy < 0 or qy >= h or qx < 0 or qx >= w:
                continue
            deg += 1
            for c in range(ch):
                if j == 0:
                    s = -gx[y, x, c]
                elif j == 1:
                    s = gx[qy, qx, c]
                elif j == 2:
                    s = -gy[y, x, c]
                else:
                    s = gy[qy, qx, c]
                rhs[k, c] += s
            q = index[qy, qx]
            if q >= 0:
                neighbours[k, j] = q
            else:
                for c in range(ch):
                    rhs[k, c] += data[qy, qx, c]
        diag[k] = deg + lam


@njit(cache=True, nogil=True)
def _cg(neighbours, diag, b, x, iterations, tolerance):  # pragma: no cover - compiled
    """Preconditioned conjugate gradients for A x = b, every channel at once (A: diag on the
    diagonal, -1 to each hole neighbour; symmetric positive definite since lam > 0). b, x: float32
    [n, c]; x holds the start and gets the result. Each channel stops on its own relative residual."""
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
    for _ in range(iterations):
        for c in range(ch):
            active[c] = active[c] and np.sqrt(rr[c]) > tolerance * (np.sqrt(bnorm[c]) + 1e-12)
        if not active.any():
            break
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
