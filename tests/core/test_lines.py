"""Straight lines across a hole: found on both sides, drawn across, and nothing else."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_gui.core import lines
from inpaint_gui.engine.exemplar import PatchMatchEngine

H, W = 240, 360
SLOPE = 0.4  # the lines run x = x0 + SLOPE * y
SPACING = 48


def facade(offset_below: float = 0.0) -> np.ndarray:
    """Dark 2 px lines on a lit grey wall; below row H // 2 the lines move by offset_below px."""
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    img = np.dstack([140 + 70 * xs / W] * 3)
    shift = np.where(ys >= H // 2, offset_below, 0.0)
    for x0 in range(-SPACING * 4, W + SPACING, SPACING):
        d = np.abs(xs - x0 - SLOPE * ys - shift) / np.hypot(1, SLOPE)
        img -= 90 * np.clip(1.5 - d, 0, 1)[..., None]
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def blob(centre=(180, 120), axes=(60, 40)) -> np.ndarray:
    hole = np.zeros((H, W), np.uint8)
    cv2.ellipse(hole, centre, axes, 15, 0, 360, 1, -1)
    return hole.astype(bool)


def true_x(x0: float, y: np.ndarray) -> np.ndarray:
    return x0 + SLOPE * y


def test_crossing_lines_are_found_where_they_are():
    image, hole = facade(), blob()
    crossings = lines.find_crossings(image, hole)
    assert crossings, "the lines through the blob were not found"
    for c in crossings:
        (px, py), (ux, uy) = c.point, c.direction
        assert abs(abs(ux / uy) - SLOPE) < 0.02  # the lines' direction
        # Two points of the crossing lie on one true line to a fraction of a pixel.
        for t in (c.t0, c.t1):
            x, y = px + t * ux, py + t * uy
            nearest = min(abs(x - true_x(x0, y)) for x0 in range(-SPACING * 4, W + SPACING, SPACING))
            assert nearest < 0.5


def test_drawn_lines_continue_the_photo_and_touch_only_the_hole():
    image, hole = facade(), blob()
    drawn, rest, count = lines.continue_lines(image, hole)
    assert count > 0
    assert np.array_equal(drawn[~hole], image[~hole])  # known pixels untouched
    assert not (rest & ~hole).any()
    fixed = hole & ~rest
    assert fixed.any()
    # Every drawn pixel is within a few px of a true line, and dark on its centre line.
    ys, xs = np.nonzero(fixed)
    dist = np.min(
        [np.abs(xs - true_x(x0, ys)) for x0 in range(-SPACING * 4, W + SPACING, SPACING)], axis=0
    ) / np.hypot(1, SLOPE)
    assert dist.max() < lines.HALF_WIDTH + 1
    centre = dist < 0.5
    assert centre.any()
    assert np.abs(drawn[ys[centre], xs[centre]].astype(int) - image[ys[centre], xs[centre]]).max() < 25


def test_nothing_to_continue_returns_the_inputs():
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 256, (H, W, 3), dtype=np.uint8), (0, 0), 3)
    hole = blob()
    drawn, rest, count = lines.continue_lines(image, hole)
    assert count == 0 and drawn is image and rest is hole


def test_a_line_that_ends_at_the_hole_is_not_continued():
    image = np.full((H, W, 3), 180, np.uint8)
    cv2.line(image, (0, 120), (130, 120), (40, 40, 40), 2)  # a line from the left, ending in the hole
    assert lines.find_crossings(image, blob()) == []


def test_lines_that_do_not_meet_across_the_hole_are_not_joined():
    hole = np.zeros((H, W), bool)
    hole[H // 2 - 30 : H // 2 + 30, :] = True  # a band across the picture
    offset = lines.find_crossings(facade(offset_below=8.0), hole)
    assert offset == []
    assert lines.find_crossings(facade(), hole)  # the same lines unbroken are found


def test_the_fill_continues_the_lines_and_keeps_its_seed():
    """(Without the lines drawn first, patchmatch alone fails this on the same picture.)"""
    image, hole = facade(), blob()
    engine = PatchMatchEngine(patch_size=5)
    first = engine.inpaint(image, hole, n=1, seed=3)[0].image
    again = engine.inpaint(image, hole, n=1, seed=3)[0].image
    assert np.array_equal(first, again)
    assert np.array_equal(first[~hole], image[~hole])
    # Along each true line inside the hole (away from its edge), the darkest pixel across it is
    # on the line (within 1 px).
    inner = cv2.erode(hole.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    grey = first.mean(axis=2)
    checked = 0
    for x0 in range(-SPACING * 4, W + SPACING, SPACING):
        for y in range(0, H, 4):
            x = true_x(x0, y)
            xi = int(round(x))
            if not (6 <= xi < W - 6) or not inner[y, xi]:
                continue
            row = grey[y, xi - 5 : xi + 6]
            assert abs(xi - 5 + int(np.argmin(row)) - x) <= 1.0, (x0, y)
            checked += 1
    assert checked > 10


def test_the_lines_option_turns_it_off_and_checks_its_value():
    image, hole = facade(), blob()
    engine = PatchMatchEngine(patch_size=5)
    engine.configure(continue_lines=False)
    assert engine.continue_lines is False
    drawn, rest, fixed = engine._lines(image, hole)
    assert drawn is image and rest is hole and fixed is None
    with pytest.raises(ValueError):
        engine.configure(continue_lines="yes")


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (40, 7)])
def test_tiny_pictures_and_odd_holes_pass_through(shape):
    image = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    corner = np.zeros(shape, bool)
    corner[0, 0] = True
    for hole in (np.ones(shape, bool), np.zeros(shape, bool), corner):
        drawn, rest, count = lines.continue_lines(image, hole)
        assert count == 0 and drawn is image and rest is hole
