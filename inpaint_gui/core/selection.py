"""Select an object from a box: GrabCut at a working size, the edge refined at full size.

The user drags a box around an object and may add a few strokes marking pixels that
are surely object (foreground) or surely not (background). GrabCut (OpenCV's
colour-model graph cut, no weights) runs on the box and a margin around it, scaled
down so its longest side is at most `work_side` pixels: its cost then no longer grows
with the photo. The low-resolution answer is upsampled and its edge refined at full
size with a guided filter, which snaps the upsampled soft edge to the image's own
edges; only a thin band around the outline is touched. The result is grown by a few
pixels so the halo and soft shadow at the object's edge are filled too.

Coordinates: box = (x, y, width, height) in image pixels; stroke points are (x, y)
with pixel (i, j) covering [j, j+1) x [i, i+1), as in `mask_doc`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import describe

log = logging.getLogger(__name__)

DEFAULT_GROW = 4  # full-resolution pixels added around the object: its halo and shadow edge
MAX_GROW = 200
DEFAULT_WORK_SIDE = 400  # longest side of the region GrabCut sees
MIN_BOX = 4  # pixels: a smaller box is a click, not a selection
_ITERATIONS = 5
_SECOND_ITERATIONS = 3
_BAND = 0.04  # of the first answer's size (square root of its area): the band asked again
_LIGHTNESS = 0.5  # weight of Lab's lightness against its two colour axes in the second pass
_SEED = 0x5E1EC7  # GrabCut seeds its colour models by k-means: fixed for repeatable answers

Box = tuple[int, int, int, int]  # x, y, width, height
Point = tuple[float, float]


class SelectionError(ValueError):
    """Input that cannot be selected from (a box outside the image, a bad image)."""


@dataclass(frozen=True)
class Stroke:
    """A polyline of image points painted with a round brush of `radius` pixels."""

    points: tuple[Point, ...]
    radius: float = 3.0

    def __post_init__(self) -> None:
        if not self.points:
            raise SelectionError("a stroke needs at least one point")
        pts = np.asarray(self.points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
            raise SelectionError("stroke points must be finite (x, y) pairs")
        if not (math.isfinite(self.radius) and self.radius > 0):
            raise SelectionError(f"stroke radius must be positive, got {self.radius}")


@dataclass(frozen=True)
class Selection:
    """A selected object: a bool crop of the image's mask placed at (top, left)."""

    top: int
    left: int
    mask: NDArray[np.bool_]  # (h, w), True = object (grown)
    shape: tuple[int, int]  # the whole image's (H, W)

    def full(self) -> NDArray[np.bool_]:
        """The selection as an (H, W) mask of the whole image."""
        out = np.zeros(self.shape, dtype=np.bool_)
        h, w = self.mask.shape
        out[self.top : self.top + h, self.left : self.left + w] = self.mask
        return out

    @property
    def area(self) -> int:
        return int(np.count_nonzero(self.mask))


def select_object(
    image: NDArray[np.uint8],
    box: Box,
    fg_strokes: Sequence[Stroke] | None = None,
    bg_strokes: Sequence[Stroke] | None = None,
    grow: int = DEFAULT_GROW,
    work_side: int = DEFAULT_WORK_SIDE,
) -> NDArray[np.bool_]:
    """The (H, W) bool mask of the object inside `box` (x, y, w, h), grown by `grow` pixels."""
    return select_region(image, box, fg_strokes, bg_strokes, grow, work_side).full()


