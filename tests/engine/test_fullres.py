"""Learned fills on photos larger than the working size: detail, blending, regions, settings."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_gui.core import quality as q
from inpaint_gui.core.compose import InputError, mask_bbox
from inpaint_gui.engine import load_engine
from inpaint_gui.engine.pluralistic import DETAIL_MODES


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """A tiny prefill network whose output layers are only slightly open: it gives the smooth
    push-pull fill plus a small seed-dependent variation, as a trained one gives smooth fills."""
    import dataclasses

    import torch

    from inpaint_gui.engine.checkpoint import ReleaseInfo, save_release
    from inpaint_gui.engine.pluralistic import TINY_CONFIG, inference_state_dict, open_outputs
    from inpaint_gui.models import PluralisticConfig, PluralisticGenerator

    torch.manual_seed(0)
    config = dataclasses.replace(TINY_CONFIG, prefill=True)
    gen = open_outputs(PluralisticGenerator(PluralisticConfig.from_dict(config.to_dict())), std=0.004)
    info = ReleaseInfo("pluralistic", gen.config.to_dict(), 64, "none (random initialisation)", 0)
    path = tmp_path_factory.mktemp("f") / "tiny.safetensors"
    save_release(path, inference_state_dict(gen), info)
    eng = load_engine("pluralistic", checkpoint=path, device="cpu")
    eng.max_side = 64  # photos here are several times larger: fills are scaled
    return eng


@pytest.fixture
def settings(engine):
    """Leave the engine's settings as the test found them."""
    saved = engine.context, engine.blend, engine.detail
    yield engine
    engine.context, engine.blend, engine.detail = saved


def _grainy(h: int = 301, w: int = 419, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([40 + xx * 0.3, 70 + yy * 0.3, 100 + 0 * xx], axis=-1)
    return (base + rng.normal(0, 14, (h, w, 3))).clip(0, 255).astype(np.uint8)


def _blob(h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, h // 2), (70, 50), 20, 0, 360, 1, -1)
    return mask.astype(bool)


def _high_pass(image: np.ndarray) -> np.ndarray:
    f = image.astype(np.float32)
    return f - cv2.GaussianBlur(f, (0, 0), 2.0)


def test_detail_restores_grain_and_candidates_keep_their_identity(settings):
    img = _grainy()
    mask = _blob(*img.shape[:2])
    inner = q.interior(mask)
    truth = q.gradient_energy(img, inner)
    settings.configure(detail="off")
    plain = settings.inpaint(img, mask, n=3, seed=5)
    settings.configure(detail="similarity")
    rich = settings.inpaint(img, mask, n=3, seed=5)
    for p, r in zip(plain, rich, strict=True):
        assert q.gradient_energy(p.image, inner) < 0.3 * truth  # upsampled: smooth
        assert 0.5 * truth < q.gradient_energy(r.image, inner) < 2.0 * truth

    # Detail is drawn for each candidate from its own fill: differences between candidates survive,
    # in their grain too.
    def spread(cands, f=lambda im: im.astype(np.float32)):
        return min(np.abs(f(cands[0].image)[inner] - f(cands[i].image)[inner]).mean() for i in (1, 2))

    assert spread(rich) >= 0.9 * spread(plain) > 0
    assert spread(rich, _high_pass) > spread(plain, _high_pass)


@pytest.mark.parametrize("mode", DETAIL_MODES)
def test_same_seed_same_bytes_and_known_pixels_kept(settings, mode):
    img = _grainy(seed=1)
    mask = _blob(*img.shape[:2])
    settings.configure(detail=mode)
    a = settings.inpaint(img, mask, n=2, seed=9)
    b = settings.inpaint(img, mask, n=2, seed=9)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.image, y.image)
        assert np.array_equal(x.image[~mask], img[~mask])


def test_feather_changes_only_a_thin_band_outside_the_mask(settings):
    img = _grainy(seed=2)
    mask = _blob(*img.shape[:2])
    settings.configure(blend="feather")
    band = settings.blend_band
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((2 * band + 3, 2 * band + 3), np.uint8)).astype(bool)
    for c in settings.inpaint(img, mask, n=2, seed=0):
        assert np.array_equal(c.image[~grown], img[~grown])
        # The band is blended beyond the mask's box too, and the candidate keeps that part.
        top, left, bottom, right = mask_bbox(mask)
        beyond = grown.copy()
        beyond[top:bottom, left:right] = False
        assert (c.image[beyond] != img[beyond]).any()


def test_odd_sizes_corners_thin_strokes_and_many_holes(settings):
    img = _grainy(333, 517, seed=3)
    mask = np.zeros(img.shape[:2], bool)
    mask[0:23, 0:31] = True  # a corner
    mask[320:333, 500:517] = True  # the opposite corner
    cv2.line(mask.view(np.uint8), (40, 300), (480, 60), 1, 1)  # one pixel wide, across the photo
    for y in range(150, 250, 20):  # a row of specks
        mask[y : y + 3, 250:253] = True
    cands = settings.inpaint(img, mask, n=2, seed=4)
    for c in cands:
        assert c.image.shape == img.shape
        assert np.array_equal(c.image[~mask], img[~mask])
    assert not np.array_equal(cands[0].image[mask], cands[1].image[mask])


def test_a_hole_over_half_the_photo(settings):
    img = _grainy(seed=4)
    mask = np.zeros(img.shape[:2], bool)
    mask[20:280, 30:390] = True
    c = settings.inpaint(img, mask, n=1, seed=0)[0]
    assert np.array_equal(c.image[~mask], img[~mask]) and c.image[mask].std() > 1


def test_bad_settings_are_refused_and_change_nothing(settings):
    before = settings.context, settings.blend, settings.detail
    for kwargs in (
        {"context": -1.0},
        {"context": 5},
        {"context": "wide"},
        {"blend": "poisson"},
        {"detail": "magic"},
    ):
        with pytest.raises(InputError):
            settings.configure(**kwargs)
    assert (settings.context, settings.blend, settings.detail) == before
    settings.configure(context=1.5, blend="hard", detail="attention")
    assert (settings.context, settings.blend, settings.detail) == (1.5, "hard", "attention")


def test_classical_engines_take_a_blend_mode_but_no_detail():
    eng = load_engine("telea")
    eng.configure(blend="membrane")
    with pytest.raises(InputError, match="detail"):
        eng.configure(detail="similarity")
