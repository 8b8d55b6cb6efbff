"""The patchmatch engine: several fills copied from the photo, one per seed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.exemplar import Completion, NoSourceError
from inpaint_gui.engine import Cancelled, load_engine
from inpaint_gui.engine.exemplar import PatchMatchEngine


@pytest.fixture(scope="module")
def engine() -> PatchMatchEngine:
    return load_engine("patchmatch")


@pytest.fixture
def texture() -> np.ndarray:
    """Planks: stripes with grain, so copies from different places differ."""
    rng = np.random.default_rng(0)
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    base = 120 + 60 * np.sin(xx / 5.0 + 0.3 * np.sin(yy / 9.0))[..., None] * np.array([1.0, 0.7, 0.4])
    return (base + rng.normal(0, 12, (h, w, 3))).clip(0, 255).astype(np.uint8)


def _hole(shape, box) -> np.ndarray:
    m = np.zeros(shape, bool)
    t, lft, b, r = box
    m[t:b, lft:r] = True
    return m


def test_same_seed_same_bytes_seeds_differ_known_pixels_kept(engine, texture):
    from itertools import combinations

    hole = _hole(texture.shape[:2], (40, 50, 80, 100))
    a = engine.inpaint(texture, hole, n=5, seed=5)
    b = engine.inpaint(texture, hole, n=5, seed=5)
    assert [c.seed for c in a] == [5, 6, 7, 8, 9]
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.image, y.image)
        assert np.array_equal(x.image[~hole], texture[~hole])
    diffs = [np.abs(x.image[hole].astype(int) - y.image[hole]).mean() for x, y in combinations(a, 2)]
    # grey levels: no two seeds give the same fill, and they are visibly different arrangements. On these
    # periodic planks the consistent fill is nearly unique and the sharp votes converge to it, so some
    # pairs land close (the closest of these 10 pairs: 2.0; mean 6.8 since the coarse levels measure
    # texture at the finest scale, 9.3 before); variety on photos is measured by `inpaint eval`.
    assert min(diffs) > 0.5 and np.mean(diffs) > 4
    alone = engine.inpaint(texture, hole, n=1, seed=6)[0]
    assert np.array_equal(alone.image, a[1].image)


def test_fill_is_copied_from_the_photo_not_averaged(texture):
    """With the "copy" final step every hole pixel is a pixel of the photo outside the hole (hard
    blend); the membrane blend only adds a smooth colour offset to those copies. The default "meld"
    step rebuilds the copy from its gradients and keeps its grain."""
    import cv2

    hole = _hole(texture.shape[:2], (40, 50, 80, 100))
    melded = PatchMatchEngine().inpaint(texture, hole, n=1, seed=0)[0].image
    assert np.array_equal(melded[~hole], texture[~hole])
    assert melded[hole].astype(float).std() > 0.7 * texture[~hole].astype(float).std()

    hard_engine = PatchMatchEngine(final="copy")
    hard_engine.blend = "hard"
    hard = hard_engine.inpaint(texture, hole, n=1, seed=0)[0].image
    known = {tuple(p) for p in texture[~hole].reshape(-1, 3)}
    assert all(tuple(p) in known for p in hard[hole].reshape(-1, 3))
    # and it keeps the grain: no smoothing (navier-stokes would lose most of it)
    assert hard[hole].astype(float).std() > 0.7 * texture[~hole].astype(float).std()

    assert PatchMatchEngine.blend == "membrane"
    soft = PatchMatchEngine(final="copy").inpaint(texture, hole, n=1, seed=0)[0].image
    assert np.array_equal(soft[~hole], texture[~hole])
    offset = soft.astype(np.float32) - hard.astype(np.float32)
    inner = _hole(texture.shape[:2], (44, 54, 76, 96))
    grain = offset - cv2.GaussianBlur(offset, (0, 0), 2.0)
    assert np.abs(grain[inner]).mean() < 1.0  # grey levels: the copies' own detail is kept


def test_a_melded_fill_is_pasted_as_the_membrane_would_paste_it(texture, monkeypatch):
    """A melded fill meets the photo at the hole's edge, so its paste skips the membrane blend: the
    same bytes as with the membrane it would measure a zero offset for."""
    hole = _hole(texture.shape[:2], (40, 50, 80, 100))
    hole[10:20, 120:150] = True  # a second region
    engine = PatchMatchEngine()
    assert engine._paste_blend() == "hard"
    fast = [c.image for c in engine.inpaint(texture, hole, n=2, seed=3)]
    monkeypatch.setattr(engine, "_paste_blend", lambda: "membrane")
    slow = [c.image for c in engine.inpaint(texture, hole, n=2, seed=3)]
    assert all(np.array_equal(a, b) for a, b in zip(fast, slow, strict=True))
    assert PatchMatchEngine(final="copy")._paste_blend() == "membrane"


@pytest.mark.parametrize(
    "box",
    [(0, 0, 30, 40), (90, 120, 120, 160), (0, 60, 20, 160), (50, 0, 70, 160)],
    ids=["top-left", "bottom-right", "top-edge-to-corner", "left-to-right"],
)
def test_holes_touching_borders_and_corners(engine, texture, box):
    hole = _hole(texture.shape[:2], box)
    for c in engine.inpaint(texture, hole, n=2, seed=1):
        assert np.array_equal(c.image[~hole], texture[~hole])
        assert c.image[hole].astype(float).std() > 5


def test_many_small_holes_thin_strokes_and_single_pixels(engine, texture):
    hole = np.zeros(texture.shape[:2], bool)
    hole[5::17, 7::23] = True  # 1-pixel holes
    idx = np.arange(100)
    hole[10 + idx // 2, 20 + idx] = True  # a thin stroke
    out = engine.inpaint(texture, hole, n=2, seed=3)
    for c in out:
        assert np.array_equal(c.image[~hole], texture[~hole])
    assert not np.array_equal(out[0].image, out[1].image)


def test_hole_over_half_the_image(engine, texture):
    hole = _hole(texture.shape[:2], (10, 10, 110, 110))
    assert hole.mean() > 0.5
    c = engine.inpaint(texture, hole, n=1, seed=0)[0]
    assert np.array_equal(c.image[~hole], texture[~hole])


def test_no_source_is_a_clear_error_or_a_smaller_patch_fast(engine):
    img = np.random.default_rng(0).integers(0, 256, (6, 6, 3), dtype=np.uint8)
    start = time.perf_counter()
    with pytest.raises(NoSourceError, match="nothing left to copy from"):
        engine.inpaint(img, np.ones((6, 6), bool), n=2)
    almost = np.ones((6, 6), bool)
    almost[0, 0] = False  # one known pixel: 1-pixel patches still work
    cands = engine.inpaint(img, almost, n=2, seed=0)
    assert (cands[0].image[almost] == img[0, 0]).all()
    assert time.perf_counter() - start < 5
    assert issubclass(NoSourceError, InputError)


def test_exclusion_area_is_never_copied_from(engine, texture):
    img = texture.copy()
    img[30:90, 110:150] = (0, 255, 0)  # a green block right next to the hole...
    hole = _hole(img.shape[:2], (40, 60, 80, 100))
    exclude = np.zeros(img.shape[:2], bool)
    exclude[25:95, 105:155] = True  # ...that the user marked "do not copy from"
    for c in engine.inpaint(img, hole, n=3, seed=0, exclude=exclude):
        assert not (c.image[hole] == (0, 255, 0)).all(axis=1).any()
    everywhere = np.ones(img.shape[:2], bool)
    with pytest.raises(NoSourceError, match="exclusion"):
        engine.inpaint(img, hole, n=1, exclude=everywhere)
    with pytest.raises(InputError, match="exclusion area size"):
        engine.inpaint(img, hole, n=1, exclude=np.zeros((3, 3), bool))


def test_exclusion_leaves_only_far_sources():
    img = np.zeros((60, 60, 3), np.uint8)
    img[:, :20] = 200
    hole = _hole((60, 60), (20, 25, 40, 35))
    exclude = np.zeros((60, 60), bool)
    exclude[:, 20:] = True  # only the bright left third may be copied
    out = Completion(img, hole, exclude, patch=5).fill(0)
    assert (out[hole] == 200).all()


def test_variations_and_cancel(engine, texture):
    hole = _hole(texture.shape[:2], (40, 50, 80, 100))
    parent = engine.inpaint(texture, hole, n=1, seed=7)[0]
    same = engine.inpaint(texture, hole, n=1, seed=50, near=7, spread=0.0)[0]
    assert np.array_equal(same.image, parent.image)
    seen = []
    with pytest.raises(Cancelled):
        engine.inpaint(
            texture, hole, n=4, seed=0, should_cancel=lambda: len(seen) >= 1,
            on_candidate=lambda c, i, t: seen.append(i),
        )  # fmt: skip
    assert seen == [0]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="odd"):
        PatchMatchEngine(patch_size=6)


def test_configure_takes_its_own_options_only():
    eng = PatchMatchEngine()
    eng.configure({"patch_size": 9, "variety": 1.0})  # another engine's setting: skipped
    assert eng.patch_size == 9
    with pytest.raises(ValueError, match="unknown engine setting"):  # no engine's: refused
        eng.configure({"some_option_no_engine_has": 1})
    with pytest.raises(ValueError, match="odd"):
        eng.configure({"patch_size": 8})
    tel = load_engine("telea")
    tel.configure({"patch_size": 9})  # not telea's: left alone
    assert not hasattr(tel, "patch_size")


def test_a_frozen_photo_is_filled_as_fast(engine, texture):
    """The app hands over read-only arrays; they must not trigger a second compilation."""
    hole = _hole(texture.shape[:2], (40, 50, 80, 100))
    engine.inpaint(texture, hole, n=1, seed=0)
    frozen, frozen_hole = texture.copy(), hole.copy()
    frozen.flags.writeable = False
    frozen_hole.flags.writeable = False
    start = time.perf_counter()
    a = engine.inpaint(frozen, frozen_hole, n=1, seed=0)[0]
    assert time.perf_counter() - start < 3
    assert np.array_equal(a.image, engine.inpaint(texture, hole, n=1, seed=0)[0].image)


def test_exclusion_set_by_configure_is_used_until_reset(texture):
    eng = PatchMatchEngine()
    img = texture.copy()
    img[30:90, 110:150] = (0, 255, 0)
    hole = _hole(img.shape[:2], (40, 60, 80, 100))
    exclude = np.zeros(img.shape[:2], bool)
    exclude[25:95, 105:155] = True
    eng.configure({"exclude": exclude})
    for c in eng.inpaint(img, hole, n=2, seed=0):
        assert not (c.image[hole] == (0, 255, 0)).all(axis=1).any()
    eng.configure({"exclude": None})
    assert eng.exclude is None
    with pytest.raises(InputError, match="bool numpy array"):
        eng.configure({"exclude": [[True]]})


def test_fills_in_threads_are_the_fills_of_one_thread(texture):
    """Candidates run in worker threads; the bytes must not depend on how many or on the order they finish."""
    hole = _hole(texture.shape[:2], (10, 10, 30, 40)) | _hole(texture.shape[:2], (85, 110, 110, 150))
    one, many = PatchMatchEngine(), PatchMatchEngine()
    one.workers, many.workers = 1, 3
    a = one.inpaint(texture, hole, n=5, seed=2)
    b = many.inpaint(texture, hole, n=5, seed=2)
    assert [c.seed for c in b] == [2, 3, 4, 5, 6]
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.image, y.image)


def test_cancel_stops_the_worker_threads(texture):
    import threading

    engine = PatchMatchEngine()
    engine.workers = 2
    hole = _hole(texture.shape[:2], (30, 40, 90, 120))
    polls = []

    def should_cancel() -> bool:  # called from the workers, between pyramid levels
        polls.append(threading.current_thread().name)
        return len(polls) > 3

    with pytest.raises(Cancelled):
        engine.inpaint(texture, hole, n=6, seed=0, should_cancel=should_cancel)
    assert any(name.startswith("patchmatch") for name in polls)
    assert not [t for t in threading.enumerate() if t.name.startswith("patchmatch")]


def test_flat_sky_gets_no_blotches():
    """The seed noise used to make fills of a smooth sky copy lighter or darker sky: blotches (blurred
    error up to 12 grey levels on this gradient; 2-6 since the noise follows the context's texture)."""
    import cv2

    rng = np.random.default_rng(3)
    h, w = 200, 260
    sky = np.linspace(170, 200, h)[:, None, None] * np.ones((1, w, 3))
    img = (sky + rng.normal(0, 1.0, (h, w, 3))).clip(0, 255).astype(np.uint8)
    hole = _hole((h, w), (60, 80, 150, 190))
    worst = []
    for c in PatchMatchEngine().inpaint(img, hole, n=4, seed=0):
        err = cv2.GaussianBlur(c.image.astype(np.float32) - sky.astype(np.float32), (0, 0), 3.0)
        worst.append(np.abs(err[hole]).max())  # grey levels, the grain smoothed away
    assert max(worst) < 8.0 and np.mean(worst) < 5.5


def test_request_extras_are_the_engines_own(texture):
    """Only an engine's request_options pass as extra keywords; a misspelt one is refused, not ignored."""
    hole = _hole(texture.shape[:2], (40, 50, 60, 70))
    with pytest.raises(TypeError, match="exlude"):
        PatchMatchEngine().inpaint(texture, hole, n=1, exlude=np.zeros(texture.shape[:2], bool))
    with pytest.raises(TypeError, match="on_step"):
        load_engine("telea").inpaint(texture, hole, on_step=print)
    with pytest.raises(InputError, match="exclusion area size"):
        PatchMatchEngine().inpaint(texture, hole, n=1, exclude=np.zeros((5, 5), bool))


def test_coarse_levels_match_the_larger_patch_the_fine_ones_the_users():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (400, 400, 3), dtype=np.uint8)
    hole = _hole(image.shape[:2], (100, 100, 300, 300))
    plain = Completion(image, hole, patch=7)
    mixed = Completion(image, hole, patch=7, coarse_patch=15)
    assert {lv.r for lv in plain.levels} == {3}
    radii = [lv.r for lv in mixed.levels]
    assert radii[:2] == [3, 3] and len(radii) > 2
    # the larger patch, but never more than a tenth of a small level's side (a flat sky's fill copied
    # lighter or darker sky from the far edges when a 15 px patch left only those as sources)
    capped = [max(3, min(7, min(lv.hole.shape) // 10)) for lv in mixed.levels[2:]]
    assert [lv.r for lv in mixed.levels[2:]] == capped
    assert radii[2] == 7
    # the hole stays several of the larger patches thick at the coarsest level: no more levels
    assert len(mixed.levels) <= len(plain.levels)
    a, b = mixed.fill(3), mixed.fill(3)
    assert np.array_equal(a, b) and np.array_equal(a[~hole], image[~hole])


def test_an_even_coarse_patch_is_refused():
    image = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(InputError, match="coarse patch"):
        Completion(image, _hole((64, 64), (20, 20, 40, 40)), coarse_patch=14)


def test_a_few_bright_specks_are_not_copied_all_over_the_fill(monkeypatch):
    """A smooth surface with a few bright specks beside a textured one (a saucer with droplets by a
    wooden table): the texture term draws the fill to the specks, and without the occurrence cost
    each one was copied over and over, a regular lattice of dots."""
    import inpaint_gui.core.exemplar as ex

    rng = np.random.default_rng(0)
    h, w = 160, 240
    yy, xx = np.mgrid[0:h, 0:w]
    smooth = 140 + 0.1 * xx[..., None] + rng.normal(0, 1.0, (h, w, 1))
    wood = 110 + 25 * np.sin(yy / 2.5)[..., None] + rng.normal(0, 6, (h, w, 1))
    img = np.where((xx < 90)[..., None], wood, smooth).repeat(3, 2)
    for y, x in [(20, 200), (24, 210), (30, 205), (140, 220), (135, 200)]:
        img[y : y + 2, x : x + 2] = 250
    img = img.clip(0, 255).astype(np.uint8)
    hole = _hole((h, w), (40, 70, 120, 160))

    def speck_pixels() -> int:
        fills = PatchMatchEngine().inpaint(img, hole, n=4, seed=0)
        return sum(int((c.image[hole].min(1) > 200).sum()) for c in fills)

    kept = speck_pixels()
    monkeypatch.setattr(ex, "OCCURRENCE", 0.0)
    assert kept < 0.75 * speck_pixels()  # 100 speck pixels in the four fills against 156
