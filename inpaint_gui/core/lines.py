"""Straight lines that cross a hole: found on two opposite sides of it and drawn across it first.

Patch synthesis settles what continues across a large hole at its coarse levels, where a line one or
two pixels wide has averaged away; the fine levels then copy pieces of lines that do not meet, and a
facade's joints, a table's edge or a horizon come back as dashes and steps. Here a straight line seen
on both sides of the hole, with one direction and offset, is drawn across it before the fill, and
the patches fill what is left around it (structure first, as in Sun, Yuan, Jia and Shum, "Image
completion with structure propagation", SIGGRAPH 2005, where the user drew the structure; here it is
found). A line that ends at the hole on one side only is left to the fill: it may end behind the
object.

Segments come from OpenCV's line segment detector (LSD, von Gioi et al.). Each crossing line is then
placed to a fraction of a pixel from the photo itself: its centre on each side is where the grey
profile across it changes most, and it is drawn with the profile sampled on each side (blended along
its length), over the part of the profile that is the line itself, not its surroundings.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import mask_bbox

#: A segment shorter than this (px of the search, see MAX_WORK) outside the hole is no evidence of a
#: line.
MIN_LENGTH = 24
#: Largest angle (degrees) between the two sides' segments of one line.
MAX_ANGLE = 4.0
#: Largest distance (px of the search) of either side's segment ends from the line fitted through
#: both sides.
MAX_OFFSET = 1.5
#: The stretch drawn across the hole is at most this many times as long as the two sides' segments
#: together: two short tangents of curved rims can line up across a wide hole (cups, 58 photos at
#: 2 MP: 3.7, where the true lines of two facades reached 3.3).
MAX_GAP_RATIO = 3.5
#: A segment's end must be within this many px of the hole, along its direction, to enter it.
REACH = 6
#: Half the width (px of the search, 5 px of the photo at least, MAX_HALF_WIDTH at most) of the band
#: across the line whose profile is sampled: a line a pixel or two wide in the search is wider in a
#: large photo's own pixels.
HALF_WIDTH = 5
MAX_HALF_WIDTH = 16
#: Profile bins per pixel across the line.
BINS = 4
#: The search runs on the hole's box grown by this share of its size (and MIN_LENGTH at least),
#: scaled so that its longer side is at most MAX_WORK px.
MARGIN = 0.5
MAX_WORK = 1024
#: The two sides' grey profiles must correlate at least this well, and their contrasts differ by at
#: most this factor, to be one line.
MIN_CORRELATION = 0.7
MAX_CONTRAST_RATIO = 2.0
#: Length (px) of the stretches of a line measured or drawn at a time.
CHUNK = 64
#: A line whose grey contrast across it is under this (grey levels) is not drawn: it is shading.
MIN_CONTRAST = 12.0


@dataclass(frozen=True)
class Crossing:
    """A line across the hole, in image pixels: a point on it, its unit direction, the stretch of it
    (t along the direction from the point) between its two sides' segments, and the colour profile
    across it on each side ([bins, 3], d from -half to +half)."""

    point: tuple[float, float]  # (x, y)
    direction: tuple[float, float]  # (dx, dy), unit
    t0: float
    t1: float
    profile0: NDArray[np.float32]
    profile1: NDArray[np.float32]
    core: tuple[float, float]  # the d range the line itself occupies (its flanks are left to the fill)
    half: float


@dataclass(frozen=True)
class _End:
    """A segment's end that enters the hole: the end (x, y), the unit direction into the hole and
    the segment's other end."""

    end: NDArray[np.float64]
    into: NDArray[np.float64]
    other: NDArray[np.float64]


def continue_lines(
    image: NDArray[np.uint8], hole: NDArray[np.bool_]
) -> tuple[NDArray[np.uint8], NDArray[np.bool_], int]:
    """(image with the crossing lines drawn in the hole, the hole less those pixels, how many lines).
    Without a crossing line, image and hole are returned as they are."""
    return draw_all(image, hole, find_crossings(image, hole), draw)


