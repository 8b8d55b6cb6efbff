"""The timer's autosave is written off the GUI thread, from a snapshot, one save at a time."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from inpaint_gui.ui.main_window import MainWindow
from inpaint_gui.ui.session import SessionStore
from inpaint_gui.ui.settings import Settings

TIMEOUT_MS = 30_000
H, W = 90, 120


def _discard(*_args, **_kwargs) -> QMessageBox.StandardButton:
    return QMessageBox.StandardButton.Discard  # closing with a painted mask: "Discard the mask?"


def _window(qtbot, tmp_path: Path, monkeypatch) -> MainWindow:
    monkeypatch.setattr(QMessageBox, "question", staticmethod(_discard))
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (H, W, 3), dtype=np.uint8)).save(path)
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.engine = "telea"
    window = MainWindow(settings=settings, session_root=tmp_path / "sessions")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.controller.engine_name == "telea", timeout=TIMEOUT_MS)
    with qtbot.waitSignal(window.files.opened, timeout=TIMEOUT_MS):
        window.files.open_path(path)
    window.autosave._timer.setInterval(10)  # noqa: SLF001 (no need to wait 1.5 s here)
    return window


def _slow_saves(window: MainWindow, monkeypatch, seconds: float) -> list[str]:
    """Make the store's saves take `seconds`; returns the names of the threads they ran in."""
    store = window.autosave.store
    save = store.save
    threads: list[str] = []

    def slow(state):
        threads.append(threading.current_thread().name)
        time.sleep(seconds)
        return save(state)

    monkeypatch.setattr(store, "save", slow)
    return threads


def test_the_timer_save_runs_off_the_gui_thread_and_keeps_the_mask_of_its_moment(
    qtbot, tmp_path, monkeypatch
):
    window = _window(qtbot, tmp_path, monkeypatch)
    try:
        threads = _slow_saves(window, monkeypatch, 0.3)
        window.document.edit_mask("paint", lambda m: m.rectangle((10, 10), (40, 30)))
        saved = window.document.mask_doc.copy()
        qtbot.waitUntil(lambda: bool(threads), timeout=TIMEOUT_MS)
        # While it is written, the GUI goes on: this edit is not in the save under way.
        window.document.edit_mask("paint", lambda m: m.rectangle((60, 50), (90, 80)))
        assert threads[0] != threading.main_thread().name
        window.autosave._wait()  # noqa: SLF001
        np.testing.assert_array_equal(SessionStore.load(window.autosave.store.folder).mask, saved)
        # save_now waits for the save in flight, then writes the newest state itself.
        window.autosave.save_now()
        latest = SessionStore.load(window.autosave.store.folder).mask
        np.testing.assert_array_equal(latest, window.document.mask_doc.mask)
        assert latest.sum() > saved.sum()
    finally:
        window.close()


def test_closing_waits_for_the_save_in_flight_then_removes_the_folder(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch)
    folder = window.autosave.store.folder
    threads = _slow_saves(window, monkeypatch, 0.3)
    window.document.edit_mask("paint", lambda m: m.rectangle((10, 10), (40, 30)))
    qtbot.waitUntil(lambda: bool(threads), timeout=TIMEOUT_MS)
    window.close()
    assert not folder.exists()  # the save finished before the clean exit removed the folder


def test_a_failing_background_save_warns_once(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch)
    warnings: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda _p, title, text, *a: warnings.append(title))
    )
    store = window.autosave.store

    def failing(state):
        store.error = "disk full"
        return False

    monkeypatch.setattr(store, "save", failing)
    try:
        for k in range(2):
            window.document.edit_mask("paint", lambda m, k=k: m.rectangle((10 + k, 10), (40, 30)))
            qtbot.waitUntil(lambda: not window.autosave._timer.isActive(), timeout=TIMEOUT_MS)  # noqa: SLF001
            window.autosave._wait()  # noqa: SLF001
            qtbot.wait(50)  # the result comes back to the GUI thread by a queued signal
        assert warnings == ["Autosave is not working"]
    finally:
        window.close()


