"""Exemplar completion keeps texture: textured holes get textured sources, votes copy real pixels."""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_gui.core import exemplar as ex
from inpaint_gui.core import patchmatch as pm
from inpaint_gui.core import quality as q


def _half_textured() -> tuple[np.ndarray, np.ndarray]:
    """Left half a checked texture with grain, right half flat at the texture's mean grey; the hole
    lies in the texture, so a flat copy matches the hole's smooth start best by squared error."""
    rng = np.random.default_rng(0)
    h, w = 96, 128
    yy, xx = np.mgrid[0:h, 0:w]
    tex = 128 + 50 * np.sign(np.sin(xx / 2.0) * np.sin(yy / 3.0))[..., None] + rng.normal(0, 10, (h, w, 3))
    img = np.full((h, w, 3), 128.0)
    img[:, : w // 2] = tex[:, : w // 2]
    hole = np.zeros((h, w), bool)
    hole[28:68, 16:52] = True
    return img.clip(0, 255).astype(np.uint8), hole


def test_textured_hole_beside_a_flat_area_stays_sharp():
    """Plain squared error with mean votes filled this hole at 0.22-0.29 of the photo's sharpness
    (it copied the flat half); the texture term and the sharp votes give 0.61-0.67."""
    img, hole = _half_textured()
    completion = ex.Completion(img, hole)
    for seed in range(3):
        out = completion.fill(seed)
        assert np.array_equal(out[~hole], img[~hole])
        assert q.sharpness_ratio(out, img, hole) > 0.45


def test_best_vote_copies_the_lowest_distance_patch():
    rng = np.random.default_rng(1)
    h, w, r = 12, 14, 1
    src = rng.integers(0, 256, (h, w, 3)).astype(np.float32)
    hole = np.zeros((h, w), bool)
    hole[5:7, 6:8] = True
    targets = pm.coords(np.ones((h, w), bool))
    nnf = np.zeros((h, w, 2), np.int32)
    nnf[..., 0] = rng.integers(r, h - r, (h, w))
    nnf[..., 1] = rng.integers(r, w - r, (h, w))
    dist = rng.random((h, w)).astype(np.float32)
    out = src.copy()
    pm.vote_best(src, targets, nnf, dist, hole, r, out)
    assert np.array_equal(out[~hole], src[~hole])
    for y, x in zip(*np.nonzero(hole), strict=True):
        cover = [(dist[ty, tx], ty, tx) for ty in range(y - r, y + r + 1) for tx in range(x - r, x + r + 1)]
        _, ty, tx = min(cover)
        sy, sx = nnf[ty, tx] + (y - ty, x - tx)
        assert np.array_equal(out[y, x], src[sy, sx])


def test_fine_levels_keep_within_their_budget():
    assert ex._within_budget(3, 2, 1000, ex.FINE_BUDGET) == (3, 2)
    rounds, iters = ex._within_budget(3, 2, ex.FINE_BUDGET // 2, ex.FINE_BUDGET)
    assert rounds * iters * (ex.FINE_BUDGET // 2) <= ex.FINE_BUDGET and rounds >= 1
    assert ex._within_budget(3, 2, 10 * ex.FINE_BUDGET, ex.FINE_BUDGET) == (1, 1)  # never below 1 of 1
    # A middle level's own budget: a 10% hole in a 6000x4000 photo has about 146 000 targets on its
    # 1000x1500 level, which keeps two rounds of two iterations.
    assert ex._within_budget(3, 2, 146_000, ex.MIDDLE_BUDGET) == (2, 2)
    assert ex._within_budget(3, 2, 90_000, ex.MIDDLE_BUDGET) == (3, 2)  # a 2 MP photo's levels


def test_coarse_levels_do_not_take_blurred_shading_for_texture():
    """Fine grain beside smooth, strong shading; the hole is in the grain. Measured per level, the coarse
    levels saw the grain as flat and the shading as busy, and filled with shading (sharpness 0.47-0.68);
    with the finest level's texture pooled down they copy grain (1.02-1.03)."""
    rng = np.random.default_rng(0)
    h, w = 160, 240
    grain = 128 + rng.normal(0, 18, (h, w, 1))
    shade = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 5)
    shade = 128 + shade[..., None] / shade.std() * 30
    img = np.where((np.arange(w) < w // 2)[None, :, None], grain, shade)
    img = np.repeat(img, 3, axis=2).clip(0, 255).astype(np.uint8)
    hole = np.zeros((h, w), bool)
    hole[40:120, 40:100] = True
    completion = ex.Completion(img, hole)
    assert len(completion.levels) >= 2
    for seed in range(3):
        assert q.sharpness_ratio(completion.fill(seed), img, hole) > 0.85


def test_a_guide_sets_the_structure_and_the_photo_the_pixels():
    """The guide (a network's fill, say) paints a red bar into a grey hole: the fill puts the photo's own
    red there; without the guide the hole stays grey."""
    rng = np.random.default_rng(2)
    h, w = 96, 160
    img = np.full((h, w, 3), 128.0) + rng.normal(0, 6, (h, w, 3))
    img[:, 10:30] = (200, 40, 40) + rng.normal(0, 6, (h, 20, 3))  # a red post at the left
    img = img.clip(0, 255).astype(np.uint8)
    hole = np.zeros((h, w), bool)
    hole[20:76, 80:140] = True
    guide = img.copy()
    guide[hole] = 128
    guide[20:76, 100:120] = (200, 40, 40)
    completion = ex.Completion(img, hole)
    bar = np.zeros_like(hole)
    bar[26:70, 104:116] = True
    guided = completion.fill(0, guide=guide)
    plain = completion.fill(0)
    assert guided[bar, 0].mean() > 170 and guided[bar, 1].mean() < 80
    assert plain[bar, 0].mean() < 150
    known = {tuple(p) for p in img[~hole].reshape(-1, 3)}
    assert all(tuple(p) in known for p in guided[hole].reshape(-1, 3))  # still the photo's own pixels
    import pytest

    from inpaint_gui.core.compose import InputError

    with pytest.raises(InputError, match="guide shape"):
        completion.fill(0, guide=guide[:-1])


def test_a_guide_sets_the_levels_at_its_own_scale_and_coarser():
    """A network's fill made at a quarter of the size has no detail for the two finest levels: they
    refine what the coarser ones carry up. The coarsest level always takes the guide."""
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    hole = np.zeros((256, 256), bool)
    hole[64:192, 64:192] = True
    completion = ex.Completion(img, hole)
    n = len(completion.levels)
    assert n >= 4
    assert completion.guided_levels(1.0) == n
    assert completion.guided_levels(0.5) == n - 1
    assert completion.guided_levels(0.25) == n - 2
    assert completion.guided_levels(0.3) == n - 2  # detail between two levels' scales: the coarser one
    assert completion.guided_levels(1e-6) == 1


def test_a_guide_is_not_followed_into_a_flat_sky(monkeypatch):
    """A smooth sky, darker at the top: a guide that paints the hole with the pale sky of the bottom
    rows is followed where the surroundings have texture, not in flat surroundings (GUIDE_CALM),
    where the fill keeps the sky's own shade at the hole's height."""
    rng = np.random.default_rng(4)
    h, w = 128, 128
    sky = np.linspace(110, 170, h)[:, None, None] * np.ones((1, w, 3)) + rng.normal(0, 0.3, (h, w, 3))
    img = sky.clip(0, 255).astype(np.uint8)
    hole = np.zeros((h, w), bool)
    hole[40:80, 40:90] = True
    guide = img.copy()
    guide[hole] = 170
    completion = ex.Completion(img, hole)
    calm = completion.fill(0, guide=guide)
    monkeypatch.setattr(ex, "GUIDE_CALM", 0.0)
    followed = completion.fill(0, guide=guide)
    truth = img[hole].mean()
    assert abs(calm[hole].mean() - truth) < 6
    assert followed[hole].mean() - truth > 12
