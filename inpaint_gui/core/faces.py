"""Faces near a hole, and the frame the faces network was trained on.

detect_faces finds frontal faces whose box touches a region (a hole's box) with the Haar cascades
of core.haar, at every scale from MIN_FACE up and, when none is upright, at a few tilts; the eye
line then gives each face's roll. Face.frame is the similarity (roll, scale, shift) that takes the
face to where faces sit in the training crops (FRAMING, measured on faces/utk with this detector).
Only the region around the hole is ever looked at, at the scale each face size needs, so the
search costs the same on a 24 MP photo as on a small one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import grow_box
from inpaint_gui.core.haar import EYE_CASCADE, FACE_CASCADE, detect_grid, group_boxes, load_cascade

#: Faces smaller than this (box side, pixels) are left to the photo engines: the network would
#: invent a face at a size where the photo's own texture is a better guess.
MIN_FACE = 40
#: Ratio between successive face sizes searched.
SCALE_STEP = 1.15
#: Tilts (degrees) tried when no upright face touches the region.
TILTS = (-25.0, 25.0)
#: A cluster of this many windows or fewer is not a face (OpenCV's minNeighbors; windows are 2 px
#: apart at every scale here, so clusters are smaller than OpenCV's at large scales)...
MIN_NEIGHBOURS = 2
#: ...and a face whose two eyes are not found needs this many.
SURE_VOTES = 6
#: Levels with at most this many window positions are searched at every pixel, others at every other.
DENSE_WINDOWS = 4096
#: Given the hole itself, a window is searched only when, grown by HOLE_REACH of its side all
#: round, it touches the hole (a face's training frame and its cluster's spread reach about that
#: far past a window), and when the hole covers at most HOLE_COVER of it (the routing leaves faces
#: mostly covered by the hole to the photo engine; this is looser, for the cluster's spread).
HOLE_REACH = 0.5
HOLE_COVER = 0.95


@dataclass(frozen=True)
class Framing:
    """Where the detector's face box sits in the training crops (side `size` of a square crop)."""

    size: int
    centre_x: float
    centre_y: float
    box: float  # side of the face box
    eye_x: float  # midpoint of the eyes' boxes
    eye_y: float
    eye_distance: float  # between the eyes' box centres

    def at(self, size: int) -> Framing:
        """The same framing in crops `size` pixels wide."""
        k = size / self.size
        return Framing(
            size,
            self.centre_x * k,
            self.centre_y * k,
            self.box * k,
            self.eye_x * k,
            self.eye_y * k,
            self.eye_distance * k,
        )


#: Medians over faces/utk (every 100th crop: found in 133 of 224, all with eyes; box side p10-p90
#: 92-112 px, roll p10-p90 -3.0 to 2.4 degrees, eye distance p10-p90 44-55 px);
#: `python bench/faces_in_frames.py framing` measures it.
FRAMING = Framing(
    size=128, centre_x=63.2, centre_y=55.0, box=104.0, eye_x=61.9, eye_y=37.4, eye_distance=49.9
)


@dataclass(frozen=True)
class Face:
    """A frontal face: the centre and side of its detector box (image pixels) and the roll, the
    counter-clockwise rotation in degrees (OpenCV's convention) that stands it upright."""

    x: float
    y: float
    size: float
    angle: float = 0.0
    eyes: bool = False  # whether the roll comes from two eyes (else from the tilt it was found at)
    votes: int = 0
    #: With eyes: their midpoint (image pixels) and distance, which set the frame (a box on a
    #: turned face is up to 15% too large; the eyes are not).
    eye_x: float = 0.0
    eye_y: float = 0.0
    eye_distance: float = 0.0

    def frame(self, side: int | None = None, framing: Framing = FRAMING) -> NDArray[np.float64]:
        """The 2x3 similarity from image pixels to a `side`-pixel square framed as the training
        crops (default: the training size itself)."""
        side = framing.size if side is None else side
        f = side / framing.size
        if self.eyes:
            k, (x, y), (cx, cy) = (
                framing.eye_distance / self.eye_distance,
                (self.eye_x, self.eye_y),
                (framing.eye_x, framing.eye_y),
            )
        else:
            k, (x, y), (cx, cy) = (
                framing.box / self.size,
                (self.x, self.y),
                (framing.centre_x, framing.centre_y),
            )
        m = cv2.getRotationMatrix2D((x, y), self.angle, k * f)
        m[0, 2] += cx * f - x
        m[1, 2] += cy * f - y
        return m

    def native_side(self, framing: Framing = FRAMING) -> int:
        """The side of the training frame at the photo's own scale."""
        k = framing.eye_distance / self.eye_distance if self.eyes else framing.box / self.size
        return max(1, round(framing.size / k))

    def corners(self, framing: Framing = FRAMING) -> NDArray[np.float64]:
        """The training frame's four corners in image pixels [4, 2]."""
        inv = cv2.invertAffineTransform(self.frame(framing=framing))
        s = framing.size
        pts = np.array([[0, 0, 1], [s, 0, 1], [s, s, 1], [0, s, 1]], np.float64)
        return pts @ inv.T