def test_a_change_while_a_save_is_written_is_saved_after_it_without_blocking(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch)
    store = window.autosave.store
    save = store.save
    release = threading.Event()
    calls: list = []
    released: list[bool] = []

    def held(state):
        calls.append(state)
        if len(calls) == 1:
            released.append(release.wait(5))  # False: the GUI thread sat waiting for this save
        return save(state)

    monkeypatch.setattr(store, "save", held)
    try:
        window.document.edit_mask("paint", lambda m: m.rectangle((10, 10), (40, 30)))
        qtbot.waitUntil(lambda: len(calls) == 1, timeout=TIMEOUT_MS)
        window.document.edit_mask("paint", lambda m: m.rectangle((60, 50), (90, 80)))
        qtbot.wait(300)  # the timer fires again while the first save is held
        release.set()
        qtbot.waitUntil(lambda: len(calls) == 2, timeout=TIMEOUT_MS)
        window.autosave._wait()  # noqa: SLF001
        assert released == [True]
        np.testing.assert_array_equal(SessionStore.load(store.folder).mask, window.document.mask_doc.mask)
    finally:
        release.set()
        window.close()


def _generate(qtbot, window: MainWindow) -> None:
    window.document.edit_mask("paint", lambda m: m.rectangle((30, 20), (70, 50)))
    with qtbot.waitSignal(window.controller.request_finished, timeout=TIMEOUT_MS):
        window.rounds.generate()


def test_candidates_arriving_are_saved_by_the_writer_while_the_gui_goes_on(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch)
    window.autosave._timer.setInterval(60_000)  # noqa: SLF001 (only the save on arrival here)
    store = window.autosave.store
    save = store.save
    release = threading.Event()
    threads: list[str] = []

    def held(state):
        threads.append(threading.current_thread().name)
        release.wait(5)  # in the GUI thread this would hold the event loop for 5 s
        return save(state)

    monkeypatch.setattr(store, "save", held)
    try:
        _generate(qtbot, window)  # the round's "finished" slot has run: its save is held
        qtbot.waitUntil(lambda: bool(threads), timeout=TIMEOUT_MS)
        assert threads == [threads[0]] and threads[0] != threading.main_thread().name
        assert window.autosave.writing()
        release.set()
        qtbot.waitUntil(lambda: not window.autosave.writing(), timeout=TIMEOUT_MS)
        state = SessionStore.load(store.folder)
        assert [c.seed for c in state.rounds[-1].candidates] == window.gallery.seeds()
        assert state.mask[20:50, 30:70].all()
    finally:
        release.set()
        window.close()


def test_closing_right_after_candidates_arrive_waits_for_their_save(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch)
    window.autosave._timer.setInterval(60_000)  # noqa: SLF001
    store = window.autosave.store
    folder = store.folder
    save = store.save
    saved: list[int] = []

    def slow(state):
        time.sleep(0.3)
        ok = save(state)
        saved.append(len(SessionStore.load(folder).rounds[-1].candidates))  # as a crash would find it
        return ok

    monkeypatch.setattr(store, "save", slow)
    _generate(qtbot, window)
    shown = len(window.gallery.candidates())
    window.close()  # at once: the save on arrival is still being written
    assert saved == [shown] and shown > 0
    assert not folder.exists()  # written whole, then the clean exit removed the folder


def test_a_round_ending_after_the_window_closed_leaves_no_session_behind(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch)
    folder = window.autosave.store.folder
    _generate(qtbot, window)
    window.close()
    window.rounds._on_controller_request_cancelled(0)  # noqa: SLF001 (a late signal of the round)
    assert not window.autosave.writing()
    window.autosave._wait()  # noqa: SLF001
    assert not folder.exists()  # else the next start would offer it as a crashed session
