"""Run the app offscreen with an engine that gives a candidate every 0.4 s, and wait to be killed.

Used by test_recovery.py: `python slow_round_app.py PHOTO SESSIONS SETTINGS.ini`. Paints a
mask, asks for 32 candidates and prints "CANDIDATES n" each time the gallery shows one more;
the round takes about 13 s, so a kill after the sixth lands well before it ends.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from inpaint_gui.engine import Engine, registry  # noqa: E402
from inpaint_gui.ui.main_window import MainWindow  # noqa: E402
from inpaint_gui.ui.settings import Settings  # noqa: E402


class SlowEngine(Engine):
    name = "test-slow"
    label = "Slow (tests only)"
    pluralistic = True

    def _fill(self, image, mask, seeds: Sequence[int], near, spread) -> Iterator[np.ndarray]:
        for seed in seeds:
            time.sleep(0.4)
            yield np.full(image.shape, seed % 256, np.uint8)


def main() -> None:
    photo, sessions, settings_file = sys.argv[1:4]
    registry._BUILDERS["test-slow"] = ("Slow", False, lambda ckpt, dev: SlowEngine())
    app = QApplication([])
    settings = Settings(QSettings(settings_file, QSettings.Format.IniFormat))
    settings.engine, settings.device, settings.n_candidates = "test-slow", "cpu", 32
    window = MainWindow(settings=settings, session_root=Path(sessions))

    def opened(_name: str) -> None:
        window.document.edit_mask("paint", lambda m: m.rectangle((30, 20), (70, 50)))
        window.rounds.generate()

    def ready(_name: str) -> None:
        window.files.opened.connect(opened)
        window.files.open_path(photo)

    window.controller.engine_ready.connect(ready)
    window.controller.engine_failed.connect(lambda name, msg: print("FAILED", name, msg, flush=True))
    window.controller.candidate_ready.connect(
        lambda *_: print("CANDIDATES", len(window.gallery.candidates()), flush=True)
    )
    window.show()
    QTimer.singleShot(120_000, app.quit)  # never outlive a broken test
    app.exec()


if __name__ == "__main__":
    main()
