"""CandidateGallery: numbering, keyboard picking, hover preview, apply, sort, more-like-this."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from inpaint_gui.engine.base import Candidate
from inpaint_gui.ui.gallery import CandidateGallery


def Cand(image: np.ndarray, seed: int, score: float) -> Candidate:  # noqa: N802 - reads as a type
    return Candidate(image, seed, score, 0.1)


SCORES = [-3.0, -1.0, -5.0, -0.5, -2.0, -4.0]


def _cands(n: int = 6) -> list[Candidate]:
    out = []
    for i in range(n):
        im = np.full((40, 60, 3), 40 * i, np.uint8)
        out.append(Cand(im, 100 + i, SCORES[i % len(SCORES)]))
    return out


@pytest.fixture
def gallery(qtbot) -> CandidateGallery:
    g = CandidateGallery()
    qtbot.addWidget(g)
    g.resize(400, 500)
    g.show()
    for c in _cands():
        g.add_candidate(c)
    g._list.setFocus()
    return g


def _rows(g: CandidateGallery) -> list[int]:
    return [g._row_index(r) for r in range(g._list.count())]


def test_candidates_are_numbered_in_arrival_order(gallery) -> None:
    assert [c.seed for c in gallery.candidates()] == list(range(100, 106))
    texts = [gallery._list.item(r).text().split()[0] for r in range(gallery._list.count())]
    assert texts == ["1", "2", "3", "4", "5", "6"]
    # The first arrival is selected and previewed, so the canvas shows a fill at once.
    assert gallery.selected_index() == 0 and gallery.previewed_index() == 0
    assert gallery.seeds() == list(range(100, 106))


def test_digit_keys_pick_and_enter_applies(qtbot, gallery) -> None:
    with qtbot.waitSignal(gallery.candidate_previewed) as blocker:
        qtbot.keyClick(gallery._list, Qt.Key.Key_3)
    assert blocker.args == [2] and gallery.selected_index() == 2
    with qtbot.waitSignal(gallery.candidate_chosen) as blocker:
        qtbot.keyClick(gallery._list, Qt.Key.Key_Return)
    assert blocker.args == [2]
    # A number without a candidate is ignored.
    with qtbot.assertNotEmitted(gallery.candidate_previewed):
        qtbot.keyClick(gallery._list, Qt.Key.Key_9)
    assert gallery.selected_index() == 2


def test_arrow_keys_preview_neighbours(qtbot, gallery) -> None:
    gallery.select(0)
    with qtbot.waitSignal(gallery.candidate_previewed) as blocker:
        qtbot.keyClick(gallery._list, Qt.Key.Key_Right)
    assert blocker.args == [1] and gallery.selected_index() == 1
    with qtbot.waitSignal(gallery.candidate_chosen) as blocker:
        qtbot.keyClick(gallery._list, Qt.Key.Key_Enter)
    assert blocker.args == [1]


def test_double_click_and_apply_button_choose(qtbot, gallery) -> None:
    rect = gallery._list.visualItemRect(gallery._list.item(4))
    with qtbot.waitSignal(gallery.candidate_chosen) as blocker:
        # A real double-click is press, release, double-click, release; QTest's DClick alone lacks the press.
        qtbot.mouseClick(gallery._list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(gallery._list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [4]
    gallery.select(1)
    with qtbot.waitSignal(gallery.candidate_chosen) as blocker:
        qtbot.mouseClick(gallery._apply, Qt.MouseButton.LeftButton)
    assert blocker.args == [1]


def test_hover_previews_and_leaving_returns_to_selection(qtbot, gallery) -> None:
    gallery.select(0)
    rect = gallery._list.visualItemRect(gallery._list.item(3))
    with qtbot.waitSignal(gallery.candidate_previewed) as blocker:
        qtbot.mouseMove(gallery._list.viewport(), rect.center())
    assert blocker.args == [3]
    assert gallery.selected_index() == 0  # hovering does not select
    with qtbot.waitSignal(gallery.candidate_previewed) as blocker:
        qtbot.mouseMove(gallery._apply, QPoint(2, 2))
    assert blocker.args == [0]


def test_sort_by_score_keeps_numbers(qtbot, gallery) -> None:
    gallery.set_sort_by_score(True)
    assert _rows(gallery) == sorted(range(6), key=lambda i: -SCORES[i])
    # Key 1 still means candidate number 1, wherever it sits.
    qtbot.keyClick(gallery._list, Qt.Key.Key_1)
    assert gallery.selected_index() == 0
    # New candidates go to their place in the order.
    gallery.add_candidate(Cand(np.zeros((40, 60, 3), np.uint8), 7, -0.1))
    assert _rows(gallery)[0] == 6
    gallery.set_sort_by_score(False)
    assert _rows(gallery) == list(range(7))
    assert gallery.selected_index() == 0


def test_generate_more_and_more_like_this(qtbot, gallery) -> None:
    with qtbot.waitSignal(gallery.generate_more_requested):
        qtbot.mouseClick(gallery._more, Qt.MouseButton.LeftButton)
    gallery.select(2)
    gallery.set_spread(0.6)
    with qtbot.waitSignal(gallery.more_like_this_requested) as blocker:
        qtbot.mouseClick(gallery._like, Qt.MouseButton.LeftButton)
    assert blocker.args[0] == 2 and blocker.args[1] == pytest.approx(0.6)


def test_progress_thumbnails_and_clear(qtbot, gallery) -> None:
    gallery.set_progress(2, 6)
    assert gallery._progress.isVisible() and gallery._progress.value() == 2
    gallery.set_progress(6, 6)
    assert not gallery._progress.isVisible()
    gallery.set_thumbnail_size(400)
    assert gallery._list.iconSize().width() == 400 and gallery.thumbnail_size() == 400
    mask = np.zeros((40, 60), bool)
    mask[10:20, 10:20] = True
    gallery.set_focus_mask(mask)
    gallery.select(1)
    with qtbot.waitSignal(gallery.candidate_previewed) as blocker:
        gallery.clear()
    assert blocker.args == [-1]
    assert gallery.candidates() == [] and gallery._list.count() == 0
    gallery.add_candidate(_cands(1)[0])
    assert gallery._list.item(0).text().split()[0] == "1"


def test_uncertainty_overlay(gallery) -> None:
    over = gallery.uncertainty_overlay()
    assert over is not None and over.shape == (40, 60, 4) and over[..., 3].max() > 0
    gallery.clear()
    gallery.add_candidate(_cands(1)[0])
    assert gallery.uncertainty_overlay() is None


def test_search_previews_give_way_to_candidates(qtbot) -> None:
    g = CandidateGallery()
    qtbot.addWidget(g)
    g.show()
    g.add_candidate(_cands(1)[0])
    fills = [np.full((32, 64, 3), 60 * i, np.uint8) for i in range(3)]
    g.show_search_preview(fills, 10, 50)
    assert g.search_preview_count() == 3
    # numbered after the candidates already shown, and never picked as one of them
    assert [g._search.item(r).text() for r in range(3)] == ["2", "3", "4"]
    assert not g._search.item(0).flags() & Qt.ItemFlag.ItemIsSelectable
    assert "step 10 of 50" in g._search_note.text()
    assert len(g.candidates()) == 1 and g.selected_index() == 0
    g.show_search_preview(fills[:2], 15, 50)  # replaced, not added to
    assert g.search_preview_count() == 2
    g.add_candidate(_cands(2)[1])  # the real candidates are here
    assert g.search_preview_count() == 0 and len(g.candidates()) == 2
    g.show_search_preview(fills, 5, 50)
    g.end_search_preview()  # cancelled or failed
    assert g.search_preview_count() == 0 and g._list.isVisible()
    g.clear()
    g.show_search_preview(fills, 5, 50)  # nothing else to show: the previews get the room
    assert not g._list.isVisible() and g._search.isVisible()
    g.add_candidate(_cands(1)[0])
    assert g._list.isVisible() and not g._search.isVisible()