def draw_all(
    image: NDArray[np.uint8],
    hole: NDArray[np.bool_],
    found: list,
    draw_one: Callable[[NDArray[np.uint8], NDArray[np.bool_], NDArray[np.bool_], Any], None],
) -> tuple[NDArray[np.uint8], NDArray[np.bool_], int]:
    """(image with each of found drawn into the hole by draw_one(out, hole, fixed, item), the hole
    less the drawn pixels, how many were found); image and hole as they are when nothing is drawn."""
    if not found:
        return image, hole, 0
    out, fixed = image.copy(), np.zeros_like(hole)
    for item in found:
        draw_one(out, hole, fixed, item)
    if not fixed.any():
        return image, hole, 0
    return out, hole & ~fixed, len(found)


@dataclass(frozen=True)
class Search:
    """The hole's neighbourhood as the line and rim searches see it: its box in the image (top,
    left), the box's colours, grey and hole at full size, and the grey with the hole flattened to the mean of
    the rest (so the object's own edges do not count) and the hole, both scaled by `scale` to at
    most MAX_WORK px."""

    top: int
    left: int
    rgb: NDArray[np.uint8]
    grey: NDArray[np.uint8]
    hole: NDArray[np.bool_]
    scale: float
    work: NDArray[np.uint8]
    small_hole: NDArray[np.bool_]


