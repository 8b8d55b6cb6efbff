"""OpenCV's diffusion inpainting: instant fixes for scratches, and a baseline."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.engine.base import Engine


class _OpenCVEngine(Engine):
    _flag: int
    #: Neighbourhood radius in pixels considered around each filled pixel.
    radius: int = 5
    context = 0.0  # diffusion only looks a few pixels past the hole

    def _fill(
        self,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        seeds: Sequence[int],
        near: int | None,
        spread: float,
    ) -> Iterator[NDArray[np.uint8]]:
        result = cv2.inpaint(image, mask.astype(np.uint8), self.radius, self._flag)
        for _ in seeds:
            yield result


class TeleaEngine(_OpenCVEngine):
    name = "telea"
    label = "Telea (fast marching)"
    _flag = cv2.INPAINT_TELEA


class NavierStokesEngine(_OpenCVEngine):
    name = "navier-stokes"
    label = "Navier-Stokes"
    _flag = cv2.INPAINT_NS
