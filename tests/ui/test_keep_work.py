"""The user's work is kept (stale fills, masks, prompts, file formats, zoom, help)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QComboBox, QFileDialog, QLineEdit, QMessageBox
from test_main_window import TIMEOUT_MS, Dialogs, _make_window, _open

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


def test_f1_shows_the_keyboard_shortcuts(qtbot, window, monkeypatch):
    """A table, shown at once and big enough to read (it was a 212 px box with the list hidden
    behind 'Show Details')."""
    from inpaint_gui.ui.shortcuts_dialog import ShortcutsDialog

    shown: list[ShortcutsDialog] = []
    monkeypatch.setattr(ShortcutsDialog, "exec", lambda box: shown.append(box) or 0)
    window.window_actions.shortcuts.trigger()
    (box,) = shown
    table = box.table
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Generate"].startswith("Ctrl+Return") and rows["Apply candidate"].startswith("Return")
    assert rows["Keyboard shortcuts"] == "F1" and "hold" in rows["Compare with original"]
    assert box.width() >= 500 and box.height() >= 400
    assert len(window.actions()) > 20  # QWidget.actions() is no longer hidden by an attribute


def _stroke(qtbot, window: MainWindow, points: list[tuple[float, float]]) -> None:
    """A brush stroke with real mouse events through image points."""
    canvas = window.canvas
    pos = [canvas.map_from_image(x, y).toPoint() for x, y in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=pos[0])
    for p in pos[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=pos[-1])


def _generate(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.controller.request_finished, timeout=TIMEOUT_MS):
        window.window_actions.generate.trigger()


SPOON = [(410, 80), (400, 140), (388, 215)]
LEFT_OF_SAUCER = [(40, 250), (40, 330)]


def test_a_fill_made_for_an_undone_mask_is_never_applied(qtbot, window, dialogs):
    """The sequence that lost work: brush, Ctrl+Enter, Ctrl+Z, a new stroke, Enter."""
    _open(qtbot, window, SAMPLES / "coffee.jpg")
    acts, canvas, doc = window.window_actions, window.canvas, window.document
    acts.brush_spin.setValue(20)
    before = np.array(doc.rgb)
    _stroke(qtbot, window, SPOON)
    spoon = doc.mask_doc.copy()
    _generate(qtbot, window)
    assert canvas.previewing() and acts.apply.isEnabled()
    acts.undo.trigger()  # the stroke is undone: the candidate no longer belongs to the mask
    assert not doc.mask_doc.any()
    assert window.gallery.is_stale() and not acts.apply.isEnabled()
    assert len(window.gallery.candidates()) == 1  # kept, marked out of date
    assert not canvas.previewing()

    _stroke(qtbot, window, LEFT_OF_SAUCER)
    new_mask = doc.mask_doc.copy()
    assert new_mask.any() and not (new_mask & spoon).any()
    acts.apply.trigger()  # Enter
    window.gallery.candidate_chosen.emit(0)  # double-click / the gallery's Apply button
    assert np.array_equal(np.asarray(doc.rgb), before), "a fill for another mask was written"
    assert np.array_equal(doc.mask_doc.mask, new_mask), "the new stroke was lost"
    assert not doc.fills

    # Back to the mask they were made for, the candidates are current again and apply.
    acts.undo.trigger()
    doc.edit_mask("test", lambda m: m.replace(spoon))
    assert not window.gallery.is_stale() and acts.apply.isEnabled()
    acts.apply.trigger()
    after = np.asarray(doc.rgb)
    assert np.array_equal(after[~spoon], before[~spoon]) and not np.array_equal(after[spoon], before[spoon])


def test_a_stroke_painted_over_a_preview_is_visible(qtbot, window, dialogs):
    _open(qtbot, window, SAMPLES / "coffee.jpg")
    window.window_actions.brush_spin.setValue(20)
    _stroke(qtbot, window, SPOON)
    _generate(qtbot, window)
    assert window.canvas.previewing()
    canvas = window.canvas
    start = canvas.map_from_image(*LEFT_OF_SAUCER[0]).toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    assert not canvas.previewing(), "the preview hid the stroke being painted"
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=start)
    shot = canvas.grab().toImage()
    p = canvas.map_from_image(*SPOON[1]).toPoint()
    # The spoon is under the mask overlay again (not the candidate's fill): the overlay's red tint shows.
    colour = shot.pixelColor(p)
    assert colour.red() > colour.blue() + 40
    assert window.gallery.is_stale()


def test_opening_another_image_asks_before_dropping_the_mask_and_candidates(qtbot, window, dialogs, tmp_path):
    _open(qtbot, window, SAMPLES / "coffee.jpg")
    window.window_actions.brush_spin.setValue(20)
    _stroke(qtbot, window, SPOON)
    _generate(qtbot, window)
    mask = window.document.mask_doc.copy()
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert not window.files.open_path(SAMPLES / "chelsea.jpg")
    (question,) = dialogs.texts("question")
    assert "mask" in question and "1 candidate" in question
    assert window.document.name == "coffee.jpg" and np.array_equal(window.document.mask_doc.mask, mask)
    assert len(window.gallery.candidates()) == 1

    dialogs.answer = QMessageBox.StandardButton.Discard
    _open(qtbot, window, SAMPLES / "chelsea.jpg")
    assert window.document.name == "chelsea.jpg" and not window.gallery.candidates()
    assert len(dialogs.texts("question")) == 2
    _open(qtbot, window, SAMPLES / "coffee.jpg")  # nothing painted: no question
    assert len(dialogs.texts("question")) == 2


def _click_on_exec(monkeypatch: pytest.MonkeyPatch, word: str, asked: list[str]) -> None:
    """QMessageBox.exec answers by clicking the button whose text contains word."""

    def exec_(box: QMessageBox) -> int:
        asked.append(box.text())
        next(b for b in box.buttons() if word in b.text()).click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)


def test_save_as_name_filter_and_written_format_agree(qtbot, window, dialogs, monkeypatch, tmp_path):
    photo = tmp_path / "photo.jpg"
    Image.open(SAMPLES / "coffee.jpg").save(photo)
    _open(qtbot, window, photo)
    offered: list[tuple[str, str]] = []
    answer = [(str(tmp_path / "out.jpg"), "PNG (*.png)")]

    def dialog(_parent, _title, name, _filter, selected="", *_args):
        offered.append((Path(name).name, selected))
        return answer[0]

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    asked: list[str] = []
    _click_on_exec(monkeypatch, "JPEG", asked)
    assert window.files.save_as()
    assert offered == [("photo-inpainted.jpg", "JPEG (*.jpg *.jpeg)")]  # the filter matches the name
    (question,) = asked
    assert "out.jpg" in question and "PNG" in question
    assert Image.open(tmp_path / "out.jpg").format == "JPEG"

    _click_on_exec(monkeypatch, "PNG", asked)
    answer[0] = (str(tmp_path / "other.jpg"), "PNG (*.png)")
    assert window.files.save_as()
    assert Image.open(tmp_path / "other.png").format == "PNG" and not (tmp_path / "other.jpg").exists()

    answer[0] = (str(tmp_path / "plain"), "WebP (*.webp)")  # no extension: the filter's
    assert window.files.save_as()
    assert Image.open(tmp_path / "plain.webp").format == "WEBP"
    assert len(asked) == 2


def test_export_never_renames_silently(qtbot, window, monkeypatch, tmp_path):
    from inpaint_gui.ui.export_dialog import ExportDialog

    dialog = ExportDialog(tmp_path / "x.jpg")
    qtbot.addWidget(dialog)
    field = dialog.findChild(QLineEdit, "exportPath")
    field.clear()
    qtbot.keyClicks(field, str(tmp_path / "x.png"))  # typed: the format follows the name
    assert dialog.findChild(QComboBox, "exportFormat").currentText().startswith("PNG")
    dialog.accept()
    assert dialog.path() == tmp_path / "x.png"

    dialog = ExportDialog(tmp_path / "y.jpg")
    qtbot.addWidget(dialog)
    dialog.findChild(QLineEdit, "exportPath").setText(str(tmp_path / "y.png"))  # set, not typed
    asked: list[str] = []
    _click_on_exec(monkeypatch, "JPEG", asked)
    dialog.accept()
    assert len(asked) == 1 and "y.png" in asked[0]
    assert dialog.path() == tmp_path / "y.jpg" and dialog.result() == ExportDialog.DialogCode.Accepted


def test_actual_size_centres_on_the_cursor_or_else_the_hole(qtbot, window):
    _open(qtbot, window, SAMPLES / "coffee.jpg")
    canvas = window.canvas
    centre = QPointF(canvas.width() / 2, canvas.height() / 2)
    # No cursor over the canvas: the hole comes to the middle of the view.
    canvas.leaveEvent(QEvent(QEvent.Type.Leave))
    window.document.edit_mask("test", lambda m: m.rectangle((500, 300), (540, 340)))
    window.window_actions.zoom_100.trigger()
    assert canvas.zoom() == 1.0
    x, y = canvas.map_to_image(centre)
    # Along a side where the image is larger than the view, the hole is centred; where it fits, the image.
    assert canvas.width() < 600 and canvas.height() > 400
    assert abs(x - 520) <= 1 and abs(y - 200) <= 1
    # The cursor over the canvas: the image point under it stays under it.
    canvas.fit()
    at = canvas.map_from_image(100, 60)
    qtbot.mouseMove(canvas, at.toPoint())
    window.window_actions.zoom_100.trigger()
    x, y = canvas.map_to_image(QPointF(at.toPoint()))
    assert canvas.zoom() == 1.0 and abs(x - 100) <= 1 and abs(y - 60) <= 1


def test_the_canvas_zoom_does_not_jump_when_the_gallery_fills_or_empties(qtbot, window, dialogs):
    _open(qtbot, window, SAMPLES / "coffee.jpg")
    canvas = window.canvas
    zoom, size = canvas.zoom(), canvas.size()
    window.document.edit_mask("test", lambda m: m.rectangle((500, 300), (540, 340)))
    _generate(qtbot, window)
    qtbot.wait(50)  # layouts settle
    assert canvas.size() == size and canvas.zoom() == zoom
    window.window_actions.apply.trigger()  # the gallery empties
    qtbot.wait(50)
    assert canvas.size() == size and canvas.zoom() == zoom


def _png_mask(path: Path, mask: np.ndarray) -> Path:
    Image.fromarray(mask.astype(np.uint8) * 255).save(path)
    return path


def test_save_load_and_reuse_the_mask(qtbot, window, dialogs, monkeypatch, tmp_path):
    _open(qtbot, window, SAMPLES / "coffee.jpg")
    acts, doc = window.window_actions, window.document
    doc.edit_mask("test", lambda m: m.rectangle((100, 50), (180, 120)))
    painted = doc.mask_doc.copy()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "m"), "PNG (*.png)"))
    acts.save_mask.trigger()
    saved = np.asarray(Image.open(tmp_path / "m.png"))
    assert (
        saved.dtype == np.uint8
        and np.array_equal(saved == 255, painted)
        and set(np.unique(saved)) == {0, 255}
    )

    other = np.zeros_like(painted)
    other[300:350, 400:500] = True
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: (str(_png_mask(tmp_path / "o.png", other)), "")
    )
    acts.load_mask.trigger()
    assert np.array_equal(doc.mask_doc.mask, other)
    acts.undo.trigger()  # loading is one undoable step
    assert np.array_equal(doc.mask_doc.mask, painted)

    small = _png_mask(tmp_path / "small.png", np.ones((40, 60), bool))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(small), ""))
    acts.load_mask.trigger()
    (warning,) = dialogs.texts("warning")
    assert "mask is 60x40 but the image is 600x400" in warning
    assert np.array_equal(doc.mask_doc.mask, painted)

    _generate(qtbot, window)
    acts.apply.trigger()
    assert not doc.mask_doc.any()
    acts.reuse_mask.trigger()  # the mask of the last generation, e.g. to try another engine
    assert np.array_equal(doc.mask_doc.mask, painted)


def test_a_soft_edge_blends_the_fill_over_a_ring_and_leaves_the_rest(qtbot, window, dialogs):
    from inpaint_gui.core.compose import feather_alpha

    _open(qtbot, window, SAMPLES / "coffee.jpg")
    window.settings.feather = 6
    doc = window.document
    before = np.array(doc.rgb)
    doc.edit_mask("test", lambda m: m.rectangle((370, 100), (420, 220)))
    painted = doc.mask_doc.copy()
    _generate(qtbot, window)
    alpha, grown = feather_alpha(painted, 6)
    (candidate,) = window.gallery.candidates()
    assert not np.array_equal(
        candidate.image[grown & ~painted], before[grown & ~painted]
    )  # filled the ring too
    window.window_actions.apply.trigger()
    after = np.asarray(doc.rgb)
    assert np.array_equal(after[~grown], before[~grown])  # outside the grown mask: untouched
    assert np.array_equal(after[painted], candidate.image[painted])
    ring = grown & ~painted
    expected = alpha[ring, None] * candidate.image[ring] + (1 - alpha[ring, None]) * before[ring]
    assert np.abs(after[ring] - expected).max() <= 0.5 + 1e-3
    assert not np.array_equal(after[ring], before[ring]) and not np.array_equal(
        after[ring], candidate.image[ring]
    )
    window.window_actions.undo.trigger()
    assert np.array_equal(np.asarray(doc.rgb), before)


def test_every_candidate_is_reachable_from_the_keyboard(qtbot):
    from types import SimpleNamespace

    from inpaint_gui.ui.gallery import CandidateGallery

    gallery = CandidateGallery()
    qtbot.addWidget(gallery)
    for seed in range(12):
        gallery.add_candidate(SimpleNamespace(image=np.zeros((8, 8, 3), np.uint8), seed=seed, score=0.0))
    gallery.pick_digit(1)
    gallery.pick_digit(2)  # typed quickly: 12
    assert gallery.selected_index() == 11
    gallery.forget_typed()
    gallery.pick_digit(0)  # 0 alone: 10
    assert gallery.selected_index() == 9
    gallery.step(1)
    assert gallery.selected_index() == 10
    gallery.step(-1)
    gallery.step(-1)
    assert gallery.selected_index() == 8
    gallery.forget_typed()
    gallery.pick_digit(3)
    gallery.pick_digit(4)  # 34 names none: a new number, 4
    assert gallery.selected_index() == 3


def test_a_candidates_score_is_explained_not_a_bare_number(qtbot):
    from types import SimpleNamespace

    from PySide6.QtWidgets import QListWidget

    from inpaint_gui.ui.gallery import CandidateGallery

    gallery = CandidateGallery()
    qtbot.addWidget(gallery)
    for seed, score in ((1, -3.25), (2, 0.5)):
        gallery.add_candidate(SimpleNamespace(image=np.zeros((8, 8, 3), np.uint8), seed=seed, score=score))
    items = gallery.findChild(QListWidget, "candidateList")
    first = items.item(0)
    assert first.text().strip() == "1"  # no unexplained figure under the thumbnail
    tip = first.toolTip()
    assert "seam +3.25" in tip and "lower blends better" in tip and "every engine" in tip
    gallery.set_sort_by_score(True)
    assert [items.item(r).text().strip() for r in range(2)] == ["2", "1"]  # best blend (lowest seam) first
