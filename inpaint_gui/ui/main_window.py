"""The main window: wires the canvas, the document, the gallery and background generation together."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QThreadPool, QTimer, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from inpaint_gui.core.mask_doc import Box
from inpaint_gui.ui import qimage
from inpaint_gui.ui.actions import COMPARE_KEY, MAX_BRUSH, WindowActions, size_to_slider, slider_to_size
from inpaint_gui.ui.canvas import MaskCanvas
from inpaint_gui.ui.controller import GenerationController
from inpaint_gui.ui.document import DocumentFiles, ImageDocument
from inpaint_gui.ui.export_dialog import ExportDialog
from inpaint_gui.ui.gallery import CandidateGallery
from inpaint_gui.ui.history_panel import HistoryPanel
from inpaint_gui.ui.mask_files import MaskFiles
from inpaint_gui.ui.presentation import Presentation
from inpaint_gui.ui.restore import RestoreTools
from inpaint_gui.ui.rounds import GenerationRounds
from inpaint_gui.ui.session import SessionAutosave
from inpaint_gui.ui.settings import Settings, SettingsDialog, list_engines
from inpaint_gui.ui.shortcuts_dialog import ShortcutsDialog

log = logging.getLogger(__name__)

APP_NAME = "Inpaint"
#: Closing waits this long for background work to end, then hides the window and polls.
CLOSE_WAIT_MS, CLOSE_POLL_MS = 50, 50


class MainWindow(QMainWindow):
    """Paint a mask, generate candidates in the background, preview, apply, repeat."""

    def __init__(
        self,
        settings: Settings | None = None,
        controller: GenerationController | None = None,
        session_root: Path | None = None,
        max_pixels: int | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings or Settings()
        self.document = ImageDocument(self)
        self.canvas = MaskCanvas(self)
        self.setCentralWidget(self.canvas)
        self.gallery = CandidateGallery(self)
        self.gallery.set_thumbnail_size(self.settings.thumbnail_size)
        self.gallery.set_spread(self.settings.spread)
        self.gallery_dock = QDockWidget("Candidates", self)
        self.gallery_dock.setObjectName("galleryDock")
        self.gallery_dock.setWidget(self.gallery)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.gallery_dock)
        self.history_panel = HistoryPanel(self)
        self.history_dock = QDockWidget("History", self)
        self.history_dock.setObjectName("historyDock")
        self.history_dock.setWidget(self.history_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history_dock)
        self.resizeDocks([self.gallery_dock, self.history_dock], [3, 1], Qt.Orientation.Vertical)
        self.files = DocumentFiles(
            self.document, self, recent=self.settings.recent_files, max_pixels=max_pixels
        )
        self.controller = controller if controller is not None else GenerationController(self)
        self.window_actions = WindowActions(self, self.document.undo_stack)
        self.window_actions.build_menus()
        self.toolbar = self.window_actions.build_toolbars()
        self.window_actions.view_menu.addAction(self.gallery_dock.toggleViewAction())
        self.window_actions.view_menu.addAction(self.history_dock.toggleViewAction())
        self.presentation = Presentation(self)
        self.autosave = SessionAutosave(self, session_root)
        self.rounds = GenerationRounds(self)
        self.files.pending_work = self._pending_work
        self.mask_files = MaskFiles(self.document, self, lambda: self.rounds.last_mask)
        self.restore = RestoreTools(self, self.document)
        self._started = False
        self._closing = False  # the user confirmed; waiting for background work to end
        self._hidden_to_close = False
        self._peeking = False
        self._original_qimage = None
        self._build_status_bar()
        self._connect()
        self.canvas.set_overlay_style(self.settings.overlay_colour, self.settings.overlay_opacity)
        self._set_brush_size(40)
        self._update_recent_menu(self.files.recent_files())
        self._update_actions()
        self._update_title()
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        saved = self.settings.window_state
        if saved is not None:
            self.restoreGeometry(saved[0])
            self.restoreState(saved[1])
        QApplication.instance().installEventFilter(self)

    # -- start and stop ------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._started:
            # Normally the canvas's first paint starts the engine (see eventFilter); this is
            # the fallback for a window that is never painted, e.g. started minimised.
            QTimer.singleShot(1000, self._start_background)

    def _start_background(self) -> None:
        """Start the worker thread and load the engine (torch is imported there, not here)."""
        if self._started:
            return
        self._started = True
        self.controller.start()
        self.rounds.load_engine(*self.settings.startup_engine(list_engines()))
        self.autosave.offer_recovery()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self._closing:
            if not self.files.confirm_discard("closing"):
                event.ignore()
                return
            self._closing = True
            self.files.cancel_open()  # a file still decoding must not land in a closed window
            self.presentation.set_active(False)  # so the gallery's own thumbnail size is saved
            self.settings.window_state = (self.saveGeometry(), self.saveState())
        # An engine load or a file decode cannot be interrupted, and a QThread destroyed while
        # running aborts the process: leave the screen at once and finish closing when they end.
        # Exports and opens run on the global pool and report to this window.
        # Later polls do not block: a waiting GUI thread would only slow the work it waits for.
        wait_ms = 0 if self._hidden_to_close else CLOSE_WAIT_MS
        stopped = self.controller.stop(wait_ms)
        pool = QThreadPool.globalInstance()
        if not stopped or not (pool.waitForDone(wait_ms) if wait_ms else pool.activeThreadCount() == 0):
            event.ignore()
            self._hidden_to_close = True
            self.hide()
            QTimer.singleShot(CLOSE_POLL_MS, self.close)
            return
        self.controller.shutdown()
        self.restore.stop()  # cancels a denoise between tiles, then joins its thread
        app = QApplication.instance()
        others = [w for w in QApplication.topLevelWidgets() if w is not self and w.isVisible()]
        if self._hidden_to_close and app.quitOnLastWindowClosed() and not others:
            QTimer.singleShot(0, app.quit)  # a hidden window's close does not count as the last one
        QApplication.instance().removeEventFilter(self)
        self.settings.thumbnail_size = self.gallery.thumbnail_size()
        self.settings.spread = self.gallery.spread()
        self.settings.sync()
        self.autosave.close()
        event.accept()

    # -- wiring --------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self._status_pos = QLabel("")
        self._status_zoom = QLabel("")
        for w in (self._status_pos, self._status_zoom, self.rounds.progress, self.rounds.engine_label):
            bar.addPermanentWidget(w)

    def _connect(self) -> None:
        a, doc, canvas = self.window_actions, self.document, self.canvas
        gallery, rounds = self.gallery, self.rounds
        a.open.triggered.connect(self.files.open_dialog)
        a.paste.triggered.connect(self.files.paste)
        a.save.triggered.connect(self.files.save)
        a.save_as.triggered.connect(self.files.save_as)
        a.export_image.triggered.connect(self._on_export_image)
        a.export_candidates.triggered.connect(rounds.export_candidates)
        a.export_sheet.triggered.connect(rounds.export_contact_sheet)
        a.quit.triggered.connect(self.close)
        a.settings.triggered.connect(self._on_settings)
        for tool, action in a.tools.items():
            action.triggered.connect(lambda _=False, t=tool: canvas.set_tool(t))
            action.triggered.connect(lambda _=False, t=tool: a.show_tool_options(t))
        a.brush_bigger.triggered.connect(lambda: self._set_brush_size(canvas.brush_size() * 1.25 + 0.5))
        a.brush_smaller.triggered.connect(lambda: self._set_brush_size(canvas.brush_size() / 1.25))
        a.brush_slider.valueChanged.connect(lambda v: self._set_brush_size(slider_to_size(v)))
        a.brush_spin.valueChanged.connect(self._set_brush_size)
        canvas.object_select.set_image_source(lambda: doc.rgb)
        a.select_grow_spin.valueChanged.connect(canvas.object_select.set_grow)
        canvas.object_select.message.connect(self.statusBar().showMessage)
        a.brush_spin.done.connect(lambda: canvas.setFocus(Qt.FocusReason.OtherFocusReason))
        a.clear_mask.triggered.connect(lambda: doc.edit_mask("Clear mask", lambda m: m.clear()))
        a.invert_mask.triggered.connect(lambda: doc.edit_mask("Invert mask", lambda m: m.invert()))
        a.grow_mask.triggered.connect(lambda: self._on_grow_shrink(grow=True))
        a.exclude_area.triggered.connect(rounds.exclude_masked_area)
        a.clear_exclusion.triggered.connect(rounds.clear_exclusion)
        a.shrink_mask.triggered.connect(lambda: self._on_grow_shrink(grow=False))
        a.zoom_in.triggered.connect(canvas.zoom_in)
        a.zoom_out.triggered.connect(canvas.zoom_out)
        a.zoom_fit.triggered.connect(canvas.fit)
        a.zoom_100.triggered.connect(canvas.actual_size)
        a.compare.toggled.connect(self._on_compare_toggled)
        a.compare_grid.triggered.connect(rounds.compare_candidates)
        a.uncertainty.toggled.connect(rounds.show_uncertainty)
        a.presentation.toggled.connect(self.presentation.set_active)
        a.presentation.toggled.connect(self._update_actions)
        a.generate.triggered.connect(rounds.generate)
        a.generate_more.triggered.connect(rounds.generate_more)
        a.more_like_this.triggered.connect(
            lambda: rounds.more_like_this(gallery.selected_index(), gallery.spread())
        )
        a.apply.triggered.connect(lambda: rounds.apply(gallery.selected_index()))
        a.cancel.triggered.connect(self._on_cancel)
        for i, action in enumerate(a.pick):
            action.triggered.connect(lambda _=False, d=(i + 1) % 10: gallery.pick_digit(d))
        a.next_candidate.triggered.connect(lambda: gallery.step(1))
        a.previous_candidate.triggered.connect(lambda: gallery.step(-1))
        a.save_mask.triggered.connect(self.mask_files.save)
        a.load_mask.triggered.connect(self.mask_files.load)
        a.reuse_mask.triggered.connect(self.mask_files.reuse_last)
        self.mask_files.message.connect(self.statusBar().showMessage)
        a.shortcuts.triggered.connect(self._on_shortcuts)
        a.about.triggered.connect(self._on_about)

        self.files.recent_changed.connect(self._update_recent_menu)
        self.files.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        doc.replaced.connect(self._on_document_replaced)
        doc.replaced.connect(rounds.forget_exclusion)
        doc.image_changed.connect(self._on_document_image_changed)
        doc.mask_changed.connect(canvas.refresh_mask)
        doc.modified_changed.connect(self._update_title)
        doc.edited.connect(self.autosave.schedule)
        canvas.mask_edited.connect(doc.push_mask_edit)
        canvas.cursor_moved.connect(self._on_canvas_cursor_moved)
        canvas.zoom_changed.connect(lambda z: self._status_zoom.setText(f"{z * 100:.0f}%"))

        rounds.message.connect(self.statusBar().showMessage)
        rounds.state_changed.connect(self._update_actions)
        rounds.history_changed.connect(self._on_rounds_history_changed)
        self.history_panel.round_requested.connect(rounds.reopen)

    def _update_title(self) -> None:
        name = self.document.name if self.document.has_image() else ""
        self.setWindowTitle(f"{name}[*] — {APP_NAME}" if name else APP_NAME)
        self.setWindowModified(self.document.is_modified())

    def _update_actions(self) -> None:
        a, has_image = self.window_actions, self.document.has_image()
        n = len(self.gallery.candidates())
        for action in (
            a.save,
            a.save_as,
            a.export_image,
            a.clear_mask,
            a.invert_mask,
            a.grow_mask,
            a.shrink_mask,
            a.save_mask,
            a.load_mask,
            a.reuse_mask,
            a.exclude_area,
        ):
            action.setEnabled(has_image)
        for action in (a.generate, a.compare, a.zoom_in, a.zoom_out, a.zoom_fit, a.zoom_100):
            action.setEnabled(has_image)
        for action in (a.export_candidates, a.export_sheet, a.compare_grid):
            action.setEnabled(n > 0)
        current = n > 0 and not self.gallery.is_stale()  # out-of-date candidates are kept, not applied
        a.generate_more.setEnabled(current)
        a.apply.setEnabled(current)
        a.more_like_this.setEnabled(current and self.gallery.selected_index() >= 0)
        a.uncertainty.setEnabled(n > 1)
        a.cancel.setEnabled(self.controller.busy or self.presentation.active)
        a.cancel.setIconText("Leave" if self.presentation.active and not self.controller.busy else "Cancel")

    def _pending_work(self) -> str:
        n = len(self.gallery.candidates())
        return f"{n} candidate{'s' if n != 1 else ''}" if n else ""

    def _update_recent_menu(self, files: list[str]) -> None:
        menu = self.window_actions.recent_menu
        menu.clear()
        for path in files:
            menu.addAction(Path(path).name, lambda p=path: self.files.open_path(p)).setToolTip(path)
        if files:
            menu.addSeparator()
            menu.addAction("Clear list", self.files.clear_recent)
        menu.setEnabled(bool(files))
        self.settings.clear_recent_files()
        for path in reversed(files):
            self.settings.add_recent_file(path)

    # -- document ------------------------------------------------------------------------

    @Slot()
    def _on_document_replaced(self) -> None:
        self.controller.cancel()
        self.rounds.end()
        self._original_qimage = None
        self.window_actions.compare.setChecked(False)
        if self.document.has_image():
            self.canvas.set_document(
                qimage.rgb_to_qimage(np.asarray(self.document.rgb)), self.document.mask_doc
            )
            w, h = self.document.source.size
            note = self.document.source.depth_note()  # a 16-bit file is edited with 8 bits: say so
            opened = f"Opened {self.document.name} ({w}×{h})"
            self.statusBar().showMessage(f"{opened}: {note}" if note else opened, 8000)
        else:
            self.canvas.clear_document()
        self._update_title()
        self._update_actions()

    @Slot()
    def _on_rounds_history_changed(self) -> None:
        shown = self.rounds.round.record if self.rounds.round is not None else None
        self.history_panel.set_rounds(self.rounds.history.records, shown.number if shown else None)

    @Slot(object)
    def _on_document_image_changed(self, box: Box) -> None:
        top, left, bottom, right = box
        self.canvas.paste_image(np.ascontiguousarray(self.document.rgb[top:bottom, left:right]), top, left)
        if self.canvas.comparing():
            self._on_compare_toggled(True)

    @Slot(int, int)
    def _on_canvas_cursor_moved(self, x: int, y: int) -> None:
        self._status_pos.setText(f"{x}, {y}" if x >= 0 else "")

    def _set_brush_size(self, size: float) -> None:
        size = int(round(min(max(size, 1), MAX_BRUSH)))
        self.canvas.set_brush_size(size)
        for widget, value in (
            (self.window_actions.brush_slider, size_to_slider(size)),
            (self.window_actions.brush_spin, size),
        ):
            if widget.value() != value:
                widget.blockSignals(True)
                widget.setValue(value)
                widget.blockSignals(False)

    def _on_grow_shrink(self, grow: bool) -> None:
        if not self.document.has_image():
            return
        word = "Grow" if grow else "Shrink"
        pixels, ok = QInputDialog.getInt(self, f"{word} mask", "Pixels:", 8, 1, 500)
        if ok:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                op = (lambda m: m.grow(pixels)) if grow else (lambda m: m.shrink(pixels))
                self.document.edit_mask(f"{word} mask by {pixels} px", op)
            finally:
                QApplication.restoreOverrideCursor()

    @Slot()
    def _on_cancel(self) -> None:
        if self.controller.busy:
            self.controller.cancel()
        elif self.presentation.active:
            self.window_actions.presentation.setChecked(False)

    # -- compare with the original -------------------------------------------------------

    @Slot(bool)
    def _on_compare_toggled(self, on: bool) -> None:
        on = on or self._peeking  # holding \ shows the same original as the toggle
        if on and self.document.has_image():
            if not self.document.fills:
                self.canvas.set_original(None)  # nothing applied: the current image is the original
            else:
                if self._original_qimage is None:
                    self._original_qimage = qimage.rgb_to_qimage(self.document.source.rgb)
                self.canvas.set_original(self._original_qimage)
        self.canvas.set_compare(on)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if not self._started and event.type() == QEvent.Type.Paint and watched is self.canvas:
            QTimer.singleShot(0, self._start_background)  # the window is on screen: now load
        # Holding \ peeks at the original wherever the focus is, except in text fields.
        if event.type() not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        key_event: QKeyEvent = event  # type: ignore[assignment]
        if key_event.key() != COMPARE_KEY or isinstance(QApplication.focusWidget(), QLineEdit):
            return False
        mine = watched.window() is self if isinstance(watched, QWidget) else watched == self.windowHandle()
        if not mine:
            return False
        # The first object to see the key handles it; consuming it stops the others.
        if not key_event.isAutoRepeat():
            self._peeking = event.type() == QEvent.Type.KeyPress
            self._on_compare_toggled(self.window_actions.compare.isChecked())
        return True

    # -- drag and drop -------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        if DocumentFiles.image_path_in(mime) is not None or mime.hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        event.acceptProposedAction()
        # Open after the drop returns, so a prompt does not run inside the drag's event loop.
        mime = event.mimeData()
        path = DocumentFiles.image_path_in(mime)
        if path is not None:
            QTimer.singleShot(0, lambda: self.files.open_path(path))
        elif mime.hasImage():
            self.files.open_mime(mime)

    # -- dialogs -------------------------------------------------------------------------

    @Slot()
    def _on_settings(self) -> None:
        before = (self.settings.engine, self.settings.checkpoint, self.settings.device)
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        self.canvas.set_overlay_style(self.settings.overlay_colour, self.settings.overlay_opacity)
        after = (self.settings.engine, self.settings.checkpoint, self.settings.device)
        if after != before:
            self.rounds.load_engine(self.settings.engine, self.settings.checkpoint)

    @Slot()
    def _on_export_image(self) -> None:
        dialog = ExportDialog(self.files.suggested_path(".jpg"), self)
        if dialog.exec() == ExportDialog.DialogCode.Accepted:
            path = dialog.path()
            if self.files.confirm_overwrite(path):
                self.files.export_image(path, dialog.quality(), dialog.keep_metadata())

    @Slot()
    def _on_shortcuts(self) -> None:
        ShortcutsDialog(self.window_actions.shortcut_rows(), self).exec()

    @Slot()
    def _on_about(self) -> None:
        from inpaint_gui import __version__

        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"{APP_NAME} {__version__}\nPaint over what to remove, generate several fills, pick one.",
        )

    def engine_name(self) -> str:
        return self.rounds.engine