def to_grey(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def detect_faces(
    image: NDArray[np.uint8],
    near: tuple[int, int, int, int] | None = None,
    min_face: int = MIN_FACE,
    max_face: float | None = None,
    tilts: tuple[float, ...] = TILTS,
    hole: NDArray[np.bool_] | None = None,
) -> list[Face]:
    """Frontal faces of min_face to max_face pixels (None: any size) whose box overlaps near =
    (top, left, bottom, right) (None: anywhere), most certain first. image: uint8 (H, W, 3) RGB
    or (H, W) grey. Given hole ((H, W) bool), only windows near it and not mostly covered by it
    are searched (HOLE_REACH, HOLE_COVER): the faces a fill of that hole could use."""
    h, w = image.shape[:2]
    box = near if near is not None else (0, 0, h, w)
    top = float("inf") if max_face is None else max_face
    if hole is not None and hole.shape != (h, w):
        raise ValueError(f"hole must be ({h}, {w}), got {hole.shape}")
    pyramid = _Pyramid(image)
    holes = None if hole is None else _Pyramid(hole.view(np.uint8) * np.uint8(255))
    for tilt in (0.0, *tilts):
        found = [_with_eyes(image, f) for f in _search(image, box, min_face, top, tilt, pyramid, holes)]
        faces = [f for f in found if f.eyes or f.votes >= SURE_VOTES]
        if faces:
            return faces
    return []


class _Pyramid:
    """Grey copies of an image at 1, 1/2, 1/4, ... made on demand, each from the one before, so a
    search reads large faces from a small copy instead of converting the full photo each time."""

    def __init__(self, image: NDArray[np.uint8]) -> None:
        self._levels: dict[int, NDArray[np.uint8]] = {}
        self._crops: dict[tuple[float, tuple[int, int, int, int]], NDArray[np.uint8]] = {}
        self._image = image

    def crop(self, k: float, box: tuple[int, int, int, int]) -> NDArray[np.uint8]:
        """box (top, left, bottom, right) of the image at scale k, grey (not to be written to)."""
        if (k, box) not in self._crops:
            self._crops[k, box] = self._crop(k, box)
        return self._crops[k, box]

    def _crop(self, k: float, box: tuple[int, int, int, int]) -> NDArray[np.uint8]:
        t, lft, b, r = box
        j = 0
        while 0.5 ** (j + 1) >= k and min(self._image.shape[:2]) >> (j + 1) >= 32:
            j += 1
        if j == 0:
            src, f = to_grey(self._image[t:b, lft:r]), 1.0
        else:
            level = self._level(j)
            f = 0.5**j
            src = level[int(t * f) : int(math.ceil(b * f)), int(lft * f) : int(math.ceil(r * f))]
        size = (max(1, round((r - lft) * k)), max(1, round((b - t) * k)))
        return cv2.resize(src, size, interpolation=cv2.INTER_AREA)

    def _level(self, j: int) -> NDArray[np.uint8]:
        if j not in self._levels:
            below = to_grey(self._image) if j == 1 else self._level(j - 1)
            h, w = below.shape[:2]
            self._levels[j] = cv2.resize(below, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        return self._levels[j]


def _search(
    image: NDArray[np.uint8],
    box: tuple[int, int, int, int],
    min_face: int,
    max_face: float,
    tilt: float,
    pyramid: _Pyramid,
    holes: _Pyramid | None = None,
) -> list[Face]:
    cascade = load_cascade(FACE_CASCADE)
    win = cascade.width
    h, w = image.shape[:2]
    top, left, bottom, right = box
    py, px = (top + bottom) / 2, (left + right) / 2  # tilts turn about the box's centre
    grow = 1.0 if tilt == 0 else 1.45  # a turned window reaches further
    found: list[NDArray[np.float64]] = []
    # Sizes on one ladder from MIN_FACE whatever min_face is, so a face is found the same way in
    # any photo that searches its size.
    s = MIN_FACE * SCALE_STEP ** math.ceil(math.log(min_face / MIN_FACE, SCALE_STEP) - 1e-9)
    while s <= min(h, w, max_face):
        k = win / s
        m = int(math.ceil(s * grow))
        t, lft, b, r = grow_box(box, m, (h, w))
        level = pyramid.crop(k, (t, lft, b, r))
        lh, lw = level.shape
        if lh >= win and lw >= win:
            centre = ((px - lft) * k, (py - t) * k)
            cover = None if holes is None else holes.crop(k, (t, lft, b, r))
            if tilt:
                turn = cv2.getRotationMatrix2D(centre, tilt, 1.0)
                level = cv2.warpAffine(level, turn, (lw, lh), borderMode=cv2.BORDER_REPLICATE)
                if cover is not None:
                    cover = cv2.warpAffine(cover, turn, (lw, lh))
            # Windows 1 pixel apart where a level has few (faces large next to the hole), 2 where
            # it has many (small faces round a large hole): the search's cost stays bounded.
            step = 1 if (lh - win + 1) * (lw - win + 1) <= DENSE_WINDOWS else 2
            keep = None if cover is None else _near_hole(cover, win, step)
            for y, x in zip(*detect_grid(level, cascade, step, keep=keep), strict=True):
                # Box in the turned frame, image pixels: (x, y, side, side).
                found.append(np.array([x / k + lft, y / k + t, s, s]))
        s *= SCALE_STEP
    faces = []
    back = cv2.getRotationMatrix2D((px, py), -tilt, 1.0)
    for b, votes in group_boxes(np.array(found).reshape(-1, 4), MIN_NEIGHBOURS):
        cx, cy = back @ np.array([b[0] + b[2] / 2, b[1] + b[3] / 2, 1.0])
        face = Face(float(cx), float(cy), float(b[2]), tilt, False, votes)
        if _touches(face, box):
            faces.append(face)
    return faces


def _near_hole(cover: NDArray[np.uint8], win: int, step: int) -> NDArray[np.bool_]:
    """Per window of the grid `step` apart on a level (cover: the hole's share of each pixel,
    0-255): whether it is near the hole and not mostly covered by it."""
    lh, lw = cover.shape
    g = round(HOLE_REACH * win)
    ii = cv2.integral(cv2.copyMakeBorder(cover, g, g, g, g, cv2.BORDER_CONSTANT, value=0), sdepth=cv2.CV_64F)
    ny, nx = len(range(0, lh - win + 1, step)), len(range(0, lw - win + 1, step))

    def sums(at: int, side: int) -> NDArray[np.float64]:
        """Sums over the side x side squares whose corners are at + the grid's, padded coordinates."""
        a, b = slice(at, at + ny * step, step), slice(at + side, at + side + ny * step, step)
        c, d = slice(at, at + nx * step, step), slice(at + side, at + side + nx * step, step)
        return ii[b, d] - ii[a, d] - ii[b, c] + ii[a, c]

    inside = sums(g, win)
    around = sums(0, win + 2 * g)
    return (around > 0) & (inside <= HOLE_COVER * 255 * win * win)


def _touches(face: Face, box: tuple[int, int, int, int]) -> bool:
    half = face.size / 2
    top, left, bottom, right = box
    return face.x + half > left and face.x - half < right and face.y + half > top and face.y - half < bottom


#: The face is looked at EYE_PATCH pixels wide for its eyes; eye windows of these sides are searched.
EYE_PATCH = 80
EYE_SIZES = (13, 16, 19, 23)
#: Eye levels wider than this are searched at every other pixel (at most 1.3 px of the patch apart):
#: on every 100th faces/utk crop the same faces get eyes, their midpoint within 0.6 px (of 128) of
#: where every pixel puts it, for a quarter less search.
EYE_DENSE_SIDE = 96


def _with_eyes(image: NDArray[np.uint8], face: Face) -> Face:
    """The face with its roll from the eye line when both eyes are found in the upper half."""
    k = EYE_PATCH / face.size
    m = cv2.getRotationMatrix2D((face.x, face.y), face.angle, k)
    m[:, 2] += (EYE_PATCH / 2 - face.x, EYE_PATCH / 2 - face.y)
    patch = _warp_grey(image, m, EYE_PATCH)
    cascade = load_cascade(EYE_CASCADE)
    win = cascade.width
    boxes = []
    for e in EYE_SIZES:
        f = win / e
        level = cv2.resize(patch, (round(EYE_PATCH * f), round(EYE_PATCH * f)), interpolation=cv2.INTER_AREA)
        lh, lw = level.shape
        rows, cols = (int(0.12 * lh), int(0.58 * lh) - win + 1), (int(0.05 * lw), int(0.95 * lw) - win + 1)
        boxes += [
            [x / f, y / f, e, e]
            for y, x in zip(
                *detect_grid(level, cascade, 1 if lh <= EYE_DENSE_SIDE else 2, rows, cols), strict=True
            )
        ]
    eyes = group_boxes(np.array(boxes, np.float64).reshape(-1, 4), 1)
    centres = [(b[0] + b[2] / 2, b[1] + b[3] / 2, v) for b, v in eyes]
    lefts = [c for c in centres if c[0] < EYE_PATCH * 0.47]
    rights = [c for c in centres if c[0] > EYE_PATCH * 0.53]
    pairs = [
        (a[2] + b[2], a, b)
        for a in lefts
        for b in rights
        if abs(b[1] - a[1]) < 0.5 * (b[0] - a[0]) and 0.25 * EYE_PATCH < b[0] - a[0] < 0.7 * EYE_PATCH
    ]
    if not pairs:
        return face
    _, a, b = max(pairs, key=lambda p: p[0])
    roll = math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))
    inv = cv2.invertAffineTransform(m)
    (lx, ly), (rx, ry) = inv @ np.array([a[0], a[1], 1.0]), inv @ np.array([b[0], b[1], 1.0])
    return Face(
        face.x,
        face.y,
        face.size,
        face.angle + roll,
        True,
        face.votes,
        (lx + rx) / 2,
        (ly + ry) / 2,
        math.hypot(rx - lx, ry - ly),
    )


