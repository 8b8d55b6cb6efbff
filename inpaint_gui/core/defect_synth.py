"""Synthetic dust, specks, spots and scratches with their ground truth, and how to score a mask on them.

Used to measure the defect detector (tests and `bench/defects_eval.py`): no public scans of damaged
photos with marked defects are at hand, so the defects are drawn on clean photos, deterministically
from a seed. Sizes follow `defects.image_scale` (short side / 512).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.defects import image_scale

#: A pixel is part of a defect when the defect moved it by at least this many grey levels.
VISIBLE = 12.0


@dataclass(frozen=True)
class Damaged:
    image: NDArray[np.uint8]  # (H, W, 3) RGB with the defects drawn in
    truth: NDArray[np.bool_]  # (H, W) pixels visibly changed by a defect
    labels: NDArray[np.int32]  # (H, W) 0 = clean, k = the k-th defect (where it is visible)
    kinds: tuple[str, ...]  # kinds[k - 1]: "scratch", "speck" or "spot"


def add_defects(
    image: NDArray[np.uint8],
    seed: int,
    scratches: int = 4,
    specks: int = 12,
    spots: int = 3,
    scale: float | None = None,
    span: float | None = None,
) -> Damaged:
    """Draw defects on a copy of image; the same seed draws the same defects.

    scale: the size unit (default image_scale of the image); a crop drawn as part of a larger photo
    passes the photo's, so its defects have the photo's sizes. span: that photo's short side in
    pixels, to give scratches the photo's lengths too, through the crop (a scratch across a 1600 px
    photo crosses a 128 px crop of it from side to side); None: lengths of the image's own size."""
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    s = image_scale(image.shape) if scale is None else float(scale)
    out = image.astype(np.float32)
    labels = np.zeros((h, w), np.int32)
    kinds: list[str] = []
    plan = ["scratch"] * scratches + ["speck"] * specks + ["spot"] * spots
    for kind in plan:
        alpha = np.zeros((h, w), np.float32)
        if kind == "scratch":
            _scratch(alpha, rng, s, span)
            opacity = rng.uniform(0.6, 1.0)
        elif kind == "speck":
            centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            axes = (max(1, round(rng.uniform(0.7, 3.0) * s)), max(1, round(rng.uniform(0.7, 3.0) * s)))
            cv2.ellipse(alpha, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA)
            opacity = rng.uniform(0.7, 1.0)
        else:  # a soft, round blotch: a stain or a blurred dust particle
            centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            r = max(2, round(rng.uniform(2.0, 4.5) * s))
            cv2.circle(alpha, centre, r, 1.0, -1, cv2.LINE_AA)
            k = 2 * max(1, r // 2) + 1
            alpha = cv2.GaussianBlur(alpha, (k, k), 0)
            opacity = rng.uniform(0.6, 0.9)
        bright = rng.random() < 0.5
        colour = np.array(rng.uniform(225, 255, 3) if bright else rng.uniform(0, 35, 3), np.float32)
        a = (alpha * opacity)[..., None]
        before = out.copy() if a.any() else out
        out = out * (1 - a) + colour * a
        changed = np.abs(out - before).max(axis=2) >= VISIBLE
        if changed.any():
            kinds.append(kind)
            labels[changed] = len(kinds)
    return Damaged(np.clip(out + 0.5, 0, 255).astype(np.uint8), labels > 0, labels, tuple(kinds))


def _scratch(alpha: NDArray[np.float32], rng: np.random.Generator, s: float, span: float | None) -> None:
    """A thin, slightly curved line (a quadratic Bezier), 1 to 3 px wide at 512 px, 15-60% of the
    photo's short side long: of the image's own (span None), or of span px, placed through a random
    point of the image (a crop of a photo that big)."""
    h, w = alpha.shape
    if span is None:
        p0 = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        angle = rng.uniform(0, np.pi)
        length = rng.uniform(0.15, 0.6) * min(h, w)
    else:
        through = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        angle = rng.uniform(0, np.pi)
        length = rng.uniform(0.15, 0.6) * max(span, min(h, w))
        p0 = through - rng.uniform(0, length) * np.array([np.cos(angle), np.sin(angle)])
    p2 = p0 + length * np.array([np.cos(angle), np.sin(angle)])
    bend = rng.normal(0, 0.08) * length
    p1 = (p0 + p2) / 2 + bend * np.array([-np.sin(angle), np.cos(angle)])
    t = np.linspace(0, 1, max(8, int(length / 4)))[:, None]
    pts = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
    thickness = max(1, int(round(rng.uniform(1.0, 3.0) * s)))
    cv2.polylines(alpha, [np.round(pts * 16).astype(np.int32)], False, 1.0, thickness, cv2.LINE_AA, shift=4)


def add_rims(
    image: NDArray[np.uint8], rng: np.random.Generator, scale: float, count: int = 1
) -> NDArray[np.uint8]:
    """Draw `count` shapes a photo has and damage has not, for the detector to learn as clean: a
    shaded object (an ellipse whose edge crosses the image) with a thin rim along its edge, brighter
    or darker than the object, as cups, bowls and frames have. The rim is as thin as a scratch and as
    bright; what tells it apart is that it follows the edge of the object."""
    h, w = image.shape[:2]
    out = image.astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(count):
        axes = rng.uniform(0.25, 1.2, 2) * max(h, w)
        theta, phi = rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi)
        c, si = np.cos(theta), np.sin(theta)
        edge = np.array([axes[0] * np.cos(phi), axes[1] * np.sin(phi)])  # a point of the edge in the crop
        centre = np.array([rng.uniform(0, w), rng.uniform(0, h)]) - np.array(
            [c * edge[0] - si * edge[1], si * edge[0] + c * edge[1]]
        )
        u = ((xx - centre[0]) * c + (yy - centre[1]) * si) / axes[0]
        v = (-(xx - centre[0]) * si + (yy - centre[1]) * c) / axes[1]
        r = np.sqrt(u * u + v * v)  # 1 on the edge
        gy, gx = np.gradient(r)
        dist = (1.0 - r) / np.maximum(np.hypot(gx, gy), 1e-6)  # pixels inside the edge (< 0: outside)
        inside = np.clip(dist + 0.5, 0.0, 1.0)[..., None]
        colour = rng.uniform(0, 255, 3).astype(np.float32)
        shade = (1.0 + rng.uniform(-0.3, 0.3) * (u[..., None] + v[..., None]) / 2).astype(np.float32)
        body = 0.35 * out + 0.65 * np.clip(colour * shade, 0, 255)  # keeps some of the photo's texture
        out = out * (1 - inside) + body * inside
        width = max(1.0, rng.uniform(1.0, 3.0) * scale)
        rim = np.clip(width / 2 + 0.5 - np.abs(dist), 0.0, 1.0)[..., None]
        tone = rng.uniform(200, 255, 3) if rng.random() < 0.7 else rng.uniform(0, 50, 3)
        out = out * (1 - rim) + tone.astype(np.float32) * rim
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class MaskScore:
    """How well a proposed mask matches the truth."""

    pixel_precision: float  # proposed pixels within tolerance of a defect pixel
    pixel_recall: float  # defect pixels within tolerance of a proposed pixel
    defect_recall: float  # defects with at least half their pixels found (within tolerance)
    defect_precision: float  # proposed components that touch a defect (within tolerance)
    defects: int
    components: int


