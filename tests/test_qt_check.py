"""The check that runs before Qt: missing X11 libraries become a hint with one apt-get command."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from inpaint_gui import app, qt_check

# The shape of a real report (ldd on PySide6's libqxcb.so with libxcb-cursor0 and libxcb-icccm4 removed).
REPORT = """\tlinux-vdso.so.1 (0x00007ffd5b1f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f0e0c000000)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f0e0bfd0000)
\tlibxcb-cursor.so.0 => not found
"""


def test_missing_libraries_are_read_from_an_ldd_report():
    assert qt_check.missing_libraries(REPORT) == ["libxcb-cursor.so.0", "libxcb-icccm.so.4"]
    assert qt_check.missing_libraries("") == []


@pytest.mark.parametrize(
    ("env", "checked"),
    [
        ({"DISPLAY": ":0"}, True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland;xcb"}, True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, False),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, False),
        ({}, False),  # no X display: Qt would not use xcb
        ({"DISPLAY": ":0", "INPAINT_SKIP_QT_CHECK": "1"}, False),
    ],
)
def test_the_check_runs_only_where_qt_would_load_xcb(env, checked, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    assert qt_check.wants_xcb(env) is checked


def test_the_hint_names_the_packages_and_one_command(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    problem = qt_check.xcb_problem({"DISPLAY": ":0"}, plugin=lambda: Path("libqxcb.so"), ldd=lambda _: REPORT)
    assert problem is not None
    assert "sudo apt-get install -y libxcb-cursor0 libxcb-icccm4\n" in problem
    assert qt_check.APT_COMMAND in problem and "libxcb-keysyms1" in qt_check.APT_COMMAND
    found = "\tlibxcb.so.1 => /x\n"
    assert qt_check.xcb_problem({"DISPLAY": ":0"}, plugin=lambda: Path("p"), ldd=lambda _: found) is None


def test_the_readme_command_installs_every_package_the_check_knows():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    command = readme.split("sudo apt-get install -y ", 1)[1].split("```", 1)[0]
    assert command.replace("\\\n", " ").split() == sorted(set(qt_check.XCB_PACKAGES.values()))


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("ldd") is None, reason="needs ldd")
def test_the_real_plugin_is_found_and_read_without_importing_qt():
    before = set(sys.modules)
    plugin = qt_check.xcb_plugin()
    assert plugin is not None and plugin.name == "libqxcb.so"
    assert "libxcb.so.1" in qt_check.run_ldd(plugin)
    assert not any(m.startswith("PySide6.Qt") for m in set(sys.modules) - before)


def test_the_app_prints_the_hint_instead_of_starting_qt(monkeypatch, capsys):
    monkeypatch.setattr(qt_check, "xcb_problem", lambda: "Qt cannot open a window: install libxcb-cursor0")
    assert app.main([]) == 1
    assert "install libxcb-cursor0" in capsys.readouterr().err
