"""Detail transfer: residuals, where each hole pixel takes its detail from, and pasting a region."""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_gui.core.detail import (
    CellWeights,
    DetailMap,
    Grid,
    _upsample,
    high_frequencies,
    padding_for,
    paste_region,
    remove_checkerboard,
    smooth_nyquist,
    transfer,
)
from inpaint_gui.core.region import Region


def test_residual_is_what_the_round_trip_through_the_working_size_loses():
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 256, (90, 70, 3), dtype=np.uint8)
    res = high_frequencies(crop, (35, 45))
    small = smooth_nyquist(cv2.resize(crop.astype(np.float32), (35, 45), interpolation=cv2.INTER_AREA))
    low = cv2.resize(small, (70, 90), interpolation=cv2.INTER_CUBIC)
    assert np.allclose(low + res, crop, atol=1e-3)
    assert np.abs(high_frequencies(np.full((90, 70, 3), 77, np.uint8), (35, 45))).max() < 1e-3


def test_a_scaled_fill_loses_its_checkerboard_not_its_shape():
    """A network's 2-px checkerboard would be a coarse grid once scaled up: the fill is smoothed at its
    Nyquist frequency first. Smooth content is kept."""
    y, x = np.mgrid[0:40, 0:40]
    ramp = (60 + 3 * x).astype(np.float32)[..., None].repeat(3, 2)
    checker = np.where((y + x) % 2 == 0, 6.0, -6.0).astype(np.float32)[..., None]
    out = smooth_nyquist(ramp + checker)
    assert np.abs(out - ramp)[2:-2, 2:-2].max() < 1e-3


def test_a_native_fill_loses_its_checkerboard_and_keeps_half_of_2px_stripes():
    """CHECKER removes (-1)^(x+y) alone: a ramp comes back as it was, and 2-px stripes (detail of
    the photo's kind) keep half their amplitude where NOTCH would remove them too."""
    y, x = np.mgrid[0:40, 0:40]
    ramp = (60 + 3 * x).astype(np.float32)[..., None].repeat(3, 2)
    checker = np.where((y + x) % 2 == 0, 6.0, -6.0)[..., None]
    out = remove_checkerboard((ramp + checker).astype(np.uint8)).astype(np.float32)
    assert np.abs(out - ramp)[2:-2, 2:-2].max() <= 1
    stripes = np.where(y % 2 == 0, 20.0, -20.0)[..., None] + 128
    kept = remove_checkerboard(stripes.repeat(3, 2).astype(np.uint8)).astype(np.float32) - 128
    assert np.allclose(np.abs(kept[2:-2, 2:-2]), 10, atol=1)


def test_one_key_puts_its_patch_at_the_hole_cell():
    rng = np.random.default_rng(1)
    residual = rng.normal(0, 10, (36, 36, 3)).astype(np.float32)
    grid = Grid(4, 4, 9.0, 9.0)  # 9-px cells: the middle pixel of a cell is its centre
    hole = np.zeros((36, 36), bool)
    hole[9:18, 18:27] = True  # cell (1, 2)
    cells = np.arange(16)
    weights = CellWeights(cells, np.full((16, 1), 12), np.ones((16, 1), np.float32))  # all take (3, 0)
    pad = padding_for(grid, grid)
    padded = cv2.copyMakeBorder(residual, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    out = transfer(padded, pad, hole, (0, 0), weights, grid, grid)
    assert np.all(out[~hole] == 0) and np.abs(out[hole]).max() > 1
    # At the cell's centre only the cell itself counts: the key cell's centre, scaled by the gain
    # that restores the energy the neighbours' mix averaged away (1 to MAX_GAIN).
    got, src = out[13, 22], residual[31, 4]
    gain = float(got @ src / (src @ src))
    assert 1.0 <= gain <= 4.0 + 1e-4
    assert np.allclose(got, gain * src, atol=1e-3)


def test_mixed_patches_keep_their_sources_energy():
    rng = np.random.default_rng(2)
    residual = rng.normal(0, 10, (80, 80, 3)).astype(np.float32)
    grid = Grid(8, 8, 10.0, 10.0)
    hole = np.zeros((80, 80), bool)
    hole[30:50, 30:50] = True
    cells = np.arange(64)
    sources = np.stack([rng.permutation([0, 7, 56, 63])[:3] for _ in cells])
    weights = CellWeights(cells, sources, np.full((64, 3), 1 / 3, np.float32))
    pad = padding_for(grid, grid)
    padded = cv2.copyMakeBorder(residual, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    out = transfer(padded, pad, hole, (0, 0), weights, grid, grid)
    ratio = float((out[hole] ** 2).mean() / (residual**2).mean())
    assert 0.7 < ratio < 1.4  # a plain average of 3 unrelated patches would give about 1/3


def test_upsampling_a_box_matches_smoothing_and_resizing_the_whole_crop():
    rng = np.random.default_rng(3)
    pred = rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)
    region = Region(0, 0, 301, 217, 48, 40, 0, 0)
    full = cv2.resize(smooth_nyquist(pred), (217, 301), interpolation=cv2.INTER_CUBIC)
    assert np.abs(_upsample(pred, region, (37, 20, 200, 150)) - full[37:237, 20:170]).max() < 0.01


def test_paste_region_changes_only_its_own_holes():
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    mask = np.zeros((300, 400), bool)
    mask[100:140, 100:150] = True  # this region's hole
    mask[5:10, 380:395] = True  # another region's, inside this crop
    region = Region(50, 50, 250, 350, 100, 150, 0, 0, hole=(100, 100, 140, 150))
    canvas = image.copy()
    weights = CellWeights(
        np.arange(25 * 37), np.zeros((25 * 37, 1), np.int64), np.ones((25 * 37, 1), np.float32)
    )
    detail = DetailMap(weights, 25, 37, 4, 1)
    paste_region(region, np.full((100, 150, 3), 128, np.uint8), canvas, mask, detail, "membrane", 3, {})
    own = np.zeros_like(mask)
    own[100:140, 100:150] = True
    assert np.array_equal(canvas[~own], image[~own])
    assert not np.array_equal(canvas[own], image[own])
