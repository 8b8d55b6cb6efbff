"""How long does the GUI thread stall for the autosave when a round's candidates have all arrived?

    python bench/gui_autosave.py [--image PHOTO] [--photo-size 6000x4000] [--hole 0.08] [-n 6] [--repeats 4]

The whole app (MainWindow, offscreen) holds a photo with a painted hole; each trial puts a
fresh round of n candidates (random pixels in the hole's box, as the history keeps them) in the
history and calls the window's own "request finished" slot, whose autosave writes the session:
the mask, and the round's file with its n crops. A 10 ms timer ticks in the GUI thread from
before the slot until the save is on disk; printed per trial: the slot's time, the longest
stall of the event loop (minus the period) and the time until the save was written.

Two modes alternate trial by trial in one process: "sync" makes the slot's save the
synchronous `save_now` (the design before the writer thread took it), "writer" is the app as
it is. Load average printed with each trial: the figures are only comparable within a run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from gui_heartbeat import PERIOD_MS, Heartbeat  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from inpaint_gui.core.image_io import LoadedImage  # noqa: E402
from inpaint_gui.ui.history import KeptCandidate  # noqa: E402
from inpaint_gui.ui.main_window import MainWindow  # noqa: E402
from inpaint_gui.ui.settings import Settings  # noqa: E402


def _wait(condition, timeout_s: float = 120.0) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise SystemExit("timed out")
        QTest.qWait(5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", type=Path, help="a photo (default: a random 6000x4000 image)")
    ap.add_argument("--photo-size", default="6000x4000", help="size of the random image, WxH")
    ap.add_argument("--hole", type=float, default=1 / 12, help="the hole's share of the photo")
    ap.add_argument("-n", type=int, default=6, help="candidates in the round")
    ap.add_argument("--repeats", type=int, default=4, help="trials of each mode")
    ap.add_argument("--modes", default="sync,writer", help="which modes to alternate")
    args = ap.parse_args()

    app = QApplication(sys.argv[:1])  # noqa: F841 (kept alive for the run)
    QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Discard)
    tmp = tempfile.TemporaryDirectory()
    settings = Settings(QSettings(str(Path(tmp.name) / "settings.ini"), QSettings.Format.IniFormat))
    settings.engine = "telea"
    window = MainWindow(settings=settings, session_root=Path(tmp.name) / "sessions", max_pixels=50_000_000)
    window.resize(1400, 900)
    window.show()
    if args.image is not None:
        opened: list = []
        window.files.opened.connect(lambda *a: opened.append(1))
        window.files.open_path(args.image)
        _wait(lambda: bool(opened))
    else:
        w, h = (int(v) for v in args.photo_size.lower().split("x"))
        rgb = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
        window.files.open_loaded(LoadedImage(rgb, None, None, None, None, "bench"), "bench")
    doc = window.document
    h, w = doc.rgb.shape[:2]
    side = max(1, int(round((args.hole * h * w) ** 0.5)))
    top, left = h // 4, w // 3
    box = (top, left, min(h, top + side), min(w, left + side))
    doc.edit_mask("paint", lambda m: m.rectangle((box[1], box[0]), (box[3], box[2])))
    autosave = window.autosave
    autosave.save_now()
    rounds = window.rounds
    writer_save = rounds._w.autosave.__class__.__dict__.get("start_save")  # noqa: SLF001
    store = autosave.store
    save = store.save
    written: list[float] = []

    def timed_save(state) -> bool:  # in whichever thread the app saves
        try:
            return save(state)
        finally:
            written.append(time.perf_counter())

    store.save = timed_save
    modes = args.modes.split(",")
    if "writer" in modes and writer_save is None:
        raise SystemExit("this code has no writer-thread save on candidate arrival: use --modes sync")
    mp = h * w / 1e6
    crop_mb = (box[2] - box[0]) * (box[3] - box[1]) * 3 / 1e6
    print(
        f"{w}x{h} ({mp:.1f} MP), hole box {box[3] - box[1]}x{box[2] - box[0]}, {args.n} candidates "
        f"of {crop_mb:.1f} MB, {os.cpu_count()} CPUs"
    )
    rng = np.random.default_rng(1)
    beat = Heartbeat()
    results: dict[str, list[tuple[float, float]]] = {m: [] for m in modes}
    for trial in range(args.repeats):
        for mode in modes:
            rounds.history.records.clear()
            record = rounds.history.start(doc.mask_doc.mask, box, "telea", None, "bench", args.n)
            shape = (box[2] - box[0], box[3] - box[1], 3)
            for k in range(args.n):
                record.candidates.append(KeptCandidate(rng.integers(0, 256, shape, dtype=np.uint8), k, 0.0))
            if mode == "sync":
                autosave.start_save = autosave.save_now  # as the slot was: the save in the GUI thread
            elif "start_save" in vars(autosave):
                del autosave.start_save
            QTest.qWait(300)
            written.clear()
            load = os.getloadavg()[0]
            beat.start()
            start = time.perf_counter()
            rounds._on_controller_request_finished(0)  # noqa: SLF001
            call_ms = (time.perf_counter() - start) * 1000
            _wait(lambda: bool(written))
            QTest.qWait(50)
            gaps = beat.stop()
            stall = max(gaps) - PERIOD_MS if gaps else 0.0
            done_ms = (written[0] - start) * 1000
            results[mode].append((call_ms, stall))
            print(
                f"{mode:<7} trial {trial + 1}: slot {call_ms:6.1f} ms, longest stall {stall:6.1f} ms, "
                f"written after {done_ms:6.1f} ms, load {load:.1f}"
            )
    for mode, rows in results.items():
        calls, stalls = [r[0] for r in rows], [r[1] for r in rows]
        print(
            f"{mode:<7} slot median {statistics.median(calls):.1f} ms ({min(calls):.1f}-{max(calls):.1f}), "
            f"stall median {statistics.median(stalls):.1f} ms ({min(stalls):.1f}-{max(stalls):.1f})"
        )
    doc.edit_mask("clear", lambda m: m.clear())
    rounds.history.records.clear()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
