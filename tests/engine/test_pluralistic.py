from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from inpaint_gui.core.compose import InputError
from inpaint_gui.engine import Cancelled, load_engine


@pytest.fixture(scope="module", params=["zero-hole", "prefill"])
def engine(request, tmp_path_factory):
    """Every guarantee holds for both kinds of network: hole given as zeros, or as a push-pull fill."""
    from inpaint_gui.engine.pluralistic import TINY_CONFIG, save_random_release

    config = dataclasses.replace(TINY_CONFIG, prefill=request.param == "prefill")
    path = save_random_release(tmp_path_factory.mktemp("e") / "tiny.safetensors", config)
    return load_engine("pluralistic", checkpoint=path, device="cpu")


def test_known_pixels_are_bit_identical(engine, photo, hole):
    for cand in engine.inpaint(photo, hole, n=3, seed=0):
        assert cand.image.shape == photo.shape and cand.image.dtype == np.uint8
        assert np.array_equal(cand.image[~hole], photo[~hole])


def test_same_seed_same_output_and_candidates_differ(engine, photo, hole):
    a = engine.inpaint(photo, hole, n=4, seed=11)
    b = engine.inpaint(photo, hole, n=4, seed=11)
    assert [c.seed for c in a] == [11, 12, 13, 14]
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.image, y.image)
    diffs = [np.abs(a[0].image[hole].astype(int) - c.image[hole]).mean() for c in a[1:]]
    assert min(diffs) > 0.1  # grey levels, mean over the hole; a random tiny net still varies


def test_seed_of_a_candidate_reproduces_it_alone(engine, photo, hole):
    cands = engine.inpaint(photo, hole, n=5, seed=100)
    again = engine.inpaint(photo, hole, n=1, seed=cands[3].seed)
    assert len(again) == 1
    assert np.array_equal(again[0].image, cands[3].image)


def test_batch_size_does_not_change_results(engine, photo, hole):
    engine.batch_size = 1
    try:
        one_by_one = engine.inpaint(photo, hole, n=3, seed=5)
    finally:
        engine.batch_size = 2
    batched = engine.inpaint(photo, hole, n=3, seed=5)
    for x, y in zip(one_by_one, batched, strict=True):
        assert np.array_equal(x.image, y.image)


def test_variations_stay_near_their_parent(engine, photo, hole):
    parent = engine.inpaint(photo, hole, n=1, seed=7)[0]
    same = engine.inpaint(photo, hole, n=1, seed=50, near=7, spread=0.0)[0]
    assert np.array_equal(same.image, parent.image)
    assert (same.near, same.spread) == (7, 0.0)
    near = engine.inpaint(photo, hole, n=1, seed=50, near=7, spread=0.2)[0]
    far = engine.inpaint(photo, hole, n=1, seed=50)[0]
    d_near = np.abs(near.image[hole].astype(int) - parent.image[hole]).mean()
    d_far = np.abs(far.image[hole].astype(int) - parent.image[hole]).mean()
    assert 0 < d_near < d_far
    again = engine.inpaint(photo, hole, n=1, seed=near.seed, near=near.near, spread=near.spread)[0]
    assert np.array_equal(again.image, near.image)


@pytest.mark.parametrize("shape", [(257, 131), (1, 1), (3, 500), (16, 16)])
def test_odd_sizes(engine, shape):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    mask = np.zeros(shape, bool)
    mask[shape[0] // 3 : shape[0] // 3 + 1 + shape[0] // 3, : max(1, shape[1] // 2)] = True
    for cand in engine.inpaint(img, mask, n=2, seed=0):
        assert cand.image.shape == img.shape
        assert np.array_equal(cand.image[~mask], img[~mask])


def test_empty_mask_returns_the_input(engine, photo):
    cands = engine.inpaint(photo, np.zeros(photo.shape[:2], bool), n=3, seed=0)
    assert len(cands) == 3
    assert all(np.array_equal(c.image, photo) for c in cands)


def test_full_mask_is_filled(engine, photo):
    cands = engine.inpaint(photo, np.ones(photo.shape[:2], bool), n=2, seed=0)
    assert cands[0].image.shape == photo.shape
    assert not np.array_equal(cands[0].image, cands[1].image)


def test_large_image_works_on_a_scaled_crop(engine):
    img = np.full((1500, 2100, 3), 90, np.uint8)
    mask = np.zeros(img.shape[:2], bool)
    mask[700:900, 1000:1300] = True
    cand = engine.inpaint(img, mask, n=1, seed=0)[0]
    assert np.array_equal(cand.image[~mask], img[~mask])
    assert not np.array_equal(cand.image[mask], img[mask])


def test_rgb_order_is_kept(engine):
    """A red image stays red: no BGR swap at any boundary."""
    img = np.zeros((64, 64, 3), np.uint8)
    img[..., 0] = 255
    mask = np.zeros((64, 64), bool)
    mask[20:30, 20:30] = True
    cand = engine.inpaint(img, mask, n=1, seed=0)[0]
    assert (cand.image[~mask] == [255, 0, 0]).all()


def test_progress_callback_and_cancel(engine, photo, hole):
    seen = []
    engine.batch_size = 1
    try:
        engine.inpaint(photo, hole, n=3, seed=0, on_candidate=lambda c, i, t: seen.append((c.seed, i, t)))
        assert seen == [(0, 0, 3), (1, 1, 3), (2, 2, 3)]
        streamed = []
        with pytest.raises(Cancelled):
            engine.inpaint(
                photo,
                hole,
                n=5,
                seed=0,
                should_cancel=lambda: len(streamed) >= 2,
                on_candidate=lambda c, i, t: streamed.append(i),
            )
        assert streamed == [0, 1]
    finally:
        engine.batch_size = 2


@pytest.mark.parametrize(
    ("image", "mask", "message"),
    [
        (np.zeros((8, 8, 3), np.float32), np.zeros((8, 8), bool), "uint8"),
        (np.zeros((8, 8), np.uint8), np.zeros((8, 8), bool), "(H, W, 3)"),
        (np.zeros((8, 8, 4), np.uint8), np.zeros((8, 8), bool), "(H, W, 3)"),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8), "bool"),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9), bool), "9x8 differs from image size 8x8"),
    ],
)
def test_bad_inputs_are_clear_errors(engine, image, mask, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        engine.inpaint(image, mask)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n must"),
        ({"seed": -1}, "seed must"),
        ({"seed": 1.5}, "seed must"),
        ({"near": 3, "spread": 2.0}, "spread"),
    ],
)
def test_bad_arguments(engine, photo, hole, kwargs, message):
    with pytest.raises(InputError, match=message):
        engine.inpaint(photo, hole, **kwargs)


