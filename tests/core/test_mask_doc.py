from __future__ import annotations

import numpy as np
import pytest

from inpaint_gui.core.mask_doc import MaskDiff, MaskDoc


def _distance_to_segment(shape, p0, p1):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    (ax, ay), (bx, by) = p0, p1
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = np.clip(((xx - ax) * dx + (yy - ay) * dy) / length2, 0, 1) if length2 else 0.0
    return np.hypot(xx - (ax + t * dx), yy - (ay + t * dy))


@pytest.mark.parametrize(
    ("p0", "p1", "radius"),
    [
        ((20.3, 30.7), (80.2, 55.1), 6.5),
        ((50, 50), (50, 50), 3),
        ((10, 10), (90, 12), 1),
        ((5, 5), (95, 95), 20),
    ],
)
def test_stroke_is_a_round_brush_swept_along_the_segment(p0, p1, radius):
    doc = MaskDoc(100, 100)
    doc.stroke(p0, p1, radius)
    dist = _distance_to_segment((100, 100), p0, p1)
    assert doc.mask[dist <= radius - 0.75].all()  # no gaps, even on a long fast segment
    assert not doc.mask[dist > radius + 0.75].any()
    assert (doc.mask == (dist <= radius)).mean() > 0.98


def test_undo_and_redo_restore_exact_states_through_a_history():
    rng = np.random.default_rng(0)
    doc = MaskDoc(60, 80)
    states = [doc.copy()]
    diffs = []
    ops = [
        lambda: doc.stroke((5, 5), (70, 50), 4),
        lambda: doc.rectangle((10.5, 10.2), (40.7, 30.1)),
        lambda: doc.stroke((30, 0), (30, 59), 3, value=False),
        lambda: doc.polygon([(50, 5), (78, 20), (60, 55)]),
        lambda: doc.invert(),
        lambda: doc.grow(3),
        lambda: doc.shrink(2),
        lambda: doc.replace(rng.random((60, 80)) > 0.5),
        lambda: doc.clear(),
    ]
    for op in ops:
        diff = op()
        assert diff is not None
        diffs.append(diff)
        states.append(doc.copy())
    for i in range(len(diffs) - 1, -1, -1):
        doc.undo(diffs[i])
        assert (doc.mask == states[i]).all()
    for i, diff in enumerate(diffs):
        doc.redo(diff)
        assert (doc.mask == states[i + 1]).all()


def test_diff_of_a_small_stroke_on_a_large_mask_is_small():
    doc = MaskDoc(4000, 6000)
    diff = doc.stroke((3000, 2000), (3050, 2010), 10)
    t, left, b, r = diff.box
    assert (b - t) <= 35 and (r - left) <= 75
    assert diff.nbytes < 1000
    long_diff = doc.stroke((0, 0), (5999, 3999), 20)
    # A diagonal across the image is cut into pieces that hug the stroke.
    assert long_diff.nbytes < 6000 * 4000 // 8 // 20
    assert len(long_diff.boxes) > 10


def test_operations_that_change_nothing_return_none():
    doc = MaskDoc(10, 10)
    assert doc.clear() is None
    assert doc.grow(3) is None
    assert doc.polygon([(1, 1), (2, 2)]) is None
    assert doc.rectangle((20, 20), (30, 30)) is None  # outside the image
    doc.fill()
    assert doc.fill() is None
    assert doc.stroke((5, 5), (6, 6), 2) is None  # already painted
    assert MaskDiff.concat([None, None]) is None


def test_rectangle_covers_every_touched_pixel_and_is_clipped():
    doc = MaskDoc(20, 30)
    doc.rectangle((25.5, 2.2), (40, 5.0))
    expected = np.zeros((20, 30), bool)
    expected[2:5, 25:30] = True
    assert (doc.mask == expected).all()


def test_lasso_fills_pixel_centres_inside_the_polygon():
    doc = MaskDoc(40, 40)
    doc.polygon([(10, 10), (30, 10), (30, 30), (10, 30)])
    assert doc.mask[10:30, 10:30].all()
    assert doc.mask.sum() <= 21 * 21
    assert not doc.mask[:9].any() and not doc.mask[:, 31:].any()


def test_grow_and_shrink_are_euclidean_and_image_edges_do_not_erode():
    doc = MaskDoc(50, 50)
    doc.stroke((25, 25), (25, 25), 1)  # a small blob in the middle
    before = doc.copy()
    doc.grow(5)
    yy, xx = np.nonzero(doc.mask)
    assert (yy.max() - yy.min()) == pytest.approx(np.ptp(before.nonzero()[0]) + 10, abs=1)
    assert not doc.mask[0].any()
    doc.shrink(5)
    assert (doc.mask == before).all()

    edge = MaskDoc(20, 20)
    edge.rectangle((0, 0), (20, 6))  # a band touching three image edges
    edge.shrink(2)
    assert edge.mask[0:4].all() and not edge.mask[4:].any()  # eroded only from the inner edge


def test_mask_view_is_read_only():
    doc = MaskDoc(5, 5)
    with pytest.raises(ValueError):
        doc.mask[0, 0] = True


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="positive"):
        MaskDoc(0, 5)
    doc = MaskDoc(5, 5)
    with pytest.raises(ValueError, match="shape"):
        doc.replace(np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match="finite"):
        doc.polygon([(0, 0), (float("nan"), 1), (2, 2)])
