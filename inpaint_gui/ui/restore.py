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
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QMainWindow,
    QMenu,
    QProgressDialog,
    QSpinBox,
    QWidget,
)

from inpaint_gui.core.defects import detect_defects
from inpaint_gui.ui.document import ImageDocument

log = logging.getLogger(__name__)

#: The detectors Detect defects offers: key, label, tooltip.
DETECTORS = (
    (
        "trained",
        "Trained network",
        "Finds more defects on photos, with fewer false alarms (synthetic damage, README)",
    ),
    (
        "classical",
        "Classical (top-hat filters)",
        "Also proposes edges, rims and mouths; better on small thumbnails",
    ),
)


def trained_installed() -> bool:
    """Whether the trained detector's checkpoint is there (it is loaded only when first used)."""
    from inpaint_gui.engine.checkpoint import DEFECTS_NAME, checkpoint_dir  # no torch here

    return (checkpoint_dir() / DEFECTS_NAME).is_file()


def ask_detection(parent: QWidget, sensitivity: int, detector: str) -> tuple[int, str] | None:
    """The Detect defects dialog: (sensitivity in percent, detector key), or None when cancelled."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Detect defects")
    spin = QSpinBox(dialog)
    spin.setRange(0, 100)
    spin.setValue(sensitivity)
    spin.setSuffix(" %")
    spin.setToolTip("0 = only obvious defects, 100 = anything that may be one")
    combo = QComboBox(dialog)
    installed = trained_installed()
    for key, label, tip in DETECTORS:
        if key == "trained" and not installed:
            continue
        combo.addItem(label, key)
        combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
    combo.setCurrentIndex(max(0, combo.findData(detector)))
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form = QFormLayout(dialog)
    form.addRow("Sensitivity:", spin)
    form.addRow("Detector:", combo)
    form.addRow(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return spin.value(), str(combo.currentData())


def _close(thread: threading.Thread | None, dialog: QProgressDialog | None) -> None:
    """Join a worker thread that has reported its end, and take down its progress dialog, whose
    Cancel then reaches nothing."""
    if thread is not None:
        thread.join()
    if dialog is not None:
        dialog.canceled.disconnect()
        dialog.reset()
        dialog.deleteLater()


class _Bridge(QObject):
    """Carries the worker threads' news to the GUI thread (queued: it lives in the GUI thread)."""

    progress = Signal(int, int)
    done = Signal(object, object)  # restored image, mask it applies to
    failed = Signal(str)
    detected = Signal(object, int)  # proposed mask, or why it failed (str); the image's generation


