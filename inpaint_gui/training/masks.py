"""Training holes made on the fly: free-form brush strokes, rectangles, or both; optionally a mask folder.

Every mask is a function of the numpy Generator passed in, so a seed gives the same mask anywhere.
Generated masks cover between hole_min and hole_max of the image: a target share is drawn, then
shapes are added until it is reached, and a shape that would push past hole_max is drawn again smaller.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.training.config import MaskConfig

log = logging.getLogger(__name__)

MASK_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
_MAX_SHAPES = 400


class MaskGenerator:
    """Square bool masks (True = hole) of side `resolution`."""

    def __init__(self, resolution: int, cfg: MaskConfig | None = None) -> None:
        self.resolution = int(resolution)
        self.cfg = cfg or MaskConfig()
        w = np.array([self.cfg.strokes, self.cfg.rects, self.cfg.mixed], dtype=np.float64)
        self._kind_p = w / w.sum()
        self._folder: list[Path] = []
        if self.cfg.folder is not None:
            self._folder = list_mask_files(self.cfg.folder)
            if not self._folder:
                raise ValueError(f"mask folder {self.cfg.folder} holds no mask images")

    def __call__(self, rng: np.random.Generator) -> NDArray[np.bool_]:
        if self._folder and rng.random() < self.cfg.folder_prob:
            mask = self._from_folder(rng)
            if mask is not None:
                return mask
        kind = rng.choice(3, p=self._kind_p)
        target = rng.uniform(self.cfg.hole_min, self.cfg.hole_max)
        return self._generate(rng, target, kind)

    def _generate(self, rng: np.random.Generator, target: float, kind: int) -> NDArray[np.bool_]:
        r = self.resolution
        canvas = np.zeros((r, r), np.uint8)
        area = 0
        limit = self.cfg.hole_max * r * r
        shrink = 1.0
        for _ in range(_MAX_SHAPES):
            trial = canvas.copy()
            use_rect = kind == 1 or (kind == 2 and rng.random() < 0.35)
            if use_rect:
                _draw_rect(trial, rng, shrink)
            else:
                _draw_stroke(trial, rng, shrink)
            trial_area = int(np.count_nonzero(trial))
            if trial_area > limit:
                shrink = max(shrink * 0.8, 0.05)  # too big a shape for the room left: try smaller ones
                continue
            canvas, area = trial, trial_area
            if area >= target * r * r:
                break
        if area < self.cfg.hole_min * r * r:  # practically never: grow what there is
            canvas = _grow_to(canvas, self.cfg.hole_min * r * r, limit)
        return canvas.astype(bool)

    def _from_folder(self, rng: np.random.Generator) -> NDArray[np.bool_] | None:
        path = self._folder[int(rng.integers(len(self._folder)))]
        flip, turns = rng.random() < 0.5, int(rng.integers(4))
        mask = read_mask(path, self.resolution)
        if mask is None:
            return None
        if flip:
            mask = mask[:, ::-1]
        return np.ascontiguousarray(np.rot90(mask, turns))


def list_mask_files(folder: str | Path) -> list[Path]:
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"mask folder {folder} does not exist")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in MASK_EXTENSIONS and p.is_file())


def read_mask(path: Path, size: int | None = None) -> NDArray[np.bool_] | None:
    """A mask image (white = hole) as bool, resized with nearest neighbour; None when unreadable."""
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        log.warning("skipping unreadable mask %s", path)
        return None
    if size is not None and gray.shape != (size, size):
        gray = cv2.resize(gray, (size, size), interpolation=cv2.INTER_NEAREST)
    return gray > 127


def _draw_stroke(canvas: NDArray[np.uint8], rng: np.random.Generator, shrink: float) -> None:
    """A brush stroke: a random walk of thick segments with round joints, like a painted hole."""
    r = canvas.shape[0]
    width = max(2, int(rng.uniform(r / 30, r / 9) * shrink))
    x, y = rng.uniform(0, r, size=2)
    angle = rng.uniform(0, 2 * math.pi)
    vertices = int(rng.integers(2, 9))
    for _ in range(vertices):
        angle += rng.normal(0, 0.9)
        length = rng.uniform(r / 14, r / 4) * max(shrink, 0.3)
        nx = float(np.clip(x + length * math.cos(angle), 0, r - 1))
        ny = float(np.clip(y + length * math.sin(angle), 0, r - 1))
        cv2.line(canvas, (int(x), int(y)), (int(nx), int(ny)), 1, width, lineType=cv2.LINE_8)
        cv2.circle(canvas, (int(nx), int(ny)), width // 2, 1, -1)
        x, y = nx, ny


def _draw_rect(canvas: NDArray[np.uint8], rng: np.random.Generator, shrink: float) -> None:
    r = canvas.shape[0]
    h = max(2, int(rng.uniform(r / 10, r / 2) * shrink))
    w = max(2, int(rng.uniform(r / 10, r / 2) * shrink))
    top, left = int(rng.integers(0, r - h + 1)), int(rng.integers(0, r - w + 1))
    canvas[top : top + h, left : left + w] = 1


def _grow_to(canvas: NDArray[np.uint8], low: float, high: float) -> NDArray[np.uint8]:
    kernel = np.ones((3, 3), np.uint8)
    if not canvas.any():
        r = canvas.shape[0]
        canvas[r // 2, r // 2] = 1
    while np.count_nonzero(canvas) < low:
        grown = cv2.dilate(canvas, kernel)
        if np.count_nonzero(grown) > high:
            break
        canvas = grown
    return canvas


def hole_ratio(mask: NDArray[np.bool_]) -> float:
    return float(np.count_nonzero(mask)) / mask.size
