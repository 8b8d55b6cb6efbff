"""Longest event-loop stall while the main window opens a 6000x4000 JPEG.

    python bench/gui_open.py [--size 6000x4000] [--rounds 3]

A 5 ms heartbeat timer runs while DocumentFiles.open_path opens a synthetic
JPEG (written to a temp folder); each round prints how long the open_path call
took, when the image was shown, and the longest gap between heartbeats.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="6000x4000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    width, height = (int(v) for v in args.size.lower().split("x"))

    from PIL import Image
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from inpaint_gui.ui.main_window import MainWindow
    from inpaint_gui.ui.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="gui-open-"))
    path = folder / "big.jpg"
    small = np.random.default_rng(0).integers(0, 256, (height // 10, width // 10, 3), dtype=np.uint8)
    Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC).save(path, quality=92)

    app = QApplication([])
    settings = Settings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
    settings.engine = "telea"
    window = MainWindow(settings=settings, session_root=folder / "sessions")
    window.resize(1200, 800)
    window.show()

    def idle(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    idle(1500)  # first paint, engine load
    for n in range(args.rounds):
        beats: list[float] = []
        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(lambda beats=beats: beats.append(time.perf_counter()))
        timer.start()
        idle(100)
        shown: list[float] = []
        window.files.opened.connect(lambda _name, shown=shown: shown.append(time.perf_counter()))
        start = time.perf_counter()
        window.files.open_path(path, confirmed=True)
        call = time.perf_counter() - start
        while not shown:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)
        idle(300)
        timer.stop()
        window.files.opened.disconnect()
        gaps = np.diff([b for b in beats if b > start - 0.05])
        print(
            f"round {n}: open_path returned in {call * 1000:.0f} ms, image shown after "
            f"{(shown[0] - start) * 1000:.0f} ms, longest stall {gaps.max() * 1000:.0f} ms"
        )
    window.document.close_image()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
