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

import shots  # the set-up the screenshot scripts share (docs/screenshots/shots.py)
from PySide6.QtCore import QPoint
from PySide6.QtTest import QTest

from inpaint_gui.ui.settings import SettingsDialog

MAX_BYTES = 400_000
TIMEOUT_MS = int(os.environ.get("SHOT_TIMEOUT_MS", 590_000))


def main() -> int:
    tmp = shots.temp_home()
    app = shots.application()
    settings = shots.settings(
        engine="pluralistic",
        checkpoint=str(shots.ROOT / "checkpoints" / "pluralistic_faces.safetensors"),
        n_candidates=4,
        seed_mode="fixed",
        seed=3,
        overlay_colour="#1e90ff",
        overlay_opacity=0.5,
    )
    window = shots.show_window(settings, tmp, timeout_ms=TIMEOUT_MS)

    def shoot(name: str, widget=None) -> None:  # a palette keeps 100% pixels 100%: no resizing here
        shots.shoot(widget or window, name, width=None, max_bytes=MAX_BYTES, shrink=False)

    def wait_for(condition) -> None:
        try:
            shots.wait_for(condition, TIMEOUT_MS)
        except RuntimeError:
            shoot("debug-timeout")
            raise RuntimeError(
                f"timed out waiting for the app: {window.statusBar().currentMessage()!r}"
            ) from None

    canvas = window.canvas

    def paint(stroke: list[tuple[float, float]], size: int) -> None:
        shots.paint(window, stroke, size, delay_ms=10)

    def fill(name: str) -> None:
        window.files.confirm_discard = lambda doing: True  # type: ignore[method-assign]
        shots.open_image(
            window, shots.ROOT / "resources" / "samples" / "coffee.jpg", TIMEOUT_MS, confirmed=True
        )
        QTest.qWait(300)
        window.window_actions.zoom_100.trigger()
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
        window.window_actions.generate.trigger()
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

    shots.close(app, window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
