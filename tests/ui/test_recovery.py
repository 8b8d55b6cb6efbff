"""Crash recovery against a real kill -9, a photo replaced on disk, and interrupted autosaves."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from inpaint_gui.engine.pluralistic import save_random_release
from inpaint_gui.ui import session as session_module
from inpaint_gui.ui.main_window import MainWindow
from inpaint_gui.ui.session import SessionStore
from inpaint_gui.ui.settings import Settings

TIMEOUT_MS = 30_000
H, W = 90, 120
ROOT = Path(__file__).resolve().parents[2]


class Answers:
    """Stands in for QMessageBox: answers each question by its title, records every text."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, **by_title: QMessageBox.StandardButton) -> None:
        by_title.setdefault("Unsaved", QMessageBox.StandardButton.Discard)  # closing the windows
        by_title.setdefault("Discard", QMessageBox.StandardButton.Discard)
        self.by_title = {k.replace("_", " "): v for k, v in by_title.items()}
        self.asked: list[str] = []
        for name in ("warning", "question", "information", "critical"):
            monkeypatch.setattr(QMessageBox, name, staticmethod(self._box))

    def _box(self, _parent, title, text, *args, **kwargs):
        self.asked.append(f"{title}: {text}")
        for key, answer in self.by_title.items():
            if title.lower().startswith(key.lower()):
                return answer
        return QMessageBox.StandardButton.No


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (H, W, 3), dtype=np.uint8)).save(path)
    return path


def _settings(tmp_path: Path) -> Settings:
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.engine = "telea"
    return settings


def _window(qtbot, tmp_path: Path, engine: str = "telea") -> MainWindow:
    window = MainWindow(settings=_settings(tmp_path), session_root=tmp_path / "sessions")
    qtbot.addWidget(window)
    return window


def test_a_real_kill_after_a_round_loses_none_of_its_candidates(qtbot, tmp_path, photo, monkeypatch):
    """The app is killed with SIGKILL the moment it reports 6 candidates done."""
    checkpoint = save_random_release(tmp_path / "tiny.safetensors")
    sessions = tmp_path / "sessions"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / var.lower())
    args = [sys.executable, str(Path(__file__).with_name("recovery_app.py"))]
    args += [str(photo), str(sessions), str(tmp_path / "app.ini"), str(checkpoint), "6"]
    app = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = app.stdout.readline()  # blocks until the round is done (or the app fails)
        assert line.startswith("FINISHED"), f"{line!r} {app.stderr.read() if app.poll() is not None else ''}"
        os.kill(app.pid, signal.SIGKILL)
    finally:
        if app.poll() is None:
            app.kill()
        app.wait(10)
        app.stdout.close()
        app.stderr.close()
    assert app.returncode == -signal.SIGKILL
    seeds = [int(s) for s in line.split()[1:]]
    assert len(seeds) == 6

    answers = Answers(monkeypatch, Recover=QMessageBox.StandardButton.Yes)
    window = MainWindow(settings=_settings(tmp_path), session_root=sessions)
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.files.opened, timeout=TIMEOUT_MS):
            assert window.autosave.offer_recovery()
        (question,) = answers.asked
        assert "6 candidates" in question
        assert window.gallery.seeds() == seeds  # what the prompt promised is what came back
        assert window.document.mask_doc.mask[20:50, 30:70].all()
        assert window.rounds.round is not None and len(window.rounds.history.records) == 1
        window.rounds.apply(5)
        filled = np.asarray(window.document.rgb)
        original = np.asarray(Image.open(photo))
        assert (filled[20:50, 30:70] != original[20:50, 30:70]).any()
        np.testing.assert_array_equal(filled[:20], original[:20])
    finally:
        window.close()


def _crashed_copy(window: MainWindow, name: str = "crashed") -> Path:
    folder = window.autosave.store.folder
    crashed = folder.with_name(name)
    shutil.copytree(folder, crashed, ignore=shutil.ignore_patterns("lock"))
    return crashed


