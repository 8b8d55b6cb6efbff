"""A Haar cascade evaluator in numpy, for OpenCV's stump cascades (frontal face, eye).

OpenCV 5's wheels no longer carry cv2.CascadeClassifier nor the cascade files; the two cascades
this needs are kept in core/cascades (OpenCV's own files, Intel License Agreement in each header)
and evaluated here the way OpenCV's HaarEvaluator does: each window's feature sums are divided by
the window's standard deviation times its area (the window less a one-pixel border), compared with
each stump's threshold; a window passes a stage when its leaves sum to at least the stage's
threshold. Windows are evaluated all at once per stage, and only where the caller asks (near a
hole), so a search stays a few milliseconds on any photo size.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

CASCADE_DIR = Path(__file__).with_name("cascades")
FACE_CASCADE = "haarcascade_frontalface_default.xml"
EYE_CASCADE = "haarcascade_eye.xml"
#: Windows whose grey levels vary less than this (standard deviation, 0-255) are rejected, as OpenCV does.
MIN_STD = 10.0
STRIDE_STEP = 64


@dataclass(frozen=True)
class Stage:
    threshold: float
    corners: NDArray[np.int64]  # [U] distinct rect corners of the stage, as offsets in the flat integral
    matrix: NDArray[np.float64]  # [U, K] each corner's signed weight in each stump's feature
    thresholds: NDArray[np.float64]  # [K]
    leaves: NDArray[np.float64]  # [K, 2] (value below threshold, value at or above)


@dataclass(frozen=True, eq=False)  # hashed by identity: one object per file (load_cascade)
class Cascade:
    """A parsed stump cascade; rects are kept in window coordinates and laid out per image width."""

    width: int
    height: int
    rects: NDArray[np.int64]  # [F, 3, 4] x, y, w, h of each feature's rects
    weights: NDArray[np.float64]  # [F, 3] (0 for a missing third rect)
    stages: tuple[tuple[float, NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]], ...]
    # each stage: (threshold, feature index [K], stump threshold [K], leaves [K, 2])

    def laid_out(self, stride: int) -> list[Stage]:
        """The stages with rect corners as offsets into a flat integral image `stride` wide."""
        return _laid_out(self, stride)


@functools.lru_cache(maxsize=64)
def _laid_out(cascade: Cascade, stride: int) -> list[Stage]:
    out = []
    for threshold, feats, thr, leaves in cascade.stages:
        # A feature is a signed sum of integral values at its rects' corners: x, y, w, h ->
        # +(y, x) -(y, x+w) -(y+h, x) +(y+h, x+w), times the rect's weight. Corners shared between
        # rects and stumps are read once; one matrix product then gives every stump's value.
        r = cascade.rects[feats]  # [K, 3, 4]
        wts = cascade.weights[feats]  # [K, 3]
        x, y, w, h = r[..., 0], r[..., 1], r[..., 2], r[..., 3]
        offsets = np.stack(
            [y * stride + x, y * stride + x + w, (y + h) * stride + x, (y + h) * stride + x + w], -1
        )  # [K, 3, 4]
        signs = wts[..., None] * np.array([1.0, -1.0, -1.0, 1.0])  # [K, 3, 4]
        corners, which = np.unique(offsets.ravel(), return_inverse=True)
        matrix = np.zeros((len(corners), len(feats)))
        stump = np.broadcast_to(np.arange(len(feats))[:, None, None], offsets.shape).ravel()
        np.add.at(matrix, (which, stump), signs.ravel())
        out.append(Stage(threshold, corners, matrix, thr.astype(np.float64), leaves.astype(np.float64)))
    return out


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
        stages.append(
            (float(st.findtext("stageThreshold", "0")), np.array(idx), np.array(thr), np.array(leaves))
        )
    return Cascade(width, height, np.array(rects, np.int64), np.array(weights), tuple(stages))


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
    passed = _stages(flat, base[keep], 1.0 / nf[keep], cascade.laid_out(stride))
    out = np.zeros_like(ok)
    out[alive[keep][passed]] = True
    return out


def detect_grid(
    grey: NDArray[np.uint8],
    cascade: Cascade,
    step: int = 1,
    rows: tuple[int, int] | None = None,
    cols: tuple[int, int] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The top-left corners (ys, xs) of the windows that pass every stage, among those `step`
    pixels apart whose corners lie in rows x cols ([start, stop) each; None: all that fit).

    Same windows as detect_windows on that grid; the variance and the first stage, which every
    window meets, are read from a sliding view of the integral image instead of gathered."""
    h, w = grey.shape
    ww, wh = cascade.width, cascade.height
    r0, r1 = (0, h - wh + 1) if rows is None else (max(0, rows[0]), min(rows[1], h - wh + 1))
    c0, c1 = (0, w - ww + 1) if cols is None else (max(0, cols[0]), min(cols[1], w - ww + 1))
    if r1 <= r0 or c1 <= c0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    total, squares, stride = _integrals(grey)
    view = sliding_window_view(total, (wh + 1, ww + 1))[r0:r1:step, c0:c1:step]  # [ny, nx, wh+1, ww+1]
    sq_view = sliding_window_view(squares, (wh + 1, ww + 1))[r0:r1:step, c0:c1:step]
    area = float((ww - 2) * (wh - 2))
    s = _inner_sum(view).astype(np.float64)
    q = _inner_sum(sq_view)
    nf = np.sqrt(np.maximum(area * q - s * s, 0.0))  # [ny, nx]
    stages = cascade.laid_out(stride)
    first = stages[0]
    cy, cx = np.divmod(first.corners, stride)
    value = (view[:, :, cy, cx].astype(np.float64) @ first.matrix) / np.maximum(nf, 1e-9)[..., None]
    votes = np.where(value < first.thresholds, first.leaves[:, 0], first.leaves[:, 1]).sum(-1)
    iy, ix = np.nonzero((nf > MIN_STD * area) & (votes >= first.threshold))
    ys, xs = r0 + iy * step, c0 + ix * step
    passed = _stages(total.ravel(), ys * stride + xs, 1.0 / nf[iy, ix], stages[1:])
    return ys[passed], xs[passed]


