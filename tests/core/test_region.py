from __future__ import annotations

import numpy as np
import pytest

from inpaint_gui.core.compose import composite, mask_bbox
from inpaint_gui.core.metrics import seam_score
from inpaint_gui.core.region import cut, paste, plan_region


def test_small_image_is_used_whole_and_padded():
    mask = np.zeros((131, 257), bool)
    mask[10:20, 30:40] = True
    r = plan_region(mask, max_side=512, multiple=16)
    assert (r.top, r.left, r.bottom, r.right) == (0, 0, 131, 257)
    assert not r.scaled
    assert (r.work_h + r.pad_h) % 16 == 0 and (r.work_w + r.pad_w) % 16 == 0
    img = np.random.default_rng(0).integers(0, 256, (131, 257, 3), dtype=np.uint8)
    work_img, work_mask = cut(r, img, mask)
    assert work_img.shape == (144, 272, 3) and work_mask.shape == (144, 272)
    assert not work_mask[131:].any() and not work_mask[:, 257:].any()


def test_large_image_is_cropped_around_the_hole_and_scaled():
    mask = np.zeros((4000, 6000), bool)
    mask[1000:1600, 3000:3400] = True
    r = plan_region(mask, max_side=512, multiple=16, margin=1.0)
    assert r.top <= 1000 - 600 + 1 and r.bottom >= 1600 + 600 - 1
    assert max(r.work_h, r.work_w) == 512
    assert r.scaled


def test_scaled_hole_covers_the_original_and_paste_touches_only_the_hole():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (900, 1300, 3), dtype=np.uint8)
    mask = np.zeros(img.shape[:2], bool)
    mask[301:333, 500:777] = True
    r = plan_region(mask, max_side=256, multiple=8)
    work_img, work_mask = cut(r, img, mask)
    # Every original hole pixel maps into the scaled hole.
    ys, xs = np.nonzero(mask[r.top : r.bottom, r.left : r.right])
    sy, sx = r.work_h / r.crop_h, r.work_w / r.crop_w
    assert work_mask[(ys * sy).astype(int), (xs * sx).astype(int)].all()
    pred = np.full_like(work_img, 7)
    out = paste(r, pred, img, mask)
    assert np.array_equal(out[~mask], img[~mask])
    assert (out[mask] == 7).all()


def test_composite_and_bbox():
    img = np.zeros((4, 5, 3), np.uint8)
    pred = np.full((4, 5, 3), 200, np.uint8)
    mask = np.zeros((4, 5), bool)
    mask[1:3, 2] = True
    out = composite(pred, img, mask)
    assert (out[mask] == 200).all() and (out[~mask] == 0).all()
    assert mask_bbox(mask) == (1, 2, 3, 3)
    assert mask_bbox(np.zeros((3, 3), bool)) is None


def test_seam_score_prefers_a_seamless_fill():
    yy, xx = np.mgrid[0:64, 0:64]
    smooth = np.stack([xx * 3, yy * 3, xx + yy], -1).astype(np.uint8)
    mask = np.zeros((64, 64), bool)
    mask[20:40, 20:40] = True
    seamless = smooth.copy()
    patched = smooth.copy()
    patched[mask] = 255
    assert seam_score(seamless, mask) > seam_score(patched, mask)
    assert seam_score(smooth, np.zeros((64, 64), bool)) == pytest.approx(0.0)
