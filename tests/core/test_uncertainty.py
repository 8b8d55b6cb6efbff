"""Uncertainty map: zero where candidates agree, positive where they differ; heat-map renders."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.uncertainty import heatmap_rgb, heatmap_rgba, spread_map


def _image(value: int, shape=(20, 30)) -> np.ndarray:
    return np.full(shape + (3,), value, np.uint8)


def test_identical_candidates_give_zero() -> None:
    rng = np.random.default_rng(0)
    im = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    spread = spread_map([im, im.copy(), im.copy()])
    assert spread.shape == (20, 30) and spread.dtype == np.float32
    assert np.all(spread == 0.0)


def test_positive_exactly_where_candidates_differ() -> None:
    a, b = _image(100), _image(100)
    b[5:10, 7:12] = 200
    spread = spread_map([a, b])
    assert np.all(spread[5:10, 7:12] > 0.0)
    outside = np.ones((20, 30), bool)
    outside[5:10, 7:12] = False
    assert np.all(spread[outside] == 0.0)


def test_scale_is_0_to_1_and_grows_with_disagreement() -> None:
    extreme = spread_map([_image(0), _image(255)])
    assert np.allclose(extreme, 1.0)
    small = spread_map([_image(100), _image(110)])
    large = spread_map([_image(100), _image(180)])
    assert 0.0 < small.max() < large.max() < 1.0


def test_mask_limits_the_map() -> None:
    a, b = _image(0), _image(255)
    mask = np.zeros((20, 30), bool)
    mask[2:6, 3:9] = True
    spread = spread_map([a, b], mask)
    assert np.all(spread[mask] > 0.99)
    assert np.all(spread[~mask] == 0.0)
    assert np.all(spread_map([a, b], np.zeros((20, 30), bool)) == 0.0)


def test_single_candidate_is_zero_and_bad_input_is_clear() -> None:
    assert np.all(spread_map([_image(7)]) == 0.0)
    with pytest.raises(InputError, match="differ in size"):
        spread_map([_image(0), _image(0, (21, 30))])
    with pytest.raises(InputError, match="uint8"):
        spread_map([np.zeros((4, 4, 3), np.float32)])
    with pytest.raises(InputError, match="at least one"):
        spread_map([])


def test_heatmaps() -> None:
    spread = np.zeros((10, 12), np.float32)
    spread[3:6, 4:8] = 0.5
    rgb = heatmap_rgb(spread)
    assert rgb.shape == (10, 12, 3) and rgb.dtype == np.uint8
    # Hot pixels are brighter than cold ones.
    assert rgb[4, 5].astype(int).sum() > rgb[0, 0].astype(int).sum()
    rgba = heatmap_rgba(spread, opacity=0.8)
    assert rgba.shape == (10, 12, 4)
    assert rgba[0, 0, 3] == 0  # no spread: transparent
    assert rgba[4, 5, 3] == round(0.8 * 255)
    assert np.all(heatmap_rgba(np.zeros((3, 3), np.float32))[..., 3] == 0)
    with pytest.raises(InputError):
        heatmap_rgba(spread, opacity=2.0)


def test_overlay_is_full_size_and_transparent_outside_the_mask() -> None:
    from inpaint_gui.core.uncertainty import uncertainty_overlay

    a, b = _image(0), _image(0)
    b[4:8, 4:8] = 90
    mask = np.zeros((20, 30), bool)
    mask[2:10, 2:12] = True
    over = uncertainty_overlay([a, b], mask, opacity=0.5)
    assert over.shape == (20, 30, 4)
    assert np.all(over[4:8, 4:8, 3] > 0)
    alpha = over[..., 3].copy()
    alpha[4:8, 4:8] = 0
    assert np.all(alpha == 0)
    assert np.all(uncertainty_overlay([a, a], mask)[..., 3] == 0)
