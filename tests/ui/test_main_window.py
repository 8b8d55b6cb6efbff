"""The main window end to end: files, painting, undo, generation through the real thread, prompts."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtWidgets import QFileDialog, QMessageBox

from inpaint_gui.engine import Engine, registry
from inpaint_gui.ui import main_window as main_window_module
from inpaint_gui.ui.main_window import MainWindow
from inpaint_gui.ui.settings import Settings

TIMEOUT_MS = 20_000
H, W = 90, 120


class Dialogs:
    """Stands in for QMessageBox/QFileDialog: records what was asked, answers as told."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.asked: list[tuple[str, str]] = []
        self.answer = QMessageBox.StandardButton.Discard
        self.save_path = ""
        for name in ("warning", "question", "information", "critical"):
            monkeypatch.setattr(QMessageBox, name, self._make(name))
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (self.save_path, ""))

    def _make(self, kind: str):
        def box(_parent, title, text, *args, **kwargs):
            self.asked.append((kind, f"{title}: {text}"))
            return self.answer

        return staticmethod(box)

    def texts(self, kind: str) -> list[str]:
        return [t for k, t in self.asked if k == kind]


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    return Dialogs(monkeypatch)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    path = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(path)
    return path


def _make_window(qtbot, tmp_path: Path) -> MainWindow:
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.engine = "telea"
    window = MainWindow(settings=settings, session_root=tmp_path / "sessions")
    ready: list[str] = []
    window.controller.engine_ready.connect(ready.append)
    qtbot.addWidget(window)
    window.resize(900, 600)
    window.show()
    qtbot.waitExposed(window)
    # The first paint starts the worker thread and the engine load.
    qtbot.waitUntil(lambda: ready == ["telea"], timeout=TIMEOUT_MS)
    return window


@pytest.fixture
def window(qtbot, tmp_path: Path, dialogs: Dialogs) -> Iterator[MainWindow]:
    w = _make_window(qtbot, tmp_path)
    yield w
    dialogs.answer = QMessageBox.StandardButton.Discard
    w.close()
    assert w.controller.worker_thread() is None, "closing the window must stop the generation thread"


def _open(qtbot, window: MainWindow, path: Path) -> None:
    """Open path and wait until it is shown (files are decoded off the GUI thread)."""
    with qtbot.waitSignal(window.files.opened, timeout=TIMEOUT_MS):
        assert window.files.open_path(path)


def _paint_rect(window: MainWindow, x0: float, y0: float, x1: float, y1: float) -> None:
    window.document.edit_mask("test", lambda m: m.rectangle((x0, y0), (x1, y1)))


def _generate(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.controller.request_finished, timeout=TIMEOUT_MS):
        window.window_actions.generate.trigger()


def test_open_shows_the_image_and_a_bad_file_shows_an_error(qtbot, window, dialogs, photo, tmp_path):
    _open(qtbot, window, photo)
    assert window.canvas.has_image() and window.document.name == "photo.png"
    assert "photo.png" in window.windowTitle()
    assert str(photo.resolve()) in window.settings.recent_files

    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    with qtbot.waitSignal(window.files.open_failed, timeout=TIMEOUT_MS):
        window.files.open_path(broken)
    (warning,) = dialogs.texts("warning")
    assert "broken.jpg" in warning
    assert window.document.name == "photo.png"  # the open image is untouched

    assert not window.files.open_path(tmp_path / "missing.png")
    assert "file not found" in dialogs.texts("warning")[-1]


def test_painting_on_the_canvas_then_undo_and_redo(qtbot, window, photo):
    _open(qtbot, window, photo)
    canvas = window.canvas
    assert canvas.zoom() != pytest.approx(1.0)
    window.window_actions.brush_spin.setValue(10)
    start, end = canvas.map_from_image(20, 45).toPoint(), canvas.map_from_image(100, 45).toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    mask = window.document.mask_doc.copy()
    a, b = canvas.map_to_image(QPointF(start)), canvas.map_to_image(QPointF(end))
    assert mask[45, 25:95].all() and not mask[:30].any() and not mask[60:].any()
    assert abs(mask[:, 60].sum() - 10) <= 2  # a 10-pixel brush
    assert mask[int(a[1]), int(a[0])] and mask[int(b[1]), int(b[0])]

    assert window.window_actions.undo.isEnabled()
    window.window_actions.undo.trigger()
    assert not window.document.mask_doc.any()
    window.window_actions.redo.trigger()
    assert np.array_equal(window.document.mask_doc.mask, mask)