def search_area(
    image: NDArray[np.uint8], hole: NDArray[np.bool_], margin: float, least: int
) -> Search | None:
    """The Search of hole's box grown by margin times its size (and least px at least) on every
    side, or None without a hole or with nothing but hole."""
    found = mask_bbox(hole)
    if found is None or hole.all():
        return None
    h, w = hole.shape
    top, left, bottom, right = found
    grow = max(least, int(margin * max(bottom - top, right - left)))
    top, left = max(top - grow, 0), max(left - grow, 0)
    bottom, right = min(bottom + grow, h), min(right + grow, w)
    rgb = image[top:bottom, left:right]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    box_hole = hole[top:bottom, left:right]
    scale = min(1.0, MAX_WORK / max(grey.shape))
    work = grey.copy()
    work[box_hole] = round(cv2.mean(grey, mask=(~box_hole).astype(np.uint8))[0])
    small_hole = box_hole
    if scale < 1.0:
        size = (max(1, round(work.shape[1] * scale)), max(1, round(work.shape[0] * scale)))
        work = cv2.resize(work, size, interpolation=cv2.INTER_AREA)
        small_hole = cv2.resize(box_hole.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    return Search(top, left, rgb, grey, box_hole, scale, work, small_hole)


def find_crossings(image: NDArray[np.uint8], hole: NDArray[np.bool_]) -> list[Crossing]:
    """The straight lines that cross hole, seen on two opposite sides of it."""
    area = search_area(image, hole, MARGIN, MIN_LENGTH + REACH)
    if area is None:
        return []
    # The edges of the flattened hole run along its outline and are left out by _entering.
    scale = area.scale
    segments = cv2.createLineSegmentDetector().detect(area.work)[0]
    if segments is None:
        return []
    near = cv2.dilate(area.small_hole.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    ends = []
    for x0, y0, x1, y1 in segments.reshape(-1, 4).astype(np.float64) / scale:
        ends.extend(_entering(np.array([x0, y0]), np.array([x1, y1]), area.hole, near, scale))
    half = min(MAX_HALF_WIDTH, HALF_WIDTH / scale)
    crossings = []
    used: set[int] = set()
    for i, a in enumerate(ends):
        if i in used:
            continue
        best, best_j = None, -1
        for j in range(i + 1, len(ends)):
            if j in used:
                continue
            line = _pair(a, ends[j], MAX_OFFSET / scale)
            if line is not None and (best is None or line[2] < best[2]):
                best, best_j = line, j
        if best is None:
            continue
        crossing = _measure(area.grey, area.rgb, area.hole, a, ends[best_j], best, half)
        if crossing is not None:
            used.update((i, best_j))
            px, py = crossing.point
            crossings.append(dataclasses.replace(crossing, point=(px + area.left, py + area.top)))
    return crossings


def _entering(
    p: NDArray[np.float64],
    q: NDArray[np.float64],
    hole: NDArray[np.bool_],
    near: NDArray[np.bool_],
    scale: float,
) -> list[_End]:
    """The ends of segment p-q (box pixels) that enter the hole: long enough, lying clear of the
    hole (a segment along the hole's outline is its edge, not a line), and pointing into it."""
    length = float(np.hypot(*(q - p)))
    if length * scale < MIN_LENGTH:
        return []
    u = (q - p) / length
    h, w = hole.shape
    # The segment's body, short of its last REACH px at each end, must be clear of the hole.
    ts = np.linspace(REACH, length - REACH, max(2, int(length * scale / 2)))
    xs, ys = p[0] + ts * u[0], p[1] + ts * u[1]
    sy = np.clip((ys * scale).astype(int), 0, near.shape[0] - 1)
    sx = np.clip((xs * scale).astype(int), 0, near.shape[1] - 1)
    if near[sy, sx].mean() > 0.05:
        return []
    out = []
    steps = np.arange(0.0, REACH + 2 * max(1.0, 1.0 / scale), 0.5)
    for end, into, other in ((q, u, p), (p, -u, q)):
        xs = np.rint(end[0] + steps * into[0]).astype(int)
        ys = np.rint(end[1] + steps * into[1]).astype(int)
        inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        # The first step that leaves the picture ends the walk.
        last = int(np.argmin(inside)) if not inside.all() else len(steps)
        if hole[ys[:last], xs[:last]].any():
            out.append(_End(end, into, other))
    return out


def _pair(
    a: _End, b: _End, tolerance: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], float] | None:
    """The line (point, unit direction, worst offset) through a and b if they are two sides of one
    straight line across the hole (every segment end within tolerance px of it), else None."""
    if float(a.into @ b.into) > -math.cos(math.radians(MAX_ANGLE)):
        return None
    gap = b.end - a.end
    if float(gap @ a.into) <= 0:  # b lies behind a: not across the hole from it
        return None
    seen = float(np.hypot(*(a.end - a.other)) + np.hypot(*(b.end - b.other)))
    if float(np.hypot(*gap)) > MAX_GAP_RATIO * seen:
        return None
    points = np.stack([a.other, a.end, b.end, b.other])
    centre = points.mean(axis=0)
    # Total least squares: the direction of largest spread.
    _, _, vt = np.linalg.svd(points - centre)
    u = vt[0]
    normal = np.array([-u[1], u[0]])
    worst = float(np.abs((points - centre) @ normal).max())
    if worst > tolerance:
        return None
    if float(u @ a.into) < 0:
        u = -u
    return centre, u, worst


def _measure(
    grey: NDArray[np.uint8],
    rgb: NDArray[np.uint8],
    hole: NDArray[np.bool_],
    a: _End,
    b: _End,
    line: tuple[NDArray[np.float64], NDArray[np.float64], float],
    half: float,
) -> Crossing | None:
    """The crossing placed to a fraction of a pixel on each side (where its grey profile changes
    most) with its colour profiles over half px either side, or None if the two sides do not look
    like one line."""
    centre, u, _ = line
    n = np.array([-u[1], u[0]])
    t_a = sorted(((a.other - centre) @ u, (a.end - centre) @ u))
    t_b = sorted(((b.end - centre) @ u, (b.other - centre) @ u))
    # Each side's centre line from a wider profile, then the line through both.
    wide = half + 2
    shifts = []
    for lo, hi in (t_a, t_b):
        prof = _profile(grey[..., None], hole, centre, u, lo, hi, wide)
        if prof is None:
            return None
        shifts.append(_centre(prof[:, 0], wide))
    mid_a, mid_b = 0.5 * sum(t_a), 0.5 * sum(t_b)
    pa = centre + mid_a * u + shifts[0] * n
    pb = centre + mid_b * u + shifts[1] * n
    length = float(np.hypot(*(pb - pa)))
    if length <= 0:
        return None
    u = (pb - pa) / length
    centre = pa
    t_a = sorted(((a.other - centre) @ u, (a.end - centre) @ u))
    t_b = sorted(((b.end - centre) @ u, (b.other - centre) @ u))
    greys = [_profile(grey[..., None], hole, centre, u, lo, hi, half) for lo, hi in (t_a, t_b)]
    if greys[0] is None or greys[1] is None:
        return None
    g0, g1 = greys[0][:, 0], greys[1][:, 0]
    if not profiles_match(g0, g1):
        return None
    colours = [_profile(rgb, hole, centre, u, lo, hi, half) for lo, hi in (t_a, t_b)]
    if colours[0] is None or colours[1] is None:
        return None
    return Crossing(
        (float(centre[0]), float(centre[1])), (float(u[0]), float(u[1])), t_a[1], t_b[0],
        colours[0], colours[1], profile_core(g0 + g1, half), half,
    )  # fmt: skip


def _band(
    shape: tuple[int, int],
    centre: NDArray[np.float64],
    u: NDArray[np.float64],
    lo: float,
    hi: float,
    dlo: float,
    dhi: float,
) -> Iterator[tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]]:
    """The pixels (ys, xs, t along the line, d across it) with lo <= t <= hi and dlo <= d <= dhi,
    a stretch of CHUNK px at a time, so a long diagonal line never builds arrays the size of its
    bounding box."""
    h, w = shape
    n = np.array([-u[1], u[0]])
    for a in np.arange(lo, hi, CHUNK):
        b = min(a + CHUNK, hi)
        corners = np.array([centre + t * u + s * n for t in (a, b) for s in (dlo - 1, dhi + 1)])
        x0, y0 = np.floor(corners.min(axis=0)).astype(int)
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1]
        rx, ry = xs - centre[0], ys - centre[1]
        t, d = rx * u[0] + ry * u[1], rx * n[0] + ry * n[1]
        # Each pixel in one stretch only: [a, b), the last one closed.
        keep = (t >= a) & ((t < b) | ((b == hi) & (t <= b))) & (d >= dlo) & (d <= dhi)
        yield ys[keep], xs[keep], t[keep], d[keep]


