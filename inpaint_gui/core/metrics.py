"""Image-quality figures that need no pretrained network."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray


def seam_score(image: NDArray[np.uint8], mask: NDArray[np.bool_], width: int = 3) -> float:
    """Higher = the fill blends better with its surroundings.

    The negative mean Laplacian magnitude in a thin band across the hole border,
    minus the same figure just outside the band (the texture the photo already has),
    so busy photos are not penalised for their own texture. Units: grey levels.
    """
    if not mask.any() or mask.all():
        return 0.0
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
