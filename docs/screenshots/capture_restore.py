"""Screenshots of the Restore actions in the real app, on a sample photo with SYNTHETIC damage.

    Xvfb :77 -screen 0 1600x1000x24 &
    DISPLAY=:77 QT_QPA_PLATFORM=xcb python docs/screenshots/capture_restore.py

Scratches and dust are drawn at run time (inpaint_gui.core.defect_synth, seed 3) on
resources/samples/astronaut.jpg; the damaged copy lives in a temporary folder. Detect defects proposes
the mask, the user takes back what is not a defect (here the mouth), Telea fills it, the fill is
applied, and "compare with original" shows the damage again.
With a restoration checkpoint installed, a last pair shows Restore > reduce noise on a noisy copy.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
MAX_BYTES = 300_000


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="inpaint-restore-shots-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    os.environ["XDG_DATA_HOME"] = str(tmp / "data")
    sys.path.insert(0, str(ROOT))

    import numpy as np
    from PIL import Image
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from inpaint_gui.core.defect_synth import add_defects
    from inpaint_gui.core.degrade import degrade
    from inpaint_gui.engine.restore import default_restore_checkpoint
    from inpaint_gui.ui import qimage
    from inpaint_gui.ui.main_window import MainWindow
    from inpaint_gui.ui.settings import Settings

    clean = np.asarray(Image.open(ROOT / "resources/samples/astronaut.jpg").convert("RGB"))
    damaged = tmp / "astronaut_damaged.png"
    Image.fromarray(add_defects(clean, seed=3, scratches=5, specks=25, spots=4).image).save(damaged)

    app = QApplication(sys.argv[:1])
    app.setApplicationDisplayName("Inpaint")
    settings = Settings()
    settings.engine = "telea"
    settings.overlay_colour = "#ff00ff"
    settings.overlay_opacity = 0.7
    window = MainWindow(settings=settings, session_root=tmp / "sessions")
    ready: list[str] = []
    window.controller.engine_ready.connect(ready.append)
    window.setGeometry(40, 30, 1440, 900)
    window.show()

    def wait_for(condition, timeout_ms: int = 120_000) -> None:
        waited = 0
        while not condition() and waited < timeout_ms:
            QTest.qWait(50)
            waited += 50
        if not condition():
            raise RuntimeError("timed out waiting for the app")

    def shoot(name: str) -> None:
        QTest.qWait(300)
        grab = QGuiApplication.primaryScreen().grabWindow(window.winId()).toImage()
        pil = Image.fromarray(qimage.qimage_to_rgb(grab)[0])
        if pil.width > 1280:
            pil = pil.resize((1280, round(pil.height * 1280 / pil.width)), Image.Resampling.LANCZOS)
        path = OUT / f"{name}.png"
        pil.save(path, optimize=True)
        while path.stat().st_size > MAX_BYTES:  # as capture.py: a palette, then smaller until it fits
            palette = pil.quantize(256, method=Image.Quantize.MEDIANCUT)
            pil.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)
            if path.stat().st_size > MAX_BYTES:
                pil = pil.resize((pil.width * 9 // 10, pil.height * 9 // 10), Image.Resampling.LANCZOS)
        print(f"{path.relative_to(ROOT)}: {pil.width}x{pil.height}, {path.stat().st_size // 1024} KB")

    wait_for(lambda: bool(ready))
    opened: list[object] = []
    window.files.opened.connect(opened.append)
    window.files.open_path(damaged)
    wait_for(lambda: bool(opened))
    window.canvas.fit()
    shoot("09-restore-damaged")

    count = window.restore.propose(0.5)  # what the menu action does after asking the sensitivity
    print(f"proposed {count} pixels")
    shoot("10-restore-mask-proposed")
    # The proposal is only a proposal: here it took the mouth for a defect. Erase it from the mask
    # with the rectangle tool's subtract mode (Alt+drag), as a user would, before filling.
    window.document.edit_mask("Rectangle", lambda m: m.rectangle((195, 136), (255, 166), value=False))

    finished: list[object] = []
    window.controller.request_finished.connect(finished.append)
    window.window_actions.generate.trigger()
    wait_for(lambda: bool(finished))
    window.window_actions.apply.trigger()
    shoot("11-restore-filled")
    window.window_actions.compare.setChecked(True)
    shoot("12-restore-compare-original")
    window.window_actions.compare.setChecked(False)

    if default_restore_checkpoint() is not None:
        noisy = tmp / "astronaut_noisy.png"
        Image.fromarray(degrade(clean, np.random.default_rng(1))).save(noisy)
        window.files.confirm_discard = lambda doing: True  # type: ignore[method-assign]
        opened.clear()
        window.files.open_path(noisy)
        wait_for(lambda: bool(opened))
        window.canvas.fit()
        face = window.canvas.map_from_image(225, 120)  # the face at 300%, where noise shows
        window.canvas.set_zoom(3.0, face)
        shoot("13-denoise-before")
        done: list[bool] = []
        window.restore.denoise_finished.connect(done.append)
        window.restore.start_denoise()
        wait_for(lambda: bool(done))
        shoot("14-denoise-after")

    window.files.confirm_discard = lambda doing: True  # type: ignore[method-assign]
    window.close()
    QTimer.singleShot(0, app.quit)
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
