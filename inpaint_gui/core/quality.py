"""Full-reference quality figures for evaluating fills: PSNR, SSIM, L1, sharpness, diversity.

Images are uint8 (H, W, 3) RGB; masks bool (H, W). With a mask, a figure is computed on the whole
image and then averaged over the masked pixels only (SSIM and gradients still see their neighbours).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import cv2
import numpy as np
from numpy.typing import NDArray

MAX_PSNR = 100.0  # identical images; keeps reports finite


def _check(a: NDArray[np.uint8], b: NDArray[np.uint8], mask: NDArray[np.bool_] | None) -> None:
    if a.shape != b.shape or a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"need two (H, W, 3) images of one size, got {a.shape} and {b.shape}")
    if mask is not None and mask.shape != a.shape[:2]:
        raise ValueError(f"mask shape {mask.shape} does not match image {a.shape[:2]}")


def _masked_mean(values: NDArray[np.float64], mask: NDArray[np.bool_] | None) -> float:
    """Mean of an (H, W) or (H, W, C) map over mask pixels (all pixels when mask is None)."""
    if mask is None:
        return float(values.mean())
    if not mask.any():
        raise ValueError("the mask is empty")
    return float(values[mask].mean())


def l1(pred: NDArray[np.uint8], target: NDArray[np.uint8], mask: NDArray[np.bool_] | None = None) -> float:
    """Mean absolute difference, in [0, 1] (1 = 255 grey levels)."""
    _check(pred, target, mask)
    diff = np.abs(pred.astype(np.float64) - target.astype(np.float64)) / 255.0
    return _masked_mean(diff, mask)


def psnr(pred: NDArray[np.uint8], target: NDArray[np.uint8], mask: NDArray[np.bool_] | None = None) -> float:
    """Peak signal-to-noise ratio in dB (peak 255), capped at MAX_PSNR."""
    _check(pred, target, mask)
    mse = _masked_mean((pred.astype(np.float64) - target.astype(np.float64)) ** 2, mask)
    if mse <= 0:
        return MAX_PSNR
    return float(min(MAX_PSNR, 10.0 * np.log10(255.0**2 / mse)))


def ssim_map(pred: NDArray[np.uint8], target: NDArray[np.uint8]) -> NDArray[np.float64]:
    """Per-pixel SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5), averaged over channels."""
    _check(pred, target, None)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    x, y = pred.astype(np.float64), target.astype(np.float64)

    def blur(a: NDArray[np.float64]) -> NDArray[np.float64]:
        return cv2.GaussianBlur(a, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.mean(axis=2)


def ssim(pred: NDArray[np.uint8], target: NDArray[np.uint8], mask: NDArray[np.bool_] | None = None) -> float:
    _check(pred, target, mask)
    return _masked_mean(ssim_map(pred, target), mask)


def _squared_gradient(image: NDArray[np.uint8]) -> NDArray[np.float64]:
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"need an (H, W, 3) image, got {image.shape}")
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64) / 255.0
    gx = cv2.Sobel(gray, cv2.CV_64F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    gy = cv2.Sobel(gray, cv2.CV_64F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT)
    return gx * gx + gy * gy


def gradient_energy(image: NDArray[np.uint8], mask: NDArray[np.bool_] | None = None) -> float:
    """Mean squared Sobel gradient magnitude of the grey image (grey levels / 255)."""
    return _masked_mean(_squared_gradient(image), mask)


def gradient_magnitude(image: NDArray[np.uint8], mask: NDArray[np.bool_] | None = None) -> float:
    """Mean Sobel gradient magnitude of the grey image; less ruled by a few strong edges than energy."""
    return _masked_mean(np.sqrt(_squared_gradient(image)), mask)


def sharpness_ratio(pred: NDArray[np.uint8], target: NDArray[np.uint8], mask: NDArray[np.bool_]) -> float:
    """Gradient energy of the fill inside the hole over the ground truth's: ~1 as sharp, ~0 blurred.

    Measured on the hole's interior (see `interior`).
    For a data set, prefer the ratio of summed energies (evaluate.py does that): one flat ground
    truth (sky) makes a per-image ratio explode.
    """
    _check(pred, target, mask)
    inner = interior(mask)
    truth = gradient_energy(target, inner)
    return gradient_energy(pred, inner) / truth if truth > 0 else float("nan")


def interior(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Hole pixels whose 3x3 neighbourhood is all hole: their gradients see the fill only, not the
    seam (a flat fill's hard border would otherwise count as sharpness). The mask itself when
    nothing is left."""
    inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    return inner.astype(bool) if inner.any() else mask


def diversity(preds: Sequence[NDArray[np.uint8]], mask: NDArray[np.bool_]) -> float:
    """Mean pairwise L1 (in [0, 1]) between candidates inside the hole; 0 for fewer than two."""
    if len(preds) < 2:
        return 0.0
    return float(np.mean([l1(a, b, mask) for a, b in combinations(preds, 2)]))
