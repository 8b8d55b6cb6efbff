"""The app fills a brushed mask with its small gaps closed and grown by the Grow setting, and says so."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from inpaint_gui.ui.main_window import MainWindow
from inpaint_gui.ui.settings import Settings

TIMEOUT_MS = 30_000


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    for name in ("warning", "question", "information", "critical"):  # closing asks about the edits
        monkeypatch.setattr(
            QMessageBox, name, staticmethod(lambda *a, **k: QMessageBox.StandardButton.Discard)
        )
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.engine, settings.device, settings.n_candidates = "telea", "cpu", 1
    w = MainWindow(settings=settings, session_root=tmp_path / "sessions")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.controller.engine_name == "telea", timeout=TIMEOUT_MS)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(4).integers(0, 256, (96, 128, 3), dtype=np.uint8)).save(photo)
    with qtbot.waitSignal(w.files.opened, timeout=TIMEOUT_MS):
        w.files.open_path(photo)
    yield w
    w.close()


def test_a_gap_left_by_the_brush_is_closed_applied_and_reported(qtbot, window):
    w = window
    w.document.edit_mask("paint", lambda m: m.rectangle((40, 30), (80, 60)))
    w.document.edit_mask("erase", lambda m: m.rectangle((60, 45), (61, 46), value=False))
    drawn = w.document.mask_doc.copy()
    assert not drawn[45, 60]
    messages = []
    w.rounds.message.connect(lambda text, _ms: messages.append(text))
    original = np.array(w.document.rgb)
    with qtbot.waitSignal(w.controller.request_finished, timeout=TIMEOUT_MS):
        w.rounds.generate()
    assert any("closed 1 small gap in the mask" in m for m in messages)
    assert w.rounds.round is not None and w.rounds.round.mask[45, 60]
    assert not w.rounds.round.stale  # still made for the mask as brushed
    w.rounds.apply(0)
    now = np.asarray(w.document.rgb)
    assert not np.array_equal(now[45, 60], original[45, 60])  # the speck was filled too


def test_grow_widens_the_filled_area_by_that_many_pixels(qtbot, window):
    w = window
    w.settings.grow = 3
    w.document.edit_mask("paint", lambda m: m.rectangle((40, 30), (80, 60)))
    drawn = w.document.mask_doc.copy()
    with qtbot.waitSignal(w.controller.request_finished, timeout=TIMEOUT_MS):
        w.rounds.generate()
    filled = w.rounds.round.mask
    assert filled.sum() > drawn.sum() and filled[30 - 3, 60] and not filled[30 - 4, 60]
    assert w.rounds.last_mask is not None and np.array_equal(w.rounds.last_mask, drawn)