def score_mask(
    proposed: NDArray[np.bool_], damaged: Damaged, tolerance: int = 2, found_share: float = 0.5
) -> MaskScore:
    """Pixel and per-defect precision/recall, a pixel counting as right within `tolerance` pixels."""
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tolerance + 1, 2 * tolerance + 1))
    truth_near = cv2.dilate(damaged.truth.view(np.uint8), k).astype(bool)
    proposed_near = cv2.dilate(proposed.view(np.uint8), k).astype(bool)
    n_prop, n_true = int(proposed.sum()), int(damaged.truth.sum())
    pixel_precision = float((proposed & truth_near).sum() / n_prop) if n_prop else 1.0
    pixel_recall = float((damaged.truth & proposed_near).sum() / n_true) if n_true else 1.0

    defects = len(damaged.kinds)
    sizes = np.bincount(damaged.labels.ravel(), minlength=defects + 1)
    hits = np.bincount(damaged.labels[proposed_near], minlength=defects + 1)
    found = int((hits[1:] >= found_share * np.maximum(sizes[1:], 1)).sum())
    count, comp = cv2.connectedComponents(proposed.view(np.uint8), connectivity=8)
    touching = np.unique(comp[proposed & truth_near]).size
    return MaskScore(
        pixel_precision,
        pixel_recall,
        found / defects if defects else 1.0,
        touching / (count - 1) if count > 1 else 1.0,
        defects,
        count - 1,
    )