def test_generate_apply_changes_only_masked_pixels_and_undo_restores(qtbot, window, photo):
    _open(qtbot, window, photo)
    before = np.array(window.document.rgb)
    _paint_rect(window, 30, 20, 70, 50)
    mask = window.document.mask_doc.copy()
    _generate(qtbot, window)
    assert len(window.gallery.candidates()) == 1  # telea gives one fill
    window.gallery.candidate_chosen.emit(0)
    after = np.array(window.document.rgb)
    assert np.array_equal(after[~mask], before[~mask])
    assert not np.array_equal(after[mask], before[mask])
    assert not window.document.mask_doc.any()  # next round can start
    assert window.gallery.candidates() == []
    assert window.document.is_modified() and window.isWindowModified()
    shown = window.canvas.grab()  # the canvas draws the new pixels without error
    assert not shown.isNull()

    # One history: fill, then mask edit, undone in reverse order.
    _paint_rect(window, 5, 5, 15, 15)
    stack = window.document.undo_stack
    stack.undo()
    assert not window.document.mask_doc.any()
    stack.undo()
    assert np.array_equal(np.array(window.document.rgb), before)
    assert np.array_equal(window.document.mask_doc.mask, mask)
    assert not window.document.is_modified()
    stack.redo()
    assert np.array_equal(np.array(window.document.rgb), after)
    assert not window.document.mask_doc.any()


def test_real_pluralistic_engine_streams_candidates_into_the_gallery(qtbot, window, photo, tmp_path):
    from inpaint_gui.engine.pluralistic import save_random_release

    ckpt = save_random_release(tmp_path / "tiny.safetensors")
    window.settings.n_candidates = 3
    with qtbot.waitSignal(window.controller.engine_ready, timeout=60_000):
        window.rounds.load_engine("pluralistic", str(ckpt))
    _open(qtbot, window, photo)
    _paint_rect(window, 40, 30, 80, 60)
    arrivals = []
    window.controller.candidate_ready.connect(lambda *_: arrivals.append(len(window.gallery.candidates())))
    with qtbot.waitSignal(window.controller.request_finished, timeout=60_000):
        window.window_actions.generate.trigger()
    assert len(window.gallery.candidates()) == 3
    assert arrivals == [1, 2, 3]  # one by one, as they finish
    window.gallery.select(1)
    assert window.canvas.previewing()
    with qtbot.waitSignal(window.controller.request_finished, timeout=60_000):
        window.window_actions.generate_more.trigger()
    seeds = window.gallery.seeds()
    assert len(seeds) == 6 and len(set(seeds)) == 6


class SlowEngine(Engine):
    name = "test-slow"
    label = "Slow (tests only)"
    pluralistic = True

    def __init__(self) -> None:
        self.started = threading.Event()

    def _fill(self, image, mask, seeds: Sequence[int], near, spread) -> Iterator[NDArray[np.uint8]]:
        for seed in seeds:
            self.started.set()
            time.sleep(0.3)
            yield np.full(image.shape, seed % 256, np.uint8)


def _start_slow_generation(qtbot, window: MainWindow, photo: Path, monkeypatch) -> SlowEngine:
    """Open photo, paint a hole and start a generation that is still running when this returns."""
    engine = SlowEngine()
    monkeypatch.setitem(registry._BUILDERS, "test-slow", ("Slow", False, lambda ckpt, dev: engine))
    with qtbot.waitSignal(window.controller.engine_ready, timeout=TIMEOUT_MS):
        window.rounds.load_engine("test-slow", None)
    _open(qtbot, window, photo)
    _paint_rect(window, 30, 20, 70, 50)
    window.window_actions.generate.trigger()
    assert engine.started.wait(10)
    return engine


def test_closing_while_generating_exits_cleanly(qtbot, window, photo, monkeypatch):
    _start_slow_generation(qtbot, window, photo, monkeypatch)
    thread = window.controller.worker_thread()
    window.close()  # leaves the screen at once; the candidate being made finishes first
    assert not window.isVisible()
    qtbot.waitUntil(thread.isFinished, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.controller.worker_thread() is None, timeout=TIMEOUT_MS)


def test_escape_cancels_generation(qtbot, window, photo, monkeypatch):
    _start_slow_generation(qtbot, window, photo, monkeypatch)
    with qtbot.waitSignal(window.controller.request_cancelled, timeout=TIMEOUT_MS):
        window.window_actions.cancel.trigger()
    assert len(window.gallery.candidates()) < 6


