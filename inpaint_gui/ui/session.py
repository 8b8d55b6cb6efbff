"""Session autosave and crash recovery.

Each running window owns a folder under the per-user data directory holding a
lock file and:
  session.npz            the state as one file: mask, applied fills' pixels, and a JSON block
                         (image path and its digest, engine, the files below), so it cannot tear
  round_NNNN_TOKEN.npz   one per generation round of the history, written once per change
  image_TOKEN.npy        only for an image with no file (pasted), written once
session.npz is replaced atomically after the files it names exist; files it no longer
names are removed after it. A clean exit removes the folder. At start-up, a folder
whose lock can be taken belonged to a process that died: its session is offered for
recovery, and one that cannot be read is deleted only if the user says so.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from inpaint_gui.core.files import atomic_write, recover_interrupted_writes
from inpaint_gui.core.image_io import LoadedImage
from inpaint_gui.ui.history import RoundRecord, read_round, round_file_name, write_round
from inpaint_gui.ui.undo import AppliedFill

if TYPE_CHECKING:
    from inpaint_gui.ui.window_parts import SessionHost

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
SESSION_FILE = "session.npz"
_LEGACY_META = "session.json"  # version 1 kept its JSON apart, where a crash could tear the pair


@dataclass
class SessionState:
    """What is needed to bring an editing session back."""

    image_path: str | None
    image_size: tuple[int, int]  # (width, height)
    mask: NDArray[np.bool_] | None  # saving: None when mask_bits holds it
    fills: list[AppliedFill] = field(default_factory=list)
    rounds: list[RoundRecord] = field(default_factory=list)  # the history, oldest first
    active_round: int | None = None  # number of the round the gallery showed
    engine: str = ""
    image: NDArray[np.uint8] | None = None  # only when image_path is None
    image_digest: str | None = None  # of the file at image_path when it was opened
    saved_at: float = 0.0
    unreadable: list[str] = field(default_factory=list)  # files not (wholly) read back: kept on disk
    notes: list[str] = field(default_factory=list)  # one line per part lost, for the user
    # Saving only: the mask as np.packbits(mask, axis=None), an eighth of its copy's size, so
    # cheaper to take in the GUI thread (a 24 MP copy's fresh pages cost up to 60 ms loaded).
    mask_bits: NDArray[np.uint8] | None = None

    def active(self) -> RoundRecord | None:
        return next((r for r in self.rounds if r.number == self.active_round), None)

    def describe(self) -> str:
        name = Path(self.image_path).name if self.image_path else "a pasted image"
        parts = [f"{len(self.fills)} applied fill{'s' if len(self.fills) != 1 else ''}"]
        if self.mask is not None and self.mask.any():
            parts.append("a painted mask")
        active = self.active()
        if active is not None and active.candidates:
            n = len(active.candidates)
            parts.append(f"the gallery's {n} candidate{'s' if n != 1 else ''}")
        if self.rounds:
            n = len(self.rounds)
            parts.append(f"{n} generation round{'s' if n != 1 else ''} in the history")
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at)) if self.saved_at else "?"
        text = f"{name} ({', '.join(parts)}), saved {when}"
        if self.unreadable:
            text += f"; {len(self.unreadable)} part(s) could not be read"
        return text


def default_root() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".inpaint-gui") / "sessions"


class SessionStore:
    """This window's autosave folder."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root or default_root()
        self._dir = self._root / uuid.uuid4().hex
        self._lock: QLockFile | None = None
        self.error = ""  # why the last save failed, for the user
        self._image_written: tuple[NDArray, str] | None = None  # the pasted image and its file

    @property
    def folder(self) -> Path:
        return self._dir

    def _open(self) -> bool:
        if self._lock is not None:
            return True
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            self.error = f"cannot create {self._dir}: {e.strerror or e}"
            log.warning("autosave disabled: %s", self.error)
            return False
        lock = QLockFile(str(self._dir / "lock"))
        lock.setStaleLockTime(0)  # only a dead owner makes it stale, never age
        if not lock.tryLock(0):
            self.error = f"cannot lock {self._dir}"
            log.warning("autosave disabled: %s", self.error)
            return False
        self._lock = lock
        return True

    def save(self, state: SessionState) -> bool:
        """Write state; False if autosave is not possible here. A crash at any moment leaves
        the previous or the new session.npz, with every file it names."""
        if not self._open():
            return False
        arrays: dict[str, NDArray] = {}
        if state.mask_bits is not None:
            arrays["mask"] = state.mask_bits
        elif state.mask is not None:
            arrays["mask"] = np.packbits(state.mask, axis=None)
        fills_meta = []
        for i, f in enumerate(state.fills):
            arrays[f"fill{i}_bits"] = f.mask_bits
            arrays[f"fill{i}_old"] = f.old
            arrays[f"fill{i}_new"] = f.new
            fills_meta.append(
                {"box": list(f.box), "seed": f.seed, "engine": f.engine, "near": f.near, "spread": f.spread}
            )
        try:
            image_file = self._write_image(state.image)
            rounds = []
            for record in state.rounds:
                name = round_file_name(record)
                if not (self._dir / name).is_file():  # a round's file changes name when it changes
                    with atomic_write(self._dir / name) as file:
                        write_round(file, record)
                rounds.append(name)
            meta = {
                "version": FORMAT_VERSION,
                "image_path": state.image_path,
                "image_digest": state.image_digest,
                "image_size": list(state.image_size),
                "image_file": image_file,
                "fills": fills_meta,
                "rounds": rounds,
                "active_round": state.active_round,
                "engine": state.engine,
                "saved_at": time.time(),
                "pid": os.getpid(),
            }
            arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
            with atomic_write(self._dir / SESSION_FILE) as file:
                np.savez(file, **arrays)
        except OSError as e:
            self.error = str(e)
            log.warning("autosave failed: %s", e)
            return False
        self.error = ""
        self._remove_unnamed({*rounds, *([image_file] if image_file else [])})
        return True

    def _write_image(self, image: NDArray[np.uint8] | None) -> str | None:
        """A pasted image (no file to reload) never changes once pasted: write it once, not on
        every autosave. Uncompressed: compressing 6000x4000 took 4.6 s in the GUI thread."""
        if image is None:
            self._image_written = None
            return None
        if self._image_written is not None and self._image_written[0] is image:
            return self._image_written[1]
        name = f"image_{uuid.uuid4().hex[:8]}.npy"
        with atomic_write(self._dir / name) as file:
            np.save(file, image, allow_pickle=False)
        self._image_written = (image, name)
        return name

    def _remove_unnamed(self, keep: set[str]) -> None:
        for path in self._dir.iterdir():
            if path.name.startswith(("round_", "image_")) and path.name not in keep:
                path.unlink(missing_ok=True)

    def clear(self) -> None:
        """Forget the saved state (nothing left to recover) but keep the folder locked."""
        if self._lock is None:
            return  # never opened: nothing written (and maybe no folder to look in)
        (self._dir / SESSION_FILE).unlink(missing_ok=True)
        if self._dir.is_dir():
            self._remove_unnamed(set())
        self._image_written = None

    def close(self) -> None:
        """Clean exit: remove the folder."""
        self.clear()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
        shutil.rmtree(self._dir, ignore_errors=True)

    # -- recovery ------------------------------------------------------------------------

    @staticmethod
    def orphans(root: Path | None = None) -> list[Path]:
        """Folders of sessions whose process is gone, newest first."""
        root = root or default_root()
        if not root.is_dir():
            return []
        found = []
        for folder in root.iterdir():
            if not folder.is_dir():
                continue
            lock = QLockFile(str(folder / "lock"))
            lock.setStaleLockTime(0)
            if not lock.tryLock(0):
                continue  # a running window owns it
            lock.unlock()
            if any(p.suffix in (".npz", ".json", ".npy") for p in folder.iterdir()):
                found.append(folder)
            else:
                shutil.rmtree(folder, ignore_errors=True)  # a lock and unfinished temp files at most
        return sorted(found, key=_saved_time, reverse=True)

    @staticmethod
    def load(folder: Path) -> SessionState:
        """Read a saved session; ValueError with a one-line message if it is unreadable.

        Rounds of the history that cannot be read are left out and named in state.unreadable.
        """
        if not (folder / SESSION_FILE).is_file() or (folder / _LEGACY_META).is_file():
            return _load_legacy(folder)
        try:
            with np.load(folder / SESSION_FILE, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                if meta.get("version") != FORMAT_VERSION:
                    raise ValueError(f"unknown session format {meta.get('version')!r}")
                width, height = (int(v) for v in meta["image_size"])
                mask = _mask(data, width, height)
                fills = _fills(data, meta["fills"])
            image = None
            if meta.get("image_file"):
                image = np.load(folder / str(meta["image_file"]), allow_pickle=False)
        except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile, EOFError) as e:
            raise ValueError(f"cannot read the saved session in {folder}: {e}") from None
        rounds, unreadable, notes = [], [], []
        for name in meta.get("rounds", []):
            lost: list[str] = []
            try:
                rounds.append(read_round(folder / str(name), lost))
            except ValueError as e:
                log.warning("%s", e)
                lost.append(str(e))
            if lost:
                unreadable.append(str(name))
                notes.extend(lost)
        active = meta.get("active_round")
        return SessionState(
            meta["image_path"],
            (width, height),
            mask,
            fills,
            rounds,
            int(active) if isinstance(active, int) else None,
            str(meta.get("engine", "")),
            image,
            meta.get("image_digest"),
            float(meta.get("saved_at", 0.0)),
            unreadable,
            notes,
        )

    @staticmethod
    def discard(folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def keep_only(folder: Path, names: list[str]) -> None:
        """After a recovery: remove what was read back, keep the files that could not be (wholly)
        read. Without its session.npz the folder is offered next time as unreadable, to delete
        or to keep."""
        for path in folder.iterdir():
            if path.name not in names and path.name != "lock":
                path.unlink(missing_ok=True)


def _saved_time(folder: Path) -> float:
    times = [p.stat().st_mtime for p in folder.iterdir() if p.suffix in (".npz", ".json")]
    return max(times, default=0.0)


def _mask(data, width: int, height: int) -> NDArray[np.bool_] | None:
    """The saved mask; ValueError when the stored size is not an image's or does not match the
    mask's bits (a damaged or made-up file would otherwise ask for terabytes here)."""
    if width < 1 or height < 1:
        raise ValueError(f"image size {width}x{height}")
    if "mask" not in data:
        return None
    bits = data["mask"]
    if bits.dtype != np.uint8 or bits.size != (width * height + 7) // 8:
        raise ValueError(f"its mask does not fit its image size {width}x{height}")
    return np.unpackbits(bits, count=width * height).reshape(height, width).view(np.bool_)


def _fills(data, fills_meta: list[dict]) -> list[AppliedFill]:
    fills = []
    for i, f in enumerate(fills_meta):
        fills.append(
            AppliedFill(
                tuple(int(v) for v in f["box"]),  # type: ignore[arg-type]
                data[f"fill{i}_bits"],
                data[f"fill{i}_old"],
                data[f"fill{i}_new"],
                int(f["seed"]),
                str(f["engine"]),
                f["near"],
                float(f["spread"]),
            )
        )
    return fills


def _load_legacy(folder: Path) -> SessionState:
    """A version 1 session: session.json beside session.npz (and image.npy)."""
    try:
        meta = json.loads((folder / _LEGACY_META).read_text())
        if meta.get("version") != 1:
            raise ValueError(f"unknown session format {meta.get('version')!r}")
        width, height = (int(v) for v in meta["image_size"])
        with np.load(folder / SESSION_FILE, allow_pickle=False) as data:
            mask = _mask(data, width, height)
            fills = _fills(data, meta["fills"])
        image_file = folder / "image.npy"
        image = np.load(image_file, allow_pickle=False) if image_file.is_file() else None
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"cannot read the saved session in {folder}: {e}") from None
    return SessionState(
        meta["image_path"],
        (width, height),
        mask,
        fills,
        engine=str(meta.get("engine", "")),
        image=image,
        saved_at=float(meta.get("saved_at", 0.0)),
    )