def _profile(
    image: NDArray,
    hole: NDArray[np.bool_],
    centre: NDArray[np.float64],
    u: NDArray[np.float64],
    lo: float,
    hi: float,
    half: float,
) -> NDArray[np.float32] | None:
    """Mean of image's known pixels by their distance d across the line, in BINS bins per px from
    -half to +half ([bins, channels]), over the stretch lo..hi along it; None if bins are empty."""
    return binned_profile(image, hole, _band(hole.shape, centre, u, lo, hi, -half, half), half)


def binned_profile(
    image: NDArray,
    hole: NDArray[np.bool_],
    band: Iterable[tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]],
    half: float,
) -> NDArray[np.float32] | None:
    """Mean of image's known pixels in band (chunks of (ys, xs, t, d)) by their distance d across an
    edge, in BINS bins per px from -half to +half ([bins, channels]); None if more than a quarter of
    the bins are empty (the others are filled from their neighbours)."""
    count = int(round(2 * half * BINS)) + 1
    channels = image.shape[2]
    weight = np.zeros(count)
    sums = np.zeros((count, channels))
    for ys, xs, _, d in band:
        known = ~hole[ys, xs]
        index = np.rint((d[known] + half) * BINS).astype(int)
        values = image[ys[known], xs[known]]
        weight += np.bincount(index, minlength=count)[:count]
        for c in range(channels):
            sums[:, c] += np.bincount(index, values[:, c], minlength=count)[:count]
    if (weight == 0).mean() > 0.25:
        return None
    filled = weight > 0
    out = np.zeros((count, channels), np.float32)
    out[filled] = sums[filled] / weight[filled, None]
    if not filled.all():  # a few empty bins: from their neighbours
        at = np.flatnonzero(filled)
        for c in range(channels):
            out[:, c] = np.interp(np.arange(count), at, out[at, c])
    return out