def test_closing_with_unsaved_fills_prompts(qtbot, window, dialogs, photo):
    _open(qtbot, window, photo)
    _paint_rect(window, 30, 20, 70, 50)
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert not window.files.confirm_discard("closing")  # a clean close deletes the autosave: ask
    assert dialogs.texts("question")[-1].startswith("Discard the mask?")
    _generate(qtbot, window)
    window.rounds.apply(0)
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert not window.close()
    assert window.isVisible()
    assert "not saved" in dialogs.texts("question")[-1]
    dialogs.answer = QMessageBox.StandardButton.Discard
    assert window.close()


def test_opening_another_image_with_unsaved_fills_prompts(qtbot, window, dialogs, photo, tmp_path):
    _open(qtbot, window, photo)
    _paint_rect(window, 30, 20, 70, 50)
    _generate(qtbot, window)
    window.rounds.apply(0)
    other = tmp_path / "other.png"
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(other)
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert not window.files.open_path(other)
    assert window.document.name == "photo.png"
    dialogs.answer = QMessageBox.StandardButton.Discard
    _open(qtbot, window, other)
    assert window.document.name == "other.png"


def test_save_as_never_overwrites_the_original_silently(qtbot, window, dialogs, photo, tmp_path):
    _open(qtbot, window, photo)
    original_bytes = photo.read_bytes()
    _paint_rect(window, 30, 20, 70, 50)
    _generate(qtbot, window)
    window.rounds.apply(0)
    dialogs.save_path = str(photo)
    dialogs.answer = QMessageBox.StandardButton.No
    assert not window.files.save_as()
    assert photo.read_bytes() == original_bytes
    assert "original photo" in dialogs.texts("warning")[-1]
    assert window.document.is_modified()

    # Save (first time) asks where, suggesting a new name beside the original.
    suggested = window.files.suggested_path()
    assert suggested != photo and suggested.parent == photo.parent
    dialogs.save_path = str(tmp_path / "edited.png")
    assert window.files.save()
    assert not window.document.is_modified()
    saved = np.asarray(Image.open(tmp_path / "edited.png"))
    assert np.array_equal(saved, np.asarray(window.document.rgb))
    assert photo.read_bytes() == original_bytes

    dialogs.save_path = str(photo)
    dialogs.answer = QMessageBox.StandardButton.Yes  # said yes explicitly: now it may
    assert window.files.save_as()
    assert photo.read_bytes() != original_bytes


def test_export_jpeg_keeps_the_colour_profile(qtbot, window, tmp_path):
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "with_icc.png"
    Image.fromarray(np.full((20, 30, 3), 120, np.uint8)).save(path, icc_profile=icc)
    _open(qtbot, window, path)
    out = tmp_path / "out.jpg"
    assert window.files.export_image(out, quality=80, keep_metadata=True)
    with Image.open(out) as im:
        assert im.format == "JPEG" and im.info.get("icc_profile") == icc
    assert window.files.export_image(tmp_path / "bare.webp", quality=80, keep_metadata=False)
    with Image.open(tmp_path / "bare.webp") as im:
        assert not im.info.get("icc_profile")


def test_drop_and_paste_open_images(qtbot, window, photo):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    assert window.files.image_path_in(mime) == photo
    with qtbot.waitSignal(window.files.opened, timeout=TIMEOUT_MS):
        window.files.open_mime(mime)
    assert window.document.name == "photo.png"

    from inpaint_gui.ui import qimage

    pixels = np.zeros((7, 9, 3), np.uint8)
    pixels[2, 3] = (10, 200, 30)
    pasted = QMimeData()
    pasted.setImageData(qimage.rgb_to_qimage(pixels))
    assert window.files.open_mime(pasted)
    assert window.document.name == "Pasted image"
    assert np.array_equal(np.asarray(window.document.rgb), pixels)


