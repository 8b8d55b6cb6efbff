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
) -> Damaged:
    """Draw defects on a copy of image; the same seed draws the same defects.

    scale: the size unit (default image_scale of the image); a crop drawn as part of a larger photo
    passes the photo's, so its defects have the photo's sizes."""
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
            _scratch(alpha, rng, s)
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


def _scratch(alpha: NDArray[np.float32], rng: np.random.Generator, s: float) -> None:
    """A thin, slightly curved line (a quadratic Bezier), 1 to 3 px wide at 512 px."""
    h, w = alpha.shape
    short = min(h, w)
    p0 = np.array([rng.uniform(0, w), rng.uniform(0, h)])
    angle = rng.uniform(0, np.pi)
    length = rng.uniform(0.15, 0.6) * short
    p2 = p0 + length * np.array([np.cos(angle), np.sin(angle)])
    bend = rng.normal(0, 0.08) * length
    p1 = (p0 + p2) / 2 + bend * np.array([-np.sin(angle), np.cos(angle)])
    t = np.linspace(0, 1, max(8, int(length / 4)))[:, None]
    pts = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
    thickness = max(1, int(round(rng.uniform(1.0, 3.0) * s)))
    cv2.polylines(alpha, [np.round(pts * 16).astype(np.int32)], False, 1.0, thickness, cv2.LINE_AA, shift=4)


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
