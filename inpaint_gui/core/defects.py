"""Find the dust, scratches and spots of a scanned photo: a mask proposal for the restore action.

Dust, specks and scratches are thin, and brighter or darker than what surrounds them. A white top-hat
(image minus its opening) keeps bright details narrower than the structuring element, a black-hat
(closing minus image) dark ones; both leave steps such as object edges alone. Photos have thin
detail of their own (twigs, texture), so a pixel is a candidate only when its response stands out
from the local median response around it (a textured area has a high median; a flat sky a low one).
Candidates are grouped into connected components, and a component is kept when it is a speck (small
in both directions) or line-shaped (long and thin: a scratch or a hair); wide blobs are texture.
A component is kept only when some pixel of it clears a higher threshold (hysteresis), so a faint
stretch of a strong scratch stays whole. The kept mask is grown by a pixel or two so the fill covers
the soft edges of each defect.

All sizes are scaled to the image: `scale = short side / 512`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import InputError

log = logging.getLogger(__name__)

#: Below this short side the detector has too little to work with.
MIN_SIDE = 16
#: The texture map is computed on an image shrunk to about this many pixels (it is smooth anyway).
_TEXTURE_PIXELS = 1_000_000


#: The scratch pass drops a thin line when, on more than RIM_SHARE of its centre line, the photo on
#: its two sides (RIM_REACH x scale px away, across the line) differs more than the line differs from
#: the nearer side: the bright rim of a cup or the edge of a thin object separates two surfaces, a
#: scratch crosses one. 1 turns the test off. With the trained detector (which confirms these lines),
#: sensitivity 0.5, `bench/defects_eval.py`: eval/photos-full at 1600 px pixel precision 0.412 -> 0.538
#: at recall 0.823 -> 0.809, clean photos 1.36% -> 0.63% proposed; eval/scenes 0.368 -> 0.375, recall
#: 0.473 -> 0.441; kde_colorfulcups at native size 6.8% -> 1.9% proposed (0.56% damaged), recall
#: 0.914 -> 0.908. At 0.45: 0.475 / 0.809 / 0.74%, cups 2.4%.
RIM_SHARE = 0.3
RIM_REACH = 4.2


@dataclass(frozen=True)
class DefectSettings:
    """Tuning of `detect_defects`; `for_sensitivity` maps one 0..1 knob onto these."""

    floor: float  # a defect differs from its surroundings by at least this many grey levels
    texture_gain: float  # ... and by this many times the local median response
    strong: float  # hysteresis: some pixel of a kept component is this many times over its threshold
    max_width: float  # widest speck or spot, as a multiple of scale (with a floor of 5 px)
    line_width: float  # widest scratch, as a multiple of scale (with a floor of 5 px)
    elongation: float  # a component longer than this many times its width is a line
    speck_size: float  # a component at most this many times max_width across is a speck
    bend: float  # a line may spread across its length by its width plus this share of its length
    grow: float  # pixels the kept mask grows by, as a multiple of scale (at least 1)

    @classmethod
    def for_sensitivity(cls, sensitivity: float) -> DefectSettings:
        """0 = only the most obvious defects, 1 = everything that might be one; 0.5 is the default."""
        if not 0.0 <= sensitivity <= 1.0:
            raise InputError(f"sensitivity must be between 0 and 1, got {sensitivity}")
        s = float(sensitivity)
        return cls(
            floor=_lerp(30.0, 8.0, s),
            texture_gain=_lerp(5.0, 2.0, s),
            strong=_lerp(1.8, 1.2, s),
            max_width=8.0,
            line_width=7.0,
            elongation=_lerp(6.0, 3.0, s),
            speck_size=1.2,
            bend=0.15,
            grow=1.5,
        )


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def image_scale(shape: tuple[int, ...]) -> float:
    """Size unit of the detector and of the synthetic defects: short side / 512."""
    return min(shape[0], shape[1]) / 512.0


def max_defect_width(shape: tuple[int, ...], settings: DefectSettings, lines: bool = False) -> int:
    """Side of the structuring element: the widest speck (or scratch) found, odd, in pixels."""
    w = max(5, int(round((settings.line_width if lines else settings.max_width) * image_scale(shape))))
    return w + 1 - w % 2


def defect_response(lum: NDArray[np.uint8], width: int) -> NDArray[np.uint8]:
    """max(white top-hat, black-hat) of the luminance: how much a thin detail stands out, grey levels."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    top = cv2.morphologyEx(lum, cv2.MORPH_TOPHAT, kernel)
    black = cv2.morphologyEx(lum, cv2.MORPH_BLACKHAT, kernel)
    return np.maximum(top, black)


