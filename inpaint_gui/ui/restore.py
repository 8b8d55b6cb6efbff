"""The Restore menu: propose a mask of dust and scratches into the normal (editable, undoable) mask.

The user then edits the proposal with the mask tools and fills it with the chosen engine as usual.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QInputDialog, QMainWindow, QMenu

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.defects import detect_defects
from inpaint_gui.ui.document import ImageDocument

log = logging.getLogger(__name__)


class RestoreTools(QObject):
    """Owns the Restore menu's actions; the window only creates it."""

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
        self.menu = QMenu("&Restore", window)
        self.menu.addAction(self.detect)
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
        self.detect.setEnabled(self._document.has_image())

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
