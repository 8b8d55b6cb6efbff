"""The open image as a document (pixels, mask, one undo history) and the file actions around it.

ImageDocument is the model: it changes only through its undo stack and
announces what changed. DocumentFiles is the glue between it and the user:
dialogs, drag and drop, clipboard, recent files, prompts before losing work,
and Save As that never replaces the original photo without asking.
Files are decoded on Qt's thread pool, so a 24-megapixel JPEG does not
freeze the window; only the newest open's result is used.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QMimeData, QObject, Signal
from PySide6.QtGui import QGuiApplication, QUndoStack
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from inpaint_gui.core.files import file_digest
from inpaint_gui.core.image_io import ImageError, LoadedImage, load_image, save_image
from inpaint_gui.core.mask_doc import Box, MaskDiff, MaskDoc
from inpaint_gui.ui import qimage
from inpaint_gui.ui.export import ExportTask
from inpaint_gui.ui.export_dialog import SUFFIX_FORMATS, agree_format, canonical_suffix
from inpaint_gui.ui.undo import AppliedFill, ApplyFillCommand, MaskEditCommand

log = logging.getLogger(__name__)

OPEN_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp);;All files (*)"
SAVE_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp);;TIFF (*.tif *.tiff)"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
MAX_RECENT = 10


class ImageDocument(QObject):
    """The image being edited, its mask and the shared undo history."""

    replaced = Signal()  # another image was opened (or the document closed)
    image_changed = Signal(object)  # Box whose pixels changed
    mask_changed = Signal(object)  # list[Box] whose mask changed
    modified_changed = Signal(bool)  # applied fills differ from what was last saved
    edited = Signal()  # anything changed (mask or pixels): for autosave

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._source: LoadedImage | None = None
        self._rgb: NDArray[np.uint8] | None = None
        self._mask: MaskDoc | None = None
        self._fills: list[AppliedFill] = []
        # The fills the saved file contains, held (not their id()s: a freed fill's id is reused).
        self._saved: list[AppliedFill] = []
        self._modified = False
        self.name = ""
        self.save_path: Path | None = None  # where Save writes; None until Save As

    # -- state ---------------------------------------------------------------------------

    def has_image(self) -> bool:
        return self._rgb is not None

    @property
    def source(self) -> LoadedImage | None:
        """The image as opened (original pixels, metadata, path)."""
        return self._source

    @property
    def rgb(self) -> NDArray[np.uint8]:
        """The current pixels: a frozen array (read-only, owning its data).

        Every change makes a new array, so a generation request can share this
        one instead of copying it, and it never changes under the worker.
        """
        if self._rgb is None:
            raise RuntimeError("no image is open")
        return self._rgb

    @property
    def mask_doc(self) -> MaskDoc:
        if self._mask is None:
            raise RuntimeError("no image is open")
        return self._mask

    @property
    def fills(self) -> list[AppliedFill]:
        """Fills applied so far, oldest first (undone ones are gone)."""
        return list(self._fills)

    def is_modified(self) -> bool:
        return self._modified

    # -- changes -------------------------------------------------------------------------

    def set_image(self, loaded: LoadedImage, name: str | None = None) -> None:
        """Start editing loaded; forgets the previous image and its history."""
        self.undo_stack.clear()
        self._source = loaded
        self._rgb = _frozen(loaded.rgb.copy())
        self._mask = MaskDoc(*loaded.rgb.shape[:2])
        self._fills, self._saved = [], []
        self.name = name or (loaded.path.name if loaded.path else "Untitled")
        self.save_path = None
        self._set_modified(False)
        self.replaced.emit()

    def close_image(self) -> None:
        self.undo_stack.clear()
        self._source = self._rgb = self._mask = None
        self._fills, self._saved = [], []
        self.name, self.save_path = "", None
        self._set_modified(False)
        self.replaced.emit()

    def push_mask_edit(self, text: str, diff: MaskDiff | None) -> None:
        """Record a mask change that has already been made (by the canvas)."""
        if diff is not None:
            self.undo_stack.push(MaskEditCommand(text, self, diff))
            self.edited.emit()

    def edit_mask(self, text: str, operation: Callable[[MaskDoc], MaskDiff | None]) -> bool:
        """Run a MaskDoc operation as one undoable step; False when it changed nothing."""
        if self._mask is None:
            return False
        diff = operation(self._mask)
        if diff is None:
            return False
        self.mask_updated(diff.boxes)
        self.push_mask_edit(text, diff)
        return True

    def apply_fill(
        self,
        candidate: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        *,
        seed: int = 0,
        engine: str = "",
        near: int | None = None,
        spread: float = 0.0,
    ) -> bool:
        """Write candidate's pixels where mask is True and clear the mask, as one undoable step."""
        if self._rgb is None:
            return False
        fill = AppliedFill.from_candidate(
            self._rgb, candidate, mask, seed=seed, engine=engine, near=near, spread=spread
        )
        if fill is None:
            return False
        self.undo_stack.push(ApplyFillCommand(f"Apply fill (seed {seed})", self, fill))
        return True

    def replay(self, fills: Sequence[AppliedFill], mask: NDArray[np.bool_] | None) -> None:
        """Re-apply recovered fills and mask as undoable steps (crash recovery)."""
        for fill in fills:
            self.undo_stack.push(ApplyFillCommand(f"Recovered fill (seed {fill.seed})", self, fill))
        if mask is not None and mask.shape == self.mask_doc.shape:
            self.edit_mask("Recovered mask", lambda doc: doc.replace(mask))

    def fills_since_save(self) -> int:
        """Fills applied since the last save (0 when the changes are only undone saved fills)."""
        return sum(1 for f in self._fills if not any(f is s for s in self._saved))

    def mark_saved(self, path: Path) -> None:
        self.save_path = path
        self._saved = list(self._fills)
        self._set_modified(False)

    # -- DocumentTarget for the undo commands ---------------------------------------------

    def mask_updated(self, boxes: list[Box]) -> None:
        self.mask_changed.emit(boxes)
        self.edited.emit()

    def write_fill(self, fill: AppliedFill, applied: bool) -> None:
        if self._rgb is None:
            return
        rgb = self._rgb.copy()  # copy on write: see the rgb property
        fill.write(rgb, applied)
        self._rgb = _frozen(rgb)
        if applied:
            self._fills.append(fill)
        elif self._fills and self._fills[-1] is fill:
            self._fills.pop()
        self._set_modified(not same_fills(self._fills, self._saved))
        self.image_changed.emit(fill.box)
        self.edited.emit()

    def _set_modified(self, modified: bool) -> None:
        if modified != self._modified:
            self._modified = modified
            self.modified_changed.emit(modified)


