"""Multi-region planning: one working crop per group of nearby holes."""

from __future__ import annotations

import numpy as np

from inpaint_gui.core.region import cut, paste_into, plan_regions


def _covered_once(regions, mask):
    """Every hole pixel lies in exactly one region's hole box, and inside that region's crop."""
    count = np.zeros(mask.shape, np.int32)
    for r in regions:
        t, lft, b, rt = r.hole
        assert r.top <= t and r.left <= lft and b <= r.bottom and rt <= r.right
        count[t:b, lft:rt] += 1
    assert (count[mask] == 1).all()


def test_holes_at_corners_get_full_size_crops_shifted_inside():
    mask = np.zeros((600, 800), bool)
    for t, lft in ((0, 0), (0, 780), (580, 0), (580, 780)):
        mask[t : t + 20, lft : lft + 20] = True
    regions = plan_regions(mask, max_side=None, multiple=1, margin=1.0, min_margin=16)
    assert len(regions) == 4
    _covered_once(regions, mask)
    for r in regions:
        assert 0 <= r.top < r.bottom <= 600 and 0 <= r.left < r.right <= 800
        assert (r.crop_h, r.crop_w) == (60, 60)  # 20 + 2 * 20: moved inward, not cut off
        assert not r.scaled


def test_far_apart_holes_cost_two_small_crops_and_near_ones_merge():
    mask = np.zeros((4000, 6000), bool)
    mask[100:140, 100:140] = True
    mask[3800:3850, 5800:5850] = True
    regions = plan_regions(mask, max_side=None, multiple=1, margin=1.0)
    assert len(regions) == 2
    assert sum(r.crop_h * r.crop_w for r in regions) < 0.002 * mask.size  # 120^2 + 150^2 px, not 24 Mpx
    _covered_once(regions, mask)
    near = np.zeros((400, 400), bool)
    near[100:140, 100:140] = True
    near[100:140, 150:190] = True  # 10 px apart: one crop holds both
    assert len(plan_regions(near, max_side=None, multiple=1)) == 1


def test_many_small_holes_each_pasted_once():
    rng = np.random.default_rng(0)
    mask = np.zeros((500, 700), bool)
    for y in range(10, 500, 60):
        for x in range(10, 700, 60):
            mask[y : y + 3, x : x + 2] = True
    regions = plan_regions(mask, max_side=None, multiple=8, margin=1.0, min_margin=8)
    assert len(regions) == 9 * 12
    _covered_once(regions, mask)
    img = rng.integers(0, 256, (*mask.shape, 3), dtype=np.uint8)
    out = img.copy()
    for r in regions:
        work_img, work_mask = cut(r, img, mask)
        assert work_img.shape[0] % 8 == 0 and work_mask.any()
        paste_into(r, np.full_like(work_img, 255), out, mask)
    assert np.array_equal(out[~mask], img[~mask])
    assert (out[mask] == 255).all()


def test_hole_over_half_the_image_is_one_region():
    mask = np.zeros((300, 500), bool)
    mask[20:280, 10:400] = True
    (r,) = plan_regions(mask, max_side=None, multiple=1)
    assert (r.top, r.left, r.bottom, r.right) == (0, 0, 300, 500)


def test_thin_stroke_is_one_region_with_an_exact_box():
    mask = np.zeros((900, 1200), bool)
    idx = np.arange(800)
    mask[50 + idx, 100 + idx] = True  # 1-px diagonal: 8-connected
    mask[5, 1190] = True  # and a lone 1-px hole far away
    regions = plan_regions(mask, max_side=None, multiple=1, margin=0.0, min_margin=10)
    assert [r.hole for r in regions] == [(5, 1190, 6, 1191), (50, 100, 850, 900)]
    _covered_once(regions, mask)


def test_huge_mask_is_grouped_on_a_pooled_grid_with_exact_boxes():
    mask = np.zeros((4000, 6000), bool)
    mask[10, 10:3000] = True  # 1-px stroke
    mask[3990:4000, 5990:6000] = True  # corner
    regions = plan_regions(mask, max_side=None, multiple=1, margin=0.5, min_margin=16)
    assert [r.hole for r in regions] == [(10, 10, 11, 3000), (3990, 5990, 4000, 6000)]


def test_whole_image_when_it_fits_the_engine_and_scaled_crops_otherwise():
    mask = np.zeros((200, 300), bool)
    mask[10:20, 10:20] = True
    mask[150:160, 250:260] = True
    (r,) = plan_regions(mask, max_side=512, multiple=16)
    assert (r.top, r.left, r.bottom, r.right) == (0, 0, 200, 300) and r.hole is None
    big = np.zeros((3000, 3000), bool)
    big[100:900, 100:900] = True
    big[2900:2950, 2900:2950] = True
    regions = plan_regions(big, max_side=256, multiple=16)
    assert len(regions) == 2
    assert all(max(r.work_h, r.work_w) <= 256 for r in regions)
    assert regions[0].scaled and not regions[1].scaled
