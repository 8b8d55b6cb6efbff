"""Seamless compositing of a fill into the photo (numpy + OpenCV, any engine).

Three modes:
- "hard": masked pixels from the prediction, all others from the image (the plain composite).
- "membrane": the prediction's colour and brightness matched to the border: the difference
  image - prediction along a ring just outside the mask is interpolated smoothly over the hole (a
  membrane, as in Farbman et al. 2009's "coordinates for instant image cloning", which gives what a
  Poisson clone gives with the prediction's own gradients). Only masked pixels change.
- "feather": the membrane, then the prediction blended into the image across a band of `band`
  pixels outside the mask (which therefore change too).

Not cv2.seamlessClone: it fails for masks touching the image border and shifts even-sized regions by
a pixel. The membrane here is a push-pull interpolation (Gortler et al. 1996): two image pyramids,
linear in the hole's bounding box, exact at the ring.

Pixels outside the mask ("hard", "membrane") or farther than `band` from it ("feather") are the
image's, bit for bit.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import grow_box, mask_bbox

log = logging.getLogger(__name__)

BLEND_MODES = ("hard", "feather", "membrane")
DEFAULT_BLEND = "membrane"
DEFAULT_BAND = 3
#: Width in pixels of the ring outside the mask where colour and brightness are matched.
RING = 3
#: Large membranes are solved on a grid this many times coarser.
COARSE = 4


def blend(
    prediction: NDArray[np.uint8],
    image: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    mode: str = DEFAULT_BLEND,
    band: int = DEFAULT_BAND,
) -> NDArray[np.uint8]:
    """The image with the prediction put into the mask, blended as `mode` says.

    prediction, image: uint8 (H, W, 3); the prediction must be meaningful up to `band` pixels
    outside the mask (an engine's output over its whole working crop is). mask: bool (H, W).
    """
    if mode not in BLEND_MODES:
        raise ValueError(f"blend mode must be one of {', '.join(BLEND_MODES)}, got {mode!r}")
    if prediction.shape != image.shape or mask.shape != image.shape[:2]:
        raise ValueError(
            f"sizes differ: prediction {prediction.shape}, image {image.shape}, mask {mask.shape}"
        )
    band = max(0, int(band))
    out = image.copy()
    box = mask_bbox(mask)
    if box is None:
        return out
    if mode == "hard":
        np.copyto(out, prediction, where=mask[..., None])
        return out
    # Work in the mask's box grown by the band and the ring: everything else stays the image's.
    t, lft, b, r = grow_box(box, max(band, RING) + 2, mask.shape)
    sl = (slice(t, b), slice(lft, r))
    msk, img, pred = mask[sl], image[sl], prediction[sl].astype(np.float32)
    pred += membrane(img, pred, msk, max(band, RING))
    if mode == "membrane" or band == 0:
        mixed = np.clip(np.rint(pred), 0, 255).astype(np.uint8)
        out[sl] = np.where(msk[..., None], mixed, img)
        return out
    # Distance of each pixel outside the mask to the mask (0 inside).
    dist = cv2.distanceTransform((~msk).astype(np.uint8), cv2.DIST_L2, 3)
    alpha = np.clip(1.0 - dist / (band + 1), 0.0, 1.0)[..., None]  # 1 in the mask, 0 past the band
    mixed = alpha * pred + (1.0 - alpha) * img.astype(np.float32)
    mixed = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    keep = (dist > band)[..., None]  # outside the band: the image's own pixels, bit for bit
    out[sl] = np.where(keep, img, mixed)
    return out


def membrane(
    image: NDArray[np.uint8],
    prediction: NDArray[np.float32],
    mask: NDArray[np.bool_],
    ring: int,
) -> NDArray[np.float32]:
    """A smooth (H, W, 3) offset that brings prediction to image on the ring of `ring` pixels
    outside the mask and interpolates it over the mask.

    Large boxes are solved on a grid COARSE times smaller (the offset is smooth; the ring's mean
    per coarse cell also keeps the photo's grain from streaking into the hole).
    """
    h, w = mask.shape
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring + 1, 2 * ring + 1))
    on_ring = (cv2.dilate(mask.astype(np.uint8), kernel) > 0) & ~mask
    if not on_ring.any():  # the mask covers the whole box: nothing to match
        return np.zeros_like(prediction)
    weight = on_ring.astype(np.float32)
    diff = image.astype(np.float32)  # (image - prediction) * weight, with one box-sized array
    np.subtract(diff, prediction, out=diff)
    np.multiply(diff, weight[..., None], out=diff)
    f = COARSE if min(h, w) >= 8 * COARSE else 1
    if f == 1:
        # Average the ring a little along itself, so the photo's grain does not streak into the hole.
        num = cv2.GaussianBlur(diff, (5, 5), 0, borderType=cv2.BORDER_CONSTANT)
        den = cv2.GaussianBlur(weight, (5, 5), 0, borderType=cv2.BORDER_CONSTANT)
        values = np.where(on_ring[..., None], num / np.maximum(den, 1e-6)[..., None], 0.0)
        return push_pull(values.astype(np.float32), weight)
    size = (-(-w // f), -(-h // f))
    num = cv2.resize(diff, size, interpolation=cv2.INTER_AREA)
    den = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    values = (num / np.maximum(den, 1e-6)[..., None]).astype(np.float32)
    coarse = push_pull(values, np.minimum(den * f, 1.0).astype(np.float32))
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, -1)


def push_pull(values: NDArray[np.float32], weight: NDArray[np.float32]) -> NDArray[np.float32]:
    """Fill where weight is 0 from where it is 1: a smooth interpolation, exact where weight is 1.

    values: float32 (H, W, C); weight: float32 (H, W) in [0, 1]. Pull: halve values*weight and
    weight down to one pixel; push: from the top, each level keeps its own mean where its cell is
    well covered and takes the upsampled coarser level elsewhere.
    """
    sums, weights = [values * weight[..., None]], [weight]
    while max(weights[-1].shape) > 1:
        sums.append(_halve(sums[-1]))
        weights.append(_halve(weights[-1]))
    fill = sums[-1] / np.maximum(weights[-1], 1e-6)[..., None]
    for level in range(len(sums) - 2, -1, -1):
        s, wt = sums[level], weights[level]
        up = cv2.resize(fill, (s.shape[1], s.shape[0]), interpolation=cv2.INTER_LINEAR)
        if up.ndim == 2:
            up = up[..., None]
        trust = wt if level == 0 else np.minimum(4.0 * wt, 1.0)
        mean = s / np.maximum(wt, 1e-6)[..., None]
        fill = trust[..., None] * mean + (1.0 - trust[..., None]) * up
    return fill.astype(np.float32)


def _halve(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """2x2 means (a 1-pixel side stays 1); an odd side is padded with zeros (weight 0 = unknown)."""
    h, w = x.shape[:2]
    kh, kw = (2 if h > 1 else 1), (2 if w > 1 else 1)
    ph, pw = h % kh, w % kw
    if ph or pw:
        x = np.pad(x, ((0, ph), (0, pw)) + ((0, 0),) * (x.ndim - 2))
    h2, w2 = x.shape[0] // kh, x.shape[1] // kw
    return x.reshape(h2, kh, w2, kw, *x.shape[2:]).mean(axis=(1, 3), dtype=np.float32)
