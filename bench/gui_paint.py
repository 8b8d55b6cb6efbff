"""Paint handler time for brush strokes on a 6000x4000 photo.

    python bench/gui_paint.py [--size 6000x4000] [--brush 60] [--events 200] [--platform offscreen|xcb]

A MaskCanvas of 1600x1000 shows a synthetic 6000x4000 image; a left-button
stroke of N mouse-move events crosses it at three zooms (fit, 100%, 300%).
After each event the pending repaint is processed, so every figure covers one
event as the user sees it: "input" is the mouse handler (mask operation and
overlay update), "paint" is paintEvent for the dirty region only, "total" is
the event plus its repaint and flush. No visible lag means total well under
one 60 Hz frame (16.7 ms). Also times a full repaint and a pan step.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np


def _stats(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"median {statistics.median(ms):6.2f} ms  p95 {p95:6.2f} ms  max {ms[-1]:6.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="6000x4000")
    parser.add_argument("--brush", type=float, default=60.0, help="brush diameter in image pixels")
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    args = parser.parse_args()
    os.environ["QT_QPA_PLATFORM"] = args.platform
    width, height = (int(v) for v in args.size.lower().split("x"))

    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from inpaint_gui.core.mask_doc import MaskDoc
    from inpaint_gui.ui import qimage
    from inpaint_gui.ui.canvas import MaskCanvas

    app = QApplication(sys.argv[:1])

    class TimedCanvas(MaskCanvas):
        paint_times: list[float] = []
        input_times: list[float] = []

        def paintEvent(self, event) -> None:  # noqa: N802
            t = time.perf_counter()
            super().paintEvent(event)
            self.paint_times.append(time.perf_counter() - t)

        def mouseMoveEvent(self, event) -> None:  # noqa: N802
            t = time.perf_counter()
            super().mouseMoveEvent(event)
            self.input_times.append(time.perf_counter() - t)

    yy, xx = np.mgrid[0:height, 0:width]
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[..., 0] = (xx * 255 // width).astype(np.uint8)
    rgb[..., 1] = (yy * 255 // height).astype(np.uint8)
    rgb[..., 2] = ((xx // 50 + yy // 50) % 2 * 120 + 60).astype(np.uint8)
    del yy, xx

    canvas = TimedCanvas()
    canvas.resize(1600, 1000)
    canvas.show()
    app.processEvents()
    t = time.perf_counter()
    image = qimage.rgb_to_qimage(rgb)
    canvas.set_document(image, MaskDoc(height, width))
    canvas.repaint()
    print(f"{width}x{height}: convert + first full paint {1000 * (time.perf_counter() - t):.0f} ms")
    canvas.set_brush_size(args.brush)

    def send(kind, pos: QPointF, button, buttons) -> None:
        event = QMouseEvent(
            kind, pos, canvas.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(canvas, event)

    failed = False
    for label, zoom in (("fit", None), ("100%", 1.0), ("300%", 3.0)):
        if zoom is None:
            canvas.fit()
        else:
            canvas.set_zoom(zoom, QPointF(800, 500))
        canvas.repaint()
        TimedCanvas.paint_times.clear()
        TimedCanvas.input_times.clear()
        # A wavy stroke across the visible part of the canvas, about 8 screen pixels per event.
        points = [
            QPointF(100 + 1400 * i / args.events, 500 + 300 * np.sin(i / args.events * 6.28))
            for i in range(args.events + 1)
        ]
        left = Qt.MouseButton.LeftButton
        send(QEvent.Type.MouseButtonPress, points[0], left, left)
        totals = []
        for p in points[1:]:
            t = time.perf_counter()
            send(QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, left)
            app.processEvents()  # the repaint of what this event dirtied
            totals.append(time.perf_counter() - t)
        send(QEvent.Type.MouseButtonRelease, points[-1], left, Qt.MouseButton.NoButton)
        app.processEvents()
        print(f"zoom {label:>4} ({canvas.zoom():.3f}), brush {args.brush:g} px, {args.events} events:")
        print(f"  input {_stats(TimedCanvas.input_times)}")
        print(f"  paint {_stats(TimedCanvas.paint_times)}")
        print(f"  total {_stats(totals)}")
        failed |= statistics.median(totals) * 1000 > 16.7

    canvas.fit()
    times = []
    for _ in range(10):
        t = time.perf_counter()
        canvas.repaint()
        times.append(time.perf_counter() - t)
    print(f"full repaint at fit: {_stats(times)}")
    canvas.set_zoom(1.0)
    times = []
    for _ in range(30):
        t = time.perf_counter()
        canvas.pan_by(-12, -7)
        app.processEvents()
        times.append(time.perf_counter() - t)
    print(f"pan step at 100%:    {_stats(times)}")
    canvas.close()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
