"""Opening a file decodes it on the thread pool: the GUI thread never waits, and stale results are dropped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from inpaint_gui.core.image_io import load_image
from inpaint_gui.ui import document as document_module
from inpaint_gui.ui.document import DocumentFiles, ImageDocument

TIMEOUT_MS = 10_000


class SlowLoader:
    """Stands in for load_image: files listed in `held` wait until released; records the pool threads used."""

    def __init__(self) -> None:
        self.held: dict[str, threading.Event] = {}
        self.started: list[str] = []
        self.threads: set[int] = set()

    def hold(self, path: Path) -> threading.Event:
        gate = self.held[path.name] = threading.Event()
        return gate

    def __call__(self, path, **kwargs):
        path = Path(path)
        self.threads.add(threading.get_ident())
        self.started.append(path.name)
        gate = self.held.get(path.name)
        if gate is not None and not gate.wait(TIMEOUT_MS / 1000):
            raise RuntimeError("test gate was never opened")
        return load_image(path, **kwargs)


@pytest.fixture
def loader(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowLoader]:
    fake = SlowLoader()
    monkeypatch.setattr(document_module, "load_image", fake)
    yield fake
    for gate in fake.held.values():  # never leave a pool thread blocked for the next test
        gate.set()
    QThreadPool.globalInstance().waitForDone(TIMEOUT_MS)


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda _p, title, text, *a: shown.append(text)))
    return shown


@pytest.fixture
def files(qtbot) -> DocumentFiles:
    window = QWidget()
    qtbot.addWidget(window)
    return DocumentFiles(ImageDocument(window), window)


def _image(path: Path, value: int, size: tuple[int, int] = (30, 20)) -> Path:
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path)
    return path


def test_opening_returns_at_once_and_the_event_loop_keeps_running(qtbot, files, loader, tmp_path):
    photo = _image(tmp_path / "photo.png", 77)
    gate = loader.hold(photo)
    messages: list[str] = []
    files.message.connect(messages.append)
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()

    assert files.open_path(photo)  # returns while the decoder is still held
    qtbot.waitUntil(lambda: loader.started == ["photo.png"], timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=TIMEOUT_MS)  # the GUI thread runs its timers meanwhile
    timer.stop()
    assert threading.get_ident() not in loader.threads
    assert files.is_opening() and not files._doc.has_image()
    assert messages == ["Opening photo.png…"]

    with qtbot.waitSignal(files.opened, timeout=TIMEOUT_MS) as opened:
        gate.set()
    assert opened.args == ["photo.png"]
    assert not files.is_opening()
    assert np.array_equal(np.asarray(files._doc.rgb), np.full((20, 30, 3), 77, np.uint8))
    assert files.recent_files() == [str(photo.resolve())]


def test_a_newer_open_makes_the_older_result_stale(qtbot, files, loader, tmp_path):
    first, second = _image(tmp_path / "first.png", 10), _image(tmp_path / "second.png", 200, (8, 6))
    gate = loader.hold(first)
    names: list[str] = []
    files.opened.connect(names.append)

    assert files.open_path(first)
    qtbot.waitUntil(lambda: loader.started == ["first.png"], timeout=TIMEOUT_MS)
    with qtbot.waitSignal(files.opened, timeout=TIMEOUT_MS):
        assert files.open_path(second)
    gate.set()  # the first file now finishes decoding, after the second one is shown
    assert QThreadPool.globalInstance().waitForDone(TIMEOUT_MS)
    qtbot.wait(50)  # deliver the first task's queued result

    assert names == ["second.png"]
    assert files._doc.name == "second.png" and files._doc.rgb.shape == (6, 8, 3)
    assert files.recent_files() == [str(second.resolve())]


def test_a_result_arriving_after_the_window_closes_is_dropped(qtbot, files, loader, tmp_path):
    photo = _image(tmp_path / "photo.png", 5)
    gate = loader.hold(photo)
    names: list[str] = []
    files.opened.connect(names.append)
    assert files.open_path(photo)
    qtbot.waitUntil(lambda: loader.started == ["photo.png"], timeout=TIMEOUT_MS)
    files.cancel_open()  # what MainWindow.closeEvent does
    gate.set()
    assert QThreadPool.globalInstance().waitForDone(TIMEOUT_MS)
    qtbot.wait(50)
    assert names == [] and not files._doc.has_image() and files.recent_files() == []


def test_a_corrupt_file_shows_its_error_and_leaves_the_open_image(qtbot, files, warnings, tmp_path):
    photo = _image(tmp_path / "photo.png", 50)
    with qtbot.waitSignal(files.opened, timeout=TIMEOUT_MS):
        files.open_path(photo)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    done: list[bool] = []

    with qtbot.waitSignal(files.open_failed, timeout=TIMEOUT_MS) as failed:
        assert files.open_path(broken, then=done.append)
    (warning,) = warnings
    assert "broken.jpg" in warning and failed.args == [warning]
    assert done == [False]
    assert files._doc.name == "photo.png" and not files.is_opening()
    assert files.recent_files() == [str(photo.resolve())]


def test_a_decoder_crash_becomes_a_one_line_message(qtbot, files, warnings, monkeypatch, tmp_path):
    def crash(path, **kwargs):
        raise MemoryError

    monkeypatch.setattr(document_module, "load_image", crash)
    with qtbot.waitSignal(files.open_failed, timeout=TIMEOUT_MS):
        files.open_path(_image(tmp_path / "huge.png", 1))
    assert warnings == ["huge.png: not enough memory to open this image"]
    assert not files._doc.has_image()


def test_a_fill_applied_while_decoding_is_asked_about_again(qtbot, files, loader, tmp_path, monkeypatch):
    photo = _image(tmp_path / "photo.png", 50)
    with qtbot.waitSignal(files.opened, timeout=TIMEOUT_MS):
        files.open_path(photo)
    other = _image(tmp_path / "other.png", 9)
    gate = loader.hold(other)
    asked: list[str] = []

    def cancel(*args, **kwargs):
        asked.append(args[2])
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", staticmethod(cancel))
    assert files.open_path(other)  # nothing unsaved yet: no question
    qtbot.waitUntil(lambda: loader.started[-1:] == ["other.png"], timeout=TIMEOUT_MS)
    mask = np.zeros((20, 30), bool)
    mask[5:10, 5:10] = True
    files._doc.apply_fill(np.full((20, 30, 3), 255, np.uint8), mask, seed=1)  # during the decode
    gate.set()
    assert QThreadPool.globalInstance().waitForDone(TIMEOUT_MS)
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=TIMEOUT_MS)
    assert files._doc.name == "photo.png" and files._doc.is_modified()  # the fill was kept
