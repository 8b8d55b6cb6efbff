"""Mask files (PNG, white = fill) and the soft edge applied at compositing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaint_gui.core.compose import feather_alpha, feathered_fill
from inpaint_gui.core.image_io import ImageError, load_mask
from inpaint_gui.core.mask_file import save_mask


def test_a_saved_mask_is_a_white_on_black_png_that_loads_back(tmp_path):
    mask = np.zeros((40, 60), bool)
    mask[5:20, 10:50] = True
    path = save_mask(tmp_path / "m.png", mask)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "L"
        pixels = np.asarray(im)
    assert set(np.unique(pixels)) == {0, 255} and np.array_equal(pixels == 255, mask)
    assert np.array_equal(load_mask(path, size=(60, 40)), mask)
    with pytest.raises(ImageError, match="mask is 60x40 but the image is 61x40"):
        load_mask(path, size=(61, 40))


def test_feather_blends_a_ring_outside_the_mask_and_leaves_the_rest_alone():
    mask = np.zeros((50, 50), bool)
    mask[20:30, 20:30] = True
    alpha, grown = feather_alpha(mask, 4)
    assert alpha.dtype == np.float32 and np.all(alpha[mask] == 1.0)
    assert np.array_equal(grown, alpha > 0) and (grown & ~mask).any()
    assert grown[20, 16] and not grown[20, 15]  # 4 px ring
    ring = alpha[25, 16:20]
    assert np.all(np.diff(ring) > 0) and 0 < ring.min() < ring.max() < 1  # rises towards the mask
    alpha0, grown0 = feather_alpha(mask, 0)
    assert np.array_equal(grown0, mask) and np.array_equal(alpha0 > 0, mask)

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (50, 50, 3), dtype=np.uint8)
    candidate = rng.integers(0, 256, (50, 50, 3), dtype=np.uint8)
    out = feathered_fill(image, candidate, alpha)
    assert np.array_equal(out[~grown], image[~grown])  # outside the grown mask: untouched
    assert np.array_equal(out[mask], candidate[mask])
    r, c = 25, 18
    a = alpha[r, c]
    assert np.allclose(out[r, c], np.round(a * candidate[r, c] + (1 - a) * image[r, c]), atol=1)
