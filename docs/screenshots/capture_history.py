"""Screenshots of the history of generation rounds, from a real window.

    xvfb-run -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb \
        python docs/screenshots/capture_history.py [--checkpoint PATH]

Two rounds on resources/samples/coffee.jpg, each applied; Ctrl+Z on the second Apply brings
its candidates back (09-history-undo); reopening round 1 from the History panel puts its mask
and candidates back to pick another (10-history-reopen). Uses the same capture helpers as
capture.py; the pluralistic engine with --checkpoint (default: the shipped faces one).
"""

from __future__ import annotations

import argparse
from functools import partial

import shots  # the set-up the screenshot scripts share (docs/screenshots/shots.py)
from PySide6.QtCore import QPoint
from PySide6.QtTest import QTest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkpoint", default=str(shots.ROOT / "checkpoints" / "pluralistic_faces.safetensors")
    )
    args = parser.parse_args()
    tmp = shots.temp_home()
    app = shots.application()
    settings = shots.settings(
        engine="pluralistic",
        checkpoint=args.checkpoint,
        device="cpu",
        n_candidates=6,
        seed_mode="fixed",
        seed=11,
        overlay_colour="#1e90ff",
        overlay_opacity=0.5,
    )
    window = shots.show_window(settings, tmp)

    def shoot(name: str) -> None:
        shots.shoot(window, name, wait_ms=400)

    shots.open_image(window, shots.ROOT / "resources" / "samples" / "coffee.jpg")
    canvas = window.canvas
    paint = partial(shots.paint, window)

    finished: list[int] = []
    window.controller.request_finished.connect(finished.append)

    def generate_and_apply(pick: int) -> None:
        finished.clear()
        window.window_actions.generate.trigger()
        shots.wait_for(lambda: bool(finished))
        window.gallery.select(pick)
        window.window_actions.apply.trigger()

    # Round 1: the spoon. Round 2: the cup's handle.
    paint([(413, 68), (408, 110), (400, 150), (392, 188), (383, 222), (372, 248)], 28)
    paint([(360, 262), (364, 288), (368, 300)], 84)
    generate_and_apply(0)
    last = paint([(215, 240), (222, 268), (228, 292)], 64)
    generate_and_apply(0)
    QTest.mouseMove(canvas, last + QPoint(-200, 60))

    # Undo (Edit > Undo, Ctrl+Z) on the Apply: the round's six candidates are back in the gallery.
    window.document.undo_stack.undo()
    window.gallery.select(3)
    shoot("09-history-undo")

    # Reopen round 1 from the History panel: its mask and candidates, to pick another.
    panel = window.history_panel
    panel.select_round(1)
    panel.round_requested.emit(1)
    window.gallery.select(2)
    shoot("10-history-reopen")

    shots.close(app, window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
