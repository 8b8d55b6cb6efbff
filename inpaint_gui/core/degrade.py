"""Synthetic degradation of clean photos into the kind of damage a restoration network removes.

Mild blur, then sensor noise, then scan grain (noise blurred into clumps, mostly in luminance), then
JPEG blocking, in the order they happen to a scanned or re-saved photo. Each image's damage is a
function of a numpy Generator, so training pairs and the held-out evaluation set are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class DegradeConfig:
    """Strength ranges; each image draws its own strengths uniformly within them."""

    blur_max: float = 1.2  # Gaussian sigma in pixels (0 .. blur_max; half the images get none)
    noise_max: float = 20.0  # per-channel Gaussian noise sigma, grey levels
    grain_max: float = 14.0  # grain sigma, grey levels, before its clumping blur
    jpeg_min: int = 25  # JPEG quality range; 1 in 5 images is left unencoded
    jpeg_max: int = 85

    def __post_init__(self) -> None:
        if min(self.blur_max, self.noise_max, self.grain_max) < 0:
            raise ValueError("degradation strengths must be >= 0")
        if not 1 <= self.jpeg_min <= self.jpeg_max <= 100:
            raise ValueError(f"need 1 <= jpeg_min <= jpeg_max <= 100, got {self.jpeg_min}, {self.jpeg_max}")


def degrade(
    image: NDArray[np.uint8], rng: np.random.Generator, cfg: DegradeConfig = DegradeConfig()
) -> NDArray[np.uint8]:
    """A damaged copy of image (uint8 (H, W, 3) RGB); the same rng state gives the same damage."""
    out = image.astype(np.float32)
    if rng.random() < 0.5 and cfg.blur_max > 0:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.3, cfg.blur_max)))
    h, w = image.shape[:2]
    out += rng.normal(0.0, rng.uniform(0.0, cfg.noise_max), (h, w, 3)).astype(np.float32)
    if cfg.grain_max > 0:
        grain = rng.normal(0.0, rng.uniform(0.0, cfg.grain_max), (h, w)).astype(np.float32)
        grain = cv2.GaussianBlur(grain, (0, 0), float(rng.uniform(0.5, 1.0))) * 2.0
        out += grain[..., None]
    out8 = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    if rng.random() < 0.8:
        quality = int(rng.integers(cfg.jpeg_min, cfg.jpeg_max + 1))
        ok, buf = cv2.imencode(
            ".jpg", cv2.cvtColor(out8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
        )
        if ok:
            out8 = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return out8