def _work_on(qtbot, window: MainWindow, photo: Path) -> None:
    window.show()
    qtbot.waitUntil(lambda: window.controller.engine_name == "telea", timeout=TIMEOUT_MS)
    with qtbot.waitSignal(window.files.opened, timeout=TIMEOUT_MS):
        window.files.open_path(photo)
    window.document.edit_mask("paint", lambda m: m.rectangle((30, 20), (70, 50)))
    with qtbot.waitSignal(window.controller.request_finished, timeout=TIMEOUT_MS):
        window.rounds.generate()
    window.rounds.apply(0)
    window.autosave.save_now()


def test_a_photo_replaced_by_another_of_the_same_size_is_not_filled_silently(
    qtbot, tmp_path, photo, monkeypatch
):
    """(9b) Same size, other pixels: ask before replaying; No keeps both the photo and the saved work."""
    answers = Answers(monkeypatch, Recover=QMessageBox.StandardButton.Yes)
    first = _window(qtbot, tmp_path)
    _work_on(qtbot, first, photo)
    crashed = _crashed_copy(first)
    other = np.random.default_rng(9).integers(0, 256, (H, W, 3), dtype=np.uint8)
    Image.fromarray(other).save(photo)

    second = _window(qtbot, tmp_path)
    try:
        with qtbot.waitSignal(second.files.opened, timeout=TIMEOUT_MS):
            assert second.autosave.offer_recovery()
        assert any(text.startswith("The file has changed") for text in answers.asked)
        np.testing.assert_array_equal(np.asarray(second.document.rgb), other)  # nothing written on it
        assert not second.document.fills
        assert crashed.exists()  # the saved work is still there for later
    finally:
        second.close()
        first.close()


def test_an_interrupted_autosave_leaves_the_previous_one_readable(qtbot, tmp_path, photo, monkeypatch):
    """(9c) A save cut short between its files (as a kill there would) must not tear the session:
    what is read back is the previous save or the new one, never a mix that fails to load."""
    Answers(monkeypatch)
    window = _window(qtbot, tmp_path)
    try:
        _work_on(qtbot, window, photo)
        window.document.edit_mask("more", lambda m: m.rectangle((5, 5), (25, 15)))
        with qtbot.waitSignal(window.controller.request_finished, timeout=TIMEOUT_MS):
            window.rounds.generate()
        window.rounds.apply(0)
        window.autosave.save_now()  # two fills saved
        store = window.autosave.store
        window.document.undo_stack.undo()  # one fill now, and its mask back
        real = session_module.atomic_write
        for dies_at in (1, 2, 3):  # cut the save at its first, second, third file in turn
            calls = []

            def dying_write(path, calls=calls, dies_at=dies_at):
                calls.append(Path(path).name)
                if len(calls) == dies_at:
                    raise OSError(5, "killed here")
                return real(path)

            monkeypatch.setattr(session_module, "atomic_write", dying_write)
            window.autosave.save_now()
            state = SessionStore.load(store.folder)  # readable after every cut
            assert len(state.fills) in (1, 2)
            assert state.mask[5:15, 5:25].all() == (len(state.fills) == 1)
        monkeypatch.setattr(session_module, "atomic_write", real)
        window.autosave.save_now()
        assert len(SessionStore.load(store.folder).fills) == 1
    finally:
        window.close()


def test_an_unreadable_round_leaves_the_rest_recoverable(qtbot, tmp_path, photo, monkeypatch):
    answers = Answers(monkeypatch, Recover=QMessageBox.StandardButton.Yes)
    first = _window(qtbot, tmp_path)
    _work_on(qtbot, first, photo)
    crashed = _crashed_copy(first)
    for path in crashed.glob("round_*.npz"):
        path.write_bytes(path.read_bytes()[:100])
    first.close()

    second = _window(qtbot, tmp_path)
    try:
        with qtbot.waitSignal(second.files.opened, timeout=TIMEOUT_MS):
            assert second.autosave.offer_recovery()
        assert "could not be read" in [t for t in answers.asked if t.startswith("Recover")][0]
        assert len(second.document.fills) == 1  # the fill and the image came back all the same
    finally:
        second.close()


