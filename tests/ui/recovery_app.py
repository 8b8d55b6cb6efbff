"""Run the app offscreen until a round of candidates has finished, say so, and wait to be killed.

Used by test_recovery.py: `python recovery_app.py PHOTO SESSIONS SETTINGS.ini CHECKPOINT N`.
Prints "FINISHED <seeds>" the moment the save the round's request_finished started (the window's
slot runs before this script's) is on disk, then idles: a crash before that moment leaves the
previous save, as the autosave's design says.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from inpaint_gui.ui.main_window import MainWindow  # noqa: E402
from inpaint_gui.ui.settings import Settings  # noqa: E402


def main() -> None:
    photo, sessions, settings_file, checkpoint, n = sys.argv[1:6]
    app = QApplication([])
    settings = Settings(QSettings(settings_file, QSettings.Format.IniFormat))
    settings.engine, settings.checkpoint, settings.device = "pluralistic", checkpoint, "cpu"
    settings.n_candidates = int(n)
    window = MainWindow(settings=settings, session_root=Path(sessions))

    def finished(_rid: int) -> None:
        if window.autosave.writing():
            QTimer.singleShot(5, lambda: finished(_rid))
            return
        print("FINISHED", " ".join(str(s) for s in window.gallery.seeds()), flush=True)

    def opened(_name: str) -> None:
        window.document.edit_mask("paint", lambda m: m.rectangle((30, 20), (70, 50)))
        window.controller.request_finished.connect(finished)
        window.rounds.generate()

    def ready(_name: str) -> None:
        window.files.opened.connect(opened)
        window.files.open_path(photo)

    window.controller.engine_ready.connect(ready)
    window.controller.engine_failed.connect(lambda name, msg: print("FAILED", name, msg, flush=True))
    window.show()
    QTimer.singleShot(120_000, app.quit)  # never outlive a broken test
    app.exec()


if __name__ == "__main__":
    main()
