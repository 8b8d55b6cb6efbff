"""Ellipse rims that cross a hole are found on both sides of it and drawn through it."""

from __future__ import annotations

import math

import cv2
import numpy as np

from inpaint_gui.core import arcs


def _plate(shape=(300, 400), centre=(190.0, 150.0), axes=(120.0, 70.0), angle=15.0, seed=0):
    """A pale elliptical plate on a darker, lightly textured table; its true rim as a mask."""
    rng = np.random.default_rng(seed)
    h, w = shape
    image = np.full((h, w, 3), (70, 50, 40), np.uint8)
    image = np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)
    cv2.ellipse(image, (centre, (2 * axes[0], 2 * axes[1]), angle), (225, 220, 210), -1, cv2.LINE_AA)
    rim = np.zeros(shape, np.uint8)
    cv2.ellipse(rim, (centre, (2 * axes[0], 2 * axes[1]), angle), 1, 1, cv2.LINE_AA)
    return image, rim > 0


def test_a_rim_under_a_hole_is_drawn_on_the_true_ellipse():
    image, rim = _plate()
    hole = np.zeros(rim.shape, bool)
    hole[40:130, 250:330] = True  # over the plate's upper right rim
    assert (rim & hole).sum() > 40
    found = arcs.find_arcs(image, hole)
    assert len(found) == 1
    out, rest, count = arcs.continue_arcs(image, hole)
    drawn = hole & ~rest
    assert count == 1 and drawn.any()
    assert not (out[~hole] != image[~hole]).any()  # only the hole changes
    # The drawn band is centred on the true rim: every true rim pixel in the hole is drawn, and the
    # drawn pixels' colours match the photo's own there.
    assert drawn[rim & hole].mean() > 0.95
    err = np.abs(out[drawn].astype(int) - image[drawn].astype(int)).mean()
    assert err < 12, err


def test_straight_edges_and_texture_get_no_arc():
    rng = np.random.default_rng(1)
    h, w = 240, 320
    noise = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    half_plane = np.full((h, w, 3), 60, np.uint8)
    half_plane[:, 170:] = 200
    hole = np.zeros((h, w), bool)
    hole[80:160, 130:210] = True
    for image in (noise, cv2.GaussianBlur(noise, (0, 0), 3), half_plane):
        assert arcs.find_arcs(image, hole) == []


def test_an_arc_seen_on_one_side_only_is_left_to_the_fill():
    """A rim that ends behind the object (the plate's far side is off the picture) is not drawn."""
    image, rim = _plate(centre=(190.0, 260.0), axes=(150.0, 90.0), angle=0.0)
    hole = np.zeros(rim.shape, bool)
    hole[150:300, 300:400] = True  # the rim enters the hole and leaves the picture inside it
    assert arcs.find_arcs(image, hole) == []


def test_projection_gives_the_distance_to_the_ellipse():
    ellipse = (50.0, 40.0, 30.0, 12.0, math.radians(30))
    t = np.linspace(0, 2 * math.pi, 50, endpoint=False)
    on = arcs._points(ellipse, t)
    for offset in (-3.0, 0.0, 4.0):
        # Points moved along the outward normal by offset project back to t, at distance offset.
        c, s = math.cos(ellipse[4]), math.sin(ellipse[4])
        nx, ny = ellipse[3] * np.cos(t), ellipse[2] * np.sin(t)
        norm = np.hypot(nx, ny)
        n = np.column_stack([(nx * c - ny * s) / norm, (nx * s + ny * c) / norm])
        p = on + offset * n
        pt, d = arcs._project(ellipse, p[:, 0], p[:, 1])
        np.testing.assert_allclose(d, offset, atol=1e-3)
        np.testing.assert_allclose(np.cos(pt), np.cos(t), atol=1e-3)
        np.testing.assert_allclose(np.sin(pt), np.sin(t), atol=1e-3)


def test_the_fill_keeps_the_rim_round_and_its_seed():
    """The plate's rim through the hole comes back where it was: the fill's edge (the steepest grey
    step across the true rim) lies within 1.5 px of it all along; without the arc patchmatch alone
    cuts the corner on this picture."""
    from inpaint_gui.engine.exemplar import PatchMatchEngine

    image, rim = _plate()
    hole = np.zeros(rim.shape, bool)
    hole[40:130, 250:330] = True
    engine = PatchMatchEngine(patch_size=5)
    first = engine.inpaint(image, hole, n=1, seed=2)[0].image
    assert np.array_equal(first, engine.inpaint(image, hole, n=1, seed=2)[0].image)
    assert np.array_equal(first[~hole], image[~hole])
    ellipse = (190.0, 150.0, 120.0, 70.0, math.radians(15.0))
    grey = first.mean(axis=2)
    t = np.linspace(0, 2 * math.pi, 2000, endpoint=False)
    on = arcs._points(ellipse, t)
    inner = cv2.erode(hole.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    c, s = math.cos(ellipse[4]), math.sin(ellipse[4])
    checked = 0
    for (x, y), tt in zip(on, t, strict=True):
        if not inner[int(round(y)), int(round(x))]:
            continue
        nx, ny = ellipse[3] * math.cos(tt), ellipse[2] * math.sin(tt)
        norm = math.hypot(nx, ny)
        n = np.array([(nx * c - ny * s) / norm, (nx * s + ny * c) / norm])
        steps = np.arange(-5.0, 5.5, 0.5)
        xs, ys = x + steps * n[0], y + steps * n[1]
        map_x, map_y = xs.astype(np.float32)[None], ys.astype(np.float32)[None]
        profile = cv2.remap(grey.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR)[0]
        edge = steps[int(np.argmax(np.abs(np.diff(profile))))] + 0.25
        assert abs(edge) <= 1.5, (x, y, edge)
        checked += 1
    assert checked > 20
