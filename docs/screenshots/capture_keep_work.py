"""Screenshots of keeping the user's work (stale candidates, mask menu, soft edge), from the real app.

    xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb \
        python docs/screenshots/capture_keep_work.py

Uses resources/samples/coffee.jpg and the Telea engine; the mask is painted with
real mouse events. Writes 12-stale-candidates.png, 12-mask-menu.png and 12-soft-edge.png.
"""

from __future__ import annotations

from functools import partial

import shots  # the set-up the screenshot scripts share (docs/screenshots/shots.py)
from PySide6.QtCore import QPoint
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QSpinBox

from inpaint_gui.ui.settings import SettingsDialog


def main() -> int:
    tmp = shots.temp_home()
    app = shots.application()
    settings = shots.settings(engine="telea", overlay_colour="#1e90ff", overlay_opacity=0.5)
    window = shots.show_window(settings, tmp, size=(1280, 800), timeout_ms=60_000)

    def shoot(name: str, whole_screen: bool = False) -> None:  # whole screen: with menus and dialogs
        shots.shoot(window, name, whole_screen=whole_screen, width=None)

    shots.open_image(window, shots.ROOT / "resources" / "samples" / "coffee.jpg", timeout_ms=60_000)
    canvas, acts = window.canvas, window.window_actions
    finished: list[int] = []
    window.controller.request_finished.connect(finished.append)
    paint = partial(shots.paint, window)

    def generate() -> None:
        finished.clear()
        acts.generate.trigger()
        shots.wait_for(lambda: bool(finished), 60_000)

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

    shots.close(app, window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
