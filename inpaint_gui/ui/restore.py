"""The Restore menu: propose a mask of dust and scratches into the normal (editable, undoable) mask,
and run the restoration network over the image (or the masked part) in a background thread.

The user edits the proposal with the mask tools and fills it with the chosen engine as usual.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QInputDialog, QMainWindow, QMenu, QProgressDialog

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.defects import detect_defects
from inpaint_gui.ui.document import ImageDocument

log = logging.getLogger(__name__)


class _Bridge(QObject):
    """Carries the denoise thread's news to the GUI thread (queued: it lives in the GUI thread)."""

    progress = Signal(int, int)
    done = Signal(object, object)  # restored image, mask it applies to
    failed = Signal(str)


class RestoreTools(QObject):
    """Owns the Restore menu's actions; the window only creates it."""

    denoise_finished = Signal(bool)  # applied (False: failed or cancelled)

    def __init__(self, window: QMainWindow, document: ImageDocument) -> None:
        super().__init__(window)
        self._window = window
        self._document = document
        self.sensitivity = 50  # percent; remembered for the session
        self.detect = QAction("Restore: &detect defects…", window)
        self.detect.setShortcut(QKeySequence("Ctrl+Alt+D"))
        tip = "Propose a mask of dust, specks and scratches; edit it, then Generate"
        self.detect.setToolTip(tip)
        self.detect.setStatusTip(tip)
        self.detect.triggered.connect(self._on_detect_triggered)
        window.addAction(self.detect)
        self.denoise = QAction("Restore: reduce &noise (network)", window)
        tip = "Run the restoration network over the masked part, or the whole image when nothing is masked"
        self.denoise.setToolTip(tip)
        self.denoise.setStatusTip(tip)
        self.denoise.triggered.connect(self.start_denoise)
        window.addAction(self.denoise)
        self.menu = QMenu("&Restore", window)
        self.menu.addActions([self.detect, self.denoise])
        self._bridge = _Bridge(self)
        self._bridge.progress.connect(self._on_denoise_progress)
        self._bridge.done.connect(self._on_denoise_done)
        self._bridge.failed.connect(self._on_denoise_failed)
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._dialog: QProgressDialog | None = None
        bar = window.menuBar()
        help_menu = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        if help_menu is not None:
            bar.insertMenu(help_menu, self.menu)
        else:
            bar.addMenu(self.menu)
        document.replaced.connect(self._update)
        self._update()

    @Slot()
    def _update(self) -> None:
        has = self._document.has_image()
        self.detect.setEnabled(has)
        self.denoise.setEnabled(has and self._thread is None)

    def busy(self) -> bool:
        return self._thread is not None

    def stop(self) -> None:
        """Cancel a running denoise and wait for its thread (the window calls this when closing)."""
        if self._thread is not None:
            self._cancel.set()
            self._thread.join()
            self._thread = None

    @Slot()
    def start_denoise(self) -> bool:
        doc = self._document
        if not doc.has_image() or self._thread is not None:
            return False
        image = np.array(doc.rgb)  # a copy: the document may change while the thread runs
        mask = doc.mask_doc.copy() if doc.mask_doc.any() else np.ones(image.shape[:2], bool)
        self._cancel.clear()
        self._dialog = QProgressDialog("Reducing noise…", "Cancel", 0, 0, self._window)
        self._dialog.setWindowTitle("Restore")
        self._dialog.setMinimumDuration(300)
        self._dialog.canceled.connect(self._cancel.set)
        self._thread = threading.Thread(target=self._run, args=(image, mask), name="denoise", daemon=True)
        self._update()
        self._thread.start()
        return True

    def _run(self, image: np.ndarray, mask: np.ndarray) -> None:  # denoise thread: no widgets here
        from inpaint_gui.engine.base import Cancelled
        from inpaint_gui.engine.restore import Restorer

        try:
            restorer = Restorer.from_checkpoint(None, device="auto")
            out = restorer.restore(
                image, mask, on_progress=self._bridge.progress.emit, should_cancel=self._cancel.is_set
            )
        except Cancelled:
            self._bridge.failed.emit("")
        except Exception as e:  # noqa: BLE001 - reported to the user, logged with its traceback
            log.exception("denoise failed")
            self._bridge.failed.emit(str(e))
        else:
            self._bridge.done.emit(out, mask)

    @Slot(int, int)
    def _on_denoise_progress(self, done: int, total: int) -> None:
        if self._dialog is not None:
            self._dialog.setMaximum(total)
            self._dialog.setValue(done)

    @Slot(object, object)
    def _on_denoise_done(self, out: np.ndarray, mask: np.ndarray) -> None:
        self._finish()
        applied = self._document.apply_fill(out, mask, engine="restore")
        self._window.statusBar().showMessage("Reduced noise (undo to compare)" if applied else "", 5000)
        self.denoise_finished.emit(applied)

    @Slot(str)
    def _on_denoise_failed(self, message: str) -> None:
        self._finish()
        self._window.statusBar().showMessage(
            f"Cannot reduce noise: {message}" if message else "Cancelled", 8000
        )
        self.denoise_finished.emit(False)

    def _finish(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._dialog is not None:
            self._dialog.reset()
            self._dialog.deleteLater()
            self._dialog = None
        self._update()

    @Slot()
    def _on_detect_triggered(self) -> None:
        value, ok = QInputDialog.getInt(
            self._window,
            "Detect defects",
            "Sensitivity (0 = only obvious defects, 100 = anything that may be one):",
            self.sensitivity,
            0,
            100,
        )
        if ok:
            self.sensitivity = value
            self.propose(value / 100)

    def propose(self, sensitivity: float) -> int:
        """Add the detected defects to the mask as one undoable step; returns how many pixels."""
        doc = self._document
        if not doc.has_image():
            return 0
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            proposal = detect_defects(np.asarray(doc.rgb), sensitivity)
        except InputError as e:
            self._window.statusBar().showMessage(f"Cannot detect defects: {e}", 8000)
            return 0
        finally:
            QApplication.restoreOverrideCursor()
        count = int(proposal.sum())
        doc.edit_mask("Detect defects", lambda m: m.replace(m.mask | proposal))
        text = (
            f"Proposed {count:,} pixels as defects: check the mask, then Generate"
            if count
            else "No defects found; try a higher sensitivity"
        )
        self._window.statusBar().showMessage(text, 8000)
        return count
