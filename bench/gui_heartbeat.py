"""Does the GUI event loop stay responsive while the model loads and candidates generate?

    python bench/gui_heartbeat.py [-n 6] [--repeats 3] [--checkpoint PATH] [--image PATH]

A 10 ms QTimer ticks in the GUI thread while the real GenerationController
loads the pluralistic engine (torch import included) and then generates n
candidates, which stream into a real CandidateGallery (thumbnails made in the
GUI thread, as in the app). The longest gap between ticks, minus the 10 ms
period, is the longest stall of the event loop; target: under 50 ms.

Without --checkpoint, a randomly initialised network of the default
(paper-sized) architecture is written first, in a subprocess so this process
has not imported torch when the measurement starts: speed does not depend on
the weights' values. Runs offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, SignalInstance  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from inpaint_gui.core.image_io import load_image  # noqa: E402
from inpaint_gui.ui.controller import GenerationController  # noqa: E402
from inpaint_gui.ui.gallery import CandidateGallery  # noqa: E402

PERIOD_MS = 10
TARGET_MS = 50.0


class Heartbeat(QObject):
    """Records the gaps between ticks of a precise PERIOD_MS timer."""

    def __init__(self) -> None:
        super().__init__()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(PERIOD_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._last = 0.0
        self.gaps_ms: list[float] = []

    def start(self) -> None:
        self.gaps_ms = []
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> list[float]:
        self._timer.stop()
        return self.gaps_ms

    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        self.gaps_ms.append((now - self._last) * 1000.0)
        self._last = now


def wait_for(signal: SignalInstance, timeout_s: float) -> list:
    """Run the event loop until signal fires; returns its arguments."""
    loop = QEventLoop()
    got: list[list] = []

    def done(*args) -> None:
        got.append(list(args))
        loop.quit()

    signal.connect(done)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(done)
    if not got:
        raise SystemExit(f"timed out after {timeout_s:.0f} s waiting for {signal}")
    return got[0]


def report(name: str, gaps: list[float], seconds: float) -> float:
    stall = max(gaps) - PERIOD_MS if gaps else 0.0
    over = sum(g - PERIOD_MS > TARGET_MS for g in gaps)
    p99 = statistics.quantiles(gaps, n=100)[98] - PERIOD_MS if len(gaps) >= 100 else stall
    verdict = "OK" if stall < TARGET_MS else "OVER TARGET"
    print(
        f"{name:<28} {seconds:7.2f} s  ticks {len(gaps):5d}  longest stall {stall:6.1f} ms  "
        f"p99 stall {p99:5.1f} ms  stalls > {TARGET_MS:.0f} ms: {over}  [{verdict}]"
    )
    return stall


def make_checkpoint(folder: Path, resolution: int) -> Path:
    path = folder / "bench.safetensors"
    code = (
        "import sys; from inpaint_gui.engine.pluralistic import save_random_release; "
        "from inpaint_gui.models import PluralisticConfig; "
        f"save_random_release(sys.argv[1], config=PluralisticConfig(), resolution={resolution})"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=ROOT)
    return path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=6, help="candidates per request")
    p.add_argument("--repeats", type=int, default=3, help="generate requests to time")
    p.add_argument(
        "--checkpoint", type=Path, help="the engine's checkpoint (default: a random pluralistic one)"
    )
    p.add_argument("--resolution", type=int, default=256, help="training size of the random network")
    p.add_argument("--image", type=Path, default=ROOT / "resources" / "samples" / "rocket.jpg")
    p.add_argument("--engine", default="pluralistic")
    p.add_argument("--photo-size", metavar="WxH", help="resize the image first, e.g. 6000x4000")
    args = p.parse_args()

    image = load_image(args.image).rgb
    if args.photo_size:
        pw, ph = (int(v) for v in args.photo_size.lower().split("x"))
        image = cv2.resize(image, (pw, ph), interpolation=cv2.INTER_CUBIC)
    # As the app's document does: the photo is never written in place, so the controller need not copy it.
    image.setflags(write=False)
    h, w = image.shape[:2]
    mask = np.zeros((h, w), bool)
    mask[h // 4 : h // 4 + h // 3, w // 3 : w // 3 + w // 4] = True

    app = QApplication.instance() or QApplication(sys.argv[:1])
    gallery = CandidateGallery()
    gallery.resize(360, 700)
    gallery.show()
    controller = GenerationController()
    beat = Heartbeat()

    totals: list[int] = []

    def on_candidate(rid: int, cand: object, index: int, total: int) -> None:
        gallery.add_candidate(cand)
        gallery.set_progress(index + 1, total)
        totals.append(total)

    controller.candidate_ready.connect(on_candidate)
    # A searching engine's live previews (latent) are drawn in the GUI thread as in the app.
    controller.search_preview.connect(
        lambda _rid, step, total, fills: gallery.show_search_preview(fills, step, total)
    )
    controller.start()
    stalls = []
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = None if args.checkpoint is None else str(args.checkpoint)
        if args.engine == "pluralistic" and ckpt is None:
            ckpt = str(make_checkpoint(Path(tmp), args.resolution))
        print(
            f"image {args.image.name} {w}x{h}, hole {int(mask.sum())} px, engine {args.engine}, "
            f"{args.n} candidates, {os.cpu_count()} CPUs, platform {app.platformName()}"
        )
        print(f"torch imported in the GUI process before loading: {'torch' in sys.modules}")
        beat.start()
        t = time.perf_counter()
        controller.load_engine(args.engine, ckpt, "cpu")
        wait_for(controller.engine_ready, 300)
        stalls.append(report("load engine (+ torch import)", beat.stop(), time.perf_counter() - t))
        for r in range(args.repeats):
            gallery.clear()
            gallery.set_focus_mask(mask)
            beat.start()
            t = time.perf_counter()
            rid = controller.generate(image, mask, n=args.n, seed=1000 * r)
            while True:
                (done,) = wait_for(controller.request_finished, 600)
                if done == rid:
                    break
            seconds = time.perf_counter() - t
            stalls.append(report(f"generate {args.n} (run {r + 1})", beat.stop(), seconds))
            assert len(gallery.candidates()) == totals[-1]
    controller.shutdown()
    worst = max(stalls)
    print(f"worst stall: {worst:.1f} ms (target < {TARGET_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