def _centre(profile: NDArray[np.float32], half: float) -> float:
    """Where across the line (d, px) the profile changes most: the mean of d weighted by the
    profile's slope, over the slopes above a fifth of the largest."""
    slope = np.abs(np.gradient(profile))
    slope = np.where(slope >= 0.2 * slope.max(), slope, 0.0)
    d = np.linspace(-half, half, len(profile))
    return float((slope * d).sum() / max(slope.sum(), 1e-6))


def profiles_match(g0: NDArray[np.float32], g1: NDArray[np.float32]) -> bool:
    """Whether two grey profiles across an edge, one from each side of the hole, are one edge: both
    of MIN_CONTRAST at least, within MAX_CONTRAST_RATIO of each other, correlated MIN_CORRELATION."""
    c0, c1 = float(np.ptp(g0)), float(np.ptp(g1))
    if min(c0, c1) < MIN_CONTRAST or max(c0, c1) > MAX_CONTRAST_RATIO * min(c0, c1):
        return False
    d0, d1 = g0 - g0.mean(), g1 - g1.mean()
    return float(d0 @ d1) >= MIN_CORRELATION * float(np.sqrt((d0 @ d0) * (d1 @ d1)))


def profile_core(profile: NDArray[np.float32], half: float) -> tuple[float, float]:
    """The d range (px) the line itself takes: where its profile changes (slope above a fifth of
    the largest), and two px more each side, so the drawn line ends in its surroundings' own level."""
    slope = np.abs(np.gradient(profile))
    d = np.linspace(-half, half, len(profile))
    steep = d[slope >= 0.2 * slope.max()]
    return max(-half, float(steep.min()) - 2.0), min(half, float(steep.max()) + 2.0)


def draw(
    out: NDArray[np.uint8], hole: NDArray[np.bool_], fixed: NDArray[np.bool_], crossing: Crossing
) -> None:
    """Draw crossing into out's hole pixels (its core, from the two sides' profiles blended along
    it) and mark them in fixed."""
    centre, u = np.array(crossing.point), np.array(crossing.direction)
    lo, hi = crossing.core
    band = _band(hole.shape, centre, u, crossing.t0, crossing.t1, lo, hi)
    paint_band(
        out, hole, fixed, band, crossing.t0, crossing.t1, crossing.profile0, crossing.profile1, crossing.half
    )


def paint_band(
    out: NDArray[np.uint8],
    hole: NDArray[np.bool_],
    fixed: NDArray[np.bool_],
    band: Iterable[tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]],
    t0: float,
    t1: float,
    profile0: NDArray[np.float32],
    profile1: NDArray[np.float32],
    half: float,
) -> None:
    """Paint band's hole pixels (chunks of (ys, xs, t along the edge, d across it)) with the colour
    profiles (d from -half to +half), blended from profile0 at t0 to profile1 at t1, and mark them
    in fixed."""
    bins = np.linspace(-half, half, len(profile0))
    span = max(t1 - t0, 1e-6)
    for ys, xs, t, d in band:
        inside = hole[ys, xs]
        ys, xs, t, d = ys[inside], xs[inside], t[inside], d[inside]
        s = np.clip((t - t0) / span, 0.0, 1.0)
        colour = np.empty((len(ys), 3), np.float32)
        for c in range(3):
            near = np.interp(d, bins, profile0[:, c])
            far = np.interp(d, bins, profile1[:, c])
            colour[:, c] = (1 - s) * near + s * far
        out[ys, xs] = np.clip(colour + 0.5, 0, 255).astype(np.uint8)
        fixed[ys, xs] = True
