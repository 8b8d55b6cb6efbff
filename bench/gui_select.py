"""Does the GUI stay responsive while Select object works on a large photo?

    python bench/gui_select.py --image PHOTO --box X,Y,W,H [--repeats 3]

A real MaskCanvas (offscreen unless QT_QPA_PLATFORM says otherwise) shows the photo; a 10 ms
QTimer ticks in the GUI thread while a box is dragged with real mouse events, the selection
runs on the thread pool, its outline is drawn, and Enter commits it to the mask. The longest
gap between ticks, minus the period, is the longest stall of the event loop (target: under
50 ms), from the press until the committed mask has been painted. Also reported: the time
from the release to the outline on screen.

Baselines in the same run, alternating with it: the event loop idle for 2 s (what the
machine's load alone does to the timer), and the existing Rectangle tool dragged over the
same box (a mask edit of the same size, committed on release).

--window measures the whole app instead of a bare canvas: a real MainWindow opens the photo,
so the commit also reaches the undo stack, the candidates' staleness check and the autosave,
which writes the session SessionAutosave.DELAY_MS after the edit; the heartbeat runs until
that save is done (settings and sessions in a temporary folder).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from gui_heartbeat import Heartbeat, report  # noqa: E402
from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from inpaint_gui.core.image_io import load_image  # noqa: E402
from inpaint_gui.core.mask_doc import MaskDoc  # noqa: E402
from inpaint_gui.ui import qimage  # noqa: E402
from inpaint_gui.ui.canvas import MaskCanvas, Tool  # noqa: E402
from inpaint_gui.ui.main_window import MainWindow  # noqa: E402
from inpaint_gui.ui.settings import Settings  # noqa: E402


def _wait(app: QApplication, condition, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the selection")
        app.processEvents()
        time.sleep(0.002)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", type=Path, required=True)
    ap.add_argument("--box", required=True, help="X,Y,W,H in image pixels")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--window", action="store_true", help="the whole app: undo stack, autosave")
    args = ap.parse_args()
    x, y, w, h = (int(v) for v in args.box.split(","))

    app = QApplication(sys.argv[:1])
    rgb = load_image(args.image, max_pixels=50_000_000).rgb
    edits: list = []
    saves: list = []
    if args.window:
        tmp = tempfile.TemporaryDirectory()
        settings = Settings(QSettings(str(Path(tmp.name) / "settings.ini"), QSettings.Format.IniFormat))
        settings.engine = "telea"
        sessions = Path(tmp.name) / "sessions"
        window = MainWindow(settings=settings, session_root=sessions, max_pixels=50_000_000)
        window.resize(1400, 900)
        window.show()
        opened: list = []
        window.files.opened.connect(lambda *a: opened.append(1))
        window.files.open_path(args.image)
        _wait(app, lambda: bool(opened))
        canvas = window.canvas
        doc = window.document.mask_doc
        rgb = np.asarray(window.document.rgb)
        store = window.autosave.store
        save = store.save

        def counted_save(state) -> bool:  # in whichever thread the app saves
            try:
                return save(state)
            finally:
                saves.append(1)

        store.save = counted_save  # the bench counts the saves
        window.window_actions.tools[Tool.SELECT].trigger()
    else:
        doc = MaskDoc(*rgb.shape[:2])
        canvas = MaskCanvas()
        canvas.resize(1400, 900)
        canvas.show()
        canvas.set_document(qimage.rgb_to_qimage(rgb), doc)
        canvas.object_select.set_image_source(lambda: rgb)
        canvas.set_tool(Tool.SELECT)
    canvas.mask_edited.connect(lambda text, diff: edits.append(diff))
    QTest.qWait(200)
    mp = rgb.shape[0] * rgb.shape[1] / 1e6
    print(f"{args.image.name}: {rgb.shape[1]}x{rgb.shape[0]} ({mp:.1f} MP), box {x},{y},{w},{h}")
    print("load average {:.1f} {:.1f} {:.1f} (1, 5, 15 min)".format(*os.getloadavg()))
    beat = Heartbeat()
    selector = canvas.object_select
    a = canvas.map_from_image(x, y).toPoint()
    b = canvas.map_from_image(x + w, y + h).toPoint()

    def drag() -> None:
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
        for k in range(1, 11):
            QTest.mouseMove(canvas, a + (b - a) * (k / 10), 5)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)

    for i in range(args.repeats):
        beat.start()
        start = time.perf_counter()
        QTest.qWait(2000)
        report(f"idle #{i + 1}", beat.stop(), time.perf_counter() - start)

        canvas.set_tool(Tool.RECTANGLE)
        beat.start()
        start = time.perf_counter()
        drag()
        _wait_saved(app, saves, args.window)
        QTest.qWait(100)
        report(f"rectangle tool #{i + 1}", beat.stop(), time.perf_counter() - start)
        _undo(canvas, doc, edits.pop())
        canvas.set_tool(Tool.SELECT)

        beat.start()
        start = time.perf_counter()
        drag()
        released = time.perf_counter()
        _wait(app, lambda: selector.has_proposal() and not selector.is_busy())
        app.processEvents()  # the outline's paint
        shown = time.perf_counter()
        QTest.keyClick(canvas, Qt.Key.Key_Return)
        _wait(app, lambda: len(edits) == 1)
        _wait_saved(app, saves, args.window)
        QTest.qWait(100)
        gaps = beat.stop()
        report(f"select + commit #{i + 1}", gaps, time.perf_counter() - start)
        print(f"    release to outline shown: {shown - released:.2f} s; mask {int(doc.mask.sum()):,} px")
        _undo(canvas, doc, edits.pop())
        assert not np.any(doc.mask)
    if args.window:
        window.close()
    else:
        canvas.close()
    print("load average {:.1f} {:.1f} {:.1f} (1, 5, 15 min)".format(*os.getloadavg()))
    return 0


def _wait_saved(app: QApplication, saves: list, window: bool) -> None:
    """In --window mode, until the autosave the edit scheduled has run."""
    if window:
        count = len(saves)
        _wait(app, lambda: len(saves) > count)


def _undo(canvas: MaskCanvas, doc: MaskDoc, diff) -> None:
    doc.undo(diff)  # outside the heartbeat: not measured
    canvas.refresh_mask(diff.boxes)


if __name__ == "__main__":
    raise SystemExit(main())
