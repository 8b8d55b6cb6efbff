"""The seam measure: a fill that is the photo reads about 1, pasted blocks and outline steps read high."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.seams import seam_parts, seam_score


def _texture(seed: int, size: int = 384) -> np.ndarray:
    """A stationary photo-like texture: smoothed noise at two scales, three channels."""
    rng = np.random.default_rng(seed)
    coarse = cv2.GaussianBlur(rng.normal(0, 1, (size, size, 3)).astype(np.float32), (0, 0), 6) * 120
    fine = cv2.GaussianBlur(rng.normal(0, 1, (size, size, 3)).astype(np.float32), (0, 0), 1.2) * 25
    return np.clip(128 + coarse + fine, 0, 255).astype(np.uint8)


def _disc(size: int = 384, radius: int = 90) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    return (yy - size // 2) ** 2 + (xx - size // 2) ** 2 < radius**2


def test_the_photo_itself_reads_about_one() -> None:
    photo, mask = _texture(0), _disc()
    parts = seam_parts(photo, photo, mask)
    assert 0.6 < parts.lines < 1.5
    assert 0.8 < parts.outline < 1.25
    assert 0.75 < seam_score(photo, photo, mask) < 1.3


def test_pasted_blocks_with_straight_borders_read_clearly_above_one() -> None:
    photo, mask = _texture(1), _disc()
    other = _texture(2)
    filled = photo.copy()
    ys, xs = np.nonzero(mask)
    block = 40
    for i, y in enumerate(range(ys.min(), ys.max() + 1, block)):
        for j, x in enumerate(range(xs.min(), xs.max() + 1, block)):
            # each block copied from a different place of another photo: straight borders between them
            dy, dx = (37 * i + 11 * j) % 300, (53 * j + 7 * i) % 300
            src = np.roll(other, (dy, dx), (0, 1))
            filled[y : y + block, x : x + block] = src[y : y + block, x : x + block]
    filled = np.where(mask[..., None], filled, photo)
    parts = seam_parts(photo, filled, mask)
    assert parts.lines > 2.0
    assert seam_score(photo, filled, mask) > 2.0
    assert seam_score(photo, filled, mask) > 1.5 * seam_score(photo, photo, mask)


def test_a_step_along_the_outline_of_a_smooth_fill_reads_high() -> None:
    size = 384
    ramp = np.linspace(60, 190, size, dtype=np.float32)
    photo = np.repeat(np.repeat(ramp[None, :, None], size, 0), 3, 2).astype(np.uint8)
    mask = _disc(size)
    filled = photo.copy()
    filled[mask] = np.clip(photo[mask].astype(np.int16) + 25, 0, 255).astype(np.uint8)
    assert seam_parts(photo, filled, mask).outline > 5.0
    assert seam_score(photo, filled, mask) > 3.0
    assert seam_score(photo, photo, mask) < 1.3


def test_only_the_ring_of_the_first_image_is_read() -> None:
    photo, mask = _texture(3), _disc()
    filled = photo.copy()
    other = photo.copy()
    other[mask] = 0  # the object that was removed: never compared
    assert seam_score(other, filled, mask) == pytest.approx(seam_score(photo, filled, mask))


def test_far_away_pixels_do_not_change_the_score() -> None:
    photo, mask = _texture(4), _disc()
    filled = photo.copy()
    filled[mask] = np.clip(photo[mask].astype(np.int16) + 30, 0, 255).astype(np.uint8)
    pad = ((0, 900), (700, 0), (0, 0))
    big_photo, big_fill = np.pad(photo, pad, mode="reflect"), np.pad(filled, pad, mode="reflect")
    big_mask = np.pad(mask, pad[:2])
    assert seam_score(big_photo, big_fill, big_mask) == pytest.approx(
        seam_score(photo, filled, mask), rel=1e-5
    )


def test_no_hole_or_no_ring_reads_one_and_bad_input_is_refused() -> None:
    photo = _texture(5, 64)
    assert seam_score(photo, photo, np.zeros((64, 64), bool)) == 1.0
    assert seam_score(photo, photo, np.ones((64, 64), bool)) == 1.0
    with pytest.raises(InputError):
        seam_score(photo, photo, np.zeros((64, 64), np.uint8))  # type: ignore[arg-type]
    with pytest.raises(InputError):
        seam_score(photo[:32], photo, np.zeros((64, 64), bool))
    with pytest.raises(InputError):
        seam_score(photo.astype(np.float32), photo, np.zeros((64, 64), bool))  # type: ignore[arg-type]
