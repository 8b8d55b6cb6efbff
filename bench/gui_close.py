"""How long closing the main window blocks while the engine loads or a huge image decodes.

    python bench/gui_close.py engine            # close while the pluralistic engine loads
    python bench/gui_close.py decode [--size 14000x14000]   # close while a 196 MP JPEG decodes

Each run is a fresh process (torch not yet imported, nothing cached). It prints how long the
window.close() call took, how long the event loop went without running (longest gap between
5 ms heartbeats from the close on), when the window was gone from the screen, and when the
application had quit (the work under way finished, the thread stopped, the session folder went).
The synthetic JPEG is written once to the temp folder and reused.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

MAX_PIXELS = 400_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=("engine", "decode"))
    parser.add_argument("--size", default="14000x14000", help="image size for decode (default 196 MP)")
    parser.add_argument("--after-ms", type=int, default=150, help="close this long after the work starts")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from inpaint_gui.core.image_io import raise_pillow_limit
    from inpaint_gui.engine.checkpoint import FACES_NAME, checkpoint_dir
    from inpaint_gui.ui.main_window import MainWindow
    from inpaint_gui.ui.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="gui-close-"))
    raise_pillow_limit(MAX_PIXELS)  # as the app does at start
    path = None
    if args.scenario == "decode":
        width, height = (int(v) for v in args.size.lower().split("x"))
        path = Path(tempfile.gettempdir()) / f"gui-close-{width}x{height}.jpg"
        if not path.exists():
            from PIL import Image

            small = np.random.default_rng(0).integers(0, 256, (height // 20, width // 20, 3), dtype=np.uint8)
            Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR).save(path, quality=90)

    app = QApplication([])
    settings = Settings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
    if args.scenario == "engine":
        settings.engine, settings.device = "pluralistic", "cpu"
        settings.checkpoint = str(checkpoint_dir() / FACES_NAME)
    else:
        settings.engine = "telea"
    window = MainWindow(settings=settings, session_root=folder / "sessions", max_pixels=MAX_PIXELS)
    window.resize(1200, 800)

    def idle(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    beats: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: beats.append(time.perf_counter()))
    timer.start()
    window.show()
    if args.scenario == "engine":
        while not window._started:  # the first paint starts the worker and the engine load
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)
    else:
        idle(1500)  # telea loads
        window.files.open_path(path, confirmed=True)
    idle(args.after_ms)
    busy = window.controller.engine_name == "" if args.scenario == "engine" else window.files.is_opening()
    hidden: list[float] = []
    start = time.perf_counter()
    window.close()
    call = time.perf_counter() - start
    if not window.isVisible():
        hidden.append(time.perf_counter())
    while window.isVisible():
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)
    hidden = hidden or [time.perf_counter()]
    quit_at = [time.perf_counter()] if not window.controller.worker_thread() else []
    app.aboutToQuit.connect(lambda: quit_at.append(time.perf_counter()))
    if not quit_at:
        QTimer.singleShot(30_000, app.quit)
        app.exec()
    gone = quit_at[0] if quit_at else time.perf_counter()
    gaps = np.diff([start, *[b for b in beats if b > start], hidden[0]])
    print(
        f"{args.scenario}: work still running at close: {busy}; close() returned in {call * 1000:.0f} ms, "
        f"longest event-loop stall {gaps.max() * 1000:.0f} ms, window gone after "
        f"{(hidden[0] - start) * 1000:.0f} ms, app quit after {(gone - start) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
