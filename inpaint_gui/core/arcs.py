"""Curved edges that cross a hole: an ellipse seen around it, continued through it.

The rims of cups, bowls, plates and wheels are ellipses in a photo. When an object covers part of
one, patch synthesis copies pieces of rim that do not meet (a cup's side comes back with a bite out
of it): the coarse levels, where what continues is decided, have averaged the rim away. Here an
edge around the hole that an ellipse fits to a fraction of a pixel, and that the photo shows on both
sides of the hole, is drawn through it before the fill, as core.lines does for straight lines.

Edges come from OpenCV's Canny detector on the hole's neighbourhood (the hole flattened to one grey,
so the object's own edges do not count), grouped into connected chains; each chain that reaches
the hole, and each pair of them, is fitted with an ellipse (cv2.fitEllipse). One is kept when:
- the chain's pixels lie within MAX_RMS px of it (root mean square) and MAX_P90 px (90th percentile),
- they cover at least MIN_SPAN degrees of it (a short, nearly straight piece fits any large ellipse),
- where the ellipse enters and leaves the hole, the photo has an edge along it on both sides
  (SUPPORT px of it, at least SUPPORTED of them on an edge pixel),
- the grey profiles across it on the two sides match (contrast and correlation, as for lines).
The stretch inside the hole is then drawn with the two sides' colour profiles, blended along it, over
the part of the profile that is the edge itself; the fill does the rest around it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.lines import (
    HALF_WIDTH,
    MAX_HALF_WIDTH,
    REACH,
    binned_profile,
    draw_all,
    paint_band,
    profile_core,
    profiles_match,
    search_area,
)

#: The search runs on the hole's box grown by this share of its size on every side (scaled as for
#: lines, to MAX_WORK px): a rim is fitted from as much of it as the photo shows, often far round.
SEARCH_MARGIN = 1.5
#: A chain shorter than this (edge pixels of the search) is no evidence of a rim.
MIN_POINTS = 40
#: Fit of the chain's pixels to the ellipse (px of the search).
MAX_RMS = 0.8
MAX_P90 = 1.5
#: Degrees of the ellipse the fitted chains must cover.
MIN_SPAN = 90.0
#: The ellipse's smaller axis (px of the search) at least, its larger at most this many times the
#: search's longer side (flatter or larger is a straight line's business).
MIN_AXIS = 16.0
#: The smaller axis at least this share of the larger (a rim seen nearly edge-on is left alone).
MIN_ASPECT = 0.2
MAX_AXIS_RATIO = 2.0
#: Px of the ellipse next to the hole on each side that are checked for an edge, and the share of
#: them that must lie within EDGE_NEAR px of an edge pixel.
SUPPORT = 12
SUPPORTED = 0.7
#: The edge may stop up to REACH + GAP px short of the hole (a low-contrast stretch, the object's
#: own shadow or halo).
GAP = 16
EDGE_NEAR = 1.5
#: The stretch through the hole is at most this share of the ellipse's perimeter, and at most
#: HIDDEN_PER_SEEN times the part of it the fitted chains cover: a bend of two straight edges (a
#: bridge's corner) or a blurred blob's outline fits a long, thin ellipse whose other half then
#: crosses the hole.
MAX_HIDDEN = 0.3
HIDDEN_PER_SEEN = 0.5
#: Chains that reach the hole, at most (the pairs among them are fitted too).
MAX_CHAINS = 12
#: Points further than TRIM px (of the search) from a fitted ellipse are dropped and the rest
#: refitted, up to TRIM_ROUNDS times; Newton steps of the projection onto the ellipse.
TRIM = 2.0
TRIM_ROUNDS = 2
NEWTON_STEPS = 4
#: Canny thresholds on the search's grey, blurred with sigma BLUR.
CANNY_LOW, CANNY_HIGH, BLUR = 40, 100, 1.2


@dataclass(frozen=True)
class Arc:
    """An ellipse's stretch through the hole, in image pixels: centre, semi-axes, rotation (radians),
    the parameter range [t0, t1] inside the hole (t1 > t0, either may pass 2 pi), and the colour
    profiles across it just outside the hole at t0 and at t1 ([bins, 3], signed distance from -half
    (inside the ellipse) to +half)."""

    centre: tuple[float, float]
    axes: tuple[float, float]
    angle: float
    t0: float
    t1: float
    profile0: NDArray[np.float32]
    profile1: NDArray[np.float32]
    core: tuple[float, float]
    half: float


def continue_arcs(
    image: NDArray[np.uint8], hole: NDArray[np.bool_]
) -> tuple[NDArray[np.uint8], NDArray[np.bool_], int]:
    """(image with the crossing ellipse arcs drawn in the hole, the hole less those pixels, how many
    arcs). Without one, image and hole are returned as they are."""
    return draw_all(image, hole, find_arcs(image, hole), draw)


def find_arcs(image: NDArray[np.uint8], hole: NDArray[np.bool_]) -> list[Arc]:
    """The ellipse arcs that cross hole, seen on both sides of it."""
    area = search_area(image, hole, SEARCH_MARGIN, MIN_POINTS + REACH)
    if area is None:
        return []
    scale, small_hole = area.scale, area.small_hole
    edges = cv2.Canny(cv2.GaussianBlur(area.work, (0, 0), BLUR), CANNY_LOW, CANNY_HIGH) > 0
    # The hole's outline is the flat grey's own edge, not the photo's.
    near = cv2.dilate(small_hole.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    edges &= ~near
    reach = cv2.dilate(small_hole.astype(np.uint8), np.ones((2 * REACH + 1,) * 2, np.uint8)) > 0
    _, labels, stats, _ = cv2.connectedComponentsWithStats(edges.astype(np.uint8), connectivity=8)
    touching = np.unique(labels[reach & edges])
    chains = sorted(
        (i for i in touching if i and stats[i, cv2.CC_STAT_AREA] >= MIN_POINTS // 2),
        key=lambda i: -stats[i, cv2.CC_STAT_AREA],
    )[:MAX_CHAINS]
    ys, xs = np.nonzero(edges)
    of = labels[ys, xs]
    points = {i: np.column_stack([xs[of == i], ys[of == i]]).astype(np.float64) for i in chains}
    groups = [(i,) for i in chains] + [(i, j) for n, i in enumerate(chains) for j in chains[n + 1 :]]
    half = min(MAX_HALF_WIDTH, HALF_WIDTH / scale)
    arcs: list[Arc] = []
    used: set[int] = set()
    for group in groups:
        if used.intersection(group):
            continue
        pts = np.concatenate([points[i] for i in group])
        if len(pts) < MIN_POINTS:
            continue
        fitted = _fit(pts, max(area.work.shape))
        if fitted is None:
            continue
        ellipse, seen, on = fitted
        for t0, t1 in _hidden(ellipse, small_hole, on, seen):
            arc = _measure(area.grey, area.rgb, area.hole, _scaled(ellipse, 1.0 / scale), t0, t1, half)
            if arc is not None:
                cx, cy = arc.centre
                arcs.append(replace(arc, centre=(cx + area.left, cy + area.top)))
                used.update(group)
    return arcs


def _fit(
    pts: NDArray[np.float64], side: int
) -> tuple[tuple[float, float, float, float, float], float, NDArray[np.float64]] | None:
    """((cx, cy, a, b, angle), degrees of it covered, the points on it) for the ellipse that most of
    pts lie on (semi-axes, radians), or None where it does not fit them closely over enough of its
    perimeter, or is too small or too large. A chain often runs on from a rim into another edge
    (a cup's rim into its side): the points more than TRIM px off are dropped and the rest refitted,
    TRIM_ROUNDS times."""
    for _ in range(TRIM_ROUNDS + 1):
        if len(pts) < MIN_POINTS:
            return None
        (cx, cy), (da, db), deg = cv2.fitEllipse(pts.astype(np.float32))
        a, b = da / 2.0, db / 2.0
        if not (math.isfinite(a) and math.isfinite(b)) or min(a, b) < MIN_AXIS / 2:
            return None
        if min(a, b) < MIN_ASPECT * max(a, b):  # a stroke or a thin loop, not a rim
            return None
        if max(a, b) > MAX_AXIS_RATIO * side:
            return None
        ellipse = (cx, cy, a, b, math.radians(deg))
        t, d = _project(ellipse, pts[:, 0], pts[:, 1])
        gaps = np.abs(d)
        if math.sqrt(float((gaps**2).mean())) <= MAX_RMS and float(np.percentile(gaps, 90)) <= MAX_P90:
            break
        pts = pts[gaps <= TRIM]
    else:
        return None
    seen = np.unique(np.degrees(t % (2 * math.pi)))
    wrap = np.diff(np.concatenate([seen, [seen[0] + 360.0]]))
    span = 360.0 - float(wrap.max())
    if span < MIN_SPAN:
        return None
    return ellipse, span, pts


def _hidden(
    ellipse: tuple[float, float, float, float, float],
    hole: NDArray[np.bool_],
    on: NDArray[np.float64],
    seen: float,
) -> list[tuple[float, float]]:
    """The parameter ranges (t0, t1) of the ellipse's stretches through the hole that the photo shows
    an edge along on both sides, SUPPORT px of it each: the fitted points `on` ((x, y) px), no other
    edge; each at most HIDDEN_PER_SEEN times `seen`, the degrees of it those points cover."""
    a, b = ellipse[2], ellipse[3]
    perimeter = math.pi * (3 * (a + b) - math.sqrt((3 * a + b) * (a + 3 * b)))  # Ramanujan
    n = max(64, int(2 * perimeter))  # two samples per px
    t = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    xy = np.rint(_points(ellipse, t)).astype(int)
    h, w = hole.shape
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    x, y = np.clip(xy[:, 0], 0, w - 1), np.clip(xy[:, 1], 0, h - 1)
    in_hole = inside & hole[y, x]
    # A sliver of photo the curve grazes between two parts of the hole (up to REACH px) is part of
    # the stretch to draw, not a side of it.
    short = 2 * REACH
    wrapped = np.concatenate([in_hole[-short:], in_hole, in_hole[:short]]).astype(np.uint8)
    closed = cv2.morphologyEx(wrapped[None], cv2.MORPH_CLOSE, np.ones((1, short + 1), np.uint8))[0]
    in_hole = closed[short:-short].astype(bool) & inside
    if in_hole.all() or not in_hole.any() or in_hole.mean() > MAX_HIDDEN:
        return []
    # A sample is on the edge where a fitted point within EDGE_NEAR px of the curve projects within
    # EDGE_NEAR px of arc length of it (samples are half a px apart).
    pt, d = _project(ellipse, on[:, 0], on[:, 1])
    hit = np.zeros(n, bool)
    hit[np.rint(np.mod(pt[np.abs(d) <= EDGE_NEAR], 2 * math.pi) / (2 * math.pi) * n).astype(int) % n] = True
    spread = int(round(2 * EDGE_NEAR))
    wrapped = np.concatenate([hit[-spread:], hit, hit[:spread]])
    hit = np.convolve(wrapped, np.ones(2 * spread + 1), "valid") > 0
    on_edge = inside & ~hole[y, x] & hit
    # Runs of samples in the hole, starting the walk at a sample outside it.
    start = int(np.argmin(in_hole))
    order = np.roll(np.arange(n), -start)
    runs, k = [], 0
    while k < n:
        if not in_hole[order[k]]:
            k += 1
            continue
        j = k
        while j < n and in_hole[order[j]]:
            j += 1
        runs.append((k, j))  # samples order[k:j] are in the hole
        k = j
    support, reach = 2 * SUPPORT, 2 * (REACH + GAP)  # in samples
    window = np.ones(support) / support
    out = []
    for k, j in runs:
        before = order[np.arange(k - reach - support, k) % n][::-1]  # walking away from the hole
        after = order[np.arange(j, j + reach + support) % n]
        if in_hole[before].any() or in_hole[after].any():
            continue  # another stretch of hole too close: the support is not the photo's
        # Some SUPPORT px of the edge within GAP px of the hole, on each side.
        if min(np.convolve(on_edge[side], window, "valid").max() for side in (before, after)) < SUPPORTED:
            continue
        t0 = t[order[k - 1]] if k else t[order[0]]
        t1 = t[order[j % n]]
        if t1 <= t0:
            t1 += 2 * math.pi
        if math.degrees(t1 - t0) <= HIDDEN_PER_SEEN * seen:
            out.append((t0, t1))
    return out


def _measure(
    grey: NDArray[np.uint8],
    rgb: NDArray[np.uint8],
    hole: NDArray[np.bool_],
    ellipse: tuple[float, float, float, float, float],
    t0: float,
    t1: float,
    half: float,
) -> Arc | None:
    """The arc with its colour profiles on each side, or None if the two sides do not look like one
    edge."""
    cx, cy, a, b, angle = ellipse
    stretch = max(3 * half, 24.0) / max(a, b)  # parameter length of each side's sample
    sides = ((t0 - stretch, t0), (t1, t1 + stretch))
    greys = [_profile(grey[..., None], hole, ellipse, lo, hi, half) for lo, hi in sides]
    if greys[0] is None or greys[1] is None:
        return None
    g0, g1 = greys[0][:, 0], greys[1][:, 0]
    if not profiles_match(g0, g1):
        return None
    colours = [_profile(rgb, hole, ellipse, lo, hi, half) for lo, hi in sides]
    if colours[0] is None or colours[1] is None:
        return None
    return Arc((cx, cy), (a, b), angle, t0, t1, colours[0], colours[1], profile_core(g0 + g1, half), half)


def _band(
    shape: tuple[int, int],
    ellipse: tuple[float, float, float, float, float],
    lo: float,
    hi: float,
    dlo: float,
    dhi: float,
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
    """The pixels (ys, xs, t, d) whose nearest point of the ellipse has parameter lo <= t <= hi and
    that lie dlo <= d <= dhi from it (d > 0 outside)."""
    a, b = ellipse[2], ellipse[3]
    t = np.linspace(lo, hi, max(8, int((hi - lo) * max(a, b)) + 2))  # a sample per px of arc or more
    curve = _points(ellipse, t)
    h, w = shape
    reach = int(math.ceil(max(abs(dlo), abs(dhi)))) + 2
    x0, y0 = np.floor(curve.min(axis=0)).astype(int) - reach
    x1, y1 = np.ceil(curve.max(axis=0)).astype(int) + reach + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    empty = np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0), np.zeros(0)
    if x1 <= x0 or y1 <= y0:
        return empty
    # Candidates: the pixels near the curve (a thick polyline), then each one's own projection.
    near = np.zeros((y1 - y0, x1 - x0), np.uint8)
    line = np.rint((curve - [x0, y0]) * 4).astype(np.int32)  # 2 fractional bits
    cv2.polylines(near, [line], False, 1, thickness=2 * reach + 1, lineType=cv2.LINE_8, shift=2)
    ys, xs = np.nonzero(near)
    if not len(ys):
        return empty
    ys, xs = ys + y0, xs + x0
    pt, d = _project(ellipse, xs.astype(np.float64), ys.astype(np.float64))
    pt = lo + np.mod(pt - lo, 2 * math.pi)
    keep = (pt <= hi) & (d >= dlo) & (d <= dhi)
    return ys[keep], xs[keep], pt[keep], d[keep]


def _project(
    ellipse: tuple[float, float, float, float, float], x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(parameter of the nearest point of the ellipse, signed distance to it, > 0 outside) of each
    point: from the point's own angle in the ellipse's frame, a few Newton steps on the condition
    that the offset is normal to the curve."""
    cx, cy, a, b, angle = ellipse
    c, s = math.cos(angle), math.sin(angle)
    qx, qy = (x - cx) * c + (y - cy) * s, -(x - cx) * s + (y - cy) * c
    t = np.arctan2(qy * a, qx * b)
    for _ in range(NEWTON_STEPS):
        ct, st = np.cos(t), np.sin(t)
        ex, ey = qx - a * ct, qy - b * st  # offset from the curve point
        g = -ex * a * st + ey * b * ct  # offset . tangent
        dg = -(a * a * st * st + b * b * ct * ct) - ex * a * ct - ey * b * st
        t = t - g / np.where(np.abs(dg) > 1e-9, dg, -1e-9)
    ct, st = np.cos(t), np.sin(t)
    nx, ny = b * ct, a * st
    norm = np.hypot(nx, ny)
    d = ((qx - a * ct) * nx + (qy - b * st) * ny) / np.maximum(norm, 1e-12)
    return t, d


def _profile(
    image: NDArray,
    hole: NDArray[np.bool_],
    ellipse: tuple[float, float, float, float, float],
    lo: float,
    hi: float,
    half: float,
) -> NDArray[np.float32] | None:
    """Mean of image's known pixels by their signed distance d across the ellipse, in BINS bins per
    px from -half to +half ([bins, channels]), over parameters lo..hi; None if bins are empty."""
    return binned_profile(image, hole, [_band(hole.shape, ellipse, lo, hi, -half, half)], half)


def draw(out: NDArray[np.uint8], hole: NDArray[np.bool_], fixed: NDArray[np.bool_], arc: Arc) -> None:
    """Draw arc into out's hole pixels (its core, from the two sides' profiles blended along it) and
    mark them in fixed."""
    band = _band(hole.shape, (*arc.centre, *arc.axes, arc.angle), arc.t0, arc.t1, *arc.core)
    paint_band(out, hole, fixed, [band], arc.t0, arc.t1, arc.profile0, arc.profile1, arc.half)


def _points(ellipse: tuple[float, float, float, float, float], t: NDArray[np.float64]) -> NDArray[np.float64]:
    cx, cy, a, b, angle = ellipse
    c, s = math.cos(angle), math.sin(angle)
    x, y = a * np.cos(t), b * np.sin(t)
    return np.column_stack([cx + x * c - y * s, cy + x * s + y * c])


def _scaled(
    ellipse: tuple[float, float, float, float, float], factor: float
) -> tuple[float, float, float, float, float]:
    """The ellipse in pixels `factor` times as large (a search pixel's centre at (x + 0.5) / scale - 0.5)."""
    cx, cy, a, b, angle = ellipse
    return ((cx + 0.5) * factor - 0.5, (cy + 0.5) * factor - 0.5, a * factor, b * factor, angle)
