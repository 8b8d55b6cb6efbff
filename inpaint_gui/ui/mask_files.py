"""Mask menu file actions: save the mask as a PNG, load one, paint the last generation's mask again.

A mask file is white (non-zero) where to fill, black elsewhere, the image's
size; the same files the CLI reads (core.image_io.load_mask).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from inpaint_gui.core.image_io import ImageError, load_mask
from inpaint_gui.core.mask_file import save_mask
from inpaint_gui.ui.document import ImageDocument
from inpaint_gui.ui.export_dialog import agree_format

log = logging.getLogger(__name__)

MASK_FILTER = "Mask PNG (*.png)"
OPEN_MASK_FILTER = "Mask images (*.png *.bmp *.tif *.tiff *.webp *.jpg *.jpeg);;All files (*)"


class MaskFiles(QObject):
    """Save, load and reuse masks of the document; results go to `message`, failures to a message box."""

    message = Signal(str, int)  # status-bar text, milliseconds

    def __init__(
        self, document: ImageDocument, window: QWidget, last_mask: Callable[[], NDArray[np.bool_] | None]
    ) -> None:
        super().__init__(window)
        self._doc = document
        self._window = window
        self._last_mask = last_mask
        self._folder = ""

    def _suggested(self, suffix: str) -> str:
        source = self._doc.source
        if source is not None and source.path is not None:
            folder = self._folder or str(source.path.parent)
            return str(Path(folder) / f"{source.path.stem}{suffix}")
        return str(Path(self._folder or Path.home()) / f"mask{suffix}")

    @Slot()
    def save(self) -> bool:
        if not self._doc.has_image():
            return False
        mask = self._doc.mask_doc.copy()
        if not mask.any():
            self.message.emit("The mask is empty: nothing to save", 5000)
            return False
        name, _ = QFileDialog.getSaveFileName(
            self._window, "Save mask", self._suggested("-mask.png"), MASK_FILTER
        )
        if not name:
            return False
        path = agree_format(self._window, Path(name), ".png")
        if path is None:
            return False
        if path.suffix.lower() != ".png":
            QMessageBox.warning(self._window, "Cannot save the mask", f"{path.name}: masks are saved as PNG")
            return False
        try:
            save_mask(path, mask)
        except (ImageError, ValueError) as exc:
            QMessageBox.warning(self._window, "Cannot save the mask", str(exc))
            return False
        self._folder = str(path.parent)
        self.message.emit(f"Saved the mask to {path}", 5000)
        return True

    @Slot()
    def load(self) -> bool:
        if not self._doc.has_image():
            return False
        name, _ = QFileDialog.getOpenFileName(
            self._window, "Load mask", self._suggested(""), OPEN_MASK_FILTER
        )
        if not name:
            return False
        h, w = self._doc.mask_doc.shape
        try:
            mask = load_mask(name, size=(w, h))
        except ImageError as exc:
            QMessageBox.warning(self._window, "Cannot load the mask", str(exc))
            return False
        self._folder = str(Path(name).parent)
        if not mask.any():
            self.message.emit(f"{Path(name).name} marks nothing to fill (it is all black)", 6000)
        self._doc.edit_mask(f"Load mask {Path(name).name}", lambda m: m.replace(mask))
        return True

    @Slot()
    def reuse_last(self) -> bool:
        """Paint again the mask the latest generation was made for (same image size only)."""
        if not self._doc.has_image():
            return False
        last = self._last_mask()
        if last is None:
            self.message.emit("No mask to reuse yet: generate once first", 5000)
            return False
        if last.shape != self._doc.mask_doc.shape:
            lh, lw = last.shape
            h, w = self._doc.mask_doc.shape
            self.message.emit(f"The last mask is {lw}x{lh} but this image is {w}x{h}", 6000)
            return False
        self._doc.edit_mask("Reuse last mask", lambda m: m.replace(last))
        return True