def select_region(
    image: NDArray[np.uint8],
    box: Box,
    fg_strokes: Sequence[Stroke] | None = None,
    bg_strokes: Sequence[Stroke] | None = None,
    grow: int = DEFAULT_GROW,
    work_side: int = DEFAULT_WORK_SIDE,
) -> Selection:
    """Like `select_object`, but returns only the crop around the object (cheap to apply)."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise SelectionError(f"image must be uint8 (H, W, 3) RGB, got {describe(image)}")
    if not 0 <= grow <= MAX_GROW:
        raise SelectionError(f"grow must be 0..{MAX_GROW} pixels, got {grow}")
    if work_side < 32:
        raise SelectionError(f"work_side must be at least 32, got {work_side}")
    height, width = image.shape[:2]
    x0, y0, x1, y1 = _clip_box(box, width, height)
    fg_strokes = list(fg_strokes or ())
    bg_strokes = list(bg_strokes or ())

    # The region GrabCut sees: the box and a margin whose pixels teach it the background.
    margin = max(8, round(0.15 * max(x1 - x0, y1 - y0)))
    rx0, ry0 = max(0, x0 - margin), max(0, y0 - margin)
    rx1, ry1 = min(width, x1 + margin), min(height, y1 + margin)
    for s in fg_strokes + bg_strokes:  # strokes outside the box still count
        pts = np.asarray(s.points)
        r = math.ceil(s.radius) + 1
        rx0 = max(0, min(rx0, math.floor(pts[:, 0].min()) - r))
        ry0 = max(0, min(ry0, math.floor(pts[:, 1].min()) - r))
        rx1 = min(width, max(rx1, math.ceil(pts[:, 0].max()) + r))
        ry1 = min(height, max(ry1, math.ceil(pts[:, 1].max()) + r))
    region = image[ry0:ry1, rx0:rx1]
    rh, rw = region.shape[:2]
    scale = min(1.0, work_side / max(rh, rw))
    sw, sh = max(1, round(rw * scale)), max(1, round(rh * scale))
    sx, sy = sw / rw, sh / rh
    small = region if scale == 1.0 else cv2.resize(region, (sw, sh), interpolation=cv2.INTER_AREA)

    labels = np.full((sh, sw), cv2.GC_BGD, dtype=np.uint8)
    bx0, by0 = math.floor((x0 - rx0) * sx), math.floor((y0 - ry0) * sy)
    bx1, by1 = math.ceil((x1 - rx0) * sx), math.ceil((y1 - ry0) * sy)
    labels[by0:by1, bx0:bx1] = cv2.GC_PR_FGD
    fg_hint = np.zeros((sh, sw), dtype=np.uint8)
    for strokes, value in ((bg_strokes, cv2.GC_BGD), (fg_strokes, cv2.GC_FGD)):
        for s in strokes:
            _draw_stroke(labels, s, rx0, ry0, sx, sy, value)
            if value == cv2.GC_FGD:
                _draw_stroke(fg_hint, s, rx0, ry0, sx, sy, 1)

    first = _grabcut(small, labels.copy(), _ITERATIONS) > 0.5
    soft = _second_pass(small, labels, first)  # float32 (sh, sw) in {0, 1}
    soft = _clean(soft > 0.5, fg_hint.astype(bool)).astype(np.float32)
    if not soft.any():
        return Selection(ry0, rx0, np.zeros((rh, rw), dtype=np.bool_), (height, width))

    # Back to full size: the upsampled edge, snapped to the image's edges by a guided filter.
    full = _refine(region, soft, (rw, rh), 1.0 / min(sx, sy))
    # Strokes are promises: what the user painted as object stays object, and the reverse.
    for s in fg_strokes:
        _paint_full(full, s, rx0, ry0, True)
    for s in bg_strokes:
        _paint_full(full, s, rx0, ry0, False)
    return _grown(full, ry0, rx0, grow, (height, width))


def _clip_box(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    try:
        x, y, w, h = (float(v) for v in box)
    except (TypeError, ValueError):
        raise SelectionError(f"box must be four numbers x, y, width, height, got {box!r}") from None
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise SelectionError(f"box must be finite numbers, got {box!r}")
    if w < 0:
        x, w = x + w, -w
    if h < 0:
        y, h = y + h, -h
    x0, y0 = max(0, math.floor(x)), max(0, math.floor(y))
    x1, y1 = min(width, math.ceil(x + w)), min(height, math.ceil(y + h))
    if x1 - x0 < MIN_BOX or y1 - y0 < MIN_BOX:
        raise SelectionError(
            f"the box {x:g},{y:g},{w:g},{h:g} covers less than {MIN_BOX}x{MIN_BOX} pixels "
            f"of the {width}x{height} image"
        )
    return x0, y0, x1, y1


def _draw_stroke(
    canvas: NDArray[np.uint8], s: Stroke, ox: int, oy: int, sx: float, sy: float, value: int
) -> None:
    """Paint stroke `s` into canvas, whose pixel (0, 0) is image point (ox, oy) scaled by sx, sy."""
    pts = (np.asarray(s.points, dtype=np.float64) - (ox, oy)) * (sx, sy) - 0.5
    fixed = [tuple(map(int, p)) for p in np.round(np.clip(pts, -1e5, 1e5) * 16)]
    radius = max(0.5, s.radius * min(sx, sy))
    for p in fixed:
        cv2.circle(canvas, p, round(radius * 16), value, -1, cv2.LINE_8, 4)
    thick = max(1, round(2 * radius))
    for a, b in zip(fixed, fixed[1:], strict=False):
        cv2.line(canvas, a, b, value, thick, cv2.LINE_8, 4)


def _paint_full(mask: NDArray[np.bool_], s: Stroke, ox: int, oy: int, value: bool) -> None:
    canvas = mask.view(np.uint8)
    _draw_stroke(canvas, s, ox, oy, 1.0, 1.0, int(value))


def _second_pass(
    small: NDArray[np.uint8], labels: NDArray[np.uint8], first: NDArray[np.bool_]
) -> NDArray[np.float32]:
    """GrabCut again, in Lab with lightness at half weight, with a band around the first outline
    starting as "probably background".

    The first pass starts from the whole box as object, so its object colour model learns the
    shadow, blur halo or dark cloth that hugs the object, and keeps a ring of it. Asked again
    with only the object's core as "probably object" and the band either side of its outline as
    "probably background", the models are seeded without that ring, and the band goes to the
    object only where its colours call for it.
    """
    if not first.any():
        return first.astype(np.float32)
    width = max(1.0, _BAND * math.sqrt(np.count_nonzero(first)))
    core = cv2.distanceTransform(first.view(np.uint8), cv2.DIST_L2, 3) > width
    unsure = labels == cv2.GC_PR_FGD  # the box; strokes and the margin keep their labels
    if not (core & unsure).any():
        return first.astype(np.float32)  # all of it is band: thin, leave it to the first pass
    labels[unsure] = cv2.GC_PR_BGD
    labels[unsure & core] = cv2.GC_PR_FGD
    # In CIE Lab with lightness at half weight: a shadow or blur halo differs from a dark object
    # mostly in hue, and shading within the object is lightness; in RGB both are just "dark".
    lab = cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2Lab)
    lab[..., 0] = (lab[..., 0] * _LIGHTNESS).astype(np.uint8)
    second = _grabcut(lab, labels, _SECOND_ITERATIONS, rgb=False)
    return second if second.any() else first.astype(np.float32)


def _grabcut(
    small: NDArray[np.uint8], labels: NDArray[np.uint8], iterations: int, rgb: bool = True
) -> NDArray[np.float32]:
    """GrabCut on `small`'s colours (RGB, or any 3 channels with rgb=False); labels is updated."""
    if not (labels == cv2.GC_PR_FGD).any() and not (labels == cv2.GC_FGD).any():
        return np.zeros(labels.shape, dtype=np.float32)
    if not ((labels == cv2.GC_BGD) | (labels == cv2.GC_PR_BGD)).any():
        # The box covers the whole region: GrabCut needs some background to learn from.
        labels[0, :] = labels[-1, :] = labels[:, 0] = labels[:, -1] = cv2.GC_PR_BGD
    bgd = np.zeros((1, 65), dtype=np.float64)
    fgd = np.zeros((1, 65), dtype=np.float64)
    bgr = np.ascontiguousarray(small[:, :, ::-1]) if rgb else small
    cv2.setRNGSeed(_SEED)
    try:
        cv2.grabCut(bgr, labels, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error as exc:
        # GrabCut refuses regions where one side has too few distinct colours to model.
        log.info("grabcut gave up: %s", exc)
        return ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.float32)
    return ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.float32)