class RestoreTools(QObject):
    """Owns the Restore menu's actions; the window only creates it."""

    denoise_finished = Signal(bool)  # applied (False: failed or cancelled)
    detect_finished = Signal(int)  # pixels proposed; -1: failed, cancelled or the image changed

    def __init__(self, window: QMainWindow, document: ImageDocument) -> None:
        super().__init__(window)
        self._window = window
        self._document = document
        self.sensitivity = 50  # percent; remembered for the session, as the detector is
        self.detector = "trained" if trained_installed() else "classical"
        self._trained = None  # the trained detector, loaded on first use (in the detection thread)
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
        self._bridge.detected.connect(self._on_detected)
        self._thread: threading.Thread | None = None
        self._detect_thread: threading.Thread | None = None
        self._detect_dialog: QProgressDialog | None = None
        self._generation = 0  # counts images opened: a proposal for an older one is dropped
        self._cancel = threading.Event()
        self._dialog: QProgressDialog | None = None
        bar = window.menuBar()
        help_menu = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        if help_menu is not None:
            bar.insertMenu(help_menu, self.menu)
        else:
            bar.addMenu(self.menu)
        document.replaced.connect(self._on_document_replaced)
        self._update()

    @Slot()
    def _on_document_replaced(self) -> None:
        self._generation += 1
        self._update()

    @Slot()
    def _update(self) -> None:
        has = self._document.has_image()
        self.detect.setEnabled(has and self._detect_thread is None)
        self.denoise.setEnabled(has and self._thread is None)

    def busy(self) -> bool:
        return self._thread is not None or self._detect_thread is not None

    def stop(self) -> None:
        """Cancel a running denoise and wait for both threads (the window calls this when closing;
        a detection cannot be interrupted: it takes seconds at most, and its result is dropped)."""
        if self._thread is not None:
            self._cancel.set()
            self._thread.join()
            self._thread = None
        if self._detect_thread is not None:
            self._generation += 1
            self._detect_thread.join()
            self._detect_thread = None

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
        _close(self._thread, self._dialog)
        self._thread, self._dialog = None, None
        self._update()

    @Slot()
    def _on_detect_triggered(self) -> None:
        answer = ask_detection(self._window, self.sensitivity, self.detector)
        if answer is not None:
            self.sensitivity, self.detector = answer
            self.propose(self.sensitivity / 100, self.detector)

    def propose(self, sensitivity: float, detector: str = "classical") -> bool:
        """Start detecting defects in a background thread (a 24 MP photo takes seconds); when done,
        the proposal is added to the mask as one undoable step and detect_finished says how many
        pixels. detector: "classical" or "trained" (DETECTORS). False if there is no image or a
        detection is already running."""
        if detector not in {key for key, *_ in DETECTORS}:
            raise ValueError(f"unknown detector {detector!r}")
        doc = self._document
        if not doc.has_image() or self._detect_thread is not None:
            return False
        image = np.asarray(doc.rgb)  # the document never writes its pixels in place
        generation = self._generation
        dialog = QProgressDialog("Detecting defects…", "Cancel", 0, 0, self._window)
        dialog.setWindowTitle("Restore")
        dialog.setMinimumDuration(500)
        dialog.canceled.connect(self._on_detect_cancelled)
        self._detect_dialog = dialog
        self._detect_thread = threading.Thread(
            target=self._detect, args=(image, sensitivity, detector, generation), name="defects", daemon=True
        )
        self._update()
        self._window.statusBar().showMessage("Detecting defects…")
        self._detect_thread.start()
        return True

    def _detect(self, image: np.ndarray, sensitivity: float, detector: str, generation: int) -> None:
        """Runs in the detection thread: no widgets here."""
        try:
            if detector == "trained":
                from inpaint_gui.engine.defects import DefectDetector

                if self._trained is None:
                    self._trained = DefectDetector.from_checkpoint()
                proposal = self._trained.detect(image, sensitivity)
            else:
                proposal = detect_defects(image, sensitivity)
        except ValueError as e:  # InputError, CheckpointError: their text says what is wrong
            self._bridge.detected.emit(str(e), generation)
        except Exception as e:  # noqa: BLE001 - reported to the user, logged with its traceback
            log.exception("defect detection failed")
            self._bridge.detected.emit(f"{type(e).__name__}: {e}", generation)
        else:
            self._bridge.detected.emit(proposal, generation)

    @Slot()
    def _on_detect_cancelled(self) -> None:
        self._generation += 1  # the running detection's result will be dropped

    @Slot(object, int)
    def _on_detected(self, result: object, generation: int) -> None:
        _close(self._detect_thread, self._detect_dialog)
        self._detect_thread, self._detect_dialog = None, None
        self._update()
        bar = self._window.statusBar()
        if generation != self._generation or not self._document.has_image():
            bar.showMessage("Defect detection cancelled", 5000)
            self.detect_finished.emit(-1)
            return
        if not isinstance(result, np.ndarray):
            bar.showMessage(f"Cannot detect defects: {result}", 8000)
            self.detect_finished.emit(-1)
            return
        proposal = result
        count = int(proposal.sum())
        self._document.edit_mask("Detect defects", lambda m: m.replace(m.mask | proposal))
        bar.showMessage(
            f"Proposed {count:,} pixels as defects: check the mask, then Generate"
            if count
            else "No defects found; try a higher sensitivity",
            8000,
        )
        self.detect_finished.emit(count)