def test_the_next_start_puts_back_a_file_torn_by_a_killed_save_and_says_so(qtbot, tmp_path, monkeypatch):
    """What a save killed midway leaves (backup, record, torn target) is repaired at start-up.
    (tests/core/test_files.py makes the same leftovers with a real SIGKILL.)"""
    from inpaint_gui.core import files

    target = tmp_path / "photo.png"
    target.write_bytes(b"old contents" * 1000)
    folder = files.backup_dir()
    folder.mkdir(parents=True)
    backup, staged = folder / ".inpaint-0123.old", folder / ".inpaint-0123.new"
    shutil.copyfile(target, backup)
    staged.write_bytes(b"new contents" * 1000)
    files._Record.write(folder, target, backup, staged).release()
    with open(target, "r+b") as f:
        f.write(b"new contents")  # torn: the process died here

    answers = Answers(monkeypatch)
    window = _window(qtbot, tmp_path)
    try:
        assert not window.autosave.offer_recovery()
        (told,) = answers.asked
        assert told.startswith("Interrupted save") and str(target) in told and "put back" in told
        assert target.read_bytes() == b"old contents" * 1000
        assert list(folder.iterdir()) == []
    finally:
        window.close()


def _saved_candidates(sessions: Path) -> int:
    """Candidates of the newest round in any session saved under sessions (0 if none can be read)."""
    best = 0
    for folder in sessions.glob("*"):
        try:
            state = SessionStore.load(folder)
        except (ValueError, OSError):
            continue
        best = max([best, *(len(r.candidates) for r in state.rounds)])
    return best


def test_a_real_kill_during_a_round_keeps_the_candidates_already_shown(qtbot, tmp_path, photo, monkeypatch):
    """SIGKILL after the sixth candidate of a 32-candidate round, long before it ends: the
    candidates are saved as they arrive (at most one autosave delay behind), with the mask."""
    sessions = tmp_path / "sessions"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / var.lower())
    args = [sys.executable, str(Path(__file__).with_name("slow_round_app.py"))]
    args += [str(photo), str(sessions), str(tmp_path / "app.ini")]
    app = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        shown = 0
        while shown < 6:
            line = app.stdout.readline()  # blocks until a candidate shows (or the app fails)
            assert line.startswith("CANDIDATES"), f"{line!r} {app.stderr.read() if app.poll() else ''}"
            shown = int(line.split()[1])
        # The round goes on for 10 s more; the autosave delay is 1.5 s.
        deadline = time.monotonic() + 6
        while _saved_candidates(sessions) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(app.pid, signal.SIGKILL)
        rest = app.stdout.read()
    finally:
        if app.poll() is None:
            app.kill()
        app.wait(10)
        app.stdout.close()
        app.stderr.close()
    assert app.returncode == -signal.SIGKILL
    assert rest.count("CANDIDATES") < 32 - 6, "the round ended before the kill"

    answers = Answers(monkeypatch, Recover=QMessageBox.StandardButton.Yes)
    window = MainWindow(settings=_settings(tmp_path), session_root=sessions)
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.files.opened, timeout=TIMEOUT_MS):
            assert window.autosave.offer_recovery()
        (question,) = answers.asked
        assert "painted mask" in question
        assert len(window.gallery.candidates()) >= 6
        assert window.document.mask_doc.mask[20:50, 30:70].all()
    finally:
        window.close()


