"""Closing the window stays responsive while work that cannot be interrupted runs:
an engine that is loading, a huge file that is decoding. The window leaves the screen at once and
finishes closing (thread stopped, session folder removed) when that work ends."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from inpaint_gui.engine import registry
from inpaint_gui.engine.classical import TeleaEngine
from inpaint_gui.ui import document as document_module
from inpaint_gui.ui.main_window import MainWindow
from inpaint_gui.ui.settings import Settings

TIMEOUT_MS = 20_000
BLOCK_S = 1.5  # how long the uninterruptible work takes
RESPONSIVE_S = 0.5  # a close() that takes longer reads as a freeze


@pytest.fixture(autouse=True)
def _app_stays(monkeypatch):
    # The window quits the app when it was the last one; keep the test session's app running.
    monkeypatch.setattr(QApplication, "quitOnLastWindowClosed", lambda *_: False)


def _window(qtbot, tmp_path: Path, engine: str) -> MainWindow:
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.engine = engine
    window = MainWindow(settings=settings, session_root=tmp_path / "sessions")
    qtbot.addWidget(window)
    window.show()
    return window


def _closes_at_once(qtbot, window: MainWindow) -> None:
    start = time.perf_counter()
    window.close()
    took = time.perf_counter() - start
    assert took < RESPONSIVE_S, f"close() blocked for {took:.2f} s"
    assert not window.isVisible()
    # ... and it does finish closing once the work is done.
    qtbot.waitUntil(lambda: window.controller.worker_thread() is None, timeout=TIMEOUT_MS)
    assert not window.autosave.store.folder.exists()


def test_closing_while_the_engine_loads(qtbot, tmp_path, monkeypatch):
    loading = threading.Event()

    def slow_build(checkpoint, device):
        loading.set()
        time.sleep(BLOCK_S)  # like importing torch and reading a checkpoint: nothing to interrupt
        return TeleaEngine()

    monkeypatch.setitem(registry._BUILDERS, "test-slow-load", ("Slow load", False, slow_build))
    window = _window(qtbot, tmp_path, "test-slow-load")
    qtbot.waitUntil(loading.is_set, timeout=TIMEOUT_MS)
    _closes_at_once(qtbot, window)


def test_closing_while_a_huge_image_decodes(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, "telea")
    qtbot.waitUntil(lambda: window.controller.engine_name == "telea", timeout=TIMEOUT_MS)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(photo)
    decoding = threading.Event()
    real_read = document_module._read

    def slow_read(path, limit):
        decoding.set()
        time.sleep(BLOCK_S)  # like decoding 196 MP: one library call that cannot be stopped
        return real_read(path, limit)

    monkeypatch.setattr(document_module, "_read", slow_read)
    opened = []
    window.files.opened.connect(opened.append)
    window.files.open_path(photo)
    assert decoding.wait(10)
    _closes_at_once(qtbot, window)
    assert not opened  # the decoded image never lands in the closed window
