"""Drive the real app in a real window and save screenshots of the main flows.

    Xvfb :77 -screen 0 1600x1000x24 &
    DISPLAY=:77 QT_QPA_PLATFORM=xcb python docs/screenshots/capture.py [--checkpoint PATH]

Uses only images from resources/samples. The mask is painted with real mouse
events through the canvas; generation runs on the real worker thread with the
--engine (default guided, the default for photos; --checkpoint implies pluralistic).
Settings and autosave go to a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial

import shots  # the set-up the screenshot scripts share (docs/screenshots/shots.py)
from PySide6.QtCore import QPoint
from PySide6.QtTest import QTest

from inpaint_gui.engine import describe_engines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="pluralistic release checkpoint (default: the shipped one)")
    parser.add_argument("--sample", default="coffee.jpg")
    parser.add_argument("--engine", default="guided", help="engine to generate with (default guided)")
    args = parser.parse_args()
    tmp = shots.temp_home()

    app = shots.application()
    engines = {e.name: e for e in describe_engines()}
    engine = "pluralistic" if args.checkpoint else args.engine
    if engine not in engines or not (engines[engine].available or args.checkpoint):
        raise SystemExit(f"engine {engine!r} cannot load here")
    settings = shots.settings(
        engine=engine,
        checkpoint=args.checkpoint,
        n_candidates=6,
        seed_mode="fixed",
        seed=11,
        overlay_colour="#1e90ff",  # blue shows best on this red cup and brown table
        overlay_opacity=0.5,
    )
    window = shots.show_window(settings, tmp)  # the first paint starts the worker and the engine load

    def shoot(name: str, widget=None) -> None:
        shots.shoot(widget or window, name)

    # 1. An image opened.
    shots.open_image(window, shots.ROOT / "resources" / "samples" / args.sample)
    shoot("01-open")

    # 2. A mask painted with real mouse events; the brush outline follows the cursor.
    canvas = window.canvas
    paint = partial(shots.paint, window)

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
    shots.wait_for(lambda: bool(finished))
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
    QTest.qWait(500)
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
    QTest.qWait(500)
    last = paint([(215, 240), (222, 268), (228, 292)], 64)  # the cup's handle
    finished.clear()
    window.window_actions.generate.trigger()
    shots.wait_for(lambda: bool(finished))
    QTest.mouseMove(canvas, last + QPoint(-160, 40))
    shoot("08-presentation")
    window.window_actions.presentation.setChecked(False)

    shots.close(app, window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