def _inner_sum(view: NDArray) -> NDArray:
    """Each window's sum over its inner rect (the window less one pixel all round): view [..., H, W]
    holds each window's integral corners."""
    return view[..., 1, 1] - view[..., 1, -2] - view[..., -2, 1] + view[..., -2, -2]


def _integrals(grey: NDArray[np.uint8]) -> tuple[NDArray[np.int32], NDArray[np.float64], int]:
    """The integral and squared integral images, rows padded to a multiple of STRIDE_STEP so the
    stages' offsets are laid out for few widths (the padding is never read)."""
    h, w = grey.shape
    stride = -(-(w + 1) // STRIDE_STEP) * STRIDE_STEP
    padded = cv2.copyMakeBorder(grey, 0, 0, 0, stride - w - 1, cv2.BORDER_CONSTANT, value=0)
    total, squares = cv2.integral2(padded, sdepth=cv2.CV_32S, sqdepth=cv2.CV_64F)
    return total, squares, stride


def _stages(
    flat: NDArray[np.int32], base: NDArray[np.int64], inv: NDArray[np.float64], stages: list[Stage]
) -> NDArray[np.int64]:
    """Indices into base of the windows (flat integral offsets base, 1 / normalising factor inv)
    that pass every stage."""
    alive = np.arange(base.size)
    for stage in stages:
        if alive.size == 0:
            break
        c = flat[base[:, None] + stage.corners].astype(np.float64)  # [N, U]
        value = (c @ stage.matrix) * inv[:, None]  # [N, K]
        votes = np.where(value < stage.thresholds, stage.leaves[:, 0], stage.leaves[:, 1]).sum(1)
        passed = votes >= stage.threshold
        alive, base, inv = alive[passed], base[passed], inv[passed]
    return alive


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
