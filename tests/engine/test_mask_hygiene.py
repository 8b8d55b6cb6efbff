"""Every engine fills the mask with its small gaps closed and grown by `grow`: the base template does it."""

import numpy as np
import pytest

from inpaint_gui.core.compose import InputError
from inpaint_gui.engine.classical import TeleaEngine
from inpaint_gui.engine.exemplar import PatchMatchEngine


def _photo(seed=0, shape=(96, 128)):
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    base = np.stack([ys * 1.5, xs * 1.2, 255 - ys - xs * 0.5], -1)
    return np.clip(base + rng.normal(0, 6, (*shape, 3)), 0, 255).astype(np.uint8)


def test_a_one_pixel_island_is_filled_as_if_closed():
    image = _photo()
    image[50, 60] = (0, 0, 0)  # a speck of the object that the brush missed
    closed = np.zeros(image.shape[:2], bool)
    closed[35:65, 45:80] = True
    island = closed.copy()
    island[50, 60] = False
    engine = PatchMatchEngine(patch_size=5)
    with_island = engine.inpaint(image, island, n=2, seed=3)
    as_closed = engine.inpaint(image, closed, n=2, seed=3)
    for a, b in zip(with_island, as_closed, strict=True):
        assert np.array_equal(a.image, b.image)
        assert a.closed_gaps == 1 and b.closed_gaps == 0
    assert not np.array_equal(with_island[0].image[50, 60], [0, 0, 0])


def test_closing_can_be_turned_off():
    image = _photo()
    image[50, 60] = (0, 0, 0)
    mask = np.zeros(image.shape[:2], bool)
    mask[35:65, 45:80] = True
    mask[50, 60] = False
    engine = TeleaEngine()
    engine.configure(close_gaps=False)
    out = engine.inpaint(image, mask)[0]
    assert out.closed_gaps == 0 and np.array_equal(out.image[50, 60], [0, 0, 0])


def test_grow_fills_the_ring_and_nothing_beyond():
    image = _photo()
    mask = np.zeros(image.shape[:2], bool)
    mask[40:60, 50:70] = True
    engine = TeleaEngine()
    engine.configure(grow=4)
    out = engine.inpaint(image, mask)[0].image
    changed = np.any(out != image, axis=-1)
    ys, xs = np.mgrid[: mask.shape[0], : mask.shape[1]]
    dy = np.maximum(np.maximum(40 - ys, ys - 59), 0)
    dx = np.maximum(np.maximum(50 - xs, xs - 69), 0)
    assert not changed[np.hypot(dy, dx) > 4].any()
    assert changed[np.hypot(dy, dx) == 4].mean() > 0.5  # the ring is refilled, not kept


def test_bad_grow_is_refused():
    engine = TeleaEngine()
    for bad in (-1, 1000, 2.5, True):
        with pytest.raises(InputError):
            engine.configure(grow=bad)
    assert engine.grow == 0


def test_same_seed_same_bytes_with_hygiene():
    image = _photo(1)
    mask = np.zeros(image.shape[:2], bool)
    mask[30:60, 40:90] = True
    mask[45, 60] = False
    engine = PatchMatchEngine(patch_size=5)
    engine.configure(grow=2)
    a = engine.inpaint(image, mask, n=2, seed=11)
    b = engine.inpaint(image, mask, n=2, seed=11)
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))
