"""Screenshots of the Restore actions in the real app, on a sample photo with SYNTHETIC damage.

    Xvfb :77 -screen 0 1600x1000x24 &
    DISPLAY=:77 QT_QPA_PLATFORM=xcb python docs/screenshots/capture_restore.py

Scratches and dust are drawn at run time (inpaint_gui.core.defect_synth, seed 3) on
resources/samples/astronaut.jpg; the damaged copy lives in a temporary folder. Detect defects (the
trained detector, sensitivity 50%) proposes the mask, the user takes back what is not a defect (a box
over the mouth: the classical detector took it for one; the trained one does not, and the box then
changes nothing), Telea fills it, the fill is applied, and "compare with original" shows the damage
again.
With a restoration checkpoint installed, a last pair shows Restore > reduce noise on a noisy copy.
"""

from __future__ import annotations

import numpy as np
import shots  # the set-up the screenshot scripts share (docs/screenshots/shots.py)
from PIL import Image

from inpaint_gui.core.defect_synth import add_defects
from inpaint_gui.core.degrade import degrade
from inpaint_gui.engine.restore import default_restore_checkpoint


def main() -> int:
    tmp = shots.temp_home("inpaint-restore-shots-")
    clean = np.asarray(Image.open(shots.ROOT / "resources/samples/astronaut.jpg").convert("RGB"))
    damaged = tmp / "astronaut_damaged.png"
    Image.fromarray(add_defects(clean, seed=3, scratches=5, specks=25, spots=4).image).save(damaged)

    app = shots.application()
    settings = shots.settings(engine="telea", overlay_colour="#ff00ff", overlay_opacity=0.7)
    window = shots.show_window(settings, tmp)

    def shoot(name: str) -> None:
        shots.shoot(window, name)

    shots.open_image(window, damaged)
    window.canvas.fit()
    shoot("09-restore-damaged")

    counts: list[int] = []
    window.restore.detect_finished.connect(counts.append)
    window.restore.propose(0.5, "trained")  # what the menu action does after its dialog
    shots.wait_for(lambda: bool(counts))  # detected in a background thread
    print(f"proposed {counts[0]} pixels")
    shoot("10-restore-mask-proposed")
    # The proposal is only a proposal: the classical detector took the mouth for a defect. Erase that
    # part of the mask with the rectangle tool's subtract mode (Alt+drag), as a user would.
    window.document.edit_mask("Rectangle", lambda m: m.rectangle((195, 136), (255, 166), value=False))

    finished: list[object] = []
    window.controller.request_finished.connect(finished.append)
    window.window_actions.generate.trigger()
    shots.wait_for(lambda: bool(finished))
    window.window_actions.apply.trigger()
    shoot("11-restore-filled")
    window.window_actions.compare.setChecked(True)
    shoot("12-restore-compare-original")
    window.window_actions.compare.setChecked(False)

    if default_restore_checkpoint() is not None:
        noisy = tmp / "astronaut_noisy.png"
        Image.fromarray(degrade(clean, np.random.default_rng(1))).save(noisy)
        window.files.confirm_discard = lambda doing: True  # type: ignore[method-assign]
        shots.open_image(window, noisy)
        window.canvas.fit()
        face = window.canvas.map_from_image(225, 120)  # the face at 300%, where noise shows
        window.canvas.set_zoom(3.0, face)
        shoot("13-denoise-before")
        done: list[bool] = []
        window.restore.denoise_finished.connect(done.append)
        window.restore.start_denoise()
        shots.wait_for(lambda: bool(done))
        shoot("14-denoise-after")

    shots.close(app, window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
