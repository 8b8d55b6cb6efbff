"""CompareView: every candidate drawn in its own cell, shared zoom, picking."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from inpaint_gui.core.compose import InputError
from inpaint_gui.engine.base import Candidate
from inpaint_gui.ui.compare import CompareDialog, CompareView, changed_box
from inpaint_gui.ui.qimage import qimage_to_rgb

COLOURS = [(250, 0, 0), (0, 250, 0), (0, 0, 250)]


def Cand(image: np.ndarray, seed: int, score: float) -> Candidate:  # noqa: N802 - reads as a type
    return Candidate(image, seed, score, 0.0)


@pytest.fixture
def scene():
    original = np.full((300, 400, 3), 128, np.uint8)
    mask = np.zeros((300, 400), bool)
    mask[100:160, 150:250] = True
    cands = []
    for i, colour in enumerate(COLOURS):
        im = original.copy()
        im[mask] = colour
        cands.append(Cand(im, 10 + i, -float(i)))
    return original, mask, cands


def _pixel(view: CompareView, point) -> tuple[int, int, int]:
    rgb, _ = qimage_to_rgb(view.grab().toImage())
    scale = rgb.shape[1] / view.width()  # grab() may be at device pixel ratio
    return tuple(int(v) for v in rgb[int(point.y() * scale), int(point.x() * scale)])


def test_each_cell_shows_its_candidate(qtbot, scene) -> None:
    original, mask, cands = scene
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.set_images(original, cands, mask)
    view.show()
    cells = view._cells()
    assert [entry for entry, _ in cells] == [-1, 0, 1, 2]
    # Fitted to the hole's surroundings: each cell's centre lies in the hole.
    assert _pixel(view, cells[0][1].center()) == (128, 128, 128)
    for i, colour in enumerate(COLOURS):
        assert _pixel(view, cells[i + 1][1].center()) == colour
    # Only the changed box is kept per candidate.
    assert all(p.width() == 100 and p.height() == 60 for p, _, _ in view._patches)


def test_row_layout_and_hiding_the_original(qtbot, scene) -> None:
    original, mask, cands = scene
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.set_images(original, cands, mask)
    view.set_show_original(False)
    view.set_layout_mode("row")
    rects = [r for _, r in view._cells()]
    assert len(rects) == 3 and len({r.top() for r in rects}) == 1
    with pytest.raises(ValueError):
        view.set_layout_mode("spiral")


def test_click_selects_double_click_and_keys_choose(qtbot, scene) -> None:
    original, mask, cands = scene
    dialog = CompareDialog(original, cands, mask)
    qtbot.addWidget(dialog)
    dialog.show()
    view = dialog.view
    _, rect = view._cells()[2]
    with qtbot.waitSignal(view.candidate_selected) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [1]
    with qtbot.waitSignal(view.candidate_selected) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_3)
    assert blocker.args == [2]
    with qtbot.waitSignal(view.candidate_chosen) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert blocker.args == [2]


def test_wheel_zoom_is_shared(qtbot, scene) -> None:
    original, mask, cands = scene
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.set_images(original, cands, mask)
    before = view.zoom()
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent

    pos = QPointF(view._cells()[1][1].center())
    event = QWheelEvent(
        pos,
        view.mapToGlobal(pos),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    view.wheelEvent(event)
    assert view.zoom() == pytest.approx(before * 1.25)


def test_changed_box_and_bad_input(scene) -> None:
    original, mask, cands = scene
    assert changed_box(original, [c.image for c in cands]) == (100, 150, 160, 250)
    assert changed_box(original, [original.copy()]) is None
    view = CompareView()
    with pytest.raises(InputError, match="differ in size"):
        view.set_images(original, [Cand(original[:10], 0, 0.0)])