def test_crash_recovery_offers_the_autosaved_session(qtbot, window, dialogs, photo, tmp_path):
    _open(qtbot, window, photo)
    _paint_rect(window, 30, 20, 70, 50)
    _generate(qtbot, window)
    window.rounds.apply(0)
    _paint_rect(window, 5, 5, 20, 20)
    window.autosave.save_now()
    expected_rgb = np.array(window.document.rgb)
    expected_mask = window.document.mask_doc.copy()
    # A crash leaves the folder behind with nobody holding its lock.
    folder = window.autosave.store.folder
    crashed = folder.with_name("crashed")
    shutil.copytree(folder, crashed, ignore=shutil.ignore_patterns("lock"))

    second = MainWindow(settings=window.settings, session_root=tmp_path / "sessions")
    qtbot.addWidget(second)
    dialogs.answer = QMessageBox.StandardButton.Yes
    try:
        with qtbot.waitSignal(second.files.opened, timeout=TIMEOUT_MS):
            assert second.autosave.offer_recovery()
        assert "photo.png" in dialogs.texts("question")[-1]
        assert np.array_equal(np.asarray(second.document.rgb), expected_rgb)
        assert np.array_equal(second.document.mask_doc.mask, expected_mask)
        assert len(second.document.fills) == 1 and second.document.is_modified()
        second.document.undo_stack.undo()
        second.document.undo_stack.undo()
        assert np.array_equal(np.asarray(second.document.rgb), np.asarray(Image.open(photo)))
        assert not crashed.exists()
    finally:
        dialogs.answer = QMessageBox.StandardButton.Discard
        second.close()


def test_compare_key_presentation_mode_and_tools(qtbot, window, photo):
    _open(qtbot, window, photo)
    canvas = window.canvas
    canvas.setFocus()
    qtbot.keyPress(canvas, Qt.Key.Key_Backslash)
    assert canvas.comparing()
    qtbot.keyRelease(canvas, Qt.Key.Key_Backslash)
    assert not canvas.comparing()
    window.window_actions.compare.setChecked(True)
    assert canvas.comparing()
    window.window_actions.compare.setChecked(False)

    thumbs = window.gallery.thumbnail_size()
    window.window_actions.presentation.trigger()
    assert window.presentation.active and window.isFullScreen()
    assert window.gallery.thumbnail_size() > thumbs
    window.window_actions.cancel.trigger()  # Esc leaves presentation mode when nothing is generating
    assert not window.presentation.active and not window.isFullScreen()
    assert window.gallery.thumbnail_size() == thumbs

    from inpaint_gui.ui.canvas import Tool

    window.window_actions.tools[Tool.LASSO].trigger()
    assert canvas.tool() is Tool.LASSO
    size = canvas.brush_size()
    window.window_actions.brush_bigger.trigger()
    assert canvas.brush_size() > size and window.window_actions.brush_spin.value() == canvas.brush_size()


def test_generate_without_a_mask_says_what_to_do(qtbot, window, photo):
    _open(qtbot, window, photo)
    window.window_actions.generate.trigger()
    assert "Paint over" in window.statusBar().currentMessage()
    assert window.controller.current_request is None


def test_window_module_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys; import inpaint_gui.ui.main_window, inpaint_gui.app; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert main_window_module.APP_NAME


def test_export_candidates_and_contact_sheet_from_the_window(
    qtbot, window, dialogs, photo, tmp_path, monkeypatch
):
    _open(qtbot, window, photo)
    _paint_rect(window, 30, 20, 70, 50)
    _generate(qtbot, window)
    out = tmp_path / "exported"
    out.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
    window.window_actions.export_candidates.trigger()
    qtbot.waitUntil(lambda: len(list(out.glob("*.png"))) == 1, timeout=TIMEOUT_MS)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out / "sheet.png"), ""))
    window.window_actions.export_sheet.trigger()
    qtbot.waitUntil(lambda: (out / "sheet.png").exists(), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: "Wrote" in window.statusBar().currentMessage(), timeout=TIMEOUT_MS)
    assert not dialogs.texts("warning")


def test_a_corrupt_autosave_is_deleted_only_when_the_user_says_so(qtbot, window, dialogs, tmp_path):
    broken = tmp_path / "sessions" / "broken"
    broken.mkdir(parents=True)
    (broken / "session.json").write_text("{not json")
    dialogs.answer = QMessageBox.StandardButton.Ignore
    assert not window.autosave.offer_recovery()
    assert "cannot be read" in dialogs.texts("question")[-1]
    assert broken.exists()
    dialogs.answer = QMessageBox.StandardButton.Discard
    assert not window.autosave.offer_recovery()
    assert not broken.exists()


def test_engine_box_disables_engines_that_cannot_load_and_says_why(qtbot, window, monkeypatch):
    from PySide6.QtGui import QStandardItemModel

    from inpaint_gui.engine import EngineInfo
    from inpaint_gui.ui import rounds

    fake = [
        EngineInfo("pluralistic", "Pluralistic", True, False, "no checkpoint found"),
        EngineInfo("telea", "Telea", False, True, ""),
    ]
    monkeypatch.setattr(rounds, "list_engines", lambda: fake)
    window.rounds._fill_engine_box()
    box = window.window_actions.engine_box
    model = box.model()
    assert isinstance(model, QStandardItemModel)
    item = model.item(box.findData("pluralistic"))
    assert not item.isEnabled() and "no checkpoint" in item.toolTip()
    assert model.item(box.findData("telea")).isEnabled()


