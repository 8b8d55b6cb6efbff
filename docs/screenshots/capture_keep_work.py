"""Screenshots for issue 12 (keeping the user's work), from the real app in a real window.

    xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb \
        python docs/screenshots/capture_keep_work.py

Uses resources/samples/coffee.jpg and the Telea engine; the mask is painted with
real mouse events. Writes 12-stale-candidates.png, 12-mask-menu.png and 12-soft-edge.png.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
MAX_BYTES = 300_000


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="inpaint-shots-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    os.environ["XDG_DATA_HOME"] = str(tmp / "data")
    sys.path.insert(0, str(ROOT))

    from PIL import Image
    from PySide6.QtCore import QPoint, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QSpinBox

    from inpaint_gui.ui import qimage
    from inpaint_gui.ui.main_window import MainWindow
    from inpaint_gui.ui.settings import Settings, SettingsDialog

    app = QApplication(sys.argv[:1])
    app.setApplicationDisplayName("Inpaint")
    settings = Settings()
    settings.engine = "telea"
    settings.overlay_colour = "#1e90ff"
    settings.overlay_opacity = 0.5
    window = MainWindow(settings=settings, session_root=tmp / "sessions")
    ready: list[str] = []
    window.controller.engine_ready.connect(ready.append)
    window.setGeometry(40, 30, 1280, 800)
    window.show()

    def wait_for(condition, timeout_ms: int = 60_000) -> None:
        waited = 0
        while not condition() and waited < timeout_ms:
            QTest.qWait(50)
            waited += 50
        if not condition():
            raise RuntimeError("timed out waiting for the app")

    def shoot(name: str, whole_screen: bool = False) -> None:  # whole screen: with menus and dialogs
        QTest.qWait(300)
        screen = QGuiApplication.primaryScreen()
        grab = screen.grabWindow(0) if whole_screen else screen.grabWindow(window.winId())
        pil = Image.fromarray(qimage.qimage_to_rgb(grab.toImage())[0])
        if whole_screen:  # the window and its open menu
            g = window.frameGeometry()
            pil = pil.crop((g.left(), g.top(), g.right() + 1, g.bottom() + 1))
        path = OUT / f"{name}.png"
        pil.save(path, optimize=True)
        while path.stat().st_size > MAX_BYTES:
            palette = pil.quantize(256, method=Image.Quantize.MEDIANCUT)
            pil.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)
            if path.stat().st_size > MAX_BYTES:
                pil = pil.resize((pil.width * 9 // 10, pil.height * 9 // 10), Image.Resampling.LANCZOS)
        print(f"{path.relative_to(ROOT)}: {pil.width}x{pil.height}, {path.stat().st_size // 1024} KB")

    wait_for(lambda: bool(ready))
    opened: list[str] = []
    window.files.opened.connect(opened.append)
    window.files.open_path(ROOT / "resources" / "samples" / "coffee.jpg")
    wait_for(lambda: bool(opened))
    canvas, acts = window.canvas, window.window_actions
    finished: list[int] = []
    window.controller.request_finished.connect(finished.append)

    def paint(stroke: list[tuple[float, float]], size: int) -> QPoint:
        acts.brush_spin.setValue(size)
        points = [canvas.map_from_image(x, y).toPoint() for x, y in stroke]
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
        for p in points[1:]:
            QTest.mouseMove(canvas, p, 15)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
        return points[-1]

    def generate() -> None:
        finished.clear()
        acts.generate.trigger()
        wait_for(lambda: bool(finished))

    # Item 1: brush the spoon's handle, Ctrl+Enter, Ctrl+Z, a new stroke left of the saucer, Enter.
    paint([(413, 68), (408, 110), (400, 150), (392, 188), (383, 222)], 24)
    generate()
    acts.undo.trigger()
    last = paint([(40, 240), (42, 290), (44, 330)], 30)
    acts.apply.trigger()  # refused: the status bar says why; the new stroke stays
    QTest.mouseMove(canvas, last + QPoint(120, -40))
    shoot("12-stale-candidates")

    # Item 5: the Mask menu's file actions, then a fill applied with a soft edge, at 200 %.
    acts.clear_mask.trigger()
    window.rounds.end()
    mask_menu = next(a for a in window.menuBar().actions() if a.text() == "&Mask")
    window.menuBar().setActiveAction(mask_menu)
    QTest.qWait(400)
    shoot("12-mask-menu", whole_screen=True)
    mask_menu.menu().close()
    settings.feather = 8
    paint([(413, 68), (408, 110), (400, 150), (392, 188), (383, 222)], 24)
    generate()
    acts.apply.trigger()
    canvas.leaveEvent(None)  # no cursor over the canvas: Ctrl+1 centres the hole
    acts.zoom_100.trigger()
    canvas.set_zoom(2.0)
    dialog = SettingsDialog(settings, window)
    dialog._engine_reason.hide()  # it names this machine's checkpoint folder
    dialog.adjustSize()
    dialog.show()
    dialog.move(window.x() + window.width() - dialog.width() - 20, window.y() + 120)
    dialog.findChild(QSpinBox, "feather").setFocus()
    window.statusBar().showMessage("Applied with a soft edge of 8 px: the fill fades into the table")
    shoot("12-soft-edge", whole_screen=True)
    dialog.close()

    window.files.confirm_discard = lambda doing: True  # type: ignore[method-assign]
    window.close()
    QTimer.singleShot(0, app.quit)
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
