"""Contact sheet: layout, numbering order, crops, captions drawn, bad input."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.contact_sheet import candidate_label, contact_sheet, fit_image, focus_box


@dataclass
class Cand:
    image: np.ndarray
    seed: int
    score: float


COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]


def _cands(n: int, shape=(60, 90)) -> list[Cand]:
    return [Cand(np.full(shape + (3,), COLOURS[i], np.uint8), 1000 + i, -1.5 * i) for i in range(n)]


def _has_colour(region: np.ndarray, colour) -> bool:
    return bool(np.all(region == np.array(colour, np.uint8), axis=-1).any())


def test_grid_layout_places_candidates_in_reading_order() -> None:
    sheet = contact_sheet(_cands(5), cell=120, columns=3)
    assert sheet.dtype == np.uint8 and sheet.ndim == 3 and sheet.shape[2] == 3
    h, w = sheet.shape[:2]
    assert w > 3 * 120 and h > 2 * 80  # 3 columns, 2 rows of 120x80 pictures
    top_row = sheet[: h // 2]
    for col in range(3):
        assert _has_colour(top_row[:, col * w // 3 : (col + 1) * w // 3], COLOURS[col])
    assert _has_colour(sheet[h // 2 :, : w // 3], COLOURS[3])
    assert not _has_colour(sheet[: h // 2], COLOURS[3])


def test_captions_and_badges_are_drawn() -> None:
    cands = _cands(2)
    sheet = contact_sheet(cands, cell=200, columns=2)
    plain = contact_sheet([Cand(c.image, 0, 0.0) for c in cands], cell=200, columns=2)
    # Same layout, different seed/score text: only the caption pixels differ.
    assert sheet.shape == plain.shape
    assert not np.array_equal(sheet, plain)
    text_colour = (235, 235, 235)
    assert _has_colour(sheet, text_colour)
    assert candidate_label(3, 1234, -0.456) == "#3  seed 1234  seam +0.46"  # lower blends better


def test_original_first_and_custom_numbers() -> None:
    original = np.full((60, 90, 3), 77, np.uint8)
    sheet = contact_sheet(_cands(2), original=original, cell=100, columns=3, numbers=[4, 9], title="x.jpg")
    w = sheet.shape[1]
    assert _has_colour(sheet[:, : w // 3], (77, 77, 77))
    assert _has_colour(sheet[:, w // 3 : 2 * w // 3], COLOURS[0])
    with pytest.raises(InputError, match="one entry per candidate"):
        contact_sheet(_cands(2), numbers=[1])


def test_focus_box_and_crop() -> None:
    mask = np.zeros((400, 600), bool)
    mask[100:140, 200:260] = True
    top, left, bottom, right = focus_box(mask, mask.shape, context=0.5)
    assert (top, left, bottom, right) == (80, 170, 160, 290)
    assert focus_box(None, (50, 70)) == (0, 0, 50, 70)
    assert focus_box(np.zeros((50, 70), bool), (50, 70)) == (0, 0, 50, 70)
    # Clamped at the borders.
    mask[:] = False
    mask[0:10, 590:600] = True
    assert focus_box(mask, mask.shape) == (0, 574, 26, 600)
    big = np.zeros((4000, 6000, 3), np.uint8)
    assert fit_image(big, None, 300).shape == (200, 300, 3)
    assert fit_image(big, (0, 0, 100, 50), 300).shape == (300, 150, 3)


def test_bad_input() -> None:
    with pytest.raises(InputError, match="no candidates"):
        contact_sheet([])
    with pytest.raises(InputError, match="cell size"):
        contact_sheet(_cands(1), cell=10)
    with pytest.raises(InputError, match="one size"):
        contact_sheet(_cands(1) + _cands(1, (30, 30)))
    with pytest.raises(InputError, match="differ in size"):
        contact_sheet(_cands(1), original=np.zeros((5, 5, 3), np.uint8))


def test_focus_box_of_a_thin_hole_is_readable():
    mask = np.zeros((4000, 6000), bool)
    mask[2000:2006, 0:3000] = True  # a wire
    top, left, bottom, right = focus_box(mask, mask.shape)
    assert (right - left) <= 2 * (bottom - top)
    assert top <= 2000 and bottom >= 2006
