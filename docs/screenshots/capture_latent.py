"""Screenshots of the latent-search engine in the real app, on the face in resources/samples/astronaut.jpg.

    Xvfb :77 -screen 0 1600x1000x24 &
    DISPLAY=:77 QT_QPA_PLATFORM=xcb python docs/screenshots/capture_latent.py [--checkpoint PATH]

The engine expects an aligned face filling the frame (as its training images), so the face is cut
from the sample photo into a temporary file first. The mask is painted with real mouse events;
the search runs on the real worker thread. Writes 09-latent-searching.png (the progress bar while
the candidates converge) and 10-latent-candidates.png.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="latent release checkpoint (default: the shipped one)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="inpaint-shots-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    os.environ["XDG_DATA_HOME"] = str(tmp / "data")
    sys.path.insert(0, str(ROOT))

    from capture import MAX_BYTES, OUT  # the same output folder and size budget
    from PIL import Image
    from PySide6.QtCore import QPoint, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from inpaint_gui.ui import qimage
    from inpaint_gui.ui.main_window import MainWindow
    from inpaint_gui.ui.settings import Settings

    face = tmp / "astronaut_face.png"
    Image.open(ROOT / "resources" / "samples" / "astronaut.jpg").crop((151, 35, 321, 205)).save(face)

    app = QApplication(sys.argv[:1])
    app.setApplicationDisplayName("Inpaint")
    settings = Settings()
    settings.engine = "latent"
    settings.checkpoint = args.checkpoint
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

    def wait_for(condition, timeout_ms: int = 900_000) -> None:
        waited = 0
        while not condition() and waited < timeout_ms:
            QTest.qWait(50)
            waited += 50
        if not condition():
            raise RuntimeError("timed out waiting for the app")

    def shoot(name: str) -> None:
        QTest.qWait(300)
        screen = QGuiApplication.primaryScreen()
        image = qimage.qimage_to_rgb(screen.grabWindow(window.winId()).toImage())[0]
        pil = Image.fromarray(image)
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
    canvas = window.canvas
    window.files.open_path(face)
    wait_for(lambda: window.document.has_image() and canvas.has_image())  # decoded off the GUI thread
    QTest.qWait(500)  # laid out and fitted before the mouse paints
    canvas = window.canvas
    window.actions.brush_spin.setValue(22)
    points = [canvas.map_from_image(x, y).toPoint() for x, y in ((42, 72), (85, 70), (128, 72))]
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
    for p in points[1:]:
        QTest.mouseMove(canvas, p, 15)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])

    finished: list[int] = []
    steps: list[int] = []
    window.controller.request_finished.connect(finished.append)
    window.controller.search_progress.connect(lambda _rid, step, _total: steps.append(step))
    QTest.qWait(300)
    if not window.document.mask_doc.any():
        raise RuntimeError("the painted stroke left no mask")
    window.actions.generate.trigger()
    wait_for(lambda: len(steps) >= 20 or bool(finished))
    shoot("09-latent-searching")
    wait_for(lambda: bool(finished))
    window.gallery.select(min(1, len(window.gallery.candidates()) - 1))
    QTest.mouseMove(window.gallery, QPoint(window.gallery.width() // 2, window.gallery.height() - 20))
    shoot("10-latent-candidates")

    window.files.confirm_discard = lambda doing: True  # type: ignore[method-assign]
    window.close()
    QTimer.singleShot(0, app.quit)
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
