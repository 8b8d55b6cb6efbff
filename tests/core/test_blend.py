"""Seamless compositing: what each blend mode may change, colour matching, borders and odd sizes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_gui.core.blend import BLEND_MODES, blend, push_pull
from inpaint_gui.core.metrics import seam_score


def _photo(h: int = 121, w: int = 173, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([60 + xx * 0.5, 90 + yy * 0.4, 120 + 0 * xx], axis=-1)
    return (base + rng.normal(0, 6, (h, w, 3))).clip(0, 255).astype(np.uint8)


def _hole(h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    mask[30:80, 40:110] = True
    mask[0:12, w - 30 :] = True  # touches the image border (seamlessClone's trap)
    return mask


def test_known_pixels_outside_the_blend_band_are_identical():
    img = _photo()
    mask = _hole(*img.shape[:2])
    pred = np.full_like(img, 200)
    for mode in BLEND_MODES:
        out = blend(pred, img, mask, mode, band=3)
        if mode == "feather":
            grown = cv2.dilate(mask.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
            assert np.array_equal(out[~grown], img[~grown])
            assert not np.array_equal(out[grown & ~mask], img[grown & ~mask])  # it does feather
        else:
            assert np.array_equal(out[~mask], img[~mask]), mode


def test_membrane_matches_colour_and_brightness_to_the_border():
    img = _photo()
    mask = _hole(*img.shape[:2])
    pred = (img.astype(int) + 70).clip(0, 255).astype(np.uint8)  # the right texture, too bright
    hard = blend(pred, img, mask, "hard")
    soft = blend(pred, img, mask, "membrane")
    err_hard = np.abs(hard[mask].astype(int) - img[mask]).mean()
    err_soft = np.abs(soft[mask].astype(int) - img[mask]).mean()
    assert err_hard > 60 and err_soft < 8
    assert seam_score(soft, mask) > seam_score(hard, mask) + 5


def test_odd_sizes_tiny_images_and_a_mask_covering_everything():
    for h, w in ((1, 1), (3, 5), (17, 9), (64, 1)):
        img = _photo(h, w)
        mask = np.zeros((h, w), bool)
        mask[h // 2, w // 2] = True
        far = ~cv2.dilate(mask.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
        for mode in BLEND_MODES:
            out = blend(np.zeros_like(img), img, mask, mode, band=3)
            assert out.shape == img.shape
            assert np.array_equal(
                out[far if mode == "feather" else ~mask], img[far if mode == "feather" else ~mask]
            )
    img = _photo(20, 30)
    full = np.ones((20, 30), bool)
    for mode in BLEND_MODES:  # nothing to match against: the prediction as it is
        assert np.array_equal(blend(np.full_like(img, 9), img, full, mode), np.full_like(img, 9))


def test_empty_mask_and_bad_arguments():
    img = _photo()
    empty = np.zeros(img.shape[:2], bool)
    assert np.array_equal(blend(np.zeros_like(img), img, empty, "membrane"), img)
    with pytest.raises(ValueError, match="blend mode"):
        blend(img, img, empty, "poisson")
    with pytest.raises(ValueError, match="sizes differ"):
        blend(img[:10], img, empty)


def test_push_pull_is_exact_where_known_and_fills_the_rest():
    rng = np.random.default_rng(1)
    values = rng.normal(0, 1, (37, 23, 2)).astype(np.float32)
    weight = (rng.random((37, 23)) < 0.2).astype(np.float32)
    out = push_pull(values, weight)
    known = weight > 0
    assert np.allclose(out[known], values[known], atol=1e-5)
    assert np.isfinite(out).all()
    const = push_pull(np.full((37, 23, 1), 5.0, np.float32), weight)
    assert np.allclose(const, 5.0, atol=1e-4)
