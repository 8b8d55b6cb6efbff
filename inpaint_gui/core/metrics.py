"""Image-quality figures that need no pretrained network."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import mask_bbox

#: What the number shown for a candidate means (the same measure for every engine).
SEAM_HELP = (
    "Seam: how much more edge the fill's border has than the photo around it, in grey levels "
    "(0 = as smooth as its surroundings; lower blends better). The same measure for every engine; "
    "it judges the border only, not whether the content is right."
)


def seam_excess(score: float) -> float:
    """The shown seam figure for a seam_score: grey levels of edge the border adds (lower is better)."""
    return 0.0 - score  # 0.0 -: never "-0.00"


def seam_score(image: NDArray[np.uint8], mask: NDArray[np.bool_], width: int = 3) -> float:
    """Higher = the fill blends better with its surroundings.

    The negative mean Laplacian magnitude in a thin band across the hole border,
    minus the same figure just outside the band (the texture the photo already has),
    so busy photos are not penalised for their own texture. Units: grey levels.
    """
    if not mask.any() or mask.all():
        return 0.0
    # Only the mask's box grown by the two rings (and the Laplacian's pixel) matters: a large photo's
    # crop around a small hole is mostly far from the border.
    found = mask_bbox(mask)
    assert found is not None  # mask.any() above
    top, left, bottom, right = found
    m = 2 * width + 2
    box = (
        slice(max(top - m, 0), min(bottom + m, mask.shape[0])),
        slice(max(left - m, 0), min(right + m, mask.shape[1])),
    )
    image, mask = image[box], mask[box]
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lap = np.abs(cv2.Laplacian(gray, cv2.CV_32F, ksize=3))
    m8 = mask.astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
    grown = cv2.dilate(m8, kernel).astype(bool)
    shrunk = cv2.erode(m8, kernel).astype(bool)
    band = grown & ~shrunk
    outer = cv2.dilate(grown.astype(np.uint8), kernel).astype(bool) & ~grown
    seam = float(lap[band].mean())
    texture = float(lap[outer].mean()) if outer.any() else 0.0
    return -(seam - texture)
