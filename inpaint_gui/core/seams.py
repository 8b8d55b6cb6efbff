"""Seams of a fill measured against the photo's own edges: 1.0 = the photo's level, higher = worse.

A fill can be close to the photo on average and still look pasted at 100%: straight block borders
inside the hole (a patch-based fill copying rectangles), or a step in colour all along the mask's
outline (a hard paste, a brush outline turned into a staircase). Both are edges; what makes them
seams is that the photo around the hole does not have them. So each part is a ratio of the same
statistic measured on the fill and on the photo's untouched ring around the hole:

- lines: straight sharp steps. The difference between neighbouring rows less its local mean (a
  sharp step, not shading), averaged signed along a horizontal run of `LINE` pixels (and the same
  for columns along vertical runs), so texture cancels and a straight border adds up. Ratio of
  the share of hole pixels above the ring's 99th percentile of that response to the ring's own
  share (1 %), each with 1 % added so a clean hole in a flat ring reads 1.
- outline: the colour step across the hole's outline (mean of `BAND` pixels just inside against
  `BAND` just outside, at each outline pixel), over the same step across a contour of the same shape
  drawn in the untouched ring (the outline grown by `OFFSET` pixels), each plus one grey level.

seam_score is the mean of the two. Everything runs on the hole's bounding box plus a margin, so a
24 MP photo with a small hole costs what the hole costs. (core.metrics.seam_score, the gallery's
figure, is a different measure: Laplacian energy on a thin band across the border, in grey levels.)

    from inpaint_gui.core.seams import seam_score
    ratio = seam_score(photo, filled, mask)   # 1.0 = as seamless as the photo itself
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import InputError, describe, mask_bbox

LINE = 21  # run length (px) along which a straight border must persist
BAND = 4  # px each side of the outline whose means are compared
OFFSET = 3 * BAND + 2  # the reference contour lies this far outside the hole
_PERCENTILE = 99.0
_SHARE_FLOOR = 0.01  # added to both shares: a clean fill next to a flat ring reads 1, not 0/0
_STEP_FLOOR = 1.0  # grey levels added to both outline steps


@dataclass(frozen=True)
class SeamParts:
    """The two ratios (1.0 = the photo's own level) and their mean, `score`."""

    lines: float
    outline: float

    @property
    def score(self) -> float:
        return 0.5 * (self.lines + self.outline)


def seam_score(photo: NDArray[np.uint8], filled: NDArray[np.uint8], mask: NDArray[np.bool_]) -> float:
    """How much more seam the fill has than the photo around the hole; 1.0 = the photo's own level.

    photo: the image before the fill or the fill itself; only its pixels outside the hole are read
    (the ring the fill is judged against). filled: uint8 (H, W, 3). mask: bool (H, W), True = hole.
    An empty mask, or one covering the whole image (no ring), gives 1.0.
    """
    return seam_parts(photo, filled, mask).score


def seam_parts(photo: NDArray[np.uint8], filled: NDArray[np.uint8], mask: NDArray[np.bool_]) -> SeamParts:
    """seam_score's two parts: straight borders inside the hole, and the step across its outline."""
    _check(photo, filled, mask)
    found = mask_bbox(mask)
    if found is None or mask.all():
        return SeamParts(1.0, 1.0)
    top, left, bottom, right = found
    ring = _ring_width(int(mask.sum()))
    m = ring + LINE + OFFSET + 2 * BAND + 2
    h, w = mask.shape
    box = (slice(max(top - m, 0), min(bottom + m, h)), slice(max(left - m, 0), min(right + m, w)))
    hole = mask[box]
    # Outside the hole both images should be the photo; take the photo there, the fill inside.
    image = np.where(hole[..., None], filled[box], photo[box]).astype(np.float32)
    outside = (~hole).astype(np.uint8)
    if not outside.any():
        return SeamParts(1.0, 1.0)
    dist_out = cv2.distanceTransform(outside, cv2.DIST_L2, 5)  # px from the hole, outside it
    return SeamParts(_lines(image, hole, dist_out, ring), _outline(image, hole, dist_out))


def _check(photo: NDArray, filled: NDArray, mask: NDArray) -> None:
    for name, im in (("photo", photo), ("filled", filled)):
        if not (isinstance(im, np.ndarray) and im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3):
            raise InputError(f"{name} must be uint8 (H, W, 3), got {describe(im)}")
    if not (isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == filled.shape[:2]):
        raise InputError(f"mask must be bool {filled.shape[:2]}, got {describe(mask)}")
    if photo.shape != filled.shape:
        raise InputError(f"photo {photo.shape} and fill {filled.shape} differ in size")


def _ring_width(area: int) -> int:
    """The reference ring grows with the hole (half its equivalent radius), 24 to 256 px."""
    return int(min(256, max(24, 0.5 * math.sqrt(area / math.pi))))


def _lines(image: NDArray[np.float32], hole: NDArray[np.bool_], dist_out: NDArray, ring: int) -> float:
    grey = image.mean(axis=2)
    # A pasted block's border is a sharp step: a spike in the difference of neighbouring rows (or
    # columns). Taking away the local mean of those differences leaves the spikes and drops smooth
    # shading; the signed mean along a straight run then keeps a border and cancels texture.
    dy = np.diff(grey, axis=0, append=grey[-1:])
    dx = np.diff(grey, axis=1, append=grey[:, -1:])
    sharp_y = dy - cv2.blur(dy, (1, 5), borderType=cv2.BORDER_REFLECT)
    sharp_x = dx - cv2.blur(dx, (5, 1), borderType=cv2.BORDER_REFLECT)
    along_x = np.abs(cv2.blur(sharp_y, (LINE, 1), borderType=cv2.BORDER_REFLECT))
    along_y = np.abs(cv2.blur(sharp_x, (1, LINE), borderType=cv2.BORDER_REFLECT))
    response = np.maximum(along_x, along_y)
    # The ring starts where a run centred there no longer reaches into the hole.
    near = LINE // 2 + 2
    in_ring = (dist_out > near) & (dist_out <= near + ring)
    inside = cv2.erode(hole.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if not in_ring.any() or not inside.any():
        return 1.0
    ref = response[in_ring]
    threshold = float(np.percentile(ref, _PERCENTILE))
    share_ring = float((ref > threshold).mean())
    share_hole = float((response[inside] > threshold).mean())
    return (share_hole + _SHARE_FLOOR) / (share_ring + _SHARE_FLOOR)


def _outline_step(image: NDArray[np.float32], region: NDArray[np.bool_]) -> float:
    """Mean colour step across the outline of `region` (BAND px each side), over outline pixels
    that have image on both sides."""
    reg = region.astype(np.uint8)
    dist_in = cv2.distanceTransform(reg, cv2.DIST_L2, 5)
    dist_out = cv2.distanceTransform(1 - reg, cv2.DIST_L2, 5)
    inner = ((dist_in > 0) & (dist_in <= BAND)).astype(np.float32)
    outer = ((dist_out > 0) & (dist_out <= BAND)).astype(np.float32)
    size = (2 * BAND + 1, 2 * BAND + 1)
    n_in = cv2.boxFilter(inner, -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    n_out = cv2.boxFilter(outer, -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    edge = region & (dist_in <= 1.0) & (n_in > 0) & (n_out > 0)
    if not edge.any():
        return float("nan")
    sq = np.zeros(int(edge.sum()), np.float32)
    for c in range(3):
        ch = image[..., c]
        s_in = cv2.boxFilter(ch * inner, -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
        s_out = cv2.boxFilter(ch * outer, -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
        diff = s_in[edge] / n_in[edge] - s_out[edge] / n_out[edge]
        sq += diff * diff
    steps = np.sqrt(sq / 3.0)
    return float(steps.mean())


def _outline(image: NDArray[np.float32], hole: NDArray[np.bool_], dist_out: NDArray) -> float:
    true_step = _outline_step(image, hole)
    ref_step = _outline_step(image, hole | (dist_out <= OFFSET))
    if math.isnan(true_step) or math.isnan(ref_step):
        return 1.0
    return (true_step + _STEP_FLOOR) / (ref_step + _STEP_FLOOR)
