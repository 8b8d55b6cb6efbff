"""Launch to first painted window: starts the real app in a fresh process and times its first paint.

    python bench/gui_launch.py [--runs 5] [--platform offscreen|xcb] [--engine NAME] [--checkpoint FILE]

The app starts with its default engine (guided, when the scenes network is installed), or with
--engine (and --checkpoint); the time until the engine is ready (torch imported in the worker
thread, the matcher compiled or loaded) is reported as well.

Time runs from just before the child process is spawned (interpreter start-up
included) to the first paint event of the main window's canvas. The child then
closes the window the normal way (worker thread shut down) and reports whether
torch had been imported by then. Target: under 1.5 s on the 2-core dev machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import sys, time, json
t0 = float(sys.argv[1])
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
result = {}

def on_engine_ready(name):
    result["engine"] = name
    result["engine_ready_s"] = time.time() - t0
    QTimer.singleShot(0, close_main_window)

class Probe(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not result and obj.objectName() == "maskCanvas":
            result["first_paint_s"] = time.time() - t0
            result["torch_imported_at_paint"] = "torch" in sys.modules
            window = obj.window()
            window.controller.engine_ready.connect(on_engine_ready)
            window.controller.engine_failed.connect(lambda n, m: on_engine_ready(n + " FAILED: " + m))
        return False

def close_main_window():
    for w in app.topLevelWidgets():
        if w.objectName() == "mainWindow":
            w.close()

probe = Probe()
app.installEventFilter(probe)
from inpaint_gui.app import main
code = main([])
result["exit_code"] = code
result["total_s"] = time.time() - t0
print("RESULT " + json.dumps(result), flush=True)
"""


def run_once(platform: str, engine: str | None, checkpoint: str | None) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM=platform)
    with tempfile.TemporaryDirectory() as tmp:
        # A private settings/data folder: no recovery prompt, no recent files of the real user.
        env["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        env["XDG_DATA_HOME"] = str(Path(tmp) / "data")
        if engine or checkpoint:
            conf = Path(tmp) / "config" / "inpaint-gui" / "inpaint-gui.conf"
            conf.parent.mkdir(parents=True)
            lines = [f"name={engine or 'pluralistic'}"]
            if checkpoint:
                lines.append(f"checkpoint={Path(checkpoint).resolve()}")
            conf.write_text("[engine]\n" + "\n".join(lines) + "\n")
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, repr(t0)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=Path(__file__).resolve().parent.parent,
        )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"child failed ({out.returncode}):\n{out.stderr[-3000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    parser.add_argument("--engine", help="start with this engine (default: the app's default)")
    parser.add_argument(
        "--checkpoint", help="start with this checkpoint (with the pluralistic engine unless --engine)"
    )
    args = parser.parse_args()
    run_once(args.platform, args.engine, args.checkpoint)  # warm the OS file cache; not counted
    results = [run_once(args.platform, args.engine, args.checkpoint) for _ in range(args.runs)]
    paints = [r["first_paint_s"] for r in results]
    print(f"platform: {args.platform}, runs: {args.runs}")
    median = statistics.median(paints)
    print(f"launch to first paint: median {median:.3f} s, max {max(paints):.3f} s (target < 1.5 s)")
    print(f"torch imported before first paint: {any(r['torch_imported_at_paint'] for r in results)}")
    ready = [r.get("engine_ready_s", float("nan")) for r in results]
    print(f"engine {results[0].get('engine')} ready: median {statistics.median(ready):.3f} s")
    print(f"clean exit: {all(r['exit_code'] == 0 for r in results)}")
    return 0 if statistics.median(paints) < 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
