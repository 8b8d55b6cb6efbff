"""Traps a new user meets in the real window: focus, keys, prompts, the history panel, layout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from test_main_window import TIMEOUT_MS, Dialogs, _generate, _make_window, _open, _paint_rect

from inpaint_gui.engine import Engine, registry
from inpaint_gui.ui.main_window import MainWindow

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    return Dialogs(monkeypatch)


@pytest.fixture
def window(qtbot, tmp_path: Path, dialogs: Dialogs) -> Iterator[MainWindow]:
    w = _make_window(qtbot, tmp_path)
    yield w
    dialogs.answer = QMessageBox.StandardButton.Discard
    w.close()


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (90, 120, 3), dtype=np.uint8)).save(path)
    return path


def _focus(qtbot, window: MainWindow, widget) -> None:
    """Make window active and widget the focus, as a click would (shortcuts need both)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    widget.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(widget.hasFocus)


def test_ctrl_q_asks_before_dropping_a_mask_and_candidates(qtbot, window, dialogs, photo):
    _open(qtbot, window, photo)
    _paint_rect(window, 30, 20, 70, 50)
    _generate(qtbot, window)
    window.autosave.save_now()
    folder = window.autosave.store.folder
    dialogs.answer = QMessageBox.StandardButton.Cancel
    _focus(qtbot, window, window.canvas)
    QTest.keyClick(window.canvas, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    (asked,) = dialogs.texts("question")
    assert asked.startswith("Discard the mask?") and "a painted mask and 1 candidate" in asked
    assert window.isVisible() and (folder / "session.npz").exists()


def test_undoing_the_only_fill_after_saving_is_not_called_unsaved_fills(qtbot, window, dialogs, photo):
    _open(qtbot, window, photo)
    _paint_rect(window, 30, 20, 70, 50)
    _generate(qtbot, window)
    window.rounds.apply(0)
    out = photo.with_name("out.png")
    dialogs.save_path = str(out)
    assert window.files.save_as()
    window.document.undo_stack.undo()
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert not window.files.confirm_discard("closing")
    asked = dialogs.texts("question")[-1]
    assert "not saved" not in asked and "saved with fills that are now undone" in asked


def test_enter_in_the_brush_size_box_sets_the_size_and_gives_the_keys_back(qtbot, window, photo):
    """Enter in the box used to apply the selected candidate, and the box kept the focus, so the
    digit typed next to pick a candidate went into the size (30 then 3 = 303 px)."""
    _open(qtbot, window, photo)
    _paint_rect(window, 30, 20, 70, 50)
    _generate(qtbot, window)
    before = np.array(window.document.rgb)
    spin = window.window_actions.brush_spin
    _focus(qtbot, window, spin)
    spin.selectAll()
    QTest.keyClicks(spin, "30")
    QTest.keyClick(spin, Qt.Key.Key_Return)
    assert window.canvas.brush_size() == 30
    np.testing.assert_array_equal(np.asarray(window.document.rgb), before)  # nothing applied
    assert not window.document.fills
    assert window.canvas.hasFocus()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_1)  # pick candidate 1
    assert window.canvas.brush_size() == 30 and spin.value() == 30
    assert window.gallery.selected_index() == 0
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # now Enter applies it
    assert len(window.document.fills) == 1


def _screen(canvas) -> np.ndarray:
    """What the canvas draws, as RGB."""
    from inpaint_gui.ui import qimage

    return qimage.qimage_to_rgb(canvas.grab().toImage())[0]


def _on_screen(canvas, screen: np.ndarray, box) -> np.ndarray:
    top, left, bottom, right = box
    p = canvas.map_from_image(left, top)
    x, y = round(p.x()), round(p.y())
    return screen[y : y + bottom - top, x : x + right - left]


