"""Drive the real app in a real window and save screenshots of the main flows.

    Xvfb :77 -screen 0 1600x1000x24 &
    DISPLAY=:77 QT_QPA_PLATFORM=xcb python docs/screenshots/capture.py [--checkpoint PATH]

Uses only images from resources/samples. The mask is painted with real mouse
events through the canvas; generation runs on the real worker thread with the
--engine (default patchmatch, the default for photos; --checkpoint implies pluralistic).
Settings and autosave go to a temporary folder.
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
    parser.add_argument("--checkpoint", help="pluralistic release checkpoint (default: the shipped one)")
    parser.add_argument("--sample", default="coffee.jpg")
    parser.add_argument("--engine", default="patchmatch", help="engine to generate with (default patchmatch)")
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

    from inpaint_gui.engine import describe_engines
    from inpaint_gui.ui import qimage
    from inpaint_gui.ui.main_window import MainWindow
    from inpaint_gui.ui.settings import Settings

    app = QApplication(sys.argv[:1])
    app.setApplicationDisplayName("Inpaint")
    settings = Settings()
    engines = {e.name: e for e in describe_engines()}
    engine = "pluralistic" if args.checkpoint else args.engine
    if engine not in engines or not (engines[engine].available or args.checkpoint):
        raise SystemExit(f"engine {engine!r} cannot load here")
    settings.engine = engine
    settings.checkpoint = args.checkpoint
    settings.n_candidates = 6
    settings.seed_mode = "fixed"
    settings.seed = 11
    settings.overlay_colour = "#1e90ff"  # blue shows best on this red cup and brown table
    settings.overlay_opacity = 0.5
    window = MainWindow(settings=settings, session_root=tmp / "sessions")
    engine_ready: list[str] = []
    window.controller.engine_ready.connect(engine_ready.append)
    window.setGeometry(40, 30, 1440, 900)
    window.show()

    def wait(ms: int) -> None:
        QTest.qWait(ms)

    def wait_for(condition, timeout_ms: int = 120_000) -> None:
        waited = 0
        while not condition() and waited < timeout_ms:
            QTest.qWait(50)
            waited += 50
        if not condition():
            raise RuntimeError("timed out waiting for the app")

    def shoot(name: str, widget=None) -> None:
        widget = widget or window
        wait(300)
        if widget.isWindow():
            grabbed = QGuiApplication.primaryScreen().grabWindow(widget.winId()).toImage()
        else:  # a part of the window, at its own pixels (never scaled: shots "at 100%")
            grabbed = widget.grab().toImage()
        image = qimage.qimage_to_rgb(grabbed)[0]
        pil = Image.fromarray(image)
        if pil.width > 1280 and widget.isWindow():
            pil = pil.resize((1280, round(pil.height * 1280 / pil.width)), Image.Resampling.LANCZOS)
        path = OUT / f"{name}.png"
        pil.save(path, optimize=True)
        while path.stat().st_size > MAX_BYTES:
            # A 256-colour palette with error diffusion keeps photos free of banding at a third of the size.
            palette = pil.quantize(256, method=Image.Quantize.MEDIANCUT)
            pil.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)
            if path.stat().st_size > MAX_BYTES:
                pil = pil.resize((pil.width * 9 // 10, pil.height * 9 // 10), Image.Resampling.LANCZOS)
        print(f"{path.relative_to(ROOT)}: {pil.width}x{pil.height}, {path.stat().st_size // 1024} KB")

    wait_for(lambda: bool(engine_ready))  # the first paint starts the worker and the engine load

    # 1. An image opened.
    window.files.open_path(ROOT / "resources" / "samples" / args.sample)
    wait_for(lambda: window.document.has_image())  # decoding runs on the thread pool
    shoot("01-open")

    # 2. A mask painted with real mouse events; the brush outline follows the cursor.
    canvas = window.canvas

    def paint(stroke: list[tuple[float, float]], size: int) -> QPoint:
        window.window_actions.brush_spin.setValue(size)
        points = [canvas.map_from_image(x, y).toPoint() for x, y in stroke]
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
        for p in points[1:]:
            QTest.mouseMove(canvas, p, 15)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
        return points[-1]

    # The spoon: its handle with a narrow brush, its bowl with a wide one.
    paint([(413, 68), (408, 110), (400, 150), (392, 188), (383, 222), (372, 248)], 28)
    last = paint([(360, 262), (364, 288), (368, 300)], 84)
    QTest.mouseMove(canvas, last + QPoint(90, 30))
    shoot("02-mask-painted")

    # 3. Candidates streamed into the gallery; the first previews in place.
    finished = []
    window.controller.request_finished.connect(finished.append)
    window.controller.request_failed.connect(
        lambda _rid, msg: print("generation failed:", msg, file=sys.stderr)
    )
    window.window_actions.generate.trigger()
    wait_for(lambda: bool(finished))
    window.gallery.select(min(1, len(window.gallery.candidates()) - 1))
    QTest.mouseMove(window.gallery, QPoint(window.gallery.width() // 2, window.gallery.height() - 20))
    shoot("03-gallery-candidates")

    # 3b. Another candidate at 100%: the fill's grain is the photo's own.
    window.gallery.select(min(3, len(window.gallery.candidates()) - 1))
    window.canvas.actual_size()
    QTest.mouseMove(window.gallery, QPoint(window.gallery.width() // 2, window.gallery.height() - 20))
    shoot("09-candidate-at-100-percent", window.canvas)
    window.canvas.fit()

    # 4. Uncertainty overlay (needs two or more candidates), then the comparison grid.
    if len(window.gallery.candidates()) > 1:
        window.window_actions.uncertainty.setChecked(True)
        shoot("04-uncertainty")
        window.window_actions.uncertainty.setChecked(False)
    window.rounds.compare_candidates()
    dialog = window.rounds._compare_dialog
    dialog.resize(1400, 880)
    dialog.move(60, 40)
    wait(500)
    shoot("05-compare-grid", dialog)
    dialog.close()

    # 5. Applied, then compared with the original (hold \).
    window.window_actions.apply.trigger()
    shoot("06-applied")
    window.window_actions.compare.setChecked(True)
    shoot("07-compare-original")
    window.window_actions.compare.setChecked(False)

    # 6. Presentation mode, with a new round in the large gallery.
    window.window_actions.presentation.setChecked(True)
    wait(500)
    last = paint([(215, 240), (222, 268), (228, 292)], 64)  # the cup's handle
    finished.clear()
    window.window_actions.generate.trigger()
    wait_for(lambda: bool(finished))
    QTest.mouseMove(canvas, last + QPoint(-160, 40))
    shoot("08-presentation")
    window.window_actions.presentation.setChecked(False)

    window.files.confirm_discard = lambda doing: True  # type: ignore[method-assign]
    window.close()
    QTimer.singleShot(0, app.quit)
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
