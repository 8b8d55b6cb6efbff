"""Exporting all candidates and a contact sheet, off the GUI thread.

The writing itself is plain functions (export_candidates, export_contact_sheet)
that the CLI or tests can call; ExportTask runs one of them on Qt's thread pool
so writing six 24-megapixel PNGs does not freeze the window, and the *_dialog
helpers ask where to write and start a task.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from inpaint_gui.core.contact_sheet import contact_sheet, focus_box
from inpaint_gui.core.files import atomic_write
from inpaint_gui.core.image_io import ImageError, save_image
from inpaint_gui.ui.export_dialog import agree_format

log = logging.getLogger(__name__)

CANDIDATE_FORMATS = (".png", ".jpg", ".webp", ".tif")


def _safe_stem(stem: str) -> str:
    cleaned = re.sub(r"[^\w.-]+", "-", stem).strip(".-_")
    return cleaned or "image"


def _free_path(path: Path) -> Path:
    """path, or path with -2, -3, ... before the extension if it exists already."""
    if not path.exists():
        return path
    for i in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}-{i}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise ImageError(f"{path}: too many files with this name already")


def candidate_filename(stem: str, number: int, seed: int, ext: str = ".png") -> str:
    """e.g. photo-candidate03-seed1234.png: sorts by number, and the seed reproduces it. The app's
    default names all join their words with - (photo-inpainted.jpg, photo-mask.png)."""
    return f"{_safe_stem(stem)}-candidate{number:02d}-seed{seed}{ext}"


def export_candidates(
    candidates: Sequence[Any],
    folder: str | Path,
    stem: str,
    *,
    ext: str = ".png",
    quality: int = 95,
    numbers: Sequence[int] | None = None,
    alpha: NDArray[np.uint8] | None = None,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
    protect: Iterable[str | Path] = (),
) -> list[Path]:
    """Write every candidate image into folder, plus <stem>-candidates.json (number, file, seed, score...).

    Existing files are never replaced: a name already taken gets -2, -3, ...
    Metadata (alpha, ICC profile, EXIF of the original) is kept where the format allows.
    Raises ImageError with a one-line message.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageError(f"{folder}: not a folder")
    ext = ext.lower() if ext.startswith(".") else f".{ext.lower()}"
    if ext not in CANDIDATE_FORMATS:
        raise ImageError(f"cannot export candidates as {ext}; choose one of {', '.join(CANDIDATE_FORMATS)}")
    if not candidates:
        raise ImageError("there are no candidates to export")
    numbers = list(numbers) if numbers is not None else list(range(1, len(candidates) + 1))
    written: list[Path] = []
    records = []
    for number, cand in zip(numbers, candidates, strict=True):
        path = _free_path(folder / candidate_filename(stem, number, cand.seed, ext))
        save_image(
            path,
            cand.image,
            alpha=alpha,
            icc_profile=icc_profile,
            exif=exif,
            quality=quality,
            protect=protect,
        )
        written.append(path)
        records.append(
            {
                "number": number,
                "file": path.name,
                "seed": int(cand.seed),
                "score": float(cand.score),
                "near": getattr(cand, "near", None),
                "spread": float(getattr(cand, "spread", 0.0)),
            }
        )
    manifest = _free_path(folder / f"{_safe_stem(stem)}-candidates.json")
    with atomic_write(manifest) as f:
        f.write(json.dumps({"source": stem, "candidates": records}, indent=2).encode("utf-8"))
    written.append(manifest)
    log.info("exported %d candidates to %s", len(candidates), folder)
    return written


def export_contact_sheet(
    candidates: Sequence[Any],
    path: str | Path,
    *,
    original: NDArray[np.uint8] | None = None,
    mask: NDArray[np.bool_] | None = None,
    title: str | None = None,
    numbers: Sequence[int] | None = None,
    cell: int = 360,
    quality: int = 92,
    overwrite: bool = False,
    protect: Iterable[str | Path] = (),
) -> Path:
    """Render a labelled contact sheet (zoomed to the mask's surroundings if mask is given) and save it.

    Paths in protect (the original photo) are refused even with overwrite=True.
    """
    target = Path(path).resolve()
    if any(target == Path(p).resolve() for p in protect):
        raise ImageError(f"{path}: is the original image; choose another name for the contact sheet")
    shape = candidates[0].shape if candidates else (0, 0)
    box = focus_box(mask, shape) if mask is not None and mask.any() else None
    sheet = contact_sheet(candidates, original=original, box=box, cell=cell, title=title, numbers=numbers)
    return save_image(path, sheet, quality=quality, overwrite=overwrite, protect=protect)


