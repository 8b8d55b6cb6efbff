"""What the screenshot scripts beside this file share: the app in a real window, waits, strokes, PNGs.

Call temp_home() first (settings and autosave go to a temporary folder), then application(),
settings(...) and show_window(...). shoot() grabs a window (or a part of it, at its own pixels)
and saves it under docs/screenshots, as a 256-colour palette (then smaller) while over max_bytes.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
MAX_BYTES = 300_000
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from PySide6.QtCore import QPoint, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from inpaint_gui.ui import qimage  # noqa: E402
from inpaint_gui.ui.main_window import MainWindow  # noqa: E402
from inpaint_gui.ui.settings import Settings  # noqa: E402


def temp_home(prefix: str = "inpaint-shots-") -> Path:
    """A new temporary folder that holds this run's settings, autosave and sessions."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    os.environ["XDG_DATA_HOME"] = str(tmp / "data")
    return tmp


def application() -> QApplication:
    app = QApplication(sys.argv[:1])
    app.setApplicationDisplayName("Inpaint")
    return app


def settings(**values: object) -> Settings:
    """Settings (in temp_home's folder) with the given values set."""
    result = Settings()
    for name, value in values.items():
        setattr(result, name, value)
    return result


def wait_for(condition: Callable[[], object], timeout_ms: int = 120_000) -> None:
    """Run the event loop until condition() holds; RuntimeError after timeout_ms.

    Events are handled, then the thread sleeps in time.sleep, which lets go of the interpreter lock.
    QTest.qWait keeps it while it waits, so a worker thread importing torch (an engine loading) got
    only a slice of it every 50 ms: the engine took minutes to load here and seconds in the app."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not condition() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)
    if not condition():
        raise RuntimeError("timed out waiting for the app")


def show_window(
    config: Settings, tmp: Path, size: tuple[int, int] = (1440, 900), timeout_ms: int = 120_000
) -> MainWindow:
    """The main window shown at (40, 30), once its engine has loaded (the first paint starts it)."""
    window = MainWindow(settings=config, session_root=tmp / "sessions")
    ready: list[str] = []
    window.controller.engine_ready.connect(ready.append)
    window.setGeometry(40, 30, *size)
    window.show()
    wait_for(lambda: bool(ready), timeout_ms)
    return window


def open_image(window: MainWindow, path: Path, timeout_ms: int = 120_000, **kwargs: object) -> None:
    """Open path and wait until it is decoded (on the thread pool) and shown."""
    opened: list[str] = []
    window.files.opened.connect(opened.append)
    window.files.open_path(path, **kwargs)
    wait_for(lambda: bool(opened), timeout_ms)
    window.files.opened.disconnect(opened.append)


def paint(window: MainWindow, stroke: Sequence[tuple[float, float]], size: int, delay_ms: int = 15) -> QPoint:
    """Paint the mask along stroke (image pixels) with real mouse events; the last point, on the canvas."""
    canvas = window.canvas
    window.window_actions.brush_spin.setValue(size)
    points = [canvas.map_from_image(x, y).toPoint() for x, y in stroke]
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
    for p in points[1:]:
        QTest.mouseMove(canvas, p, delay_ms)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
    return points[-1]


def grab(widget: QWidget, whole_screen: bool = False) -> Image.Image:
    """A window as on screen (with open menus and dialogs if whole_screen), or a part at its own pixels."""
    screen = QGuiApplication.primaryScreen()
    if whole_screen:
        g = widget.frameGeometry()
        pil = Image.fromarray(qimage.qimage_to_rgb(screen.grabWindow(0).toImage())[0])
        return pil.crop((g.left(), g.top(), g.right() + 1, g.bottom() + 1))
    if widget.isWindow():
        return Image.fromarray(qimage.qimage_to_rgb(screen.grabWindow(widget.winId()).toImage())[0])
    return Image.fromarray(qimage.qimage_to_rgb(widget.grab().toImage())[0])  # never scaled: "at 100%"


def save(pil: Image.Image, name: str, max_bytes: int = MAX_BYTES, shrink: bool = True) -> Path:
    """OUT/name.png; over max_bytes, a palette, then (if shrink) 9/10 the size until it fits."""
    path = OUT / f"{name}.png"
    pil.save(path, optimize=True)
    while path.stat().st_size > max_bytes:
        # A 256-colour palette with error diffusion keeps photos free of banding at a third of the size.
        palette = pil.quantize(256, method=Image.Quantize.MEDIANCUT)
        pil.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)
        if not shrink or path.stat().st_size <= max_bytes:
            break
        pil = pil.resize((pil.width * 9 // 10, pil.height * 9 // 10), Image.Resampling.LANCZOS)
    print(f"{path.relative_to(ROOT)}: {pil.width}x{pil.height}, {path.stat().st_size // 1024} KB")
    return path


def shoot(
    widget: QWidget,
    name: str,
    wait_ms: int = 300,
    whole_screen: bool = False,
    width: int | None = 1280,
    max_bytes: int = MAX_BYTES,
    shrink: bool = True,
) -> Path:
    """Let the window settle, grab it and save it; whole windows wider than width are scaled down to it."""
    QTest.qWait(wait_ms)
    pil = grab(widget, whole_screen)
    if width is not None and pil.width > width and widget.isWindow() and not whole_screen:
        pil = pil.resize((width, round(pil.height * width / pil.width)), Image.Resampling.LANCZOS)
    return save(pil, name, max_bytes, shrink)


def close(app: QApplication, window: MainWindow) -> None:
    """Close the window without asking about unsaved work, and end the event loop."""
    window.files.confirm_discard = lambda doing: True  # type: ignore[method-assign]
    window.close()
    QTimer.singleShot(0, app.quit)
    app.exec()
