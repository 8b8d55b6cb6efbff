"""Generation rounds: the glue between the gallery, the controller, the canvas and the document.

A round starts when the user asks for fills of the current mask. Its mask is
kept, so "Generate more" and "More like this" add candidates for the same
region, previews show the candidate inside that region, and applying one
writes exactly its masked pixels. Applying ends the round in the gallery; the
round stays in the document's history (ui/history.py), so undoing the Apply
brings its candidates back and any earlier round can be reopened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar

from inpaint_gui.core.compose import feather_alpha, feathered_fill, mask_bbox
from inpaint_gui.core.mask_doc import Box
from inpaint_gui.core.mask_prep import close_gaps, grow_mask
from inpaint_gui.ui.engine_choices import (
    FALLBACK_ENGINE,
    LAST_RESORT_ENGINE,
    engine_choices,
    missing_network_note,
    needs_checkpoint,
    same_checkpoint,
)
from inpaint_gui.ui.history import RoundHistory, RoundRecord
from inpaint_gui.ui.round_views import RoundViews
from inpaint_gui.ui.settings import list_engines

if TYPE_CHECKING:
    from inpaint_gui.ui.window_parts import RoundsHost

log = logging.getLogger(__name__)

# An engine box item holds the engine name (UserRole, so findData(name) works) and its checkpoint here.
CHECKPOINT_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass
class Round:
    """The mask and engine the gallery's candidates were generated for."""

    mask: NDArray[np.bool_]  # what the candidates fill: the painted mask, grown by the soft edge
    box: Box
    engine: str
    single: bool = False  # the engine gives one fill whatever n is
    title: str = ""  # the engine box's label, e.g. "Pluralistic: faces"
    record: RoundRecord | None = None  # where the history keeps its candidates
    stale: bool = False  # the document's mask is no longer the one the candidates were made for
    painted: NDArray[np.bool_] | None = None  # the user's mask when a soft edge grew it; else mask
    feather: int = 0  # soft edge in pixels
    drawn: NDArray[np.bool_] | None = None  # the mask as brushed, before its gaps were closed and it grew
    closed_gaps: int = 0  # small unpainted islands inside the brushed mask that were closed

    def made_for(self, mask: NDArray[np.bool_]) -> bool:
        """Whether the candidates were made for this (painted) mask."""
        own = self.drawn if self.drawn is not None else self.mask if self.painted is None else self.painted
        return mask.shape == own.shape and np.array_equal(mask, own)

    def blended(self, current: NDArray[np.uint8], cand: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The box's pixels as applying a candidate whose box pixels are cand would leave them: the
        soft edge blended in."""
        top, left, bottom, right = self.box
        here = current[top:bottom, left:right]
        if self.painted is None or self.feather <= 0:
            return np.ascontiguousarray(np.where(self.mask[top:bottom, left:right, None], cand, here))
        alpha, _ = feather_alpha(self.painted[top:bottom, left:right], self.feather)
        return feathered_fill(here, cand, alpha)


class GenerationRounds(RoundViews, QObject):
    """Runs rounds of generation for the main window."""

    message = Signal(str, int)  # status-bar text, milliseconds (0 = until replaced)
    state_changed = Signal()  # candidates, selection or busy state changed
    history_changed = Signal()  # a round was started, grew, was applied or reopened

    def __init__(self, window: RoundsHost) -> None:
        super().__init__(window)
        self._w = window
        self.round: Round | None = None
        self.last_mask: NDArray[np.bool_] | None = None  # painted for the latest generation (Reuse)
        self.engine = ""
        self.checkpoint: str | None = None
        self.engine_title = ""  # the box's label of the engine, e.g. "Pluralistic: faces"
        self.progress = QProgressBar()
        self.progress.setFixedWidth(170)
        self.progress.setFormat("%v / %m candidates")
        self.progress.hide()
        self.engine_label = QLabel("Engine: starting…")
        self._told_missing = False
        #: Where PatchMatch must not copy from: bool (H, W) of the open photo, or None.
        self.exclude: np.ndarray | None = None
        self._compare_dialog = None
        self._export_task = None
        self.history = RoundHistory()
        #: The last round applied, its fill, the candidate's index, and whether the round says so.
        self._applied: tuple[RoundRecord, object, int] | None = None
        self._applied_marked = False
        window.document.replaced.connect(self._on_document_replaced)
        window.document.undo_stack.indexChanged.connect(self._on_undo_index_changed)

        ctl, gallery = window.controller, window.gallery
        ctl.candidate_ready.connect(self._on_controller_candidate_ready)
        ctl.search_progress.connect(self._on_controller_search_progress)
        ctl.search_preview.connect(self._on_controller_search_preview)
        ctl.request_finished.connect(self._on_controller_request_finished)
        ctl.request_failed.connect(self._on_controller_request_failed)
        ctl.request_cancelled.connect(self._on_controller_request_cancelled)
        ctl.engine_ready.connect(self._on_controller_engine_ready)
        ctl.engine_failed.connect(self._on_controller_engine_failed)
        ctl.busy_changed.connect(self._on_controller_busy_changed)
        gallery.candidate_previewed.connect(self._on_gallery_candidate_previewed)
        gallery.candidate_chosen.connect(self.apply)
        gallery.generate_more_requested.connect(self.generate_more)
        gallery.more_like_this_requested.connect(self.more_like_this)
        gallery.uncertainty_toggled.connect(self.show_uncertainty)
        gallery.compare_requested.connect(self.compare_candidates)
        window.window_actions.engine_box.activated.connect(self._on_engine_box_activated)
        window.document.edited.connect(self._check_stale)
        self._fill_engine_box()

    # -- engines -------------------------------------------------------------------------

    def load_engine(self, name: str, checkpoint: str | None) -> None:
        """Load an engine in the worker; checkpoint and device go only to engines that use them
        (the classical engines run on the CPU and refuse either). The box shows the choice."""
        device = self._w.settings.device
        if not needs_checkpoint(name):
            checkpoint, device = None, "auto"
        self.engine, self.checkpoint = name, checkpoint
        box = self._w.window_actions.engine_box
        row = self._engine_row(name, checkpoint)
        if row < 0:  # a file chosen in Settings, or one installed since the box was filled
            self._fill_engine_box(checkpoint)
            row = self._engine_row(name, checkpoint)
        box.setCurrentIndex(max(0, row if row >= 0 else box.findData(name)))
        self.engine_title = box.itemText(row) if row >= 0 else name
        self.engine_label.setText(f"Engine: loading {self.engine_title}…")
        self._w.controller.load_engine(name, checkpoint, device)

    def _fill_engine_box(self, extra: str | None = None) -> None:
        """One item per engine, and per release checkpoint of the pluralistic one; extra
        (default: the Settings checkpoint) gets its own item when it is not in the folder."""
        box = self._w.window_actions.engine_box
        box.clear()
        model = box.model()
        for choice in engine_choices(list_engines(), extra or self._w.settings.checkpoint):
            box.addItem(choice.label, choice.name)
            row = box.count() - 1
            box.setItemData(row, choice.checkpoint, CHECKPOINT_ROLE)
            box.setItemData(row, choice.tooltip or None, Qt.ItemDataRole.ToolTipRole)
            if not choice.enabled and isinstance(model, QStandardItemModel):
                model.item(row).setEnabled(False)
        row = self._engine_row(self.engine, self.checkpoint)
        if row >= 0:
            box.setCurrentIndex(row)

    def _engine_row(self, name: str, checkpoint: str | None) -> int:
        box = self._w.window_actions.engine_box
        for row in range(box.count()):
            if box.itemData(row) == name and same_checkpoint(box.itemData(row, CHECKPOINT_ROLE), checkpoint):
                return row
        return -1

    @Slot(int)
    def _on_engine_box_activated(self, index: int) -> None:
        box = self._w.window_actions.engine_box
        name = str(box.itemData(index))
        checkpoint = box.itemData(index, CHECKPOINT_ROLE) or None
        if name == self.engine and same_checkpoint(checkpoint, self.checkpoint):
            return
        settings = self._w.settings
        settings.engine = name
        if needs_checkpoint(name):
            settings.checkpoint = checkpoint  # a classical engine leaves the user's file set for later
        self.load_engine(name, checkpoint)

    # -- requests ------------------------------------------------------------------------

    def end(self) -> None:
        """Forget the round (a new image, or a fill applied)."""
        self._w.controller.cancel()
        record = self.round.record if self.round is not None else None
        if record is not None and not record.candidates and record in self.history.records:
            self.history.records.remove(record)  # cancelled before any candidate: nothing to keep
        self.round = None
        self._w.gallery.set_stale(False)
        self.history_changed.emit()  # the panel marks the round the gallery shows
        self._close_compare()  # its cells would apply the next round's candidates
        self._w.gallery.clear()
        self._w.canvas.set_preview(None)
        self._w.canvas.set_heatmap(None)
        self._w.window_actions.uncertainty.setChecked(False)
        self.progress.hide()
        self.state_changed.emit()

    @Slot()
    def generate(self) -> None:
        doc = self._w.document
        if not doc.has_image():
            return
        painted = doc.mask_doc.copy()
        if mask_bbox(painted) is None:
            self.message.emit("Paint over what to remove first (brush: B, rectangle: R, lasso: L)", 5000)
            return
        self.end()
        drawn = painted
        # Mask hygiene here, not only in the engine: applying a candidate copies the round's mask.
        painted, closed = close_gaps(painted)
        painted = grow_mask(painted, self._w.settings.grow)
        feather = self._w.settings.feather
        mask = feather_alpha(painted, feather)[1] if feather > 0 else painted
        box = mask_bbox(mask)
        assert box is not None
        record = self.history.start(
            painted,
            box,
            self.engine,
            self.checkpoint,
            self.engine_title,
            self._w.settings.n_candidates,
            feather,
        )
        self.round = Round(
            mask,
            box,
            self.engine,
            title=self.engine_title,
            record=record,
            painted=painted,
            feather=feather,
            drawn=drawn,
            closed_gaps=closed,
        )
        self.last_mask = drawn
        self._w.gallery.set_focus_mask(mask)
        self._request(self._w.settings.next_seed())
        self.history_changed.emit()

    @Slot()
    def _check_stale(self) -> None:
        """Candidates belong to the mask they were made for: mark them out of date when it changes
        (and current again when an undo brings it back). Out-of-date ones are kept, not previewed."""
        doc = self._w.document
        if self.round is None or not doc.has_image():
            return
        stale = not self.round.made_for(doc.mask_doc.mask)
        if stale == self.round.stale:
            return
        self.round.stale = stale
        self._w.gallery.set_stale(stale)
        if stale:
            self._w.canvas.set_preview(None)  # the new strokes must be visible
            self._w.canvas.set_heatmap(None)
            self.message.emit("The mask changed: the candidates are out of date (Ctrl+Enter generates)", 6000)
        else:
            self._on_gallery_candidate_previewed(self._w.gallery.previewed_index())
            if self._w.gallery.uncertainty_checked():
                self.show_uncertainty(True)
        self.state_changed.emit()

    def _refuse_stale(self) -> bool:
        if self.round is not None and self.round.stale:
            self.message.emit(
                "These candidates were made for an earlier mask: generate (Ctrl+Enter) for the current one",
                6000,
            )
            return True
        return False

    @Slot()
    def generate_more(self) -> None:
        if self.round is not None and not self._refuse_stale() and not self._single():
            self._request(self._fresh_seed())

    @Slot(int, float)
    def more_like_this(self, index: int, spread: float) -> None:
        candidates = self._w.gallery.candidates()
        if self.round is None or not 0 <= index < len(candidates) or self._refuse_stale() or self._single():
            return
        self._request(self._fresh_seed(), near=candidates[index].seed, spread=spread)

    def exclude_masked_area(self) -> None:
        """Turn what is painted into the area PatchMatch must not copy from, and clear the mask."""
        doc = self._w.document
        if not doc.has_image():
            return
        painted = doc.mask_doc.copy()
        if not painted.any():
            self.message.emit("Paint the area not to copy from first, then choose this again", 6000)
            return
        if self.exclude is not None and self.exclude.shape == painted.shape:
            painted |= self.exclude
        self.exclude = painted
        doc.edit_mask("Clear mask", lambda m: m.clear())
        self._w.window_actions.clear_exclusion.setEnabled(True)
        self.message.emit(
            f"PatchMatch will not copy from {painted.mean():.0%} of the photo; now paint the hole "
            "(Mask > Copy from anywhere again undoes this)",
            10000,
        )

    def clear_exclusion(self) -> None:
        self.forget_exclusion()
        self.message.emit("PatchMatch copies from anywhere around the hole again", 4000)

    def forget_exclusion(self) -> None:
        """Drop the area not to copy from (another photo was opened, or the user asked)."""
        self.exclude = None
        self._w.window_actions.clear_exclusion.setEnabled(False)

    def _single(self) -> bool:
        if self.round is not None and self.round.single:
            who = self.round.title or self.round.engine
            self.message.emit(
                f"{who} gives one fill; choose Guided, PatchMatch or a pluralistic network for more", 5000
            )
            return True
        return False

    def _request(self, seed: int, near: int | None = None, spread: float = 0.25) -> None:
        assert self.round is not None
        n = self._w.settings.n_candidates
        record = self.round.record
        if record is not None and (record.engine, record.checkpoint) != (self.engine, self.checkpoint):
            # A reopened round of another engine: what comes now is a round of its own in the history.
            painted = self.round.mask if self.round.painted is None else self.round.painted
            self.round.record = self.history.start(
                painted,
                self.round.box,
                self.engine,
                self.checkpoint,
                self.engine_title,
                n,
                self.round.feather,
            )
            self.round.engine, self.round.title = self.engine, self.engine_title
            self.history_changed.emit()
        exclude = self.exclude
        if exclude is not None and exclude.shape != self.round.mask.shape:
            exclude = self.exclude = None  # drawn on another photo
        options = {**self._w.settings.engine_options(), "patch_size": self._w.settings.patch_size}
        options["exclude"] = exclude
        options["close_gaps"] = False  # generate() closed them already, in the round's own mask
        self._w.controller.generate(
            np.asarray(self._w.document.rgb), self.round.mask, n, seed, near, spread, options=options
        )
        self.progress.setFormat("%v / %m candidates")
        self.progress.setRange(0, n)
        self.progress.setValue(0)
        self.progress.show()
        self._w.gallery.set_progress(0, n)
        what = "variations" if near is not None else "candidates"
        who = self.round.title or self.round.engine
        gaps = self.round.closed_gaps
        note = f" (closed {gaps} small gap{'s' if gaps != 1 else ''} in the mask)" if gaps else ""
        self.message.emit(f"Generating {n} {what} with {who}{note}… (Esc cancels)", 0)

    def _fresh_seed(self) -> int:
        seeds = self._w.gallery.seeds()
        return max(seeds) + 1 if seeds else self._w.settings.next_seed()

    # -- controller ----------------------------------------------------------------------

    @Slot(int, int, int)
    def _on_controller_search_progress(self, _rid: int, step: int, total: int) -> None:
        """A searching engine (latent) works on all candidates at once: show its steps meanwhile."""
        if self.round is None:
            return
        self.progress.setFormat("search step %v / %m")
        self.progress.setRange(0, total)
        self.progress.setValue(step)

    @Slot(int, int, int, object)
    def _on_controller_search_preview(self, _rid: int, step: int, total: int, fills: object) -> None:
        """The search's current fills, shown provisionally in the gallery until the candidates come."""
        if self.round is not None:
            self._w.gallery.show_search_preview(fills, step, total)  # type: ignore[arg-type]

    @Slot(int, object, int, int)
    def _on_controller_candidate_ready(self, _rid: int, candidate: object, index: int, total: int) -> None:
        if self.round is None:
            return
        self.round.single = total == 1 and self._w.settings.n_candidates > 1
        gallery = self._w.gallery
        gallery.add_candidate(candidate)
        if self.round.record is not None:
            self.round.record.add(candidate)  # type: ignore[arg-type]
            self.history.trim()
            self._w.autosave.schedule()
            self.history_changed.emit()
        gallery.set_progress(index + 1, total)
        self.progress.setFormat("%v / %m candidates")
        self.progress.setRange(0, total)
        self.progress.setValue(index + 1)
        if gallery.uncertainty_checked():
            self.show_uncertainty(True)
        self.state_changed.emit()

    @Slot(int)
    def _on_controller_request_finished(self, _rid: int) -> None:
        self.progress.hide()
        self._w.gallery.end_search_preview()
        # Once the writer has this on disk (a fraction of a second), a crash loses none of them.
        self._w.autosave.start_save()
        candidates = self._w.gallery.candidates()
        n = len(candidates)
        # Which engine filled which part, when the default engine split the mask (faces).
        parts = next((c.filled_by for c in reversed(candidates) if getattr(c, "filled_by", "")), "")
        self.message.emit(
            f"{n} candidate{'s' if n != 1 else ''}{f' ({parts})' if parts else ''}: "
            "hover or 1–9 to preview, Enter applies",
            8000,
        )

    @Slot(int, str)
    def _on_controller_request_failed(self, _rid: int, message: str) -> None:
        self.progress.hide()
        self._w.gallery.set_progress(0, 0)
        self._w.gallery.end_search_preview()
        self.message.emit(f"Generation failed: {message}", 10000)
        QMessageBox.warning(self._w, "Generation failed", message)

    @Slot(int)
    def _on_controller_request_cancelled(self, _rid: int) -> None:
        self.progress.hide()
        self._w.autosave.start_save()
        self._w.gallery.set_progress(0, 0)
        self._w.gallery.end_search_preview()
        self.message.emit("Cancelled", 4000)

    @Slot(str)
    def _on_controller_engine_ready(self, name: str) -> None:
        self.engine_label.setText(f"Engine: {self.engine_title if name == self.engine else name}")
        if not self._told_missing and name in (FALLBACK_ENGINE, LAST_RESORT_ENGINE):
            note = missing_network_note(list_engines(), name)
            if note:
                self._told_missing = True  # said once per session, in words, not only in a tooltip
                self.message.emit(note, 30000)

    @Slot(str, str)
    def _on_controller_engine_failed(self, name: str, message: str) -> None:
        self.engine_label.setText(f"Engine: {name} failed")
        QMessageBox.warning(self._w, "Engine failed to load", f"{name}: {message}")
        if name not in (FALLBACK_ENGINE, LAST_RESORT_ENGINE):
            self.load_engine(FALLBACK_ENGINE, None)
        elif name == FALLBACK_ENGINE:
            self.load_engine(LAST_RESORT_ENGINE, None)

    @Slot(bool)
    def _on_controller_busy_changed(self, busy: bool) -> None:
        if not busy:
            self.progress.hide()
        self.state_changed.emit()

    # -- gallery -------------------------------------------------------------------------

    @Slot(int)
    def _on_gallery_candidate_previewed(self, index: int) -> None:
        candidates = self._w.gallery.candidates()
        if self.round is None or self.round.stale or not 0 <= index < len(candidates):
            self._w.canvas.set_preview(None)
        else:
            top, left, _, _ = self.round.box
            box = self.round.box
            crop = self.round.blended(np.asarray(self._w.document.rgb), candidates[index].region(*box))
            self._w.canvas.set_preview(crop, top, left)
        self.state_changed.emit()

    @Slot(int)
    def apply(self, index: int) -> None:
        """Write candidate `index` into the image (undoable); the round ends."""
        candidates = self._w.gallery.candidates()
        if self.round is None or not 0 <= index < len(candidates):
            return
        if not self.round.made_for(self._w.document.mask_doc.mask):  # never a fill for another mask
            self.round.stale = True
            self._refuse_stale()
            return
        c = candidates[index]
        doc = self._w.document
        image = c.image
        if self.round.feather > 0:  # write the blended soft edge, not the raw fill
            top, left, bottom, right = self.round.box
            image = np.array(doc.rgb)
            image[top:bottom, left:right] = self.round.blended(image, c.region(top, left, bottom, right))
        if doc.apply_fill(
            image, self.round.mask, seed=c.seed, engine=self.round.engine, near=c.near, spread=c.spread
        ):
            self.message.emit(f"Applied candidate {index + 1} (seed {c.seed}); Ctrl+Z undoes it", 6000)
            record = self.round.record
            if record is not None and doc.fills:
                record.mark_applied(index)
                self._applied = (record, doc.fills[-1], index)
                self._applied_marked = True
                self.history_changed.emit()
        self.end()  # results still coming were made for the image before this fill

    # -- history ---------------------------------------------------------------------------

    @Slot(int)
    def reopen(self, number: int, set_mask: bool = True) -> bool:
        """Show round `number`'s candidates in the gallery again, over the image as it is now;
        with set_mask, the mask becomes that round's (one undoable step) so they apply to it."""
        record = self.history.find(number)
        doc = self._w.document
        if record is None or not doc.has_image() or record.image_shape != doc.rgb.shape[:2]:
            return False
        painted = record.full_mask()
        self.last_mask = painted  # Reuse last mask (Ctrl+Shift+M) means this round's now
        if set_mask and not record.same_mask(doc.mask_doc.mask):
            doc.edit_mask(f"Mask of round {number}", lambda m: m.replace(painted))
        self.end()
        mask = feather_alpha(painted, record.feather)[1] if record.feather > 0 else painted
        self.round = Round(
            mask,
            record.box,
            record.engine,
            title=record.title,
            record=record,
            painted=painted,
            feather=record.feather,
        )
        self.round.single = len(record.candidates) == 1 and record.n > 1
        gallery = self._w.gallery
        gallery.set_focus_mask(mask)
        for candidate in record.rebuild(np.asarray(doc.rgb)):
            gallery.add_candidate(candidate)
        if record.applied:  # the candidate applied last, not the first, is the one to look at
            gallery.select(record.applied[-1])
        n = len(record.candidates)
        self.message.emit(f"Round {number}: {n} candidate{'s' if n != 1 else ''} back in the gallery", 6000)
        self.state_changed.emit()
        self.history_changed.emit()
        self._w.autosave.schedule()
        return True

    def restore_history(self, records: list[RoundRecord], active: int | None) -> None:
        """Take over a recovered session's rounds; the one the gallery showed is shown again."""
        self.history.replace(records)
        if active is not None:
            self.reopen(active, set_mask=False)
        self.history_changed.emit()

    @Slot()
    def _on_document_replaced(self) -> None:
        self.history.clear()
        self._applied = None
        self.history_changed.emit()

    @Slot(int)
    def _on_undo_index_changed(self, _index: int) -> None:
        """Undoing an Apply brings its round's candidates back; redoing it ends the round again."""
        if self._applied is None:
            return
        record, fill, index = self._applied
        doc = self._w.document
        applied = any(f is fill for f in doc.fills)
        if applied != self._applied_marked:  # the round says "applied #n" only while it is
            self._applied_marked = applied
            if applied:
                record.mark_applied(index)
            else:
                record.unmark_applied(index)
            self.history_changed.emit()
        showing = self.round is not None and self.round.record is record
        if not applied and not showing and self.round is None and record.same_mask(doc.mask_doc.mask):
            self.reopen(record.number, set_mask=False)
            self._w.gallery.select(index)
        elif applied and showing:
            self.end()