def _session_with_two_rounds(sessions: Path, photo: Path) -> Path:
    """A crashed session saved by the real writer: round 1 whole (6 candidates), round 2 with
    its file cut at three quarters; round 2 is the one the gallery showed."""
    from inpaint_gui.core.files import file_digest
    from inpaint_gui.ui.history import KeptCandidate, RoundRecord
    from inpaint_gui.ui.session import SessionState

    mask = np.zeros((H, W), bool)
    mask[20:50, 30:70] = True
    rounds = []
    for number in (1, 2):
        record = RoundRecord(number, (20, 30, 50, 70), mask[20:50, 30:70].copy(), (H, W), "telea", n=6)
        for seed in range(6):
            record.candidates.append(KeptCandidate(np.full((30, 40, 3), 40 * seed, np.uint8), seed, 0.0))
        rounds.append(record)
    store = SessionStore(sessions)
    state = SessionState(str(photo), (W, H), mask, rounds=rounds, active_round=2, engine="telea")
    state.image_digest = file_digest(photo)
    assert store.save(state)
    store._lock.unlock()  # as a killed process leaves it
    (second,) = store.folder.glob("round_0002_*.npz")
    whole = second.read_bytes()
    second.write_bytes(whole[: len(whole) * 3 // 4])
    return store.folder


def test_a_partly_unreadable_round_is_recovered_as_far_as_it_reads_and_the_rest_kept(
    qtbot, tmp_path, photo, monkeypatch
):
    sessions = tmp_path / "sessions"
    folder = _session_with_two_rounds(sessions, photo)
    answers = Answers(monkeypatch, Recover=QMessageBox.StandardButton.Yes)
    window = _window(qtbot, tmp_path)
    try:
        with qtbot.waitSignal(window.files.opened, timeout=TIMEOUT_MS):
            assert window.autosave.offer_recovery()
        (question,) = answers.asked
        assert "round 2: 2 of 6 candidates unreadable" in question and str(folder) in question
        first, second = window.rounds.history.records
        assert len(first.candidates) == 6  # the readable round, whole
        assert [c.seed for c in second.candidates] == [0, 1, 2, 3]  # what the cut file still holds
        assert len(window.gallery.candidates()) == 4
        assert [p.name for p in folder.glob("round_*")] == [p.name for p in folder.glob("round_0002_*")]
        assert not (folder / "session.npz").exists()  # recovered: not offered again as a session
    finally:
        window.close()

    answers.asked.clear()
    again = _window(qtbot, tmp_path)
    try:
        assert not again.autosave.offer_recovery()
        assert answers.asked[0].startswith("Saved session unreadable")  # asked, not deleted
        assert list(folder.glob("round_0002_*"))
    finally:
        again.close()


def test_ignore_keeps_a_partly_unreadable_session_whole(qtbot, tmp_path, photo, monkeypatch):
    sessions = tmp_path / "sessions"
    folder = _session_with_two_rounds(sessions, photo)
    before = sorted(p.name for p in folder.iterdir())
    answers = Answers(monkeypatch, Recover=QMessageBox.StandardButton.Ignore)
    window = _window(qtbot, tmp_path)
    try:
        assert not window.autosave.offer_recovery()
        assert len(answers.asked) == 1
        assert sorted(p.name for p in folder.iterdir()) == before
        assert SessionStore.orphans(sessions) == [folder]  # offered again next time
    finally:
        window.close()


def test_a_session_of_an_impossible_size_is_named_in_one_line_and_kept(qtbot, tmp_path, photo, monkeypatch):
    """A session saying its image is 1e6 x 1e6 (a made-up or damaged file) used to raise
    MemoryError at every start; now it is one line in the unreadable-session question."""
    import json

    from inpaint_gui.ui.session import SessionState

    sessions = tmp_path / "sessions"
    store = SessionStore(sessions)
    mask = np.zeros((H, W), bool)
    mask[20:50, 30:70] = True
    assert store.save(SessionState(str(photo), (W, H), mask, engine="telea"))
    store._lock.unlock()
    with np.load(store.folder / "session.npz") as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(bytes(arrays["meta"]).decode())
    meta["image_size"] = [1_000_000, 1_000_000]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(store.folder / "session.npz", **arrays)

    answers = Answers(monkeypatch, Saved_session=QMessageBox.StandardButton.Ignore)
    window = _window(qtbot, tmp_path)
    try:
        assert not window.autosave.offer_recovery()
        (told,) = answers.asked
        assert told.startswith("Saved session unreadable") and "1000000x1000000" in told
        assert (store.folder / "session.npz").exists()  # kept, offered again next time
        assert SessionStore.orphans(sessions) == [store.folder]
    finally:
        window.close()


def test_the_user_is_told_once_when_autosave_cannot_write(qtbot, tmp_path, photo, monkeypatch):
    """A data folder that cannot be made (here its parent is a file: root ignores permissions)
    used to disable autosave with a log line only."""
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    answers = Answers(monkeypatch)
    window = MainWindow(settings=_settings(tmp_path), session_root=blocker / "sessions")
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.files.opened, timeout=TIMEOUT_MS):
            window.files.open_path(photo)
        window.document.edit_mask("paint", lambda m: m.rectangle((30, 20), (70, 50)))
        window.autosave.save_now()
        window.document.edit_mask("more", lambda m: m.rectangle((5, 5), (25, 15)))
        window.autosave.save_now()
        (told,) = answers.asked
        assert told.startswith("Autosave is not working") and str(blocker) in told
    finally:
        window.close()
