"""Issue 12: the user's work is kept (stale fills, masks, prompts, file formats, zoom, help)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from test_main_window import TIMEOUT_MS, Dialogs, _make_window, _open  # noqa: F401 (fixtures' helpers)

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
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.detailedText()) or 0)
    window.window_actions.shortcuts.trigger()
    (text,) = shown
    assert "Generate" in text and "Ctrl+Return" in text and "Apply candidate" in text
    assert len(window.actions()) > 20  # QWidget.actions() is no longer hidden by an attribute
