"""Qt test setup: offscreen platform, settings and data dirs in a temp folder, no stray threads.

The environment is set at import time, before anything imports Qt: pytest
imports conftest files before the test modules below them.
"""

from __future__ import annotations

import os
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
# Qt resolves QSettings and QStandardPaths on Linux from these; point them at a private folder
# for the whole run so no test reads or writes the developer's real settings or sessions.
_PRIVATE = Path(tempfile.mkdtemp(prefix="inpaint-gui-tests-"))
# The metric weights `inpaint metric-weights` cached stay visible to the tests marked to use them
# (they live under the real XDG_CACHE_HOME, which the loop below replaces for the whole run).
_cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
os.environ.setdefault("INPAINT_METRIC_WEIGHTS", str(Path(_cache) / "inpaint-gui" / "metrics"))
for _var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
    os.environ[_var] = str(_PRIVATE / _var.lower())
os.environ.setdefault("XDG_RUNTIME_DIR", str(_PRIVATE / "runtime"))
Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)

import pytest  # noqa: E402
from PySide6.QtCore import QCoreApplication, QSettings, QThread  # noqa: E402

_started: weakref.WeakSet[QThread] | None = None
_original_start = QThread.start


def _recording_start(self: QThread, *args, **kwargs) -> None:
    if _started is not None:
        _started.add(self)
    _original_start(self, *args, **kwargs)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets empty QSettings and its own session folder."""
    folder = tmp_path / "qsettings"
    QCoreApplication.setOrganizationName("inpaint-gui-tests")
    QCoreApplication.setApplicationName("inpaint-gui-tests")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    try:
        from inpaint_gui.ui import session
    except ImportError:
        session = None
    if session is not None:
        monkeypatch.setattr(session, "default_root", lambda: tmp_path / "sessions")
    yield folder


@pytest.fixture(autouse=True)
def _no_thread_left_running(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a QThread it started still running (and stop it, for the next test)."""
    global _started
    _started = weakref.WeakSet()
    monkeypatch.setattr(QThread, "start", _recording_start)
    yield
    running = []
    for thread in list(_started):
        try:
            alive = thread.isRunning()
        except RuntimeError:  # the C++ object is gone, and with it the thread
            continue
        if alive:
            running.append(thread.objectName() or repr(thread))
            thread.quit()
            thread.wait(5000)
    _started = None
    if running:
        pytest.fail(f"test left QThread(s) running: {', '.join(running)}")


@pytest.fixture(autouse=True)
def _no_unexpected_message_box(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A message box nobody answers blocks offscreen for ever: answer it, then fail the test.

    Tests that expect a box patch QMessageBox themselves (their patch replaces this one)."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []

    def answer(kind: str, default: QMessageBox.StandardButton):
        def box(_parent, title, text, *args, **kwargs):
            shown.append(f"{kind} {title!r}: {text}")
            return default

        return box

    monkeypatch.setattr(QMessageBox, "warning", answer("warning", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "critical", answer("critical", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "information", answer("information", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question", answer("question", QMessageBox.StandardButton.Cancel))
    yield
    if shown:
        pytest.fail("unexpected message box: " + "; ".join(shown))