def test_space_pans_the_canvas_under_the_pointer_even_when_the_gallery_has_focus(qtbot, window, photo):
    from PySide6.QtGui import QCursor
    from PySide6.QtWidgets import QListWidget

    _open(qtbot, window, photo)
    canvas = window.canvas
    centre = canvas.mapToGlobal(canvas.rect().center())
    QCursor.setPos(centre)
    qtbot.mouseMove(canvas, canvas.rect().center())
    if canvas.mapFromGlobal(QCursor.pos()) != canvas.rect().center():
        pytest.skip("this Qt platform cannot move the pointer")
    listing = window.gallery.findChild(QListWidget)
    listing.setFocus()
    before = canvas.map_from_image(0, 0)
    qtbot.keyPress(listing, Qt.Key.Key_Space)
    start = canvas.rect().center()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPointF(25, 10).toPoint())
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=start + QPointF(25, 10).toPoint())
    qtbot.keyRelease(listing, Qt.Key.Key_Space)
    moved = canvas.map_from_image(0, 0) - before
    assert (moved.x(), moved.y()) == pytest.approx((25, 10))
    assert not window.document.mask_doc.any()


def test_the_document_image_is_frozen_so_requests_share_it(qtbot, window, photo):
    _open(qtbot, window, photo)
    first = window.document.rgb
    assert not first.flags.writeable and first.base is None
    _paint_rect(window, 30, 20, 70, 50)
    _generate(qtbot, window)
    window.rounds.apply(0)
    second = window.document.rgb
    assert second is not first and not second.flags.writeable
    assert not np.array_equal(first, second)  # the request's snapshot never changed under it


def test_a_pasted_image_is_recovered_from_its_autosave(qtbot, window, dialogs, tmp_path):
    from inpaint_gui.ui import qimage

    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    mime = QMimeData()
    mime.setImageData(qimage.rgb_to_qimage(pixels))
    assert window.files.open_mime(mime)
    _paint_rect(window, 10, 10, 30, 25)
    window.autosave.save_now()
    folder = window.autosave.store.folder
    crashed = folder.with_name("crashed-paste")
    shutil.copytree(folder, crashed, ignore=shutil.ignore_patterns("lock"))
    mask = window.document.mask_doc.copy()

    second = MainWindow(settings=window.settings, session_root=tmp_path / "sessions")
    qtbot.addWidget(second)
    dialogs.answer = QMessageBox.StandardButton.Yes
    try:
        assert second.autosave.offer_recovery()
        assert "a pasted image" in dialogs.texts("question")[-1]
        assert np.array_equal(np.asarray(second.document.rgb), pixels)
        assert np.array_equal(second.document.mask_doc.mask, mask)
    finally:
        dialogs.answer = QMessageBox.StandardButton.Discard
        second.close()


def test_window_size_and_gallery_dock_are_remembered(qtbot, tmp_path: Path, dialogs: Dialogs) -> None:
    first = _make_window(qtbot, tmp_path)
    first.resize(720, 530)  # fits the offscreen platform's 800x600 screen
    first.gallery_dock.hide()
    assert first.close()
    second = MainWindow(settings=first.settings, session_root=tmp_path / "sessions")
    qtbot.addWidget(second)
    try:
        assert (second.width(), second.height()) == (720, 530)
        second.show()
        qtbot.waitExposed(second)
        assert not second.gallery_dock.isVisible()
    finally:
        second.close()


def test_classical_engines_load_whatever_device_is_chosen(qtbot, tmp_path: Path, dialogs: Dialogs) -> None:
    """The device setting is for the model; telea must still load with 'cuda' chosen."""
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.engine, settings.device = "telea", "cuda"
    window = MainWindow(settings=settings, session_root=tmp_path / "sessions")
    events: list[str] = []
    window.controller.engine_ready.connect(lambda name: events.append(f"ready {name}"))
    window.controller.engine_failed.connect(lambda name, msg: events.append(f"failed {name}: {msg}"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    try:
        qtbot.waitUntil(lambda: bool(events), timeout=TIMEOUT_MS)
        assert events == ["ready telea"]
    finally:
        window.close()
