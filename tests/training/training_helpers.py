"""Helpers shared by the training tests (a unique module name: conftest names clash across folders)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_images(folder: Path, count: int, sizes: list[tuple[int, int]] | None = None, seed: int = 0) -> Path:
    """Smooth coloured images with a few blobs (learnable, unlike noise), in nested folders."""
    rng = np.random.default_rng(seed)
    sizes = sizes or [(40, 56), (64, 48), (36, 36), (90, 120)]
    for i in range(count):
        h, w = sizes[i % len(sizes)]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        base = rng.uniform(0, 255, 3)
        slope = rng.uniform(-2, 2, (2, 3))
        img = base + xx[..., None] * slope[0] + yy[..., None] * slope[1]
        for _ in range(3):
            cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(4, 12)
            img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(0, 255, 3)
        img = img.clip(0, 255).astype(np.uint8)
        sub = folder / f"sub{i % 2}"
        sub.mkdir(parents=True, exist_ok=True)
        ext = (".png", ".jpg", ".webp")[i % 3]
        cv2.imwrite(str(sub / f"img_{i:03d}{ext}"), img[..., ::-1])
    return folder


TINY = [
    "model.channels=8,8,16,16",
    "model.z_channels=4",
    "model.prior_blocks=1",
    "model.attention_level=1",
    "model.output_levels=2",
    "disc.channels=8,16",
    "data.resolution=32",
    "data.workers=0",
    "batch_size=4",
    "run.log_every=1",
    "run.sample_every=1000",
    "run.sample_images=2",
    "run.sample_candidates=2",
    "run.tensorboard=false",
    "run.threads=1",
]


def tiny_config(data: Path, *extra: str):
    """A TrainConfig small enough for a CPU test step in well under a second."""
    from inpaint_gui.training.config import TrainConfig, apply_overrides

    return TrainConfig.from_dict(
        apply_overrides(TrainConfig().to_dict(), [*TINY, f"data.paths={data}", *extra])
    )