class DocumentFiles(QObject):
    """Opening, saving and exporting the document, with the dialogs and prompts that go with it."""

    opened = Signal(str)  # display name of a newly opened image
    open_failed = Signal(str)  # one-line reason a file could not be opened (also shown in a message box)
    saved = Signal(str)  # path written
    recent_changed = Signal(list)  # list[str]
    message = Signal(str)  # for the status bar

    def __init__(
        self,
        document: ImageDocument,
        window: QWidget,
        recent: list[str] | None = None,
        max_pixels: int | None = None,
    ) -> None:
        super().__init__(window)
        self._doc = document
        self._window = window
        self._recent = [p for p in (recent or []) if p][:MAX_RECENT]
        self._max_pixels = max_pixels
        self._open_id = 0  # increases with every open and on close; older results are stale
        self._opening: ExportTask | None = None
        # Describes work that lives only in the window (candidates), for the prompt before replacing it.
        self.pending_work: Callable[[], str] = lambda: ""

    # -- recent files ----------------------------------------------------------------------

    def recent_files(self) -> list[str]:
        return list(self._recent)

    def clear_recent(self) -> None:
        self._recent = []
        self.recent_changed.emit([])

    def _add_recent(self, path: Path) -> None:
        text = str(path.resolve())
        self._recent = [text] + [p for p in self._recent if p != text][: MAX_RECENT - 1]
        self.recent_changed.emit(list(self._recent))

    # -- opening -------------------------------------------------------------------------

    def open_dialog(self) -> bool:
        if not self.confirm_discard("opening another image"):
            return False
        start = str(Path(self._recent[0]).parent) if self._recent else ""
        path, _ = QFileDialog.getOpenFileName(self._window, "Open image", start, OPEN_FILTER)
        return self.open_path(path, confirmed=True) if path else False

    def open_path(
        self,
        path: str | Path,
        confirmed: bool = False,
        then: Callable[[bool], None] | None = None,
    ) -> bool:
        """Start opening an image file in the background; False if the user cancelled or it is missing.

        The file is decoded on the thread pool; opened(name) follows when it is
        shown, or open_failed(message) after its one-line error was shown (the
        open image is then untouched). When this returns True, then(ok) runs
        after either, unless a newer open or closing the window made it stale.
        """
        if not confirmed and not self.confirm_discard("opening another image"):
            return False
        path = Path(path)
        self._open_id += 1
        if not path.exists():  # no need for a thread to say so (same words as load_image)
            self._open_finished(path, None, f"{path}: file not found", None)
            return False
        open_id = self._open_id
        limit = self._limit()
        fills_before = list(self._doc.fills)  # what the user agreed to replace

        def job() -> LoadedImage:  # pool thread
            return _read(path, limit)

        task = ExportTask(job, self)

        def done(loaded: LoadedImage | None, error: str | None) -> None:
            self._on_open_done(open_id, path, loaded, error, then, fills_before)

        task.finished.connect(lambda loaded: done(loaded, None))
        task.failed.connect(lambda message: done(None, message))
        task.finished.connect(task.deleteLater)
        task.failed.connect(task.deleteLater)
        self._opening = task
        self.message.emit(f"Opening {path.name}…")
        task.start()
        return True

    def is_opening(self) -> bool:
        """A file is being decoded and its result is still wanted."""
        return self._opening is not None

    def cancel_open(self) -> None:
        """Drop the result of any open under way (the window is closing)."""
        self._open_id += 1
        self._opening = None

    def _on_open_done(
        self,
        open_id: int,
        path: Path,
        loaded: object,
        error: str | None,
        then: Callable[[bool], None] | None,
        fills_before: list[AppliedFill],
    ) -> None:
        if open_id != self._open_id:
            log.info("dropped the stale result of opening %s", path)
            return
        self._opening = None
        changed = not same_fills(self._doc.fills, fills_before)
        if loaded is not None and changed and not self.confirm_discard("opening another image"):
            # A fill was applied or undone while the file decoded: ask again before replacing it.
            self.message.emit("")
            if then is not None:
                then(False)
            return
        self._open_finished(path, loaded if isinstance(loaded, LoadedImage) else None, error, then)

    def _open_finished(
        self, path: Path, loaded: LoadedImage | None, error: str | None, then: Callable[[bool], None] | None
    ) -> None:
        if loaded is None:
            message = error or f"{path.name}: could not be read"
            log.warning("%s", message)
            self.message.emit("")
            QMessageBox.warning(self._window, f"Cannot open {path.name}", message)
            if str(path.resolve()) in self._recent and not path.exists():
                self._recent.remove(str(path.resolve()))
                self.recent_changed.emit(list(self._recent))
            self.open_failed.emit(message)
        else:
            self._doc.set_image(loaded)
            self._add_recent(path)
            self.opened.emit(self._doc.name)
        if then is not None:
            then(loaded is not None)

    def paste(self) -> bool:
        """Open the image on the clipboard (pixels, an image file, or a path to one)."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is not None and self.open_mime(mime):
            return True
        if mime is not None and not mime.hasImage() and not mime.hasUrls():
            QMessageBox.information(self._window, "Paste", "The clipboard holds no image.")
        return False

    def open_mime(self, mime: QMimeData) -> bool:
        """Open what was dropped or pasted: a local image file, or image pixels."""
        path = self.image_path_in(mime)
        if path is not None:
            return self.open_path(path)
        if mime.hasImage():
            image = mime.imageData()
            if image is None or image.isNull():
                QMessageBox.warning(self._window, "Paste", "The clipboard image could not be read.")
                return False
            if not self.confirm_discard("pasting an image"):
                return False
            rgb, alpha = qimage.qimage_to_rgb(image)
            self.open_loaded(LoadedImage(rgb, alpha, None, None, None, "clipboard"), "Pasted image")
            return True
        return False

    def open_loaded(self, loaded: LoadedImage, name: str) -> None:
        """Start editing pixels that have no file (pasted, recovered); no prompt."""
        self.cancel_open()  # a file still decoding would replace these pixels
        self._doc.set_image(loaded, name)
        self.opened.emit(self._doc.name)

    @staticmethod
    def image_path_in(mime: QMimeData) -> Path | None:
        """The first local file named by mime (dropped files, or a pasted path)."""
        if mime.hasUrls():
            for url in mime.urls():
                if url.isLocalFile():
                    return Path(url.toLocalFile())
        if mime.hasText():
            text = mime.text().strip()
            if "\n" not in text and text.lower().endswith(IMAGE_SUFFIXES) and Path(text).is_file():
                return Path(text)
        return None

    def _limit(self) -> dict[str, int]:
        return {} if self._max_pixels is None else {"max_pixels": self._max_pixels}

    # -- saving --------------------------------------------------------------------------

    def confirm_discard(self, doing: str) -> bool:
        """Ask before losing applied fills, a painted mask or candidates (closing deletes the
        autosave, so it asks as opening another image does); True when it is fine to go on."""
        if not self._doc.has_image():
            return True
        if not self._doc.is_modified():
            return self._confirm_drop_work(doing)
        answer = QMessageBox.question(
            self._window,
            "Unsaved changes",
            f"“{self._doc.name}” has fills that are not saved. Save them before {doing}?"
            if self._doc.fills_since_save()
            else f"“{self._doc.name}” was saved with fills that are now undone. "
            f"Save it as it is now before {doing}?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def _confirm_drop_work(self, doing: str) -> bool:
        """Ask before a painted mask or candidates are dropped (by replacing the image, or closing)."""
        work = [w for w in ("a painted mask" if self._doc.mask_doc.any() else "", self.pending_work()) if w]
        if not work:
            return True
        answer = QMessageBox.question(
            self._window,
            "Discard the mask?",
            f"“{self._doc.name}” has {' and '.join(work)}. Discard them by {doing}?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard

    def save(self) -> bool:
        """Write to the file chosen by an earlier Save As; the first time, ask where."""
        if not self._doc.has_image():
            return False
        if self._doc.save_path is None:
            return self.save_as()
        return self._write(self._doc.save_path, quality=95, keep_metadata=True, mark_saved=True)

    def save_as(self) -> bool:
        if not self._doc.has_image():
            return False
        path = self.ask_save_path("Save image as", self.suggested_path(), SAVE_FILTER)
        return path is not None and self._write(path, quality=95, keep_metadata=True, mark_saved=True)

    def suggested_path(self, suffix: str | None = None) -> Path:
        """'<name>-inpainted.<ext>' next to the original, never the original itself."""
        source = self._doc.source
        if self._doc.save_path is not None and suffix is None:
            return self._doc.save_path
        if source is not None and source.path is not None:
            ext = suffix or (
                source.path.suffix.lower() if source.path.suffix.lower() in IMAGE_SUFFIXES else ".png"
            )
            if ext == ".bmp":
                ext = ".png"
            return source.path.with_name(f"{source.path.stem}-inpainted{ext}")
        return Path.home() / f"pasted-inpainted{suffix or '.png'}"

    def ask_save_path(self, title: str, suggested: Path, file_filter: str) -> Path | None:
        """A save dialog with our own overwrite prompts; None when cancelled or refused."""
        filters = file_filter.split(";;")
        suffix = canonical_suffix(suggested.suffix)
        start = next((f for f in filters if f"*{suffix})" in f or f"*{suffix} " in f), filters[0])
        name, chosen = QFileDialog.getSaveFileName(
            self._window, title, str(suggested), file_filter, start, QFileDialog.Option.DontConfirmOverwrite
        )
        if not name:
            return None
        path = Path(name)
        # The name, the type chosen in the dialog and the format written must agree, or we ask.
        match = re.search(r"\*(\.\w+)", chosen or "")
        path = agree_format(self._window, path, match.group(1) if match else _suffix_or_png(path))
        if path is None:
            return None
        return path if self.confirm_overwrite(path) else None

    def confirm_overwrite(self, path: Path) -> bool:
        """True if path may be written: new, or the user agreed to replace it."""
        if not path.exists():
            return True
        if self._is_original(path):
            text = (
                f"{path.name} is the original photo you opened.\n\n"
                "Replace it with the edited image? The original pixels cannot be recovered."
            )
        else:
            text = f"{path.name} already exists. Replace it?"
        answer = QMessageBox.warning(
            self._window,
            "Replace file?",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def write_image(
        self,
        path: Path,
        rgb: NDArray[np.uint8],
        alpha: NDArray[np.uint8] | None,
        quality: int,
        keep_metadata: bool,
    ) -> bool:
        """Write pixels (overwrite already agreed to); errors become a message box."""
        source = self._doc.source
        try:
            save_image(
                path,
                rgb,
                alpha=alpha,
                icc_profile=source.icc_profile if (source and keep_metadata) else None,
                exif=source.exif if (source and keep_metadata) else None,
                quality=quality,
                overwrite=True,
            )
        except ImageError as e:
            QMessageBox.warning(self._window, "Cannot save", str(e))
            return False
        self.saved.emit(str(path))
        self.message.emit(f"Saved {path}")
        return True

    def _write(self, path: Path, quality: int, keep_metadata: bool, mark_saved: bool) -> bool:
        source = self._doc.source
        alpha = source.alpha if source is not None else None
        if not self.write_image(path, np.asarray(self._doc.rgb), alpha, quality, keep_metadata):
            return False
        if mark_saved:
            self._doc.mark_saved(path)
            self._add_recent(path)
        return True

    def _is_original(self, path: Path) -> bool:
        source = self._doc.source
        if source is None or source.path is None:
            return False
        try:
            return path.resolve() == source.path.resolve() or path.samefile(source.path)
        except OSError:
            return False

    # -- exporting -----------------------------------------------------------------------

    def export_image(self, path: Path, quality: int, keep_metadata: bool) -> bool:
        """Write the current image to path (overwrite already confirmed); the document stays as it is."""
        if not self._doc.has_image():
            return False
        return self._write(path, quality, keep_metadata, mark_saved=False)


def _read(path: Path, limit: dict[str, int]) -> LoadedImage:
    """load_image for a pool thread: every failure becomes an ImageError with a one-line message."""
    start = time.perf_counter()
    try:
        digest = file_digest(path)  # first: recovery checks the autosave was made on this very file
        loaded = load_image(path, **limit)
        loaded.digest = digest
    except OSError as exc:
        raise ImageError(f"{path.name}: cannot read: {exc.strerror or exc}") from None
    except ImageError:
        raise
    except MemoryError:
        raise ImageError(f"{path.name}: not enough memory to open this image") from None
    except Exception as exc:  # a decoder bug must not read as "Export failed" or go unexplained
        log.exception("opening %s failed", path)
        raise ImageError(f"{path.name}: {type(exc).__name__}: {exc}") from exc
    log.info("loaded %s in %.2f s", path, time.perf_counter() - start)
    return loaded


def _suffix_or_png(path: Path) -> str:
    """The format a name names by itself, PNG when its extension names none."""
    suffix = canonical_suffix(path.suffix)
    return suffix if suffix in SUFFIX_FORMATS else ".png"


def _frozen(array: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Mark an array nobody else holds as read-only."""
    array.flags.writeable = False
    return array


def same_fills(a: Sequence[AppliedFill], b: Sequence[AppliedFill]) -> bool:
    """The same fill objects in the same order (by identity: a freed fill's id() is reused)."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