@pytest.mark.parametrize("anchor", [(300.5, 200.5), (300.37, 200.93), (300.0, 200.0)])
def test_at_100_percent_the_preview_is_drawn_where_apply_writes(qtbot, window, photo, anchor):
    """At 100% (reached by zooming about the cursor, so the view sits at a fraction of a pixel)
    the canvas shows the image's own pixels, and a preview exactly the pixels Apply writes."""
    from PySide6.QtCore import QPointF

    _open(qtbot, window, photo)
    _paint_rect(window, 30, 20, 70, 50)
    _generate(qtbot, window)
    canvas = window.canvas
    canvas.set_zoom(0.77, QPointF(*anchor))
    canvas.set_zoom(1.0, QPointF(*anchor))  # Ctrl+1 with the cursor over the canvas
    window.gallery.select(0)
    assert canvas.previewing()
    box = (14, 24, 56, 76)  # the hole and a margin
    top, left, bottom, right = box
    previewed = _on_screen(canvas, _screen(canvas), box).copy()
    window.rounds.apply(0)
    assert not canvas.previewing()
    applied = np.asarray(window.document.rgb)[top:bottom, left:right]
    np.testing.assert_array_equal(_on_screen(canvas, _screen(canvas), box), applied)
    np.testing.assert_array_equal(previewed, applied)


def test_holding_backslash_shows_the_original_before_the_toggle_was_ever_used(qtbot, window, photo):
    """Holding \\ used to show the filled image under the 'Original' badge until the toolbar's
    Original toggle had been used once."""
    _open(qtbot, window, photo)
    _paint_rect(window, 30, 20, 70, 50)
    _generate(qtbot, window)
    window.rounds.apply(0)
    canvas = window.canvas
    canvas.actual_size()
    filled = _screen(canvas)
    _focus(qtbot, window, canvas)
    QTest.keyPress(canvas, Qt.Key.Key_Backslash)
    peeked = _screen(canvas)
    QTest.keyRelease(canvas, Qt.Key.Key_Backslash)
    assert not canvas.comparing()
    window.window_actions.compare.setChecked(True)
    toggled = _screen(canvas)
    window.window_actions.compare.setChecked(False)
    np.testing.assert_array_equal(peeked, toggled)
    assert (peeked != filled).any()


class _SixFlat(Engine):
    """A fast pluralistic stand-in: each seed a flat colour."""

    name = "test-six"
    label = "Six (tests only)"
    pluralistic = True

    def _fill(self, image, mask, seeds, near, spread):
        for seed in seeds:
            yield np.full(image.shape, (40 * seed) % 256, np.uint8)


@pytest.fixture
def six(qtbot, window, monkeypatch) -> MainWindow:
    """The window with an engine giving six candidates per round."""
    monkeypatch.setitem(registry._BUILDERS, "test-six", ("Six", False, lambda ckpt, dev: _SixFlat()))
    with qtbot.waitSignal(window.controller.engine_ready, timeout=TIMEOUT_MS):
        window.rounds.load_engine("test-six", None)
    window.settings.n_candidates = 6
    return window


def _history_texts(window: MainWindow) -> list[str]:
    panel = window.history_panel._list
    return [panel.item(i).text() for i in range(panel.count())]


def test_undoing_an_apply_shows_the_applied_candidate_and_drops_its_mark(qtbot, six, photo):
    _open(qtbot, six, photo)
    _paint_rect(six, 30, 20, 70, 50)
    _generate(qtbot, six)
    six.gallery.select(3)
    six.window_actions.apply.trigger()
    assert "applied #4" in _history_texts(six)[0]
    six.window_actions.undo.trigger()
    assert len(six.gallery.candidates()) == 6
    assert six.gallery.selected_index() == 3  # the one that was applied, not candidate 1
    assert "applied" not in _history_texts(six)[0]
    six.window_actions.redo.trigger()
    assert "applied #4" in _history_texts(six)[0]


