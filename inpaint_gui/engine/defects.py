"""Defect masks from the trained detector (models/defect_net.py), tile by tile at full resolution.

`propose_defects` is what the app's Restore menu and `inpaint restore` call: the trained detector when
its checkpoint is installed and loads, else the classical one (core/defects.py), with the reason logged.
The detector's probabilities are thresholded with hysteresis (THRESHOLDS): a component is kept when
some pixel of it is sure and grown over the pixels above the lower threshold, which drops the isolated
faint specks a plain threshold proposes.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import torch
from numpy.typing import NDArray

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.defects import (
    check_image,
    detect_defects,
    fill_small_holes,
    image_scale,
    largest_hole,
)
from inpaint_gui.engine.checkpoint import (
    DEFECTS_NAME,
    CheckpointError,
    build_within_budget,
    check_weights,
    checkpoint_dir,
    load_release,
)
from inpaint_gui.engine.tensors import image_to_tensor
from inpaint_gui.models.defect_net import DefectNet

log = logging.getLogger(__name__)

ENGINE = "defects"
CHECKPOINT = DEFECTS_NAME
#: Thresholds (low, high) at sensitivity 0 and at 1, interpolated between: a component is the pixels
#: above low around at least one above high.
THRESHOLDS = ((0.7, 0.95), (0.3, 0.65))
#: Photos with a longer short side are looked at scaled down to this one (the training photos' largest;
#: damage on a bigger photo is bigger too), the probabilities scaled back up: a 24 MP photo costs
#: what a 1600 px one does (about 3 s here).
MAX_SHORT_SIDE = 1600
#: A classical scratch is added when the network's probability, the highest within CONFIRM_REACH px
#: (times image_scale) of each of its pixels, averages over LINE_CONFIRM on it.
LINE_CONFIRM = 0.1
CONFIRM_REACH = 1
#: Pixels the kept mask grows by, times image_scale (at least 1): the fill must cover a defect's soft edge.
GROW = 0.75
#: The side of the tiles the network runs on (probabilities' default), before its context.
TILE = 512


class DefectDetector:
    """A loaded defect detector."""

    def __init__(self, net: DefectNet, path: Path | None = None) -> None:
        self.net = net.eval()
        self.path = path

    @classmethod
    def from_checkpoint(cls, path: str | Path | None = None) -> DefectDetector:
        path = Path(path) if path is not None else checkpoint_dir() / CHECKPOINT
        if not path.is_file():
            raise CheckpointError(f"no defect detector checkpoint ({path} is missing)")
        weights, info = load_release(path, engine=ENGINE)
        arch = info.model_config

        def build() -> DefectNet:
            return DefectNet(int(arch["channels"]), [int(d) for d in arch["dilations"]])

        def side(net: torch.nn.Module) -> int:
            return TILE + 2 * net.reach  # type: ignore[operator,no-any-return]

        def tile(net: torch.nn.Module) -> None:
            net(torch.zeros(1, 3, side(net), side(net)))

        work = f"for a tile of {TILE} pixels and its context"
        plan = build_within_budget(path, build, tile, work, pixels=lambda net: side(net) ** 2)
        check_weights(path, plan.state_dict(), weights)
        net = build()
        net.load_state_dict(weights)
        return cls(net, path)

    @torch.inference_mode()
    def probabilities(self, image: NDArray[np.uint8], tile: int = TILE) -> NDArray[np.float32]:
        """(H, W) float32 in [0, 1]: how likely each pixel is part of a defect. Tiles see `reach`
        pixels of context (mirrored at the border), so the result does not depend on the tile size."""
        check_image(image)
        if tile < 16:
            raise InputError(f"tile must be >= 16, got {tile}")
        h, w = image.shape[:2]
        pad = self.net.reach
        padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="symmetric")
        out = np.empty((h, w), np.float32)
        for y in range(0, h, tile):
            for x in range(0, w, tile):
                y1, x1 = min(y + tile, h), min(x + tile, w)
                window = padded[y : y1 + 2 * pad, x : x1 + 2 * pad]
                logits = self.net(image_to_tensor(window, torch.device("cpu")))[0, 0]
                out[y:y1, x:x1] = torch.sigmoid(logits[pad:-pad, pad:-pad]).numpy()
        return out

    def detect(self, image: NDArray[np.uint8], sensitivity: float = 0.5) -> NDArray[np.bool_]:
        """A proposed mask, bool (H, W): sensitivity 0 keeps only sure defects, 1 anything likely."""
        if not 0.0 <= sensitivity <= 1.0:
            raise InputError(f"sensitivity must be between 0 and 1, got {sensitivity}")
        check_image(image)
        h, w = image.shape[:2]
        f = MAX_SHORT_SIDE / min(h, w)
        if f < 1:
            size = (max(1, round(w * f)), max(1, round(h * f)))
            small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            p = cv2.resize(self.probabilities(small), (w, h), interpolation=cv2.INTER_LINEAR)
        else:
            p = self.probabilities(image)
        (low0, high0), (low1, high1) = THRESHOLDS
        low = low0 + (low1 - low0) * sensitivity
        high = high0 + (high1 - high0) * sensitivity
        count, labels = cv2.connectedComponents((p > low).astype(np.uint8), connectivity=8)
        keep = np.zeros(count, bool)
        keep[np.unique(labels[p > high])] = True
        keep[0] = False
        mask = keep[labels]
        grow = max(1, int(round(GROW * image_scale(image.shape))))
        if mask.any():
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
            mask = cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)
        # The classical lines are grown by their own pass already.
        mask = mask | self._confirmed_lines(image, p, sensitivity)
        return fill_small_holes(mask, largest_hole(image.shape))

    @staticmethod
    def _confirmed_lines(
        image: NDArray[np.uint8], p: NDArray[np.float32], sensitivity: float
    ) -> NDArray[np.bool_]:
        """The classical detector's scratches (long thin components) that the network confirms: its
        probability, taken as the highest within CONFIRM_REACH px of each pixel (the classical
        component is grown past the line, and the margin should count as the line it surrounds),
        averages over LINE_CONFIRM on the component. The network alone loses the middle of a long
        straight scratch (it sees 35 px, and a line crossing all of them looks like a pole or a
        frame: 0.06-0.07 on the test scratches' components without the reach, 0.16-0.20 with it);
        the classical line pass alone proposes twigs and rims. Figures: docs/training.md;
        the choice: docs/decisions.md."""
        lines = detect_defects(image, sensitivity, lines_only=True)
        count, labels = cv2.connectedComponents(lines.astype(np.uint8), connectivity=8)
        if count < 2:
            return np.zeros(p.shape, bool)
        reach = 2 * CONFIRM_REACH * max(1, int(round(image_scale(image.shape)))) + 1
        near = cv2.dilate(p, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
        flat = labels.ravel()
        mean = np.bincount(flat, near.ravel(), count) / np.maximum(np.bincount(flat, None, count), 1)
        keep = mean > LINE_CONFIRM
        keep[0] = False
        return keep[labels]


def load_detector() -> DefectDetector | None:
    """The installed detector, or None when none is installed (the classical one serves then).
    An installed checkpoint that cannot be used raises CheckpointError saying why: a broken file
    must not pass for a missing one."""
    path = checkpoint_dir() / CHECKPOINT
    if not path.exists():
        log.info("defects: no trained detector (%s is missing); using the classical one", path)
        return None
    return DefectDetector.from_checkpoint(path)


def propose_defects(
    image: NDArray[np.uint8], sensitivity: float = 0.5, detector: DefectDetector | None = None
) -> NDArray[np.bool_]:
    """The defect mask the app and `inpaint restore` propose: detector's if given, else classical."""
    if detector is None:
        return detect_defects(image, sensitivity)
    return detector.detect(image, sensitivity)
