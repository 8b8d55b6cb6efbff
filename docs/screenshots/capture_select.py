"""Screenshots at 100% of the Select object tool: a box, its outline, corrections, the fill.

    Xvfb :77 -screen 0 1600x1000x24 &
    DISPLAY=:77 QT_QPA_PLATFORM=xcb python docs/screenshots/capture_select.py
    DISPLAY=:77 QT_QPA_PLATFORM=xcb python docs/screenshots/capture_select.py --image PHOTO \\
        --box X,Y,W,H [--fg X,Y,X,Y...] [--bg X,Y,X,Y...] --name bird --out /tmp/shots

The real app in a real window: the photo is shown at 100% around the box, the Select object tool
is picked from its toolbar action, the box is dragged with real mouse events, at most two
correcting strokes are painted (left: object, right: not object), Enter commits the outline,
the engine fills the mask and the first candidate is applied. Shots: the proposed outline, after
the strokes, the committed mask, the fill; all of the canvas at its own pixels. The default is
the spoon in resources/samples/coffee.jpg; photos that may not be committed go to --out.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import shots  # the set-up the screenshot scripts share (docs/screenshots/shots.py)
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from inpaint_gui.ui.canvas import Tool

TIMEOUT_MS = int(os.environ.get("SHOT_TIMEOUT_MS", 590_000))
MAX_BYTES = 250_000


def _numbers(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", type=Path, default=shots.ROOT / "resources" / "samples" / "coffee.jpg")
    ap.add_argument("--box", default="312,58,118,277", help="X,Y,W,H")
    ap.add_argument("--fg", action="append", default=None, help="object stroke X,Y,X,Y,... (image px)")
    ap.add_argument("--bg", action="append", default=None, help="not-object stroke X,Y,X,Y,...")
    ap.add_argument("--name", default="spoon")
    ap.add_argument("--first", type=int, default=15, help="number of the first screenshot")
    ap.add_argument("--out", type=Path, default=None, help="folder (default docs/screenshots)")
    ap.add_argument("--engine", default="guided")
    ap.add_argument("--window", default="1440x900", help="window size, WxH")
    args = ap.parse_args()
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        shots.OUT = args.out  # photos that may not be committed stay out of docs/
        shots.ROOT = Path(args.out.resolve().anchor)  # shots.save prints paths relative to ROOT

    tmp = shots.temp_home()
    app = shots.application()
    settings = shots.settings(
        engine=args.engine, n_candidates=4, seed_mode="fixed", seed=5,
        overlay_colour="#1e90ff", overlay_opacity=0.5,
    )  # fmt: skip
    size = tuple(int(v) for v in args.window.split("x"))
    window = shots.show_window(settings, tmp, size=size, timeout_ms=TIMEOUT_MS)
    shots.open_image(window, args.image, timeout_ms=TIMEOUT_MS)
    canvas = window.canvas
    selector = canvas.object_select
    x, y, w, h = _numbers(args.box)

    # 100%, the box in the middle of the canvas.
    canvas.set_zoom(1.0)
    centre = canvas.map_from_image(x + w / 2, y + h / 2)
    canvas.pan_by(round(canvas.width() / 2 - centre.x()), round(canvas.height() / 2 - centre.y()))
    window.window_actions.tools[Tool.SELECT].trigger()
    number = args.first

    def shoot(what: str) -> None:
        """The canvas at its own pixels, cropped to the photo where the photo is smaller."""
        nonlocal number
        QTest.mouseMove(canvas, QPoint(canvas.width() - 5, canvas.height() - 5))
        QTest.qWait(300)
        top_left = canvas.map_from_image(0, 0)
        size = canvas.image_size()
        bottom_right = canvas.map_from_image(size.width(), size.height())
        left, top = max(0, round(top_left.x())), max(0, round(top_left.y()))
        right = min(canvas.width(), round(bottom_right.x()))
        bottom = min(canvas.height(), round(bottom_right.y()))
        pil = shots.grab(canvas).crop((left, top, right, bottom))
        shots.save(pil, f"{number:02d}-select-{args.name}-{what}", MAX_BYTES, shrink=False)
        number += 1

    def settle() -> None:
        shots.wait_for(lambda: selector.has_proposal() and not selector.is_busy(), TIMEOUT_MS)

    def drag(points: list[tuple[float, float]], button=Qt.MouseButton.LeftButton) -> None:
        at = [canvas.map_from_image(px, py).toPoint() for px, py in points]
        QTest.mousePress(canvas, button, Qt.KeyboardModifier.NoModifier, at[0])
        for a, b in zip(at, at[1:], strict=False):
            for k in range(1, 6):
                QTest.mouseMove(canvas, (QPointF(a) + (QPointF(b) - QPointF(a)) * (k / 5)).toPoint(), 10)
        QTest.mouseRelease(canvas, button, Qt.KeyboardModifier.NoModifier, at[-1])

    drag([(x, y), (x + w, y + h)])
    settle()
    shoot("outline")
    strokes = [(s, Qt.MouseButton.LeftButton) for s in args.fg or []]
    strokes += [(s, Qt.MouseButton.RightButton) for s in args.bg or []]
    for text, button in strokes:
        v = _numbers(text)
        points = list(zip(v[::2], v[1::2], strict=True))
        drag(points if len(points) > 1 else points * 2, button)
        settle()
    if strokes:
        shoot("corrected")
    QTest.keyClick(canvas, Qt.Key.Key_Return)
    shoot("mask")

    finished: list = []
    window.controller.request_finished.connect(finished.append)
    window.controller.request_failed.connect(
        lambda _rid, msg: print("generation failed:", msg, file=sys.stderr)
    )
    window.window_actions.generate.trigger()
    shots.wait_for(lambda: bool(finished), TIMEOUT_MS)
    window.gallery.select(0)
    window.window_actions.apply.trigger()
    shoot("filled")
    shots.close(app, window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
