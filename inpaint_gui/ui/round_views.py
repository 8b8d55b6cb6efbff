"""What the user does with a round's candidates besides applying one: see where they disagree,
compare them side by side, export them. Mixed into GenerationRounds (ui/rounds.py), whose state
(the window, the round, the message signal) these use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import shiboken6
from PySide6.QtCore import Qt

if TYPE_CHECKING:
    from inpaint_gui.ui.window_parts import RoundsHost


class RoundViews:
    """The uncertainty overlay, the compare dialog and the exports of the gallery's candidates."""

    _w: RoundsHost
    round: Any
    message: Any
    _compare_dialog: Any
    _export_task: Any

    def show_uncertainty(self, on: bool) -> None:
        self._w.window_actions.uncertainty.setChecked(on)
        if self._w.gallery.uncertainty_checked() != on:
            self._w.gallery.set_uncertainty_checked(on)
        fresh = self.round is not None and not self.round.stale
        overlay = self._w.gallery.uncertainty_overlay(self.round.mask) if (on and fresh) else None
        if overlay is None or self.round is None:
            self._w.canvas.set_heatmap(None)
            return
        top, left, bottom, right = self.round.box
        self._w.canvas.set_heatmap(np.ascontiguousarray(overlay[top:bottom, left:right]), top, left)

    def compare_candidates(self) -> None:
        """All candidates side by side or in a grid, at canvas size."""
        from inpaint_gui.ui.compare import CompareDialog

        candidates = self._w.gallery.candidates()
        if self.round is None or not candidates:
            return
        self._close_compare()
        dialog = CompareDialog(np.asarray(self._w.document.rgb), candidates, self.round.mask, parent=self._w)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.view.candidate_selected.connect(self._w.gallery.select)
        dialog.view.candidate_chosen.connect(self.apply)
        if self._w.presentation.active:
            dialog.showFullScreen()
        else:
            dialog.show()
        self._compare_dialog = dialog

    def _close_compare(self) -> None:
        dialog, self._compare_dialog = self._compare_dialog, None
        if dialog is not None and shiboken6.isValid(dialog):  # the user may have closed it
            dialog.close()

    # -- export (writing happens on the thread pool, see ui/export.py) ------------------------

    def _source(self) -> tuple[str | None, bytes | None, bytes | None]:
        source = self._w.document.source
        if source is None:
            return None, None, None
        path = str(source.path) if source.path is not None else None
        return path, source.icc_profile, source.exif

    def export_candidates(self) -> None:
        from inpaint_gui.ui.export import export_candidates_dialog

        path, icc, exif = self._source()
        task = export_candidates_dialog(
            self._w, self._w.gallery.candidates(), path or self._w.document.name, icc_profile=icc, exif=exif
        )
        if task is not None:
            task.finished.connect(
                lambda paths: self.message.emit(f"Exported {len(paths) - 1} candidates", 6000)
            )
            self._export_task = task

    def export_contact_sheet(self) -> None:
        from inpaint_gui.ui.export import export_contact_sheet_dialog

        if self.round is None:
            return
        path, _, _ = self._source()
        task = export_contact_sheet_dialog(
            self._w,
            self._w.gallery.candidates(),
            np.array(self._w.document.rgb),
            path or self._w.document.name,
            mask=self.round.mask,
        )
        if task is not None:
            task.finished.connect(lambda written: self.message.emit(f"Wrote {written}", 6000))
            self._export_task = task
