"""A candidate holds its hole's box and refers to the request's photo for the rest."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_gui.engine.base import Candidate
from inpaint_gui.engine.registry import load_engine


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)


def test_candidates_hold_the_holes_box_and_share_the_photo(photo):
    mask = np.zeros(photo.shape[:2], bool)
    mask[40:70, 50:90] = True
    mask[75, 95] = True
    before = photo.copy()
    cands = load_engine("patchmatch").inpaint(photo, mask, n=3, seed=0)
    for c in cands:
        assert c.patch.shape == (36, 46, 3) and c.box == (40, 50, 76, 96)  # the mask's box
        assert np.shares_memory(c.photo, photo) and not c.photo.flags.writeable
        whole = c.image
        assert whole.shape == photo.shape and np.array_equal(whole[~mask], photo[~mask])
        assert np.array_equal(whole[40:76, 50:96], c.patch)
        # Any region, inside, across or outside the box, is the whole picture's.
        for box in (
            (0, 0, 120, 160),
            (30, 45, 60, 70),
            (60, 80, 120, 160),
            (0, 0, 10, 10),
            (-5, -5, 500, 500),
        ):
            t, lft, b, r = box
            assert np.array_equal(c.region(*box), whole[max(0, t) : b, max(0, lft) : r])
    assert not np.array_equal(cands[0].patch, cands[1].patch)
    assert np.array_equal(photo, before)  # the request's photo is never written to


def test_a_candidate_without_a_photo_is_its_patch():
    image = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    c = Candidate(image, 0, 0.0, 0.0)
    assert c.image is image and c.shape == (4, 5, 3) and c.box == (0, 0, 4, 5)
    assert np.array_equal(c.region(1, 1, 3, 9), image[1:3, 1:5])


def test_an_empty_mask_gives_the_photo_back_without_copying_it(photo):
    cands = load_engine("patchmatch").inpaint(photo, np.zeros(photo.shape[:2], bool), n=2, seed=0)
    for c in cands:
        assert c.patch.size == 0 and np.array_equal(c.image, photo)