def test_bf16_fills_match_float32_closely(photo, hole, tmp_path):
    """amp="auto" means bf16 on CPUs with AMX (and CUDA): faster, and only rounding away from float32."""
    from inpaint_gui.engine.pluralistic import PluralisticEngine, save_random_release

    path = save_random_release(tmp_path / "tiny.safetensors")
    exact = PluralisticEngine.from_checkpoint(path, device="cpu", amp="off")
    fast = PluralisticEngine.from_checkpoint(path, device="cpu", amp="bf16")
    assert (exact.bf16, fast.bf16) == (False, True)
    # The network's fills, without the detail transfer: a rounding flip there swaps a whole cell's
    # source patch, which says nothing about bf16's accuracy.
    exact.configure(detail="off")
    fast.configure(detail="off")
    for a, b in zip(
        exact.inpaint(photo, hole, n=2, seed=3), fast.inpaint(photo, hole, n=2, seed=3), strict=True
    ):
        assert np.array_equal(b.image[~hole], photo[~hole])
        diff = np.abs(a.image[hole].astype(int) - b.image[hole])
        assert 0 < diff.mean() < 2.0  # grey levels
    first, second = (fast.inpaint(photo, hole, n=2, seed=3) for _ in range(2))
    assert all(np.array_equal(x.image, y.image) for x, y in zip(first, second, strict=True))
    with pytest.raises(ValueError, match="auto, bf16, off"):
        PluralisticEngine.from_checkpoint(path, device="cpu", amp="fp8")


def test_variety_scales_the_draws_and_keeps_their_seeds(engine, photo, hole, monkeypatch):
    """variety multiplies each candidate's noise eps (z = mu + std * variety * eps): 1 is the plain
    draw; a seed still means the same fill at a given variety; known pixels stay untouched."""
    drawn: list = []
    sample = engine.generator.sample

    def recording(enc, noise, m):
        drawn.append(noise.clone())
        return sample(enc, noise, m)

    monkeypatch.setattr(engine.generator, "sample", recording)
    plain = engine.inpaint(photo, hole, n=2, seed=5)
    try:
        engine.configure(variety=1.0)
        again = engine.inpaint(photo, hole, n=2, seed=5)
        assert all(np.array_equal(a.image, b.image) for a, b in zip(plain, again, strict=True))
        engine.configure(variety=2.5)
        wide = engine.inpaint(photo, hole, n=2, seed=5)
        assert np.allclose(drawn[2], 2.5 * drawn[0])
        assert not np.array_equal(wide[0].image, plain[0].image)
        assert np.array_equal(engine.inpaint(photo, hole, n=1, seed=6)[0].image, wide[1].image)
        assert all(np.array_equal(c.image[~hole], photo[~hole]) for c in wide)
        for bad in (0.0, 9, True, "2"):
            with pytest.raises(InputError, match="variety"):
                engine.configure(context=2.0, variety=bad)
            assert engine.variety == 2.5 and engine.context == 0.5  # nothing changed
    finally:
        engine.configure(variety=1.0)


def test_a_native_fill_has_no_2px_checkerboard(engine, photo, hole, monkeypatch):
    """The network's raw output at native size is filtered (core.detail.CHECKER) before it is
    pasted: its checkerboard component in the hole is gone, and the rest of the fill is kept."""
    from inpaint_gui.core import detail

    photo = np.ascontiguousarray(photo[:64, :64])  # small enough for the tiny network's native size
    hole = np.zeros(photo.shape[:2], bool)
    hole[18:46, 14:50] = True
    assert not engine._plan_regions(hole)[0].scaled

    def checker_energy(image):
        g = image.astype(np.float64).mean(axis=2)
        sign = np.where(np.add.outer(np.arange(g.shape[0]), np.arange(g.shape[1])) % 2 == 0, 1.0, -1.0)
        t, lft, b, r = (int(v) for v in (*np.argwhere(hole).min(0), *(np.argwhere(hole).max(0) + 1)))
        return abs((g * sign)[t:b, lft:r].mean())

    engine.configure(blend="hard")
    try:
        filtered = engine.inpaint(photo, hole, n=1, seed=3)[0].image
        monkeypatch.setattr(detail, "CHECKER", np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float32))
        raw = engine.inpaint(photo, hole, n=1, seed=3)[0].image
    finally:
        engine.configure(blend=type(engine).blend)
    assert np.array_equal(filtered[~hole], photo[~hole])
    assert checker_energy(filtered) < 0.25 * checker_energy(raw)
    assert np.abs(filtered[hole].astype(int) - raw[hole]).mean() < 12
