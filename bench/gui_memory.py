"""Does memory stay flat over many generate/apply rounds?

    python bench/gui_memory.py [--cycles 100] [-n 6] [--photo-size 1600x1067] [--paper]

Each cycle does what a designer's round does in the app: the real
GenerationController generates n candidates on its worker thread, they stream
into a real CandidateGallery, one is previewed (numpy -> QImage, as the canvas
does), the uncertainty overlay is computed, the chosen one is composited into
the document image, then the gallery is cleared and the mask moves. RSS is read
from /proc after every cycle; the figure that matters is the growth after the
warm-up cycles (allocator pools, torch's caches and Qt's pixmap cache fill up
during the first few).

The network is the tiny test architecture by default (leaks are in the
plumbing, not in the weights); --paper uses the paper-sized one (slow on CPU).
"""

from __future__ import annotations

import argparse
import gc
import os
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
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from inpaint_gui.core.compose import composite  # noqa: E402
from inpaint_gui.core.image_io import load_image  # noqa: E402
from inpaint_gui.ui.controller import GenerationController  # noqa: E402
from inpaint_gui.ui.gallery import CandidateGallery  # noqa: E402
from inpaint_gui.ui.qimage import rgb_to_qimage  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def make_checkpoint(folder: Path, paper: bool) -> Path:
    path = folder / "bench.safetensors"
    config = "PluralisticConfig()" if paper else "TINY_CONFIG"
    code = (
        "import sys; from inpaint_gui.engine.pluralistic import save_random_release, TINY_CONFIG; "
        "from inpaint_gui.models import PluralisticConfig; "
        f"save_random_release(sys.argv[1], config={config}, resolution={256 if paper else 64})"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=ROOT)
    return path


def run_until(controller: GenerationController, rid: int, timeout_s: float = 600) -> str:
    """Spin the event loop until request rid ends; returns 'finished', 'failed: ...' or 'cancelled'."""
    loop = QEventLoop()
    outcome: list[str] = []

    def end(what: str, r: int) -> None:
        if r == rid:
            outcome.append(what)
            loop.quit()

    handlers = [
        (controller.request_finished, lambda r: end("finished", r)),
        (controller.request_failed, lambda r, msg: end(f"failed: {msg}", r)),
        (controller.request_cancelled, lambda r: end("cancelled", r)),
    ]
    for signal, fn in handlers:
        signal.connect(fn)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    for signal, fn in handlers:
        signal.disconnect(fn)
    return outcome[0] if outcome else "timeout"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cycles", type=int, default=100)
    p.add_argument("-n", type=int, default=6)
    p.add_argument("--warmup", type=int, default=10, help="cycles before growth is measured")
    p.add_argument("--photo-size", default="1600x1067", metavar="WxH")
    p.add_argument("--paper", action="store_true", help="paper-sized network instead of the tiny one")
    p.add_argument("--image", type=Path, default=ROOT / "resources" / "samples" / "rocket.jpg")
    args = p.parse_args()

    pw, ph = (int(v) for v in args.photo_size.lower().split("x"))
    document = cv2.resize(load_image(args.image).rgb, (pw, ph), interpolation=cv2.INTER_CUBIC)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    gallery = CandidateGallery()
    gallery.resize(360, 700)
    gallery.show()
    controller = GenerationController()
    controller.candidate_ready.connect(lambda rid, cand, i, total: gallery.add_candidate(cand))
    previews: list = []
    gallery.candidate_previewed.connect(
        lambda i: previews.append(rgb_to_qimage(gallery.candidates()[i].image)) if i >= 0 else None
    )
    controller.start()

    with tempfile.TemporaryDirectory() as tmp:
        ckpt = make_checkpoint(Path(tmp), args.paper)
        loop = QEventLoop()
        controller.engine_ready.connect(loop.quit)
        controller.engine_failed.connect(lambda name, msg: (print("engine failed:", msg), loop.quit()))
        controller.load_engine("pluralistic", str(ckpt), "cpu")
        loop.exec()

    print(
        f"{args.cycles} cycles of generate {args.n} + preview + uncertainty + apply, "
        f"{pw}x{ph} photo, {'paper' if args.paper else 'tiny'} network, platform {app.platformName()}"
    )
    rng = np.random.default_rng(0)
    readings: list[float] = []
    start = time.perf_counter()
    for cycle in range(1, args.cycles + 1):
        mask = np.zeros((ph, pw), bool)
        top, left = int(rng.integers(0, ph * 3 // 4)), int(rng.integers(0, pw * 3 // 4))
        mask[top : top + ph // 6, left : left + pw // 6] = True
        gallery.clear()
        gallery.set_focus_mask(mask)
        rid = controller.generate(document, mask, n=args.n, seed=cycle * 100)
        outcome = run_until(controller, rid)
        if outcome != "finished":
            print(f"cycle {cycle}: request {outcome}")
            return 1
        gallery.select(len(gallery.candidates()) - 1)
        overlay = gallery.uncertainty_overlay(mask)
        chosen = gallery.candidates()[gallery.selected_index()]
        document = composite(chosen.image, document, mask)  # apply: the document's new pixels
        del overlay, chosen
        previews.clear()
        app.processEvents()
        readings.append(rss_mb())
        if cycle in (1, 2, 5) or cycle % 10 == 0:
            print(f"cycle {cycle:4d}  RSS {readings[-1]:8.1f} MB  ({time.perf_counter() - start:6.1f} s)")
    gallery.clear()
    controller.shutdown()
    gc.collect()

    warm = readings[args.warmup - 1 :] if args.cycles > args.warmup else readings
    x = np.arange(len(warm), dtype=float)
    slope = float(np.polyfit(x, warm, 1)[0]) if len(warm) > 1 else 0.0
    print(
        f"RSS after cycle 1: {readings[0]:.1f} MB, after warm-up (cycle {args.warmup}): {warm[0]:.1f} MB, "
        f"last: {readings[-1]:.1f} MB, max: {max(readings):.1f} MB"
    )
    print(
        f"growth after warm-up: {readings[-1] - warm[0]:+.1f} MB over {len(warm) - 1} cycles "
        f"(fitted slope {slope * 1024:+.1f} KB/cycle)"
    )
    half = len(readings) // 2
    print(f"second half (cycles {half + 1}-{len(readings)}): {readings[-1] - readings[half - 1]:+.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
