"""The guided engine's guides: the network's fills composited at the size patchmatch reads them.

Patchmatch reads a guide only at its coarse levels (core.exemplar.Completion.fill, guide_scale), so
the guide is composited at one of those sizes, never at the photo's: the network's working-size fill
is scaled to the pyramid level at the network's own scale (or the finest level the guide sets, if
that is coarser), and matched to the level's known pixels there with the membrane blend. On a
6000x4000 photo the full-size composite cost a membrane over some megapixels and a full-size copy
per candidate (docs/speed.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.blend import blend
from inpaint_gui.core.detail import smooth_nyquist
from inpaint_gui.core.exemplar import Completion
from inpaint_gui.core.region import Region, cut
from inpaint_gui.engine.base import Cancelled
from inpaint_gui.engine.pluralistic import PluralisticEngine


@dataclass(frozen=True)
class Layouts:
    """The network's fills of one patchmatch region: per network region, one working-size fill per
    seed (uint8 [work_h, work_w, 3], the padding cut off)."""

    regions: list[Region]
    fills: list[list[NDArray[np.uint8]]]  # [region][seed]

    def max_scale(self) -> float:
        """The largest working scale (work size over crop size) of the network's regions."""
        return max((max(r.work_h / r.crop_h, r.work_w / r.crop_w) for r in self.regions), default=1.0)


def draw_layouts(
    network: PluralisticEngine,
    image: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    seeds: Sequence[int],
    near: int | None,
    spread: float,
    cancelled: Callable[[], bool],
) -> Layouts:
    """The network's fills of mask at its working size, for each seed; nothing is composited.

    The same regions, crops and draws as network.inpaint(image, mask, seeds) makes (the caller's mask
    has its gaps closed already): a seed's fill is the one network.inpaint would paste."""
    regions = network._plan_regions(mask)
    fills: list[list[NDArray[np.uint8]]] = []
    for region in regions:
        work_image, work_mask = cut(region, image, mask)
        per_seed = []
        for prediction, _ in network._fill_region(region, work_image, work_mask, seeds, near, spread):
            per_seed.append(np.ascontiguousarray(prediction[: region.work_h, : region.work_w]))
            if cancelled():
                raise Cancelled()
        fills.append(per_seed)
    return Layouts(regions, fills)


def guide_level(completion: Completion, layouts: Layouts, guide_scale: float) -> int:
    """The pyramid level (0 = the photo's size) the guides are composited at: the coarsest at or
    above the network's finest working scale (so no network fill is scaled down there), and no
    coarser than the finest level the guide sets."""
    n = len(completion.levels)
    finest_guided = n - completion.guided_levels(guide_scale)
    scale = layouts.max_scale()
    k = int(math.floor(math.log2(1.0 / scale) + 1e-9)) if scale < 1.0 else 0
    return max(0, min(k, finest_guided))


def compose_guides(
    completion: Completion, layouts: Layouts, level: int, band: int
) -> list[NDArray[np.uint8]]:
    """One guide per seed, uint8 at the size of completion.levels[level]: the level's known pixels,
    and in its hole each network fill scaled to the level and matched to them (membrane blend)."""
    lv = completion.levels[level]
    canvas = lv.image if lv.image.dtype == np.uint8 else np.clip(lv.image + 0.5, 0, 255).astype(np.uint8)
    s = 2**level
    h, w = lv.hole.shape
    places = []
    for region in layouts.regions:
        # The region's crop at the level's scale, and its holes' box there (outward).
        t, lft = region.top // s, region.left // s
        b, r = min(h, -(-region.bottom // s)), min(w, -(-region.right // s))
        ht, hl, hb, hr = region.hole or (region.top, region.left, region.bottom, region.right)
        own = np.zeros((b - t, r - lft), bool)
        ht, hl, hb, hr = max(ht // s, t), max(hl // s, lft), min(-(-hb // s), b), min(-(-hr // s), r)
        own[ht - t : hb - t, hl - lft : hr - lft] = lv.hole[ht:hb, hl:hr]
        places.append((region, (t, lft, b, r), own))
    guides = []
    for index in range(len(layouts.fills[0]) if layouts.fills else 0):
        guide = canvas.copy()
        for (region, box, own), fills in zip(places, layouts.fills, strict=True):
            if not own.any():
                continue
            t, lft, b, r = box
            scaled = _to_level(fills[index], region, s, box)
            guide[t:b, lft:r] = blend(scaled, guide[t:b, lft:r], own, "membrane", band)
        guides.append(guide)
    return guides


def _to_level(
    fill: NDArray[np.uint8], region: Region, s: int, box: tuple[int, int, int, int]
) -> NDArray[np.uint8]:
    """The part box (top, left, bottom, right; level pixels) of a region's working-size fill at the
    level of scale 1/s: level pixel X has its centre at photo pixel (X + 0.5) s - 0.5, which the
    working image (cv2.resize's convention) has at (X + 0.5) s - 0.5 - left + 0.5) a - 0.5."""
    t, lft, b, r = box
    ax, ay = region.work_w / region.crop_w, region.work_h / region.crop_h
    src = smooth_nyquist(fill) if region.scaled else fill.astype(np.float32)
    m = np.array(
        [
            [s * ax, 0, ((lft + 0.5) * s - region.left) * ax - 0.5],
            [0, s * ay, ((t + 0.5) * s - region.top) * ay - 0.5],
        ],
        np.float64,
    )
    flags = (cv2.INTER_CUBIC if s * max(ax, ay) < 1.0 else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
    out = cv2.warpAffine(src, m, (r - lft, b - t), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
