"""Teach the defect detector (models/defect_net.py) on synthetic damage.

Each step draws crops of 128 px from training photos, each taken as part of a photo whose short side
is 150 to 1600 px (the crop is cut from the photo resized to that), draws dust, specks, spots and
scratches on it at that photo's sizes (core/defect_synth.py) and fits the defect mask with a weighted
binary cross-entropy (defects are rare: positives weigh POS_WEIGHT). No marked scans of real damage
are available to this project, so the detector knows only what the synthesiser draws.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from inpaint_gui.core.defect_synth import add_defects, add_rims

if TYPE_CHECKING:  # torch loads only when the command runs: `inpaint` itself starts fast
    from inpaint_gui.models.defect_net import DefectNet

log = logging.getLogger(__name__)

CROP = 128
POS_WEIGHT = 4.0


def train(
    net: DefectNet,
    files: list[Path],
    steps: int,
    batch: int = 16,
    seed: int = 0,
    lr: float = 2e-3,
    rims: float = 0.0,
    long_scratches: bool = False,
) -> None:
    """Fit net in place: Adam at lr, dropping to a quarter for the last 30% of steps. rims and
    long_scratches: see damaged_crop."""
    import torch
    import torch.nn.functional as F

    from inpaint_gui.engine.tensors import to_model_range

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr)
    start = time.perf_counter()
    for step in range(steps):
        if step == int(0.7 * steps):
            for group in opt.param_groups:
                group["lr"] /= 4
        crops, masks = [], []
        while len(crops) < batch:
            photo = _read(files[int(rng.integers(len(files)))])
            if photo is None:
                continue
            for _ in range(4):  # a few crops per photo read
                crop, mask = damaged_crop(photo, rng, rims, long_scratches)
                crops.append(crop)
                masks.append(mask)
        x = to_model_range(torch.from_numpy(np.stack(crops[:batch])).permute(0, 3, 1, 2))
        y = torch.from_numpy(np.stack(masks[:batch])).float()[:, None]
        loss = F.binary_cross_entropy_with_logits(net(x), y, pos_weight=torch.tensor(POS_WEIGHT))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            secs = time.perf_counter() - start
            log.info("step %d/%d  loss %.4f  %.0f s", step + 1, steps, loss.item(), secs)
    net.eval()


def damaged_crop(
    photo: np.ndarray, rng: np.random.Generator, rims: float = 0.0, long_scratches: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """A CROP x CROP crop of the photo resized to a random short side, with synthetic damage drawn at
    that size (uint8 RGB, bool mask). rims: the share of crops that first get one or two rimmed
    objects (core/defect_synth.add_rims), thin bright edges to learn as clean. long_scratches:
    scratches as long as that photo's, crossing the crop. Both off: the shipped detector's recipe."""
    short = float(rng.uniform(150, 1600))
    f = min(1.0, max(CROP / min(photo.shape[:2]), short / min(photo.shape[:2])))
    img = cv2.resize(photo, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else photo
    y = int(rng.integers(0, img.shape[0] - CROP + 1))
    x = int(rng.integers(0, img.shape[1] - CROP + 1))
    crop = np.ascontiguousarray(img[y : y + CROP, x : x + CROP])
    if rims > 0 and rng.random() < rims:
        crop = add_rims(crop, rng, short / 512.0, count=int(rng.integers(1, 3)))
    damaged = add_defects(
        crop,
        seed=int(rng.integers(1 << 30)),
        scratches=int(rng.integers(0, 3)),
        specks=int(rng.integers(0, 8)),
        spots=int(rng.integers(0, 2)),
        scale=short / 512.0,
        span=short if long_scratches else None,
    )
    return damaged.image, damaged.truth


def _read(path: Path) -> np.ndarray | None:
    """The photo as RGB, or None (logged) when it cannot be read or is smaller than a crop."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None or min(bgr.shape[:2]) < CROP:
        log.warning("%s: unreadable or smaller than %d px; skipped", path, CROP)
        return None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
