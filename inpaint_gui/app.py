"""GUI entry point: `python main.py`, `python -m inpaint_gui`, `inpaint-gui`.

The window is shown before anything imports torch; the engine loads in the
generation thread once the window has painted.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence

log = logging.getLogger(__name__)


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="inpaint-gui", description="Paint a mask, pick among several fills."
    )
    parser.add_argument("image", nargs="?", help="an image to open")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--log-file", help="also write the log to this file")
    return parser.parse_args(argv)


def _configure_logging(verbose: bool, log_file: str | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
    )


def main(argv: Sequence[str] | None = None) -> int:
    start = time.perf_counter()
    from inpaint_gui.runtime import prefer_sleeping_threads, return_large_frees

    prefer_sleeping_threads()  # before the worker imports torch
    return_large_frees()
    args = _parse(sys.argv[1:] if argv is None else argv)
    from inpaint_gui.qt_check import xcb_problem

    problem = xcb_problem()  # Qt would abort the process: say what to install instead
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    _configure_logging(args.verbose, args.log_file)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from inpaint_gui.core.image_io import DEFAULT_MAX_PIXELS, parse_max_pixels, raise_pillow_limit
    from inpaint_gui.ui.settings import APPLICATION, ORGANIZATION

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Inpaint")

    max_pixels = DEFAULT_MAX_PIXELS
    if os.environ.get("INPAINT_MAX_PIXELS"):
        try:
            max_pixels = parse_max_pixels(os.environ["INPAINT_MAX_PIXELS"])
        except ValueError as e:
            log.warning("INPAINT_MAX_PIXELS ignored: %s", e)
    raise_pillow_limit(max_pixels)

    from inpaint_gui.ui.main_window import MainWindow

    window = MainWindow(max_pixels=max_pixels)
    window.show()
    log.info("window shown %.2f s after start", time.perf_counter() - start)
    if "torch" in sys.modules:
        log.warning("torch was imported before the window showed")
    if args.image:
        QTimer.singleShot(0, lambda: window.files.open_path(args.image))
    # Ctrl+C in the terminal closes the window the normal way (prompts, thread shut down).
    # Python only runs signal handlers between bytecodes, so wake it up now and then.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(300)
    return app.exec()
