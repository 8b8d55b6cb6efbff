import numpy as np
import pytest

from inpaint_gui.core.mask_prep import close_gaps, gap_limit, grow_mask


def _ring_mask(shape=(200, 300), box=(40, 60, 160, 240)):
    mask = np.zeros(shape, bool)
    top, left, bottom, right = box
    mask[top:bottom, left:right] = True
    return mask


def test_a_one_pixel_island_is_closed():
    mask = _ring_mask()
    mask[100, 150] = False
    closed, n = close_gaps(mask)
    assert n == 1
    assert closed[100, 150]
    assert np.array_equal(closed, _ring_mask())


def test_the_issue_gap_at_20_megapixels_is_closed_and_a_large_kept_area_is_not():
    shape = (4000, 5000)
    mask = np.zeros(shape, bool)
    mask[1000:2000, 1000:2200] = True
    mask[1200:1214, 1300:1323] = False  # a 23 x 14 px gap left by the brush
    mask[1500:1700, 1700:1900] = False  # 200 x 200 px left unpainted on purpose
    closed, n = close_gaps(mask)
    assert n == 1
    assert closed[1200:1214, 1300:1323].all()
    assert not closed[1500:1700, 1700:1900].any()
    assert gap_limit(shape) >= 23 * 14


def test_gaps_open_to_the_outside_or_the_border_stay():
    mask = _ring_mask()
    mask[100:103, 60:70] = False  # a notch open to the outside of the mask
    corner = np.zeros((50, 50), bool)
    corner[:20, :20] = True
    corner[0, 0] = False  # a pixel at the image border
    closed, n = close_gaps(mask)
    assert n == 0 and closed is mask
    closed, n = close_gaps(corner)
    assert n == 0 and not closed[0, 0]


def test_diagonal_contact_does_not_open_a_gap():
    mask = _ring_mask()
    mask[100, 150] = False
    mask[101, 151] = False  # touches the first only at a corner: two 4-connected gaps
    closed, n = close_gaps(mask)
    assert n == 2 and closed[100, 150] and closed[101, 151]


@pytest.mark.parametrize("n", [1, 3, 8])
def test_grow_changes_exactly_the_n_pixel_ring(n):
    mask = np.zeros((80, 90), bool)
    mask[30:50, 20:45] = True
    mask[60, 70] = True
    grown = grow_mask(mask, n)
    ys, xs = np.mgrid[:80, :90]
    pts = np.argwhere(mask)
    dist = np.min(np.hypot(ys[..., None] - pts[:, 0], xs[..., None] - pts[:, 1]), axis=-1)
    assert np.array_equal(grown, dist <= n)
    assert np.array_equal(grown & ~mask, (dist > 0) & (dist <= n))


def test_grow_zero_and_empty_masks_are_unchanged():
    mask = _ring_mask()
    assert grow_mask(mask, 0) is mask
    empty = np.zeros((10, 10), bool)
    assert not grow_mask(empty, 5).any()
    with pytest.raises(ValueError):
        grow_mask(mask, -1)
