"""A Haar cascade evaluator in numpy, for OpenCV's stump cascades (frontal face, eye).

OpenCV 5's wheels no longer carry cv2.CascadeClassifier nor the cascade files; the two cascades
this needs are kept in core/cascades (OpenCV's own files, Intel License Agreement in each header)
and evaluated here the way OpenCV's HaarEvaluator does: each window's feature sums are divided by
the window's standard deviation times its area (the window less a one-pixel border), compared with
each stump's threshold; a window passes a stage when its leaves sum to at least the stage's
threshold. A compiled loop (numba) takes each window through the stages and stops at the first
it fails, as OpenCV does, so most windows cost a stage or two; windows are evaluated only where the
caller asks (near a hole), so a search stays a few milliseconds on any photo size.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numba import njit
from numpy.typing import NDArray

CASCADE_DIR = Path(__file__).with_name("cascades")
FACE_CASCADE = "haarcascade_frontalface_default.xml"
EYE_CASCADE = "haarcascade_eye.xml"
#: Windows whose grey levels vary less than this (standard deviation, 0-255) are rejected, as OpenCV does.
MIN_STD = 10.0


@dataclass(frozen=True, eq=False)  # hashed by identity: one object per file (load_cascade)
class Cascade:
    """A parsed stump cascade, flattened for the compiled evaluator: stage s holds stumps
    stage_end[s - 1]:stage_end[s], stump k the rects rect_end[k - 1]:rect_end[k]."""

    width: int
    height: int
    stage_end: NDArray[np.int64]  # [S]
    stage_threshold: NDArray[np.float64]  # [S]
    rect_end: NDArray[np.int64]  # [K]
    stump_threshold: NDArray[np.float64]  # [K]
    leaves: NDArray[np.float64]  # [K, 2] (value below threshold, value at or above)
    rects: NDArray[np.int64]  # [R, 4] x, y, w, h in the window
    weights: NDArray[np.float64]  # [R]


@functools.lru_cache(maxsize=4)
def load_cascade(name: str) -> Cascade:
    """Parse one of core/cascades' files (OpenCV's newer XML layout, stumps, no tilted features)."""
    root = ET.parse(CASCADE_DIR / name).getroot().find("cascade")
    if root is None or root.findtext("featureType", "").strip() != "HAAR":
        raise ValueError(f"{name}: not an OpenCV Haar cascade")
    width, height = int(root.findtext("width", "0")), int(root.findtext("height", "0"))
    feats = root.find("features")
    assert feats is not None
    rects, weights = [], []
    for f in feats:
        if f.findtext("tilted", "0").strip() not in ("", "0"):
            raise ValueError(f"{name}: tilted features are not supported")
        rs = [[float(v) for v in (r.text or "").split()] for r in f.find("rects") or []]
        rs += [[0, 0, 0, 0, 0.0]] * (3 - len(rs))
        rects.append([[int(v) for v in r[:4]] for r in rs])
        weights.append([r[4] for r in rs])
    stages = []
    for st in root.find("stages") or []:
        idx, thr, leaves = [], [], []
        for wc in st.find("weakClassifiers") or []:
            nodes = (wc.findtext("internalNodes") or "").split()
            if len(nodes) != 4:
                raise ValueError(f"{name}: only stump cascades are supported")
            idx.append(int(nodes[2]))
            thr.append(float(nodes[3]))
            leaves.append([float(v) for v in (wc.findtext("leafValues") or "").split()])
        stages.append((float(st.findtext("stageThreshold", "0")), idx, thr, leaves))
    stage_end, rect_end, flat_rects, flat_weights = [], [], [], []
    for _, idx, _, _ in stages:
        for f in idx:
            used = [(r, wt) for r, wt in zip(rects[f], weights[f], strict=True) if wt != 0.0]
            flat_rects += [r for r, _ in used]
            flat_weights += [wt for _, wt in used]
            rect_end.append(len(flat_rects))
        stage_end.append(len(rect_end))
    return Cascade(
        width,
        height,
        np.array(stage_end, np.int64),
        np.array([st[0] for st in stages], np.float64),
        np.array(rect_end, np.int64),
        np.array([t for st in stages for t in st[2]], np.float64),
        np.array([v for st in stages for v in st[3]], np.float64).reshape(-1, 2),
        np.array(flat_rects, np.int64).reshape(-1, 4),
        np.array(flat_weights, np.float64),
    )


def warm_up() -> None:
    """Parse both cascades and compile the evaluator (or load it from numba's cache)."""
    load_cascade(EYE_CASCADE)
    grey = np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)
    detect_grid(grey, load_cascade(FACE_CASCADE))