def _warp_grey(image: NDArray[np.uint8], m: NDArray[np.float64], side: int) -> NDArray[np.uint8]:
    """The square `side` wide that m maps image into, grey, antialiased when m shrinks."""
    k = math.hypot(m[0, 0], m[0, 1])
    inv = cv2.invertAffineTransform(m)
    pts = np.array([[0, 0, 1], [side, 0, 1], [side, side, 1], [0, side, 1]], np.float64) @ inv.T
    h, w = image.shape[:2]
    x0, y0 = max(0, int(pts[:, 0].min()) - 2), max(0, int(pts[:, 1].min()) - 2)
    x1, y1 = min(w, int(pts[:, 0].max()) + 3), min(h, int(pts[:, 1].max()) + 3)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((side, side), np.uint8)
    crop = to_grey(image[y0:y1, x0:x1])
    m = m.copy()
    m[:, 2] += m[:, :2] @ np.array([x0, y0], np.float64)
    if k < 1:  # shrink first with an area filter, then turn at about the final scale
        small = cv2.resize(
            crop,
            (max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k))),
            interpolation=cv2.INTER_AREA,
        )
        sx, sy = crop.shape[1] / small.shape[1], crop.shape[0] / small.shape[0]
        m = m @ np.diag([sx, sy, 1.0])
        crop = small
    return cv2.warpAffine(crop, m, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