class _SavedRelay(QObject):
    saved = Signal(bool)  # emitted in the writer thread, received (queued) in the GUI thread


class SessionAutosave:
    """Saves the window's session a moment after each change; offers recovery at start.

    The saves the timer and `start_save` start are written by a background thread: the state is
    taken in the GUI thread (the mask's bits packed, the lists of fills and rounds copied; the
    arrays they hold are never written to once made, so references suffice), and zipping and
    the fsync (30 to 60 ms for a 24 MP session on a loaded machine, a few hundred with a round
    of 6 candidates over a large hole) happen outside it. One
    save at a time, in the order they were started: `save_now` and `close` first wait for the
    ones in flight.
    """

    DELAY_MS = 1500

    def __init__(self, window: SessionHost, root: Path | None = None) -> None:
        self._window = window
        self._root = root
        self.store = SessionStore(root)
        self._timer = QTimer(window)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.DELAY_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._warned = False  # the user has been told autosave is not working
        self._writer: ThreadPoolExecutor | None = None
        self._in_flight: Future[bool | None] | None = None
        self._closed = False
        self._relay = _SavedRelay(window)
        self._relay.saved.connect(self._report)

    def schedule(self) -> None:
        """Save DELAY_MS after the first change not yet saved. A pending save is not pushed back
        by later changes: candidates arriving every second, or a stream of strokes, would
        otherwise keep everything unsaved until they stop."""
        if not self._timer.isActive():
            self._timer.start()

    def start_save(self) -> None:
        """Save the state as it is now, written by the writer thread after any save in flight
        (queued, not waited for). Until it is on disk, a crash leaves the previous save whole."""
        self._timer.stop()
        if self._closed:
            return  # a round's last signal after the window closed: its folder is gone, rightly
        self._submit(self._state())

    def writing(self) -> bool:
        """Whether a save is still being written (or waits for the writer)."""
        return self._in_flight is not None and not self._in_flight.done()

    def save_now(self) -> None:
        """Save at once, in this thread (after the saves in flight, if any)."""
        self._timer.stop()
        self._wait()
        state = self._state()
        if state is None:
            self.store.clear()  # nothing that would hurt to lose
            return
        self._report(self.store.save(state))

    def _on_timer_timeout(self) -> None:
        if self.writing():
            self._timer.start()  # the last save is still being written: after it, not blocking
            return
        self._wait()
        self._submit(self._state())

    def _submit(self, state: SessionState | None) -> None:
        """Queue state's save (None: clear what was saved) for the writer thread."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        future = self._writer.submit(self._write, state)
        self._in_flight = future  # the newest: the writer runs them in order, so the others are done first
        relay = self._relay

        def done(f: Future[bool | None]) -> None:  # in the writer thread
            error = f.exception()
            if error is not None:
                log.error("autosave failed", exc_info=error)
            if error is not None or f.result() is not None:
                relay.saved.emit(error is None and bool(f.result()))

        future.add_done_callback(done)

    def _write(self, state: SessionState | None) -> bool | None:  # in the writer thread
        if state is None:
            self.store.clear()  # nothing that would hurt to lose; not a save to report
            return None
        return self.store.save(state)

    def _wait(self) -> None:
        if self._in_flight is not None:
            self._in_flight.exception()  # waits; its result reaches _report through the relay
            self._in_flight = None

    def _state(self) -> SessionState | None:
        """What to save, taken now and not shared with the GUI; None when nothing is worth it."""
        doc = self._window.document
        rounds = self._window.rounds
        records = rounds.history.records
        if not doc.has_image() or (not doc.fills and not doc.mask_doc.any() and not records):
            return None
        source = doc.source
        path = str(source.path) if source is not None and source.path is not None else None
        h, w = doc.rgb.shape[:2]
        record = rounds.round.record if rounds.round is not None else None
        return SessionState(
            image_path=path,
            image_size=(w, h),
            mask=None,
            mask_bits=np.packbits(doc.mask_doc.mask, axis=None),
            fills=list(doc.fills),
            # Candidates still arriving are appended to a round: the writer gets its own lists.
            rounds=[replace(r, candidates=list(r.candidates), applied=list(r.applied)) for r in records],
            active_round=record.number if record is not None else None,
            engine=self._window.engine_name(),
            image=source.rgb if path is None and source is not None else None,
            image_digest=source.digest if path is not None and source is not None else None,
        )

    def _report(self, ok: bool) -> None:
        if ok:
            self._warned = False
        elif not self._warned:  # once until it works again: a dialog per stroke would be worse
            self._warned = True
            QMessageBox.warning(
                self._window,
                "Autosave is not working",
                f"Your work is not being saved for recovery after a crash: {self.store.error}.\n\n"
                "Save the image yourself now and then, or free the space / fix the folder's permissions.",
            )

    def close(self) -> None:
        self._closed = True
        self._timer.stop()
        self._wait()
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
        self.store.close()

    def offer_recovery(self) -> bool:
        """Ask about each session left by a process that died; True if one was recovered or is reopening.

        First, a file whose in-place save was killed midway gets its old contents back (see
        core.files.recover_interrupted_writes), and the user is told which.

        A session of an image file reopens the file in the background (see
        DocumentFiles.open_path) and replays its fills and mask once it is open;
        if the file cannot be opened, the next orphaned session is offered.
        """
        repaired = recover_interrupted_writes()
        if repaired:
            QMessageBox.warning(self._window, "Interrupted save", "\n\n".join(repaired))
        return self._offer(list(SessionStore.orphans(self._root)))

    def _offer(self, folders: list[Path]) -> bool:
        while folders:
            folder = folders.pop(0)
            try:
                state = SessionStore.load(folder)
            except ValueError as e:
                log.warning("%s", e)
                self._ask_to_delete(folder, str(e))
                continue
            text = f"The app did not close normally last time.\n\nRecover {state.describe()}?"
            buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
            if state.unreadable:  # never deleted unasked: Ignore keeps it all for later
                text += "\n\n" + "\n".join(state.notes)
                text += f"\n\nWhat cannot be read stays in {folder}. Ignore keeps everything for later."
                buttons = (
                    QMessageBox.StandardButton.Yes
                    | QMessageBox.StandardButton.Ignore
                    | QMessageBox.StandardButton.Discard
                )
            answer = QMessageBox.question(
                self._window, "Recover unsaved work?", text, buttons, QMessageBox.StandardButton.Yes
            )
            if answer == QMessageBox.StandardButton.Ignore:
                continue
            if answer != QMessageBox.StandardButton.Yes:
                SessionStore.discard(folder)
                continue
            if self._restore(state, folder, folders):
                return True
        return False

    def _ask_to_delete(self, folder: Path, reason: str) -> None:
        """An unreadable session is deleted only when the user says so; otherwise it stays for
        someone to look at (and is offered again next time)."""
        answer = QMessageBox.question(
            self._window,
            "Saved session unreadable",
            f"Work saved by an earlier run cannot be read back ({reason}).\n\n"
            f"Delete it? Ignore keeps the folder as it is:\n{folder}",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Ignore,
            QMessageBox.StandardButton.Ignore,
        )
        if answer == QMessageBox.StandardButton.Discard:
            SessionStore.discard(folder)

    def _restore(self, state: SessionState, folder: Path, rest: list[Path]) -> bool:
        """Start restoring state; False when it cannot (the caller then offers the next session)."""
        files = self._window.files
        if state.image_path is not None:

            def opened(ok: bool) -> None:
                if ok and self._same_file(state) and self._replay(state):
                    self._recovered(folder, state)
                else:
                    self._offer(rest)

            return files.open_path(state.image_path, then=opened)
        if state.image is None:
            return False
        files.open_loaded(LoadedImage(state.image, None, None, None, None, "session"), "Recovered image")
        if not self._replay(state):
            return False
        self._recovered(folder, state)
        return True

    def _same_file(self, state: SessionState) -> bool:
        """Whether the file just opened is the one the session was saved for; if its contents
        changed (another photo of the same size, say), the user decides, and the saved session
        is kept unless they replay it."""
        source = self._window.document.source
        now = source.digest if source is not None else None
        if state.image_digest is None or now is None or now == state.image_digest:
            return True
        answer = QMessageBox.question(
            self._window,
            "The file has changed",
            f"{state.image_path} is not the file the saved work was made on: its contents changed "
            "since. Replaying the fills would write them onto a different picture.\n\n"
            "Replay them anyway? No keeps the saved work for later.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _recovered(self, folder: Path, state: SessionState) -> None:
        if state.unreadable:
            SessionStore.keep_only(folder, state.unreadable)
            self._window.statusBar().showMessage(
                f"Recovered what could be read; the rest is kept in {folder}", 15000
            )
        else:
            SessionStore.discard(folder)
        self.save_now()

    def _replay(self, state: SessionState) -> bool:
        """Re-apply the session's fills and mask to the image just opened, and bring back its
        history and gallery; False if they no longer fit."""
        window = self._window
        doc = window.document
        h, w = doc.rgb.shape[:2]
        if (w, h) != tuple(state.image_size):
            QMessageBox.warning(
                window,
                "Cannot recover",
                f"{state.image_path} is now {w}x{h}, not {state.image_size[0]}x{state.image_size[1]}: "
                "the file changed since, so the saved fills no longer fit.",
            )
            return False
        doc.replay(state.fills, state.mask)
        window.rounds.restore_history(state.rounds, state.active_round)
        window.statusBar().showMessage(f"Recovered {state.describe()}", 8000)
        return True