def detect_windows(
    grey: NDArray[np.uint8], cascade: Cascade, ys: NDArray[np.int64], xs: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Which windows (top-left corners ys, xs, each cascade.width wide) pass every stage."""
    h, w = grey.shape
    ww, wh = cascade.width, cascade.height
    ok = (ys >= 0) & (xs >= 0) & (ys + wh <= h) & (xs + ww <= w)
    alive = np.flatnonzero(ok)
    if alive.size == 0:
        return ok
    total, squares, stride = _integrals(grey)
    flat, sq = total.ravel(), squares.ravel()
    base = ys[alive] * stride + xs[alive]
    # The normalising rect: the window less one pixel all round.
    area = float((ww - 2) * (wh - 2))
    n0, n1, n2, n3 = stride + 1, stride + ww - 1, (wh - 1) * stride + 1, (wh - 1) * stride + ww - 1
    s = (flat[base + n0] - flat[base + n1] - flat[base + n2] + flat[base + n3]).astype(np.float64)
    q = sq[base + n0] - sq[base + n1] - sq[base + n2] + sq[base + n3]
    nf = np.sqrt(np.maximum(area * q - s * s, 0.0))
    keep = nf > MIN_STD * area
    c = cascade
    passed = _stages(
        flat, stride, base[keep], 1.0 / nf[keep], c.stage_end, c.stage_threshold, c.rect_end,
        c.stump_threshold, c.leaves, c.rects, c.weights,
    )  # fmt: skip
    out = np.zeros_like(ok)
    out[alive[keep][passed]] = True
    return out


def detect_grid(
    grey: NDArray[np.uint8],
    cascade: Cascade,
    step: int = 1,
    rows: tuple[int, int] | None = None,
    cols: tuple[int, int] | None = None,
    keep: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The top-left corners (ys, xs) of the windows that pass every stage, among those `step`
    pixels apart whose corners lie in rows x cols ([start, stop) each; None: all that fit) and,
    given keep (one bool per window of that grid: rows then columns), only where keep is True.

    Same windows as detect_windows on that grid."""
    h, w = grey.shape
    ww, wh = cascade.width, cascade.height
    r0, r1 = (0, h - wh + 1) if rows is None else (max(0, rows[0]), min(rows[1], h - wh + 1))
    c0, c1 = (0, w - ww + 1) if cols is None else (max(0, cols[0]), min(cols[1], w - ww + 1))
    if r1 <= r0 or c1 <= c0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ys, xs = np.mgrid[r0:r1:step, c0:c1:step]
    if keep is not None:
        if keep.shape != ys.shape:
            raise ValueError(f"keep must be one flag per window, {ys.shape}, got {keep.shape}")
        ys, xs = ys[keep], xs[keep]
    ys, xs = ys.ravel(), xs.ravel()
    passed = detect_windows(grey, cascade, ys, xs)
    return ys[passed], xs[passed]


def _integrals(grey: NDArray[np.uint8]) -> tuple[NDArray[np.int32], NDArray[np.float64], int]:
    """The integral and squared integral images, and their row length."""
    total, squares = cv2.integral2(grey, sdepth=cv2.CV_32S, sqdepth=cv2.CV_64F)
    return total, squares, grey.shape[1] + 1


@njit(cache=True, nogil=True)
def _stages(
    flat, stride, base, inv, stage_end, stage_threshold, rect_end, stump_threshold, leaves, rects, weights
):  # pragma: no cover - compiled
    """Which windows (flat integral offsets base, 1 / normalising factor inv) pass every stage."""
    out = np.zeros(base.size, np.bool_)
    for i in range(base.size):
        b = base[i]
        stump = rect = 0
        passed = True
        for s in range(stage_end.size):
            votes = 0.0
            while stump < stage_end[s]:
                value = 0.0
                while rect < rect_end[stump]:
                    x, y, w, h = rects[rect, 0], rects[rect, 1], rects[rect, 2], rects[rect, 3]
                    o = b + y * stride + x
                    below = o + h * stride
                    total = flat[o] - flat[o + w] - flat[below] + flat[below + w]
                    value += weights[rect] * total
                    rect += 1
                if value * inv[i] < stump_threshold[stump]:
                    votes += leaves[stump, 0]
                else:
                    votes += leaves[stump, 1]
                stump += 1
            if votes < stage_threshold[s]:
                passed = False
                break
        out[i] = passed
    return out


def group_boxes(
    boxes: NDArray[np.float64], min_neighbours: int, eps: float = 0.2
) -> list[tuple[NDArray[np.float64], int]]:
    """OpenCV's groupRectangles: boxes [N, 4] (x, y, w, h) whose edges lie within eps of their
    sizes are one cluster; each cluster with more than min_neighbours members gives its mean box.
    Returns (box, members), most members first; a box inside a better one is dropped."""
    n = len(boxes)
    if n == 0:
        return []
    x, y, w, h = boxes.T
    delta = eps * (np.minimum.outer(w, w) + np.minimum.outer(h, h)) * 0.5
    near = (
        (np.abs(x[:, None] - x) <= delta)
        & (np.abs(y[:, None] - y) <= delta)
        & (np.abs((x + w)[:, None] - (x + w)) <= delta)
        & (np.abs((y + h)[:, None] - (y + h)) <= delta)
    )
    labels = np.arange(n)
    while True:  # each box takes the smallest label among its neighbours until none changes
        new = np.where(near, labels[None, :], n).min(1)
        new = new[new]
        if np.array_equal(new, labels):
            break
        labels = new
    groups = []
    for label in np.unique(labels):
        members = boxes[labels == label]
        if len(members) > min_neighbours:
            groups.append((members.mean(0), len(members)))
    groups.sort(key=lambda g: -g[1])
    kept: list[tuple[NDArray[np.float64], int]] = []
    for b, count in groups:
        cx, cy = b[0] + b[2] / 2, b[1] + b[3] / 2
        if not any(k[0] <= cx <= k[0] + k[2] and k[1] <= cy <= k[1] + k[3] for k, _ in kept):
            kept.append((b, count))
    return kept
