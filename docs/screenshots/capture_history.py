"""Screenshots of the history of generation rounds (issue 12), from a real window.

    xvfb-run -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb \
        python docs/screenshots/capture_history.py [--checkpoint PATH]

Two rounds on resources/samples/coffee.jpg, each applied; Ctrl+Z on the second Apply brings
its candidates back (09-history-undo); reopening round 1 from the History panel puts its mask
and candidates back to pick another (10-history-reopen). Uses the same capture helpers as
capture.py; the pluralistic engine with --checkpoint (default: the shipped faces one).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
MAX_BYTES = 300_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "pluralistic_faces.safetensors"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="inpaint-shots-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    os.environ["XDG_DATA_HOME"] = str(tmp / "data")
    sys.path.insert(0, str(ROOT))

    from PIL import Image
    from PySide6.QtCore import QPoint, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from inpaint_gui.ui import qimage
    from inpaint_gui.ui.main_window import MainWindow
    from inpaint_gui.ui.settings import Settings

    app = QApplication(sys.argv[:1])
    app.setApplicationDisplayName("Inpaint")
    settings = Settings()
    settings.engine, settings.checkpoint, settings.device = "pluralistic", args.checkpoint, "cpu"
    settings.n_candidates = 6
    settings.seed_mode = "fixed"
    settings.seed = 11
    settings.overlay_colour = "#1e90ff"
    settings.overlay_opacity = 0.5
    window = MainWindow(settings=settings, session_root=tmp / "sessions")
    engine_ready: list[str] = []
    window.controller.engine_ready.connect(engine_ready.append)
    window.setGeometry(40, 30, 1440, 900)
    window.show()

    def wait_for(condition, timeout_ms: int = 120_000) -> None:
        waited = 0
        while not condition() and waited < timeout_ms:
            QTest.qWait(50)
            waited += 50
        if not condition():
            raise RuntimeError("timed out waiting for the app")

    def shoot(name: str) -> None:
        QTest.qWait(400)
        screen = QGuiApplication.primaryScreen()
        pil = Image.fromarray(qimage.qimage_to_rgb(screen.grabWindow(window.winId()).toImage())[0])
        if pil.width > 1280:
            pil = pil.resize((1280, round(pil.height * 1280 / pil.width)), Image.Resampling.LANCZOS)
        path = OUT / f"{name}.png"
        pil.save(path, optimize=True)
        while path.stat().st_size > MAX_BYTES:
            palette = pil.quantize(256, method=Image.Quantize.MEDIANCUT)
            pil.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)
            if path.stat().st_size > MAX_BYTES:
                pil = pil.resize((pil.width * 9 // 10, pil.height * 9 // 10), Image.Resampling.LANCZOS)
        print(f"{path.relative_to(ROOT)}: {pil.width}x{pil.height}, {path.stat().st_size // 1024} KB")

    wait_for(lambda: bool(engine_ready))
    opened: list[str] = []
    window.files.opened.connect(opened.append)
    window.files.open_path(ROOT / "resources" / "samples" / "coffee.jpg")
    wait_for(lambda: bool(opened))
    canvas = window.canvas

    def paint(stroke: list[tuple[float, float]], size: int) -> QPoint:
        window.window_actions.brush_spin.setValue(size)
        points = [canvas.map_from_image(x, y).toPoint() for x, y in stroke]
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
        for p in points[1:]:
            QTest.mouseMove(canvas, p, 15)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
        return points[-1]

    finished: list[int] = []
    window.controller.request_finished.connect(finished.append)

    def generate_and_apply(pick: int) -> None:
        finished.clear()
        window.window_actions.generate.trigger()
        wait_for(lambda: bool(finished))
        window.gallery.select(pick)
        window.window_actions.apply.trigger()

    # Round 1: the spoon. Round 2: the cup's handle.
    paint([(413, 68), (408, 110), (400, 150), (392, 188), (383, 222), (372, 248)], 28)
    paint([(360, 262), (364, 288), (368, 300)], 84)
    generate_and_apply(0)
    last = paint([(215, 240), (222, 268), (228, 292)], 64)
    generate_and_apply(0)
    QTest.mouseMove(canvas, last + QPoint(-200, 60))

    # Undo (Edit > Undo, Ctrl+Z) on the Apply: the round's six candidates are back in the gallery.
    window.document.undo_stack.undo()
    window.gallery.select(3)
    shoot("09-history-undo")

    # Reopen round 1 from the History panel: its mask and candidates, to pick another.
    panel = window.history_panel
    panel.select_round(1)
    panel.round_requested.emit(1)
    window.gallery.select(2)
    shoot("10-history-reopen")

    window.files.confirm_discard = lambda doing: True  # type: ignore[method-assign]
    window.close()
    QTimer.singleShot(0, app.quit)
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
