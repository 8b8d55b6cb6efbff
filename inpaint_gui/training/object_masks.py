"""Object-removal holes for `inpaint eval --masks objects`: one contiguous shape per mask, as a person
brushes over a thing to remove, deterministic for a seed.

The NVIDIA irregular masks in eval/masks are scattered strokes that never touch the image border.
What people remove is usually one object: a filled blob or a silhouette (a body with a head, limbs,
a handle, branches), covering 5-50% of the photo, and often cut by the photo's edge. Each mask here
is one such shape, in three size bands, half of them touching the border and half kept at least
`MARGIN` pixels (of 256) away from it, so the two are reported apart.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

SIZE = 256
MARGIN = 6  # interior holes stay this far (of SIZE) from every edge
SIZE_BANDS = ((0.05, 0.20), (0.20, 0.35), (0.35, 0.50))
EDGES = ("border", "interior")
NAME = re.compile(r"^obj(\d\d)-(\d\d)_(border|interior)_\d+")
_TRIES = 60


def band_of_name(name: str) -> str | None:
    """'05-20% border' for obj05-20_border_00003.png; None for other names."""
    m = NAME.match(name)
    return f"{m.group(1)}-{m.group(2)}% {m.group(3)}" if m else None


def _unit_shape(rng: np.random.Generator) -> NDArray[np.uint8]:
    """A connected shape on a 512 x 512 canvas, cropped to its bounding box."""
    c = 512
    canvas = np.zeros((c, c), np.uint8)
    centre = np.array([c / 2, c / 2])
    if rng.random() < 0.4:  # a blob: a star-shaped outline with a few smooth harmonics
        theta = np.linspace(0, 2 * np.pi, 96, endpoint=False)
        radius = np.ones_like(theta)
        for k in range(2, 6):
            radius += rng.uniform(0, 0.5 / k) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
        stretch = rng.uniform(0.6, 1.0)
        pts = np.stack([np.cos(theta) * radius, np.sin(theta) * radius * stretch], 1) * 90
        cv2.fillPoly(canvas, [_rotate(pts, rng.uniform(0, np.pi)) + centre.astype(np.int32)], 255)
    else:  # a silhouette: a body with parts attached at its outline
        rx, ry = rng.uniform(35, 70), rng.uniform(60, 110)
        angle = rng.uniform(-20, 20)
        cv2.ellipse(canvas, _pt(centre), (int(rx), int(ry)), angle, 0, 360, 255, -1)
        for _ in range(int(rng.integers(1, 5))):
            t = rng.uniform(0, 2 * np.pi)
            a = math.radians(angle)
            local = np.array([rx * math.cos(t), ry * math.sin(t)])
            edge = centre + _rotate(local[None], a)[0]
            out = (edge - centre) / (np.linalg.norm(edge - centre) + 1e-9)
            if rng.random() < 0.5:  # a limb or handle: a thick line pointing outwards
                length, width = rng.uniform(30, 110), int(rng.uniform(10, 30))
                end = edge + _rotate((out * length)[None], rng.uniform(-0.6, 0.6))[0]
                cv2.line(canvas, _pt(edge - out * 10), _pt(end), 255, width)
            else:  # a head or a bulge: a circle overlapping the outline
                r = rng.uniform(15, 45)
                cv2.circle(canvas, _pt(edge + out * r * 0.5), int(r), 255, -1)
    ys, xs = np.nonzero(canvas)
    return canvas[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _rotate(pts: NDArray, angle: float) -> NDArray:
    c, s = math.cos(angle), math.sin(angle)
    return (pts @ np.array([[c, s], [-s, c]])).round().astype(np.int32)


def _pt(p: NDArray) -> tuple[int, int]:
    return int(round(p[0])), int(round(p[1]))


def _place(shape: NDArray[np.uint8], scale: float, y: float, x: float, size: int) -> NDArray[np.bool_]:
    """The shape scaled by `scale`, its top-left corner at (y, x) as fractions of its own size past the
    canvas edge (negative = sticking out), clipped to a size x size canvas."""
    h, w = max(1, round(shape.shape[0] * scale)), max(1, round(shape.shape[1] * scale))
    small = cv2.resize(shape, (w, h), interpolation=cv2.INTER_NEAREST) > 0
    top, left = round(y * (size - h) if y >= 0 else y * h), round(x * (size - w) if x >= 0 else x * w)
    if y > 1:
        top = size - h + round((y - 1) * h)
    if x > 1:
        left = size - w + round((x - 1) * w)
    out = np.zeros((size, size), bool)
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + h, size), min(left + w, size)
    if t1 > t0 and l1 > l0:
        out[t0:t1, l0:l1] = small[t0 - top : t1 - top, l0 - left : l1 - left]
    return out


def object_mask(
    rng: np.random.Generator, low: float, high: float, border: bool, size: int = SIZE
) -> NDArray[np.bool_]:
    """One contiguous hole covering low..high of a size x size image, touching the border or not."""
    for _ in range(_TRIES):
        shape = _unit_shape(rng)
        target = rng.uniform(low, high)
        if border:  # stick out past one or two edges by 10-50% of the shape's extent
            y, x = rng.uniform(0, 1), rng.uniform(0, 1)
            if rng.random() < 0.5:
                y = -rng.uniform(0.1, 0.5) if rng.random() < 0.5 else 1 + rng.uniform(0.1, 0.5)
            else:
                x = -rng.uniform(0.1, 0.5) if rng.random() < 0.5 else 1 + rng.uniform(0.1, 0.5)
        else:
            y, x = rng.uniform(0, 1), rng.uniform(0, 1)
        lo, hi = 0.01, 4.0 * size / max(shape.shape)
        mask = None
        for _ in range(30):  # hole share grows with scale: bisect towards the target
            s = (lo + hi) / 2
            mask = _place(shape, s, y, x, size)
            if mask.mean() < target:
                lo = s
            else:
                hi = s
        if mask is None or not low <= mask.mean() <= high:
            continue
        if _touches_border(mask, 1) != border or (not border and _touches_border(mask, MARGIN)):
            continue
        if cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[0] != 2:
            continue
        return mask
    raise RuntimeError(f"no {'border' if border else 'interior'} mask of {low:.0%}-{high:.0%} found")


def _touches_border(mask: NDArray[np.bool_], margin: int) -> bool:
    inner = mask[margin:-margin, margin:-margin]
    return bool(mask.sum() != inner.sum())


def object_masks(count: int = 300, seed: int = 0, size: int = SIZE) -> list[tuple[str, NDArray[np.bool_]]]:
    """`count` masks cycling through the size bands and border / interior, each named for its band."""
    out = []
    for i in range(count):
        low, high = SIZE_BANDS[i % len(SIZE_BANDS)]
        edge = EDGES[(i // len(SIZE_BANDS)) % 2]
        rng = np.random.default_rng([seed, i])
        mask = object_mask(rng, low, high, edge == "border", size)
        out.append((f"obj{round(low * 100):02d}-{round(high * 100):02d}_{edge}_{i:05d}.png", mask))
    return out


def write_object_masks(folder: str | Path, count: int = 300, seed: int = 0) -> Path:
    """Write the object masks as 1-bit PNGs (white = hole) into `folder`; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, mask in object_masks(count, seed):
        if not cv2.imwrite(str(folder / name), mask.astype(np.uint8) * 255):
            raise OSError(f"could not write {folder / name}")
    log.info("wrote %d object masks to %s", count, folder)
    return folder
