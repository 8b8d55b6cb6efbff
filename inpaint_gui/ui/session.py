"""Session autosave and crash recovery.

Each running window owns a folder under the per-user data directory holding a
lock file, `session.json` (image path, engine, candidate seeds, applied fills'
metadata), `session.npz` (mask and applied fills' pixels) and, only for an image
with no file (pasted), `image.npy`, written once. A clean exit removes the folder. At
start-up, a folder whose lock can be taken belonged to a process that died: its
session is offered for recovery.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QLockFile, QStandardPaths, QTimer
from PySide6.QtWidgets import QMessageBox

from inpaint_gui.core.files import atomic_write
from inpaint_gui.core.image_io import LoadedImage
from inpaint_gui.ui.undo import AppliedFill

if TYPE_CHECKING:
    from inpaint_gui.ui.main_window import MainWindow

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass
class SessionState:
    """What is needed to bring an editing session back."""

    image_path: str | None
    image_size: tuple[int, int]  # (width, height)
    mask: NDArray[np.bool_] | None
    fills: list[AppliedFill] = field(default_factory=list)
    candidate_seeds: list[int] = field(default_factory=list)
    engine: str = ""
    image: NDArray[np.uint8] | None = None  # only when image_path is None
    saved_at: float = 0.0

    def describe(self) -> str:
        name = Path(self.image_path).name if self.image_path else "a pasted image"
        parts = [f"{len(self.fills)} applied fill{'s' if len(self.fills) != 1 else ''}"]
        if self.mask is not None and self.mask.any():
            parts.append("a painted mask")
        if self.candidate_seeds:
            parts.append(f"{len(self.candidate_seeds)} candidate seeds")
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at)) if self.saved_at else "?"
        return f"{name} ({', '.join(parts)}), saved {when}"


def default_root() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".inpaint-gui") / "sessions"


class SessionStore:
    """This window's autosave folder."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root or default_root()
        self._dir = self._root / uuid.uuid4().hex
        self._lock: QLockFile | None = None
        self._image_written: NDArray | None = None  # the pasted image image.npy holds

    @property
    def folder(self) -> Path:
        return self._dir

    def _open(self) -> bool:
        if self._lock is not None:
            return True
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            log.warning("autosave disabled: cannot create %s: %s", self._dir, e)
            return False
        lock = QLockFile(str(self._dir / "lock"))
        lock.setStaleLockTime(0)  # only a dead owner makes it stale, never age
        if not lock.tryLock(0):
            log.warning("autosave disabled: cannot lock %s", self._dir)
            return False
        self._lock = lock
        return True

    def save(self, state: SessionState) -> bool:
        """Write state (atomically); False if autosave is not possible here."""
        if not self._open():
            return False
        arrays: dict[str, NDArray] = {}
        if state.mask is not None:
            arrays["mask"] = np.packbits(state.mask, axis=None)
        fills_meta = []
        for i, f in enumerate(state.fills):
            arrays[f"fill{i}_bits"] = f.mask_bits
            arrays[f"fill{i}_old"] = f.old
            arrays[f"fill{i}_new"] = f.new
            fills_meta.append(
                {"box": list(f.box), "seed": f.seed, "engine": f.engine, "near": f.near, "spread": f.spread}
            )
        meta = {
            "version": FORMAT_VERSION,
            "image_path": state.image_path,
            "image_size": list(state.image_size),
            "fills": fills_meta,
            "candidate_seeds": [int(s) for s in state.candidate_seeds],
            "engine": state.engine,
            "saved_at": time.time(),
            "pid": os.getpid(),
        }
        try:
            # A pasted image (no file to reload) never changes once pasted: write it once, not on
            # every autosave. Uncompressed: compressing 6000x4000 took 4.6 s in the GUI thread.
            if state.image is not None and state.image is not self._image_written:
                with atomic_write(self._dir / "image.npy") as file:
                    np.save(file, state.image, allow_pickle=False)
                self._image_written = state.image
            elif state.image is None and self._image_written is not None:
                (self._dir / "image.npy").unlink(missing_ok=True)
                self._image_written = None
            with atomic_write(self._dir / "session.npz") as file:
                np.savez(file, **arrays)
            with atomic_write(self._dir / "session.json") as file:
                file.write(json.dumps(meta, indent=1).encode())
        except OSError as e:
            log.warning("autosave failed: %s", e)
            return False
        return True

    def clear(self) -> None:
        """Forget the saved state (nothing left to recover) but keep the folder locked."""
        for name in ("session.json", "session.npz", "image.npy"):
            (self._dir / name).unlink(missing_ok=True)
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
            meta = folder / "session.json"
            if not folder.is_dir():
                continue
            lock = QLockFile(str(folder / "lock"))
            lock.setStaleLockTime(0)
            if not lock.tryLock(0):
                continue  # a running window owns it
            lock.unlock()
            if meta.is_file():
                found.append(folder)
            else:
                shutil.rmtree(folder, ignore_errors=True)  # nothing worth recovering
        return sorted(found, key=lambda f: (f / "session.json").stat().st_mtime, reverse=True)

    @staticmethod
    def load(folder: Path) -> SessionState:
        """Read a saved session; ValueError with a one-line message if it is unreadable."""
        try:
            meta = json.loads((folder / "session.json").read_text())
            if meta.get("version") != FORMAT_VERSION:
                raise ValueError(f"unknown session format {meta.get('version')!r}")
            width, height = (int(v) for v in meta["image_size"])
            with np.load(folder / "session.npz", allow_pickle=False) as data:
                mask = None
                if "mask" in data:
                    mask = (
                        np.unpackbits(data["mask"], count=width * height)
                        .reshape(height, width)
                        .view(np.bool_)
                    )
                image_file = folder / "image.npy"
                image = np.load(image_file, allow_pickle=False) if image_file.is_file() else None
                fills = []
                for i, f in enumerate(meta["fills"]):
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
        except (OSError, KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
            raise ValueError(f"cannot read the saved session in {folder}: {e}") from None
        return SessionState(
            meta["image_path"],
            (width, height),
            mask,
            fills,
            [int(s) for s in meta.get("candidate_seeds", [])],
            str(meta.get("engine", "")),
            image,
            float(meta.get("saved_at", 0.0)),
        )

    @staticmethod
    def discard(folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)


class SessionAutosave:
    """Saves the window's session a moment after each change; offers recovery at start."""

    DELAY_MS = 1500

    def __init__(self, window: MainWindow, root: Path | None = None) -> None:
        self._window = window
        self._root = root
        self.store = SessionStore(root)
        self._timer = QTimer(window)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.DELAY_MS)
        self._timer.timeout.connect(self.save_now)

    def schedule(self) -> None:
        self._timer.start()

    def save_now(self) -> None:
        self._timer.stop()
        doc = self._window.document
        if not doc.has_image() or (not doc.fills and not doc.mask_doc.any()):
            self.store.clear()  # nothing that would hurt to lose
            return
        source = doc.source
        path = str(source.path) if source is not None and source.path is not None else None
        h, w = doc.rgb.shape[:2]
        state = SessionState(
            image_path=path,
            image_size=(w, h),
            mask=doc.mask_doc.copy(),
            fills=doc.fills,
            candidate_seeds=self._window.gallery.seeds(),
            engine=self._window.engine_name(),
            image=source.rgb if path is None and source is not None else None,
        )
        self.store.save(state)

    def close(self) -> None:
        self._timer.stop()
        self.store.close()

    def offer_recovery(self) -> bool:
        """Ask about each session left by a process that died; True if one was recovered or is reopening.

        A session of an image file reopens the file in the background (see
        DocumentFiles.open_path) and replays its fills and mask once it is open;
        if the file cannot be opened, the next orphaned session is offered.
        """
        return self._offer(list(SessionStore.orphans(self._root)))

    def _offer(self, folders: list[Path]) -> bool:
        while folders:
            folder = folders.pop(0)
            try:
                state = SessionStore.load(folder)
            except ValueError as e:
                log.warning("%s", e)
                SessionStore.discard(folder)
                continue
            answer = QMessageBox.question(
                self._window,
                "Recover unsaved work?",
                f"The app did not close normally last time.\n\nRecover {state.describe()}?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.Yes,
            )
            if answer != QMessageBox.StandardButton.Yes:
                SessionStore.discard(folder)
                continue
            if self._restore(state, folder, folders):
                return True
        return False

    def _restore(self, state: SessionState, folder: Path, rest: list[Path]) -> bool:
        """Start restoring state; False when it cannot (the caller then offers the next session)."""
        files = self._window.files
        if state.image_path is not None:

            def opened(ok: bool) -> None:
                if ok and self._replay(state):
                    self._recovered(folder)
                else:
                    self._offer(rest)

            return files.open_path(state.image_path, then=opened)
        if state.image is None:
            return False
        files.open_loaded(LoadedImage(state.image, None, None, None, None, "session"), "Recovered image")
        if not self._replay(state):
            return False
        self._recovered(folder)
        return True

    def _recovered(self, folder: Path) -> None:
        SessionStore.discard(folder)
        self.save_now()

    def _replay(self, state: SessionState) -> bool:
        """Re-apply the session's fills and mask to the image just opened; False if they no longer fit."""
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
        window.statusBar().showMessage(f"Recovered {state.describe()}", 8000)
        return True