def texture_level(response: NDArray[np.uint8], width: int) -> NDArray[np.float32]:
    """The local median of the response over a window of about 8 defect widths: thin defects do not
    move a median, the photo's own texture does."""
    h, w = response.shape
    f = min(1.0, (_TEXTURE_PIXELS / (h * w)) ** 0.5)
    small = cv2.resize(response, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    k = max(3, int(round(8 * width * f)))
    k = min(k + 1 - k % 2, 255)
    level = cv2.medianBlur(small, k)
    return cv2.resize(level.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def check_image(image: object) -> None:
    """InputError unless image is uint8 (H, W, 3) and at least MIN_SIDE px on a side (any detector)."""
    if not (
        isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    ):
        raise InputError(
            f"image must be uint8 (H, W, 3), got {getattr(image, 'dtype', type(image))} "
            f"{getattr(image, 'shape', '')}"
        )
    if min(image.shape[:2]) < MIN_SIDE:
        raise InputError(f"image is too small to look for defects (under {MIN_SIDE} px on a side)")


def detect_defects(
    image: NDArray[np.uint8],
    sensitivity: float = 0.5,
    settings: DefectSettings | None = None,
    lines_only: bool = False,
) -> NDArray[np.bool_]:
    """A proposed mask of dust, specks, spots and thin scratches: bool (H, W), True = defect.

    image: uint8 (H, W, 3) RGB. sensitivity 0..1 (ignored when settings are given). lines_only: the
    scratch pass alone (long thin components), no specks or spots, and no holes filled.
    """
    check_image(image)
    cfg = settings if settings is not None else DefectSettings.for_sensitivity(sensitivity)
    lum = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    # Two passes: a narrow element finds scratches (and small specks) without the photo's wider thin
    # structures (rims, edges of thin objects) joining them into one big component; a wide one finds
    # specks and spots, kept only when small in both directions.
    keep = np.zeros(lum.shape, bool)
    for lines in (True,) if lines_only else (True, False):
        width = max_defect_width(image.shape, cfg, lines)
        response = defect_response(lum, width)
        threshold = cfg.floor + cfg.texture_gain * texture_level(response, width)
        weak = response > threshold
        strong = response > threshold * cfg.strong
        found = _shaped_components(weak, strong, width, cfg, lines)
        if lines and RIM_SHARE < 1.0:
            found = drop_rims(image, found, max(4, int(round(RIM_REACH * image_scale(image.shape)))))
        keep |= found
    grow = max(1, int(round(cfg.grow * image_scale(image.shape))))
    if grow and keep.any():
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
        keep = cv2.dilate(keep.view(np.uint8), kernel).astype(bool)
    if not lines_only:  # the scratch pass alone is the trained detector's, which fills the union
        keep = fill_small_holes(keep, largest_hole(image.shape))
    log.debug("defects: %d pixels proposed", int(keep.sum()))
    return keep


def largest_hole(shape: tuple[int, ...]) -> int:
    """Pixels of the largest hole inside a proposal that fill_small_holes closes: a speck's area, about."""
    return (2 * max_defect_width(shape, DefectSettings.for_sensitivity(0.5))) ** 2


def fill_small_holes(mask: NDArray[np.bool_], max_area: int) -> NDArray[np.bool_]:
    """mask with its enclosed holes of at most max_area pixels filled. A speck's bright core can be
    left out of a proposal that rings it (the trained detector's ring on a 23 px dust speck left a
    2 px core): every engine then treats the core as photo and grows it back into the fill. Larger
    enclosed areas (the inside of a proposed circle) stay as they are."""
    if not mask.any():
        return mask
    count, labels, stats, _ = cv2.connectedComponentsWithStats((~mask).view(np.uint8), connectivity=4)
    h, w = mask.shape
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    right, bottom = left + stats[:, cv2.CC_STAT_WIDTH], top + stats[:, cv2.CC_STAT_HEIGHT]
    inside = (left > 0) & (top > 0) & (right < w) & (bottom < h)  # touches no image border
    small = inside & (stats[:, cv2.CC_STAT_AREA] <= max_area)
    small[0] = False  # label 0: the mask's own pixels
    if not small.any():
        return mask
    return mask | small[labels]


def drop_rims(image: NDArray[np.uint8], lines: NDArray[np.bool_], reach: int) -> NDArray[np.bool_]:
    """lines without the components that separate two different surfaces (see RIM_SHARE).

    Across-line direction: the Hessian of the blurred line mask (a ridge curves most across it). The
    two sides are read `reach` px away from the ridge's centre pixels on either side, in Lab."""
    count, labels = cv2.connectedComponents(lines.view(np.uint8), connectivity=8)
    if count < 2:
        return lines
    m = cv2.GaussianBlur(lines.astype(np.float32), (0, 0), 2.0)
    ixx = cv2.Sobel(m, cv2.CV_32F, 2, 0, ksize=5)
    iyy = cv2.Sobel(m, cv2.CV_32F, 0, 2, ksize=5)
    ixy = cv2.Sobel(m, cv2.CV_32F, 1, 1, ksize=5)
    ridge = lines & (m >= 0.97 * cv2.dilate(m, np.ones((5, 5), np.uint8)))
    ys, xs = np.nonzero(ridge)
    if ys.size == 0:
        return lines
    phi = 0.5 * np.arctan2(2 * ixy[ys, xs], ixx[ys, xs] - iyy[ys, xs])  # along the line
    ny, nx = np.cos(phi) * reach, -np.sin(phi) * reach  # across it
    lab = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2LAB).astype(np.float32)
    h, w = lines.shape

    def at(dy: NDArray, dx: NDArray) -> NDArray[np.float32]:
        yy = np.clip(np.rint(ys + dy).astype(np.intp), 0, h - 1)
        xx = np.clip(np.rint(xs + dx).astype(np.intp), 0, w - 1)
        return lab[yy, xx]

    one, other = at(ny, nx), at(-ny, -nx)
    sides = np.abs(one - other).sum(axis=1)
    centre = lab[ys, xs]
    contrast = np.minimum(np.abs(centre - one).sum(axis=1), np.abs(centre - other).sum(axis=1))
    lab_of = labels[ys, xs]
    share = np.bincount(lab_of, sides > contrast, count) / np.maximum(np.bincount(lab_of, None, count), 1)
    rim = share > RIM_SHARE
    rim[0] = False
    return lines & ~rim[labels]


def _shaped_components(
    weak: NDArray[np.bool_], strong: NDArray[np.bool_], width: int, cfg: DefectSettings, lines: bool
) -> NDArray[np.bool_]:
    """The components of weak that hold a strong pixel and are specks (or, with lines, thin lines)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(weak.view(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(weak)
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    bw = stats[:, cv2.CC_STAT_WIDTH].astype(np.float64)
    bh = stats[:, cv2.CC_STAT_HEIGHT].astype(np.float64)
    speck = np.maximum(bw, bh) <= cfg.speck_size * width
    if not lines:
        ok = speck
    else:
        # Second moments of each component: a scratch is long along its major axis and spreads
        # across it by little more than its width; an arc (the rim of a cup, a curved edge) spreads
        # across its chord by its bulge.
        ys, xs = np.nonzero(weak)
        lab = labels[ys, xs]
        n = np.maximum(area, 1.0)
        mx = np.bincount(lab, xs, count) / n
        my = np.bincount(lab, ys, count) / n
        dx, dy = xs - mx[lab], ys - my[lab]
        cxx = np.bincount(lab, dx * dx, count) / n
        cyy = np.bincount(lab, dy * dy, count) / n
        cxy = np.bincount(lab, dx * dy, count) / n
        half = np.sqrt(((cxx - cyy) / 2) ** 2 + cxy**2)
        major = np.sqrt(np.maximum((cxx + cyy) / 2 + half, 0.0))
        minor = np.sqrt(np.maximum((cxx + cyy) / 2 - half, 0.0))
        length = np.sqrt(12.0) * major  # exact for a uniform straight bar
        mean_width = area / np.maximum(length, 1.0)
        line = (
            (length >= cfg.elongation * np.maximum(mean_width, 1.0))
            & (mean_width <= width)
            & (minor <= mean_width + cfg.bend * length)
        )
        ok = speck | line
    has_strong = np.zeros(count, bool)
    has_strong[np.unique(labels[strong])] = True
    ok &= has_strong
    ok[0] = False
    return ok[labels]