class _Runnable(QRunnable):
    def __init__(self, task: ExportTask) -> None:
        super().__init__()
        self._task = task
        self.setAutoDelete(True)

    def run(self) -> None:
        self._task._run()


class ExportTask(QObject):
    """Runs job() on the global QThreadPool; finished(result) or failed(message) arrive in the GUI thread."""

    finished = Signal(object)
    failed = Signal(str)
    # Emitted from the pool thread; the task lives in the GUI thread, so these are queued.
    _done = Signal(object)
    _error = Signal(str)

    def __init__(self, job: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job = job
        self._running = False
        self._done.connect(self._on_done)
        self._error.connect(self._on_error)

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        QThreadPool.globalInstance().start(_Runnable(self))

    def is_running(self) -> bool:
        return self._running

    def _run(self) -> None:  # pool thread: no widgets here
        try:
            result = self._job()
        except ImageError as exc:
            self._error.emit(str(exc))
        except Exception as exc:
            log.exception("export failed")
            self._error.emit(f"Export failed: {type(exc).__name__}: {exc}")
        else:
            self._done.emit(result)

    @Slot(object)
    def _on_done(self, result: object) -> None:
        self._running = False
        self.finished.emit(result)

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self._running = False
        self.failed.emit(message)


def _start_with_feedback(task: ExportTask, parent: QWidget | None, what: str) -> ExportTask:
    if parent is not None:
        task.failed.connect(lambda msg: QMessageBox.warning(parent, f"Could not export {what}", msg))
    task.start()
    return task


def export_candidates_dialog(
    parent: QWidget | None,
    candidates: Sequence[Any],
    source: str | Path | None,
    *,
    numbers: Sequence[int] | None = None,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
) -> ExportTask | None:
    """Ask for a folder and export every candidate as PNG there; None if the user cancelled.

    The returned task reports finished(list of paths) or failed(message); failures
    also show a message box over parent.
    """
    if not candidates:
        return None
    start = str(Path(source).parent) if source else ""
    folder = QFileDialog.getExistingDirectory(parent, "Export all candidates to folder", start)
    if not folder:
        return None
    stem = Path(source).stem if source else "untitled"
    cands = list(candidates)
    protect = [source] if source else []

    def job() -> list[Path]:
        return export_candidates(
            cands, folder, stem, numbers=numbers, icc_profile=icc_profile, exif=exif, protect=protect
        )

    return _start_with_feedback(ExportTask(job, parent), parent, "the candidates")


def export_contact_sheet_dialog(
    parent: QWidget | None,
    candidates: Sequence[Any],
    original: NDArray[np.uint8] | None,
    source: str | Path | None,
    *,
    mask: NDArray[np.bool_] | None = None,
    numbers: Sequence[int] | None = None,
) -> ExportTask | None:
    """Ask for a file name and write a contact sheet there; None if the user cancelled."""
    if not candidates:
        return None
    stem = Path(source).stem if source else "untitled"
    folder = Path(source).parent if source else Path.cwd()
    suggested = str(_free_path(folder / f"{_safe_stem(stem)}-contact-sheet.jpg"))
    name, chosen = QFileDialog.getSaveFileName(
        parent, "Export contact sheet", suggested, "JPEG (*.jpg);;PNG (*.png);;WebP (*.webp)"
    )
    if not name:
        return None
    # The name and the type chosen must agree (or the user is asked).
    named = Path(name).suffix.lower()  # no type reported (some dialogs): the name decides
    ext = next((e for e in (".jpg", ".png", ".webp") if f"*{e}" in (chosen or "")), None)
    ext = ext or (named if named in (".jpg", ".jpeg", ".png", ".webp") else ".jpg")
    agreed = agree_format(parent, Path(name), ext, "Write")
    if agreed is None:
        return None
    path = str(agreed)
    cands = list(candidates)
    # The file dialog already asked before replacing an existing file.
    protect = [source] if source else []
    title = Path(source).name if source else None
    mask_copy = None if mask is None else mask.copy()

    def job() -> Path:
        return export_contact_sheet(
            cands,
            path,
            original=original,
            mask=mask_copy,
            title=title,
            numbers=numbers,
            overwrite=True,
            protect=protect,
        )

    return _start_with_feedback(ExportTask(job, parent), parent, "the contact sheet")
