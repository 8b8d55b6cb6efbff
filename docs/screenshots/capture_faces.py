"""The default engine on a portrait: a stroke over the nose and mouth, filled by the faces network.

    Xvfb :77 -screen 0 1600x1000x24 &
    DISPLAY=:77 QT_QPA_PLATFORM=xcb python docs/screenshots/capture_faces.py [--every-candidate DIR]

resources/samples/astronaut.jpg, the default engine (guided, which sends holes on faces to the
faces network), 6 candidates from seed 0; the status bar after the round says which engine filled
which part. --every-candidate DIR also saves each candidate's face at 100% there, to look at them all.
Settings and autosave go to a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import shots  # the set-up the screenshot scripts share (docs/screenshots/shots.py)
from PIL import Image
from PySide6.QtCore import QPoint
from PySide6.QtTest import QTest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every-candidate", type=Path, help="folder for every candidate at 100%%")
    args = parser.parse_args()
    tmp = shots.temp_home()
    app = shots.application()
    settings = shots.settings(
        engine="guided",
        n_candidates=6,
        seed_mode="fixed",
        seed=0,
        overlay_colour="#1e90ff",
        overlay_opacity=0.5,
    )
    window = shots.show_window(settings, tmp)
    shots.open_image(window, shots.ROOT / "resources" / "samples" / "astronaut.jpg")
    last = shots.paint(window, [(214, 134), (222, 135), (230, 136), (238, 136)], 44)
    QTest.mouseMove(window.canvas, last + QPoint(120, 60))
    shots.shoot(window, "18-face-masked")

    finished = []
    window.controller.request_finished.connect(finished.append)
    window.controller.request_failed.connect(
        lambda _rid, msg: print("generation failed:", msg, file=sys.stderr)
    )
    window.window_actions.generate.trigger()
    shots.wait_for(lambda: bool(finished))
    print("status:", window.statusBar().currentMessage())
    window.gallery.select(0)
    QTest.mouseMove(window.gallery, QPoint(window.gallery.width() // 2, window.gallery.height() - 20))
    shots.shoot(window, "19-face-candidates")

    if args.every_candidate:  # the candidates' own pixels around the face, at 100%
        args.every_candidate.mkdir(parents=True, exist_ok=True)
        Image.fromarray(window.rounds.round.mask).save(args.every_candidate / "mask.png")
        Image.fromarray(window.document.rgb).save(args.every_candidate / "photo.png")
        for i, candidate in enumerate(window.gallery.candidates()):
            crop = Image.fromarray(candidate.image[40:200, 140:310])
            crop.save(args.every_candidate / f"candidate-{i + 1}-at-100-percent.png")
    # The first candidate applied, at 100% (a preview is drawn under the mask's overlay).
    window.gallery.select(0)
    window.window_actions.apply.trigger()
    window.canvas.actual_size()
    QTest.mouseMove(window.gallery, QPoint(window.gallery.width() // 2, window.gallery.height() - 20))
    shots.shoot(window.canvas, "20-face-at-100-percent")
    shots.close(app, window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
