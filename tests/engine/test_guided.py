"""The guided engine: each candidate's layout from the network's fill, its pixels from the photo."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from inpaint_gui.core.compose import InputError
from inpaint_gui.engine import Cancelled, load_engine
from inpaint_gui.engine.guided import GuidedEngine
from inpaint_gui.engine.pluralistic import save_random_release


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return save_random_release(tmp_path_factory.mktemp("guided") / "tiny.safetensors")


@pytest.fixture
def engine(checkpoint) -> GuidedEngine:
    return GuidedEngine.from_checkpoint(checkpoint, device="cpu")


def _photo() -> tuple[np.ndarray, np.ndarray]:
    """Grey grain with a red post left of a hole in the grey, within the hole's context."""
    rng = np.random.default_rng(2)
    h, w = 96, 160
    img = np.full((h, w, 3), 128.0) + rng.normal(0, 6, (h, w, 3))
    img[:, 50:70] = (200, 40, 40) + rng.normal(0, 6, (h, 20, 3))
    hole = np.zeros((h, w), bool)
    hole[20:76, 80:140] = True
    return img.clip(0, 255).astype(np.uint8), hole


def test_known_pixels_kept_same_seed_same_bytes_candidate_alone_the_same(engine):
    img, hole = _photo()
    a = engine.inpaint(img, hole, n=3, seed=4)
    b = engine.inpaint(img, hole, n=3, seed=4)
    assert [c.seed for c in a] == [4, 5, 6]
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.image, y.image)
        assert np.array_equal(x.image[~hole], img[~hole])
    assert np.array_equal(engine.inpaint(img, hole, n=1, seed=5)[0].image, a[1].image)


def test_each_candidate_follows_the_network_fill_of_its_own_seed(engine, monkeypatch):
    """The network's candidate for seed 1 paints a red bar, seed 0's none: patchmatch copies the
    photo's red into the bar of candidate 1 only, and every hole pixel is still the photo's own
    (hard blend and the "copy" final step, so no colour shift is added)."""
    img, hole = _photo()
    real = engine._guides

    def guides(completion, layouts, level):
        out = real(completion, layouts, level)  # one per seed, at the size of pyramid level `level`
        small = completion.levels[level].hole
        rows, cols = np.nonzero(small)
        top, left = rows.min(), cols.min()
        f = small.shape[1] / completion.levels[0].hole.shape[1]
        for index, guide in enumerate(out):
            guide[small] = 128
            if index == 1:  # seed 1
                guide[top : top + round(56 * f), left + round(20 * f) : left + round(40 * f)] = (200, 40, 40)
        return out

    monkeypatch.setattr(engine, "_guides", guides)
    monkeypatch.setattr(engine, "final", "copy")
    engine.configure(blend="hard")
    plain, barred = engine.inpaint(img, hole, n=2, seed=0)
    bar = np.zeros_like(hole)
    bar[26:70, 104:116] = True
    assert barred.image[bar, 0].mean() > 170 and barred.image[bar, 1].mean() < 80
    assert plain.image[bar, 0].mean() < 150
    known = {tuple(p) for p in img[~hole].reshape(-1, 3)}
    assert all(tuple(p) in known for p in barred.image[hole].reshape(-1, 3))


def test_variety_goes_to_the_network_and_a_bad_value_changes_nothing(engine):
    assert engine.variety == engine.network.variety == GuidedEngine.default_variety
    engine.configure(variety=2.0)
    assert engine.variety == engine.network.variety == 2.0
    with pytest.raises(InputError, match="variety"):
        engine.configure(variety=9.0, patch_size=9)
    assert engine.variety == 2.0 and engine.patch_size != 9


def test_the_exclusion_area_is_never_copied(engine):
    img, hole = _photo()
    post = np.zeros_like(hole)
    post[:, 45:75] = True
    for c in engine.inpaint(img, hole, n=2, seed=0, exclude=post):
        assert c.image[hole, 0].max() < 170  # no red from the post


def test_cancel_stops_the_request(engine):
    img, hole = _photo()
    with pytest.raises(Cancelled):
        engine.inpaint(img, hole, n=3, seed=0, should_cancel=lambda: True)


def test_a_photo_larger_than_the_network_guides_the_coarse_levels_only(engine):
    """A large hole: the network works at a fraction of the size, and that scale is what patchmatch
    is told, times guide_reach (levels finer than that refine the carried-up copies instead of the
    blurred guide)."""
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (600, 600, 3), dtype=np.uint8)
    hole = np.zeros((600, 600), bool)
    hole[150:450, 150:450] = True
    scale = engine.network_scale(hole)
    assert scale == pytest.approx(engine.network.info.resolution / 600, abs=0.01)  # its training size
    seen = []
    real = engine._fills

    def spy(*args):
        seen.append(args[-1])
        return real(*args)

    engine._fills = spy
    engine.inpaint(img, hole, n=1, seed=0)
    (region,) = engine._plan_regions(hole)  # the network plans within patchmatch's region
    own = engine.network_scale(hole[region.top : region.bottom, region.left : region.right])
    assert own == pytest.approx(scale, rel=0.25)
    assert seen == [pytest.approx(own * engine.guide_reach)]


def test_registry_loads_it_from_a_checkpoint_and_records_the_file(checkpoint):
    engine = load_engine("guided", checkpoint=checkpoint, device="cpu")
    assert isinstance(engine, GuidedEngine) and engine.path == checkpoint
    assert engine.pluralistic and "variety" in engine.options
    assert dataclasses.is_dataclass(engine.inpaint(*_photo(), n=1)[0])


def test_more_like_this_spread_0_gives_the_candidate_back_and_1_a_new_one(engine):
    img, hole = _photo()
    base = engine.inpaint(img, hole, n=1, seed=5)[0].image
    same = engine.inpaint(img, hole, n=1, seed=9, near=5, spread=0.0)[0]
    assert np.array_equal(same.image, base) and same.near == 5
    other = engine.inpaint(img, hole, n=1, seed=9, near=5, spread=1.0)[0].image
    assert not np.array_equal(other, base)


def test_guides_are_composited_at_a_coarse_level_not_at_the_photos_size(engine):
    """A large hole: each guide is made at the size of the pyramid level patchmatch reads it at (no
    full-size composite), with the level's own known pixels outside the level's hole."""
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (600, 600, 3), dtype=np.uint8)
    hole = np.zeros((600, 600), bool)
    hole[150:450, 150:450] = True
    seen = []
    real = engine._guides

    def spy(completion, layouts, level):
        out = real(completion, layouts, level)
        seen.append((completion, level, out))
        return out

    engine._guides = spy
    engine.inpaint(img, hole, n=2, seed=0)
    ((completion, level, guides),) = seen
    lv = completion.levels[level]
    assert level > 0 and len(guides) == 2
    known = np.clip(lv.image + 0.5, 0, 255).astype(np.uint8)[~lv.hole]
    for guide in guides:
        assert guide.shape == lv.image.shape and guide.dtype == np.uint8
        assert np.array_equal(guide[~lv.hole], known)
    assert not np.array_equal(guides[0][lv.hole], guides[1][lv.hole])  # each seed its own layout