def test_reuse_last_mask_after_reopening_a_round_gives_that_rounds_mask(qtbot, six, photo):
    _open(qtbot, six, photo)
    _paint_rect(six, 30, 20, 70, 50)
    first = six.document.mask_doc.copy()
    _generate(qtbot, six)
    six.window_actions.apply.trigger()
    _paint_rect(six, 5, 5, 20, 15)
    _generate(qtbot, six)
    assert six.rounds.reopen(1)
    six.window_actions.clear_mask.trigger()
    six.window_actions.reuse_mask.trigger()  # Ctrl+Shift+M
    np.testing.assert_array_equal(six.document.mask_doc.mask, first)


def test_the_history_panel_shows_a_new_round(qtbot, six, photo):
    _open(qtbot, six, photo)
    six.history_dock.setFixedHeight(180)
    for i in range(7):
        six.document.edit_mask("test", lambda m, i=i: m.rectangle((10 + 5 * i, 10), (20 + 5 * i, 20)))
        _generate(qtbot, six)
    panel = six.history_panel
    panel.select_round(1)  # the oldest, at the bottom: the list scrolls down to it
    view = panel._list
    assert not view.viewport().rect().intersects(view.visualItemRect(view.item(0)))
    six.document.edit_mask("test", lambda m: m.rectangle((60, 10), (70, 20)))
    _generate(qtbot, six)
    assert panel.rounds_shown()[0] == 8
    assert view.viewport().rect().intersects(view.visualItemRect(view.item(0)))
    assert panel.selected_round() == 8


def test_at_1280_px_the_toolbar_shows_present(qtbot, window):
    """The toolbar used to overflow at 1280 px and hide its last button (Present) behind »."""
    window.resize(1280, 820)
    qtbot.waitUntil(lambda: window.width() == 1280)
    bar, acts = window.toolbar, window.window_actions
    for action in (acts.presentation, acts.compare, acts.generate):
        button = bar.widgetForAction(action)
        assert button is not None and button.isVisible(), action.text()
    assert bar.sizeHint().width() <= 1280 - 40  # some room for a longer engine name or font


def test_default_file_names_join_words_with_dashes(qtbot, window, photo, monkeypatch):
    """Save as, Save mask, Export candidates and the contact sheet suggested photo-inpainted,
    photo-mask but photo_candidate01_seed5 and photo_contact_sheet: one separator now."""
    from PySide6.QtWidgets import QFileDialog

    from inpaint_gui.ui.export import candidate_filename

    shot = photo.with_name("my photo.png")
    photo.rename(shot)
    _open(qtbot, window, shot)
    _paint_rect(window, 30, 20, 70, 50)
    _generate(qtbot, window)
    offered: list[str] = []
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda _p, _t, name, *a, **k: (offered.append(name), ("", ""))[1]
    )
    window.window_actions.save_as.trigger()
    window.window_actions.save_mask.trigger()
    window.window_actions.export_sheet.trigger()
    names = [Path(n).name for n in offered] + [candidate_filename("my photo", 1, 5)]
    assert names == [
        "my photo-inpainted.png",
        "my photo-mask.png",
        "my-photo-contact-sheet.jpg",
        "my-photo-candidate01-seed5.png",
    ]
    assert not any("_" in n for n in names)


def test_select_object_shows_its_grow_box_in_the_size_box_place(qtbot, window):
    """Select object's Grow box takes the size box's place, so the tool bar keeps fitting 1280 px."""
    from inpaint_gui.ui.mask_tools import Tool

    window.resize(1280, 820)
    qtbot.waitUntil(lambda: window.width() == 1280)
    acts = window.window_actions
    assert acts.brush_spin_item.isVisible() and not acts.select_grow_item.isVisible()
    acts.tools[Tool.SELECT].trigger()
    assert acts.select_grow_item.isVisible() and not acts.brush_spin_item.isVisible()
    assert window.toolbar.sizeHint().width() <= 1280 - 40
    acts.tools[Tool.BRUSH].trigger()
    assert acts.brush_spin_item.isVisible() and not acts.select_grow_item.isVisible()
