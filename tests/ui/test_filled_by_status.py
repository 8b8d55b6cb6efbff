"""The status bar says which engine filled which part when the default engine split the mask."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from inpaint_gui.engine import Engine, registry
from inpaint_gui.ui.main_window import MainWindow
from inpaint_gui.ui.settings import Settings

TIMEOUT_MS = 30_000
SAID = "faces network: 1 face; guided: the rest"


class SplitEngine(Engine):
    """Stands in for the default engine on a photo with a face: its candidates name the parts."""

    name = "test-split"
    label = "Split (tests only)"
    pluralistic = True

    def _fill(self, image, mask, seeds: Sequence[int], near, spread) -> Iterator[NDArray[np.uint8]]:
        for seed in seeds:
            yield np.full(image.shape, seed % 256, np.uint8)

    def _run(self, image, mask, seeds, near, spread, should_cancel, on_candidate, closed_gaps=0):
        def named(candidate, index, total):
            on_candidate(dataclasses.replace(candidate, filled_by=SAID), index, total)

        return super()._run(image, mask, seeds, near, spread, should_cancel, named, closed_gaps)


def test_the_status_bar_names_the_engines_that_filled_the_parts(qtbot, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    engine = SplitEngine()
    monkeypatch.setitem(registry._BUILDERS, "test-split", ("Split", False, lambda ckpt, dev: engine))
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.engine = "telea"
    window = MainWindow(settings=settings, session_root=tmp_path / "sessions")
    ready: list[str] = []
    window.controller.engine_ready.connect(ready.append)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: ready == ["telea"], timeout=TIMEOUT_MS)
    with qtbot.waitSignal(window.controller.engine_ready, timeout=TIMEOUT_MS):
        window.rounds.load_engine("test-split", None)
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(path)
    with qtbot.waitSignal(window.files.opened, timeout=TIMEOUT_MS):
        assert window.files.open_path(path)
    window.document.edit_mask("test", lambda m: m.rectangle((10, 10), (40, 30)))
    with qtbot.waitSignal(window.controller.request_finished, timeout=TIMEOUT_MS):
        window.window_actions.generate.trigger()
    assert f"({SAID})" in window.statusBar().currentMessage()
    window.close()
