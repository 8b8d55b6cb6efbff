"""The restoration network at full resolution, tile by tile: noise, grain, JPEG blocking, mild blur.

Each tile is run with `overlap` pixels of context on every side (reflect-padded at the image's
border and up to the network's stride) and only its core is kept, so the result has no seams and
does not depend on the tile size beyond rounding. Memory stays bounded by the tile size.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray

from inpaint_gui.core.compose import InputError, grow_box
from inpaint_gui.engine.base import Cancelled
from inpaint_gui.engine.checkpoint import (
    CheckpointError,
    build_within_budget,
    check_weights,
    checkpoint_dir,
    load_release,
)
from inpaint_gui.engine.device import choose_device
from inpaint_gui.engine.tensors import image_to_tensor, tensor_to_images
from inpaint_gui.models.restore import RestoreNet

log = logging.getLogger(__name__)

ENGINE = "restore"
PREFIX = "restore_"

#: The tile side and its context on every side (Restorer.restore's defaults).
TILE, OVERLAP = 256, 32

ProgressCallback = Callable[[int, int], None]  # (tiles done, tiles in all)


def default_restore_checkpoint() -> Path | None:
    """The newest-named checkpoints/restore_*.safetensors, or None."""
    found = sorted(checkpoint_dir().glob(f"{PREFIX}*.safetensors"))
    return found[-1] if found else None


class Restorer:
    """A loaded restoration network."""

    def __init__(self, net: RestoreNet, device: torch.device, path: Path | None = None) -> None:
        self.net = net.eval().to(device)
        self.device = device
        self.path = path

    @classmethod
    def from_checkpoint(cls, path: str | Path | None = None, device: str = "auto") -> Restorer:
        if path is None:
            path = default_restore_checkpoint()
            if path is None:
                raise CheckpointError(
                    f"no restoration checkpoint found ({checkpoint_dir() / (PREFIX + '*.safetensors')}): "
                    "train one with `inpaint train --set engine=restore` and `inpaint export`"
                )
        weights, info = load_release(path, engine=ENGINE)
        arch = info.model_config
        side = TILE + 2 * OVERLAP  # the default tile with its context: the largest piece run at once

        def padded(net: torch.nn.Module) -> int:
            s = net.stride  # type: ignore[union-attr]
            return -(-side // s) * s

        def tile(net: torch.nn.Module) -> None:
            net(torch.zeros(1, 3, padded(net), padded(net)))

        plan = build_within_budget(
            path,
            lambda: RestoreNet(arch["channels"], arch["blocks"]),
            tile,
            f"for a tile of {side} x {side} pixels",
            pixels=lambda net: padded(net) ** 2,
        )
        check_weights(path, plan.state_dict(), weights)
        net = RestoreNet(arch["channels"], arch["blocks"])
        net.load_state_dict(weights)
        return cls(net, choose_device(device), Path(path))

    @torch.inference_mode()
    def restore(
        self,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_] | None = None,
        tile: int = TILE,
        overlap: int = OVERLAP,
        on_progress: ProgressCallback | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> NDArray[np.uint8]:
        """The restored image, uint8 (H, W, 3) RGB; with mask, only its True pixels change."""
        if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3):
            raise InputError("image must be uint8 (H, W, 3)")
        if image.shape[2] != 3 or min(image.shape[:2]) < 1:
            raise InputError(f"image must be uint8 (H, W, 3), got shape {image.shape}")
        if mask is not None and mask.shape != image.shape[:2]:
            raise InputError(f"mask shape {mask.shape} differs from the image's {image.shape[:2]}")
        if tile < 16 or overlap < 0:
            raise InputError(f"tile must be >= 16 and overlap >= 0, got {tile}, {overlap}")
        h, w = image.shape[:2]
        top, left, bottom, right = 0, 0, h, w
        if mask is not None:
            if not mask.any():
                return image.copy()
            rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
            top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        cores = [
            (y, x, min(y + tile, bottom), min(x + tile, right))
            for y in range(top, bottom, tile)
            for x in range(left, right, tile)
        ]
        out = image.copy()
        for i, (y0, x0, y1, x1) in enumerate(cores):
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            out[y0:y1, x0:x1] = self._tile(image, y0, x0, y1, x1, overlap)
            if on_progress is not None:
                on_progress(i + 1, len(cores))
        if mask is not None:
            out[~mask] = image[~mask]
        return out

    def _tile(
        self, image: NDArray[np.uint8], y0: int, x0: int, y1: int, x1: int, pad: int
    ) -> NDArray[np.uint8]:
        h, w = image.shape[:2]
        wy0, wx0, wy1, wx1 = grow_box((y0, x0, y1, x1), pad, (h, w))
        window = image[wy0:wy1, wx0:wx1]
        # Context missing at the image border is mirrored in; then pad up to the stride.
        before_y, before_x = pad - (y0 - wy0), pad - (x0 - wx0)
        after_y, after_x = pad - (wy1 - y1), pad - (wx1 - x1)
        s = self.net.stride
        full_h, full_w = window.shape[0] + before_y + after_y, window.shape[1] + before_x + after_x
        after_y += -full_h % s
        after_x += -full_w % s
        padded = np.pad(window, ((before_y, after_y), (before_x, after_x), (0, 0)), mode="symmetric")
        y = tensor_to_images(self.net(image_to_tensor(padded, self.device)))[0]  # (h, w, 3)
        return y[pad : pad + (y1 - y0), pad : pad + (x1 - x0)]
