"""Screenshots at 100% of a learned fill that the engine computes at a smaller size: before and after.

    Xvfb :77 -screen 0 1600x1000x24 &
    DISPLAY=:77 QT_QPA_PLATFORM=xcb python docs/screenshots/capture_fullres.py

The real app in a real window, the shipped faces network, resources/samples/coffee.jpg. The cup and
saucer are painted out with real mouse events (a hole of about 40% of the photo, so the engine
works on the photo scaled to 256 px and the fill is scaled back up 2.3 times), then filled twice
with the same seed:
  before: the engine as it was (context 1x the hole, no full-resolution detail, hard paste),
          set through the Settings the app now has;
  after:  the defaults (context 0.5x, detail from similar context, colour-matched membrane).
Both are shown at 100% zoom, then the Settings dialog with the new options.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
MAX_BYTES = 400_000


def main() -> int:
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
    from inpaint_gui.ui.settings import Settings, SettingsDialog

    app = QApplication(sys.argv[:1])
    app.setApplicationDisplayName("Inpaint")
    settings = Settings()
    settings.engine = "pluralistic"
    settings.checkpoint = str(ROOT / "checkpoints" / "pluralistic_faces.safetensors")
    settings.n_candidates = 4
    settings.seed_mode = "fixed"
    settings.seed = 3
    settings.overlay_colour = "#1e90ff"
    settings.overlay_opacity = 0.5
    window = MainWindow(settings=settings, session_root=tmp / "sessions")
    engine_ready: list[str] = []
    window.controller.engine_ready.connect(engine_ready.append)
    window.setGeometry(40, 30, 1440, 900)
    window.show()

    def wait_for(condition, timeout_ms: int = int(os.environ.get("SHOT_TIMEOUT_MS", 590_000))) -> None:
        waited = 0
        while not condition() and waited < timeout_ms:
            QTest.qWait(50)
            waited += 50
        if not condition():
            shoot("debug-timeout")
            raise RuntimeError(f"timed out waiting for the app: {window.statusBar().currentMessage()!r}")

    def shoot(name: str, widget=None) -> None:
        widget = widget or window
        QTest.qWait(300)
        image = qimage.qimage_to_rgb(QGuiApplication.primaryScreen().grabWindow(widget.winId()).toImage())[0]
        pil = Image.fromarray(image)
        path = OUT / f"{name}.png"
        pil.save(path, optimize=True)
        if path.stat().st_size > MAX_BYTES:  # a palette keeps 100% pixels 100%: no resizing here
            palette = pil.quantize(256, method=Image.Quantize.MEDIANCUT)
            pil.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)
        print(f"{path.relative_to(ROOT)}: {pil.width}x{pil.height}, {path.stat().st_size // 1024} KB")

    wait_for(lambda: bool(engine_ready))
    canvas = window.canvas

    def paint(stroke: list[tuple[float, float]], size: int) -> None:
        window.actions.brush_spin.setValue(size)
        points = [canvas.map_from_image(x, y).toPoint() for x, y in stroke]
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
        for p in points[1:]:
            QTest.mouseMove(canvas, p, 10)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])

    def fill(name: str) -> None:
        window.files.confirm_discard = lambda doing: True  # type: ignore[method-assign]
        opened: list[str] = []
        window.files.opened.connect(opened.append)
        window.files.open_path(ROOT / "resources" / "samples" / "coffee.jpg", confirmed=True)
        wait_for(lambda: bool(opened))
        window.files.opened.disconnect(opened.append)
        QTest.qWait(300)
        window.actions.zoom_100.trigger()
        QTest.qWait(300)
        # The cup and saucer: rows of a wide brush over an ellipse around them.
        cx, cy, rx, ry = 278, 205, 205, 178
        for y in range(cy - ry + 20, cy + ry, 40):
            half = rx * (1 - ((y - cy) / ry) ** 2) ** 0.5
            paint([(cx - half, y), (cx, y), (cx + half, y)], 64)
        finished: list[object] = []
        failed: list[str] = []
        window.controller.request_finished.connect(finished.append)
        window.controller.request_failed.connect(lambda rid, msg: failed.append(msg))
        window.actions.generate.trigger()
        wait_for(lambda: bool(finished or failed))
        if failed:
            raise RuntimeError(f"generation failed: {failed[0]}")
        window.controller.request_finished.disconnect(finished.append)
        window.gallery.select(0)
        QTest.mouseMove(canvas, QPoint(canvas.width() - 5, canvas.height() - 5))
        shoot(name)

    settings.context, settings.blend, settings.detail = 1.0, "hard", "off"
    fill("09-fullres-before")
    settings.context, settings.blend, settings.detail = 0.0, "auto", "auto"
    fill("10-fullres-after")

    dialog = SettingsDialog(settings, window)
    dialog.move(200, 100)
    dialog.show()
    shoot("11-settings-engine", dialog)
    dialog.close()

    window.files.confirm_discard = lambda doing: True  # type: ignore[method-assign]
    window.close()
    QTimer.singleShot(0, app.quit)
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