def _clean(fg: NDArray[np.bool_], keep: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Drop specks far smaller than the object and away from it; fill small holes inside it.

    A small part close to the object (a wing tip, a leg cut off by a thin gap) is kept: left out,
    it would come back as a floating speck in every fill.
    """
    count, comp, stats, _ = cv2.connectedComponentsWithStats(fg.view(np.uint8), connectivity=8)
    if count <= 1:
        return fg
    areas = stats[1:, cv2.CC_STAT_AREA]
    kept = areas >= 0.05 * areas.max()
    main = kept[comp - 1] & (comp > 0)
    reach = max(2.0, 0.06 * max(fg.shape))
    near = cv2.distanceTransform((~main).view(np.uint8), cv2.DIST_L2, 3) <= reach
    for ids in (comp[keep & fg], comp[near & fg]):  # painted as object, or near the object
        ids = np.unique(ids)
        kept[ids[ids > 0] - 1] = True
    out = kept[comp - 1] & (comp > 0)
    # Holes: background components not touching the border, small against the object.
    count, comp, stats, _ = cv2.connectedComponentsWithStats((~out).view(np.uint8), connectivity=4)
    h, w = out.shape
    x, y, cw, ch, area = (stats[:, k] for k in range(5))
    inner = (x > 0) & (y > 0) & (x + cw < w) & (y + ch < h)
    fill = inner & (area <= 0.02 * np.count_nonzero(out))
    fill[0] = False  # label 0 is the object itself
    return out | fill[comp]


def _refine(
    region: NDArray[np.uint8], soft: NDArray[np.float32], size: tuple[int, int], factor: float
) -> NDArray[np.bool_]:
    """Upsample the working mask to `size` and snap its edge to the image's edges."""
    rw, rh = size
    if soft.shape == (rh, rw):
        up = soft
    else:
        up = cv2.resize(soft, (rw, rh), interpolation=cv2.INTER_LINEAR)
    hard = up > 0.5
    # The band where the working size could be wrong: a couple of working pixels either side.
    reach = max(2, math.ceil(2.0 * factor))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    u8 = hard.view(np.uint8)
    band = cv2.dilate(u8, kernel) != cv2.erode(u8, kernel)
    ys, xs = np.nonzero(band.any(axis=1))[0], np.nonzero(band.any(axis=0))[0]
    if ys.size == 0:
        return hard
    pad = 2 * reach
    t, b = max(0, ys[0] - pad), min(rh, ys[-1] + 1 + pad)
    lft, r = max(0, xs[0] - pad), min(rw, xs[-1] + 1 + pad)
    guide = cv2.cvtColor(np.ascontiguousarray(region[t:b, lft:r]), cv2.COLOR_RGB2GRAY)
    # Blur the step first so the filter has a gradient to move within the band.
    p = cv2.GaussianBlur(up[t:b, lft:r], (0, 0), max(1.0, factor))
    q = guided_filter(guide.astype(np.float32) / 255.0, p, radius=reach, eps=1e-3)
    inner = band[t:b, lft:r]
    hard[t:b, lft:r][inner] = q[inner] > 0.5
    return hard


def guided_filter(
    guide: NDArray[np.float32], src: NDArray[np.float32], radius: int, eps: float
) -> NDArray[np.float32]:
    """He, Sun and Tang's guided filter with a grey guide: `src` made to follow guide's edges."""
    size = (2 * radius + 1, 2 * radius + 1)

    def mean(a: NDArray[np.float32]) -> NDArray[np.float32]:
        return cv2.boxFilter(a, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = mean(guide), mean(src)
    var_i = mean(guide * guide) - mean_i * mean_i
    cov_ip = mean(guide * src) - mean_i * mean_p
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return mean(a) * guide + mean(b)


def _grown(mask: NDArray[np.bool_], top: int, left: int, grow: int, shape: tuple[int, int]) -> Selection:
    """The selection grown by `grow` pixels (Euclidean), as a crop of the whole image."""
    height, width = shape
    ys = np.flatnonzero(mask.any(axis=1))
    if ys.size == 0:
        return Selection(top, left, mask, shape)
    xs = np.flatnonzero(mask.any(axis=0))
    t, b = max(0, top + ys[0] - grow), min(height, top + ys[-1] + 1 + grow)
    lft, r = max(0, left + xs[0] - grow), min(width, left + xs[-1] + 1 + grow)
    out = np.zeros((b - t, r - lft), dtype=np.bool_)
    out[top + ys[0] - t : top + ys[-1] + 1 - t, left + xs[0] - lft : left + xs[-1] + 1 - lft] = mask[
        ys[0] : ys[-1] + 1, xs[0] : xs[-1] + 1
    ]
    if grow > 0:
        dist = cv2.distanceTransform((~out).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        out = dist <= grow + 1e-6
    return Selection(t, lft, out, shape)
