"""Before Qt starts: are the system libraries its X11 (xcb) platform plugin needs installed?

Qt aborts the process when its platform plugin cannot load, with a message
that names one package at best. On Linux with an X display we ask `ldd` which
libraries the xcb plugin cannot find (one subprocess, tens of milliseconds) and
print the Debian/Ubuntu packages that provide them, with one apt-get command.
Nothing here imports Qt.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

log = logging.getLogger(__name__)

#: Library the xcb plugin links (directly or through Qt) -> the Debian/Ubuntu package that ships it.
XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
}
#: The command README.md gives: every package above, so one command covers a bare system.
APT_COMMAND = "sudo apt-get install -y " + " ".join(sorted(set(XCB_PACKAGES.values())))
SKIP_VARIABLE = "INPAINT_SKIP_QT_CHECK"


def wants_xcb(env: Mapping[str, str]) -> bool:
    """Whether Qt will try the xcb plugin: on Linux with an X display, unless another platform is named
    (QT_QPA_PLATFORM may list fallbacks: "wayland;xcb") or a Wayland session will be used."""
    if not sys.platform.startswith("linux") or not env.get("DISPLAY") or env.get(SKIP_VARIABLE):
        return False
    platform = env.get("QT_QPA_PLATFORM", "").strip()
    if platform:
        return any(p.split(":")[0].strip() == "xcb" for p in platform.split(";"))
    return not env.get("WAYLAND_DISPLAY")


def xcb_plugin() -> Path | None:
    """PySide6's xcb platform plugin, found without importing Qt."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def run_ldd(path: Path) -> str:
    """ldd's report for path ('' when ldd is missing or fails: then nothing is claimed)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return ""
    try:
        done = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("ldd %s failed: %s", path, exc)
        return ""
    return done.stdout


def missing_libraries(report: str) -> list[str]:
    """The sonames an ldd report marks 'not found', in order, once each."""
    missing: list[str] = []
    for line in report.splitlines():
        name, _, where = line.strip().partition("=>")
        if where.strip().startswith("not found") and name.strip() not in missing:
            missing.append(name.strip())
    return missing


def hint(missing: list[str]) -> str:
    """What to tell the user: which libraries are missing, the packages, one apt-get command."""
    packages = sorted({XCB_PACKAGES[m] for m in missing if m in XCB_PACKAGES})
    lines = [
        "Qt cannot open a window: its X11 (xcb) plugin needs system libraries that are not installed:",
        "  " + ", ".join(missing),
    ]
    if packages:
        lines += [
            "On Debian or Ubuntu, install them with:",
            f"  sudo apt-get install -y {' '.join(packages)}",
            "(or everything a bare system lacks, as README.md says:",
            f"  {APT_COMMAND})",
        ]
    else:
        lines.append(f"Install the packages that provide them (on Debian/Ubuntu: {APT_COMMAND}).")
    lines.append(f"To start anyway, set {SKIP_VARIABLE}=1; QT_QPA_PLATFORM=offscreen runs without a window.")
    return "\n".join(lines)


def xcb_problem(
    env: Mapping[str, str] | None = None,
    plugin: Callable[[], Path | None] = xcb_plugin,
    ldd: Callable[[Path], str] = run_ldd,
) -> str | None:
    """The hint to print when Qt's xcb plugin would fail to load for missing libraries, else None."""
    if not wants_xcb(os.environ if env is None else env):
        return None
    path = plugin()
    if path is None:
        return None
    missing = missing_libraries(ldd(path))
    return hint(missing) if missing else None
