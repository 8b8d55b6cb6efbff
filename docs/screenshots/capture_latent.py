"""Screenshots of the latent-search engine in the real app, on the face in resources/samples/astronaut.jpg.

    Xvfb :77 -screen 0 1600x1000x24 &
    DISPLAY=:77 QT_QPA_PLATFORM=xcb python docs/screenshots/capture_latent.py [--checkpoint PATH]

The engine expects an aligned face filling the frame (as its training images), so the face is cut
from the sample photo into a temporary file first. The mask is painted with real mouse events;
the search runs on the real worker thread. Writes 09-latent-searching.png (the gallery's live
previews and the progress bar while the candidates converge, taken the moment the preview of step
20 arrives) and 10-latent-candidates.png.
"""

from __future__ import annotations

import argparse

import shots  # the set-up the screenshot scripts share (docs/screenshots/shots.py)
from PIL import Image
from PySide6.QtCore import QPoint
from PySide6.QtTest import QTest

TIMEOUT_MS = 900_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="latent release checkpoint (default: the shipped one)")
    args = parser.parse_args()
    tmp = shots.temp_home()
    face = tmp / "astronaut_face.png"
    Image.open(shots.ROOT / "resources" / "samples" / "astronaut.jpg").crop((151, 35, 321, 205)).save(face)

    app = shots.application()
    settings = shots.settings(
        engine="latent",
        checkpoint=args.checkpoint,
        n_candidates=6,
        seed_mode="fixed",
        seed=11,
        overlay_colour="#1e90ff",
        overlay_opacity=0.5,
    )
    window = shots.show_window(settings, tmp, timeout_ms=TIMEOUT_MS)

    def shoot(name: str) -> None:
        shots.shoot(window, name)

    canvas = window.canvas
    shots.open_image(window, face, timeout_ms=TIMEOUT_MS)  # decoded off the GUI thread
    shots.wait_for(canvas.has_image, TIMEOUT_MS)
    QTest.qWait(500)  # laid out and fitted before the mouse paints
    shots.paint(window, [(42, 72), (85, 70), (128, 72)], 22)

    finished: list[int] = []
    searching: list[int] = []

    def on_preview(_rid: int, step: int, _total: int, _fills: object) -> None:
        # The search takes a second or two: grab the window now, while the previews are up
        # (connected after the app's own slot, so the gallery already shows this step).
        if step >= 20 and not searching:
            searching.append(step)
            shots.shoot(window, "09-latent-searching", wait_ms=0)

    window.controller.request_finished.connect(finished.append)
    window.controller.search_preview.connect(on_preview)
    QTest.qWait(300)
    if not window.document.mask_doc.any():
        raise RuntimeError("the painted stroke left no mask")
    window.window_actions.generate.trigger()
    shots.wait_for(lambda: bool(finished), TIMEOUT_MS)
    if not searching:
        raise RuntimeError("no search preview arrived")
    window.gallery.select(min(1, len(window.gallery.candidates()) - 1))
    QTest.mouseMove(window.gallery, QPoint(window.gallery.width() // 2, window.gallery.height() - 20))
    shoot("10-latent-candidates")

    shots.close(app, window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
