"""The defect detector on synthetic scratches and dust drawn over smooth, made-up photos."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.defect_synth import add_defects, add_rims, score_mask
from inpaint_gui.core.defects import detect_defects


def smooth_photo(h: int = 384, w: int = 512, seed: int = 0) -> np.ndarray:
    """Gradients, a few large soft shapes with hard edges, and sensor noise: no thin detail."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([60 + 120 * x / w, 80 + 90 * y / h, 140 - 60 * x / w], axis=2)
    img[h // 4 : h // 2, w // 3 : 2 * w // 3] += 50  # a big bright block: hard edges, not a defect
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_finds_most_defects_on_a_smooth_photo() -> None:
    scores = []
    for seed in range(3):
        damaged = add_defects(smooth_photo(seed=seed), seed=seed)
        scores.append(score_mask(detect_defects(damaged.image), damaged))
    assert np.mean([s.defect_recall for s in scores]) >= 0.85
    assert np.mean([s.pixel_recall for s in scores]) >= 0.8
    assert np.mean([s.pixel_precision for s in scores]) >= 0.8


def test_clean_photo_and_hard_edges_give_no_mask() -> None:
    mask = detect_defects(smooth_photo(seed=5))
    assert mask.sum() < 0.001 * mask.size


def test_higher_sensitivity_proposes_more() -> None:
    damaged = add_defects(smooth_photo(seed=1), seed=1, specks=30)
    low, high = detect_defects(damaged.image, 0.1).sum(), detect_defects(damaged.image, 0.9).sum()
    assert high >= low > 0


def test_a_long_thin_scratch_is_kept_whole() -> None:
    img = smooth_photo(seed=2)
    img[50:330, 200:202] = 250  # a vertical hairline scratch, 280 px long
    mask = detect_defects(img)
    assert mask[50:330, 200:202].mean() > 0.95


def test_synthetic_defects_are_deterministic_and_scored_exactly() -> None:
    a, b = add_defects(smooth_photo(), seed=7), add_defects(smooth_photo(), seed=7)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.image, add_defects(smooth_photo(), seed=8).image)
    perfect = score_mask(a.truth, a)
    assert perfect.pixel_precision == perfect.pixel_recall == perfect.defect_recall == 1.0
    empty = score_mask(np.zeros_like(a.truth), a)
    assert empty.pixel_recall == 0.0 and empty.defect_recall == 0.0


@pytest.mark.parametrize(
    "image",
    [np.zeros((64, 64), np.uint8), np.zeros((64, 64, 3), np.float32), np.zeros((8, 64, 3), np.uint8)],
)
def test_bad_images_are_refused(image: np.ndarray) -> None:
    with pytest.raises(InputError):
        detect_defects(image)


def test_bad_sensitivity_is_refused() -> None:
    with pytest.raises(InputError, match="sensitivity"):
        detect_defects(smooth_photo(), sensitivity=1.5)


def test_scratches_on_a_crop_have_the_photos_lengths() -> None:
    """A crop drawn as part of a big photo (span given) gets scratches as long as that photo's, so many
    cross it from side to side; drawn as a photo of its own, none is longer than 60% of its side."""
    crop = smooth_photo(128, 128)

    def extent(damaged) -> int:
        ys, xs = np.nonzero(damaged.truth)
        return 0 if ys.size == 0 else int(max(np.ptp(ys), np.ptp(xs)))

    own = [extent(add_defects(crop, seed=s, scratches=1, specks=0, spots=0)) for s in range(30)]
    big = [
        extent(add_defects(crop, seed=s, scratches=1, specks=0, spots=0, scale=1600 / 512, span=1600))
        for s in range(30)
    ]
    assert max(own) <= 0.6 * 128 + 4
    assert sum(e >= 120 for e in big) >= 10


def test_rims_are_drawn_deterministically_and_are_not_damage() -> None:
    photo = smooth_photo(128, 160)
    a = add_rims(photo, np.random.default_rng(3), scale=1.0, count=2)
    b = add_rims(photo, np.random.default_rng(3), scale=1.0, count=2)
    assert a.shape == photo.shape and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, photo)
    assert not add_defects(a, seed=1, scratches=0, specks=0, spots=0).truth.any()


def test_a_bright_line_between_two_surfaces_is_a_rim_not_a_scratch(monkeypatch) -> None:
    """The same thin bright line, once across one surface (a scratch: proposed) and once along the
    edge between a dark and a light one (the rim of a cup: left alone, unless the test is off)."""
    import inpaint_gui.core.defects as defects

    img = smooth_photo(seed=3)
    img[40:340, 120:124] = 245  # a scratch down the smooth left of the photo
    img[:, 380:] = 30  # a dark object on the right...
    img[40:340, 376:380] = 245  # ...and a bright rim along its edge
    mask = detect_defects(img)
    assert mask[40:340, 120:124].mean() > 0.9
    assert mask[40:340, 376:380].mean() < 0.1
    monkeypatch.setattr(defects, "RIM_SHARE", 1.0)
    assert detect_defects(img)[40:340, 376:380].mean() > 0.9


def test_small_holes_inside_a_proposal_are_filled_large_ones_and_open_ones_are_not() -> None:
    """A ring around a speck's core would leave the core as photo, and every engine grows it back."""
    from inpaint_gui.core.defects import fill_small_holes

    mask = np.zeros((200, 300), bool)
    mask[40:60, 40:60] = True
    mask[49:51, 49:51] = False  # the speck's core, left out of its ring
    mask[100:190, 100:190] = True
    mask[105:185, 105:185] = False  # a proposed outline around a large area
    mask[0:20, 250:300] = True
    mask[0:10, 260:270] = False  # a notch open to the image border: not enclosed
    filled = fill_small_holes(mask, 400)
    assert filled[40:60, 40:60].all()
    assert not filled[105:185, 105:185].any()
    assert not filled[0:10, 260:270].any()
    assert (filled & ~mask).sum() == 4
