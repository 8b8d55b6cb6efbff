"""The candidate gallery: numbered thumbnails to preview, pick and apply.

It only emits intent signals; the main window decides what previewing or
applying means. Candidates are numbered 1, 2, ... in the order they arrive and
keep their number when sorted by score; every index in the API is the 0-based
arrival index, so candidate_chosen(i) refers to candidates()[i]. The first
candidate added to an empty selection is selected and previewed.
"""

from __future__ import annotations

import bisect
import logging
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from inpaint_gui.core.compose import mask_bbox
from inpaint_gui.core.contact_sheet import Box, candidate_label, fit_image, focus_box
from inpaint_gui.core.metrics import SEAM_HELP
from inpaint_gui.core.uncertainty import uncertainty_overlay
from inpaint_gui.ui.qimage import rgb_to_qimage

log = logging.getLogger(__name__)

_INDEX_ROLE = Qt.ItemDataRole.UserRole
DEFAULT_THUMBNAIL = 128
MIN_THUMBNAIL, MAX_THUMBNAIL = 48, 1024
_DIGIT_KEYS = {getattr(Qt.Key, f"Key_{d}"): d for d in range(10)}
DIGIT_WINDOW_S = 0.8  # a second digit typed within this makes a two-digit number
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class CandidateGallery(QWidget):
    """Thumbnails of the current candidates with apply / generate-more / more-like-this controls."""

    candidate_previewed = Signal(int)  # hovered or selected by keys; -1 = none
    candidate_chosen = Signal(int)  # Enter, double-click or the Apply button
    generate_more_requested = Signal()
    more_like_this_requested = Signal(int, float)  # index, spread
    uncertainty_toggled = Signal(bool)  # the Uncertainty button; see uncertainty_overlay()
    compare_requested = Signal()  # the Compare button: open the side-by-side view

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._candidates: list[Any] = []
        self._icons: list[QIcon] = []
        self._box: Box | None = None
        self._thumb = DEFAULT_THUMBNAIL
        self._tallest = 0  # height of the tallest thumbnail made at the current size
        self._previewed = -1
        self._typed, self._typed_at = 0, 0.0  # digits typed so far (see pick_digit)
        self._base_point_size = self.font().pointSizeF()

        self._list = QListWidget(self)
        self._list.setObjectName("candidateList")
        self._list.setViewMode(QListView.ViewMode.IconMode)
        self._list.setResizeMode(QListView.ResizeMode.Adjust)
        self._list.setMovement(QListView.Movement.Static)
        self._list.setWrapping(True)
        self._list.setUniformItemSizes(True)
        self._list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._list.setMouseTracking(True)
        self._list.setSpacing(4)
        self._list.itemEntered.connect(self._on_list_item_entered)
        self._list.currentItemChanged.connect(self._on_list_current_changed)
        self._list.itemDoubleClicked.connect(self._on_list_item_double_clicked)
        self._list.installEventFilter(self)
        self._list.viewport().installEventFilter(self)

        # A searching engine (latent) works on all candidates at once and shows how they converge.
        self._search = QListWidget(self)
        self._search.setObjectName("searchPreview")
        self._search.setViewMode(QListView.ViewMode.IconMode)
        self._search.setResizeMode(QListView.ResizeMode.Adjust)
        self._search.setMovement(QListView.Movement.Static)
        self._search.setWrapping(True)
        self._search.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self._search.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._search_note = QLabel(self)
        self._search_note.setObjectName("searchNote")
        self._search.hide()
        self._search_note.hide()

        self._progress = QProgressBar(self)
        self._progress.setFormat("%v / %m")
        self._progress.setTextVisible(True)
        self._progress.hide()

        self._sort = QToolButton(self)
        self._sort.setText("Best blend first")
        self._sort.setCheckable(True)
        self._sort.setToolTip(f"Lowest seam first (numbers stay with their candidates).\n{SEAM_HELP}")
        self._sort.toggled.connect(self._on_sort_toggled)

        self._count = QLabel(self)
        self._count.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        # Room for every count text, so the dock (and the canvas beside it) keeps its width.
        widest = max(
            self._count.fontMetrics().horizontalAdvance(t) for t in ("No candidates yet", "888 candidates")
        )
        self._count.setMinimumWidth(widest + 2)
        self._stale = False
        self._stale_note = QLabel(
            "Out of date: the mask changed since these were made. "
            "Generate (Ctrl+Enter) for the new mask, or undo back to it.",
            self,
        )
        self._stale_note.setObjectName("staleNote")
        self._stale_note.setWordWrap(True)
        self._stale_note.setStyleSheet("QLabel { background: #f3d36b; color: #222; padding: 4px; }")
        self._stale_note.hide()

        self._apply = QPushButton("Apply", self)
        self._apply.setToolTip("Apply the selected candidate (Enter or double-click)")
        self._apply.clicked.connect(self._on_apply_clicked)
        self._more = QPushButton("Generate more", self)
        self._more.setToolTip("Add new candidates for the same mask")
        self._more.clicked.connect(self.generate_more_requested)
        self._like = QPushButton("More like this", self)
        self._like.setToolTip("New candidates near the selected one; spread: how far they may stray")
        self._like.clicked.connect(self._on_like_clicked)
        self._spread = QDoubleSpinBox(self)
        self._spread.setObjectName("spread")
        self._spread.setRange(0.05, 1.0)
        self._spread.setSingleStep(0.05)
        self._spread.setDecimals(2)
        self._spread.setValue(0.25)
        self._spread.setPrefix("spread ")
        self._spread.setToolTip("0 = the same fill again, 1 = as different as a new seed")
        self._uncertainty = QToolButton(self)
        self._uncertainty.setText("Uncertainty")
        self._uncertainty.setCheckable(True)
        self._uncertainty.setToolTip("Show where the candidates disagree (where the model is guessing)")
        self._uncertainty.toggled.connect(self.uncertainty_toggled)
        self._compare = QToolButton(self)
        self._compare.setText("Compare")
        self._compare.setToolTip("All candidates side by side at full size")
        self._compare.clicked.connect(self.compare_requested)

        top = QHBoxLayout()
        top.addWidget(self._count)
        top.addWidget(self._sort)
        top.addWidget(self._uncertainty)
        top.addWidget(self._compare)
        actions = QHBoxLayout()
        actions.addWidget(self._apply)
        actions.addWidget(self._more)
        like = QHBoxLayout()
        like.addWidget(self._like)
        like.addWidget(self._spread)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self._stale_note)
        layout.addWidget(self._progress)
        layout.addWidget(self._search_note)
        layout.addWidget(self._search, 1)
        layout.addWidget(self._list, 1)
        layout.addLayout(actions)
        layout.addLayout(like)
        self._apply_thumbnail_size()
        self._update_controls()

    # ---- public API ------------------------------------------------------

    def clear(self) -> None:
        """Remove every candidate (numbering restarts at 1) and preview none."""
        self._list.clear()
        self._candidates.clear()
        self._icons.clear()
        self._tallest = 0
        self._progress.hide()
        self.end_search_preview()
        self.set_stale(False)
        self._set_preview(-1)
        self._update_controls()

    def add_candidate(self, candidate: Any) -> int:
        """Append a candidate (anything with image, seed, score) and return its index."""
        self.end_search_preview()  # the real candidates are here
        index = len(self._candidates)
        self._candidates.append(candidate)
        self._icons.append(self._make_icon(candidate))
        self._fit_grid()
        item = self._make_item(index)
        if self._sort.isChecked():
            # Keep rows in descending score: insert after every row scoring at least as much.
            keys = [-self._candidates[self._row_index(r)].score for r in range(self._list.count())]
            self._list.insertItem(bisect.bisect_right(keys, -candidate.score), item)
        else:
            self._list.addItem(item)
        if self._list.currentItem() is None:
            # The first candidate to arrive is selected and previewed, so the canvas shows a
            # fill at once and Enter applies it; the user flips with 1-9 or the arrows.
            self._list.setCurrentItem(item)
        self._update_controls()
        return index

    def show_search_preview(self, fills: list[NDArray[np.uint8]], step: int, total: int) -> None:
        """Show a searching engine's current fills (small RGB images, one per candidate) while it
        works on all of them at once; they are provisional, cannot be picked, and give way to the
        real candidates (add_candidate), clear() or end_search_preview()."""
        self._search.clear()
        tallest = 0
        for number, fill in enumerate(fills, len(self._candidates) + 1):
            icon, height = self._icon(fill, None)
            tallest = max(tallest, height)
            item = QListWidgetItem(icon, f"{number}")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            item.setToolTip(f"candidate {number} as the search sees it (step {step} of {total})")
            self._search.addItem(item)
        self._search.setIconSize(QSize(self._thumb, self._thumb))
        self._search.setGridSize(self._grid_size(self._search, tallest))
        self._search_note.setText(f"Searching: step {step} of {total} (previews at the search's own size)")
        self._search_note.show()
        self._search.show()
        self._list.setVisible(bool(self._candidates))  # an empty list would take half the room

    def end_search_preview(self) -> None:
        """Hide the search previews (the request finished, failed or was cancelled)."""
        self._search.clear()
        self._search.hide()
        self._search_note.hide()
        self._list.show()

    def search_preview_count(self) -> int:
        """How many provisional fills are shown (0 when no search is under way)."""
        return self._search.count() if self._search.isVisibleTo(self) else 0

    def set_stale(self, stale: bool) -> None:
        """Mark the candidates out of date (made for another mask): shown greyed with a note,
        kept for browsing, and neither applied nor previewed from here."""
        if stale == self._stale:
            return
        self._stale = stale
        self._stale_note.setVisible(stale)
        for row in range(self._list.count()):
            self._set_item_enabled(self._list.item(row))
        self._update_controls()

    def is_stale(self) -> bool:
        return self._stale

    def _set_item_enabled(self, item: QListWidgetItem) -> None:
        flags = item.flags()
        enabled = Qt.ItemFlag.ItemIsEnabled
        item.setFlags(flags & ~enabled if self._stale else flags | enabled)

    def candidates(self) -> list[Any]:
        """The candidates in arrival order (index i is number i + 1)."""
        return list(self._candidates)

    def seeds(self) -> list[int]:
        """Seeds of the candidates shown, e.g. to pick fresh ones for "Generate more"."""
        return [c.seed for c in self._candidates]

    def set_progress(self, done: int, total: int) -> None:
        """Show done/total; hidden when total <= 0 or done >= total."""
        if total <= 0 or done >= total:
            self._progress.hide()
            return
        self._progress.setRange(0, total)
        self._progress.setValue(max(0, done))
        self._progress.show()

    def select(self, index: int) -> None:
        """Select (and preview) candidate `index`, 0-based; out of range is ignored (digits: pick_digit)."""
        row = self._row_of(index)
        if row < 0:
            return
        self._list.setCurrentRow(row)
        self._list.scrollToItem(self._list.item(row))
        self._set_preview(index)

    def pick_digit(self, digit: int) -> None:
        """Select by number from the keyboard: 1-9, 0 alone = 10, and a second digit typed
        within DIGIT_WINDOW_S extends the number (1 then 2 = 12) when such a candidate exists."""
        now = time.monotonic()
        typed = digit
        if self._typed and now - self._typed_at < DIGIT_WINDOW_S:
            longer = self._typed * 10 + digit
            if longer <= len(self._candidates):
                typed = longer
        self._typed, self._typed_at = typed, now
        self.select((typed or 10) - 1)

    def forget_typed(self) -> None:
        """The next digit starts a new number."""
        self._typed = 0

    def step(self, delta: int) -> None:
        """Select the candidate delta places on in the shown order (wrapping), e.g. for . and ,."""
        count = self._list.count()
        if count == 0:
            return
        row = self._list.currentRow()
        row = 0 if row < 0 else (row + delta) % count
        self.select(self._row_index(row))

    def selected_index(self) -> int:
        """Index of the selected candidate, -1 if none."""
        item = self._list.currentItem()
        return -1 if item is None else int(item.data(_INDEX_ROLE))

    def previewed_index(self) -> int:
        return self._previewed

    def set_thumbnail_size(self, px: int) -> None:
        """Longest side of thumbnails in pixels (48..1024); large for presentations."""
        px = max(MIN_THUMBNAIL, min(MAX_THUMBNAIL, int(px)))
        if px == self._thumb:
            return
        self._thumb = px
        self._apply_thumbnail_size()
        self._rebuild_icons()

    def thumbnail_size(self) -> int:
        return self._thumb

    def set_focus_mask(self, mask: NDArray[np.bool_] | None) -> None:
        """Thumbnails show the mask's surroundings instead of the whole image (None = whole image)."""
        box = None if mask is None or not mask.any() else focus_box(mask, mask.shape)
        if box != self._box:
            self._box = box
            self._rebuild_icons()

    def set_sort_by_score(self, on: bool) -> None:
        self._sort.setChecked(on)

    def sort_by_score(self) -> bool:
        return self._sort.isChecked()

    def spread(self) -> float:
        return float(self._spread.value())

    def set_spread(self, value: float) -> None:
        self._spread.setValue(value)

    def uncertainty_checked(self) -> bool:
        return self._uncertainty.isChecked()

    def set_uncertainty_checked(self, on: bool) -> None:
        self._uncertainty.setChecked(on)

    def uncertainty_overlay(
        self, mask: NDArray[np.bool_] | None = None, opacity: float = 0.7
    ) -> NDArray[np.uint8] | None:
        """Full-size RGBA (H, W, 4) heat overlay of where candidates disagree; None with < 2 of them.

        Pass the generation mask so only its surroundings are computed.
        """
        if len(self._candidates) < 2:
            return None
        box = mask_bbox(mask) if mask is not None else None
        if box is None:
            return uncertainty_overlay([c.image for c in self._candidates], mask, opacity)
        # Only the mask's box differs between candidates: computed on their crops of it.
        assert mask is not None
        top, left, bottom, right = box
        crop = uncertainty_overlay(
            [c.region(*box) for c in self._candidates], mask[top:bottom, left:right], opacity
        )
        out = np.zeros((*mask.shape, 4), np.uint8)
        out[top:bottom, left:right] = crop
        return out

    # ---- internals -------------------------------------------------------

    def _icon(self, image: NDArray[np.uint8], box: Box | None) -> tuple[QIcon, int]:
        """A thumbnail icon of the box of image, and the thumbnail's height."""
        thumb = fit_image(image, box, self._thumb)
        pixmap = QPixmap.fromImage(rgb_to_qimage(thumb))
        icon = QIcon(pixmap)
        # The selected thumbnail must show the candidate's true colours, not the style's tint.
        icon.addPixmap(pixmap, QIcon.Mode.Selected)
        return icon, thumb.shape[0]

    def _make_icon(self, candidate: Any) -> QIcon:
        box = self._box
        icon, height = self._icon(candidate.image if box is None else candidate.region(*box), None)
        self._tallest = max(self._tallest, height)
        return icon

    def _make_item(self, index: int) -> QListWidgetItem:
        cand = self._candidates[index]
        # The number only: the seam figure means little without its explanation, in the tooltip.
        item = QListWidgetItem(self._icons[index], f"{index + 1}")
        item.setData(_INDEX_ROLE, index)
        tip = f"{candidate_label(index + 1, cand.seed, cand.score)}\n{SEAM_HELP}"
        near = getattr(cand, "near", None)
        if near is not None:
            tip += f"\nvariation of seed {near} (spread {getattr(cand, 'spread', 0.0):.2f})"
        seconds = getattr(cand, "seconds", None)
        if seconds is not None:
            tip += f"\n{seconds:.2f} s"
        item.setToolTip(tip)
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
        self._set_item_enabled(item)
        return item

    def _rebuild_icons(self) -> None:
        self._tallest = 0
        self._icons = [self._make_icon(c) for c in self._candidates]
        self._fit_grid()
        for row in range(self._list.count()):
            item = self._list.item(row)
            item.setIcon(self._icons[int(item.data(_INDEX_ROLE))])

    def _apply_thumbnail_size(self) -> None:
        px = self._thumb
        font = self._list.font()
        if self._base_point_size > 0:
            font.setPointSizeF(self._base_point_size * max(1.0, px / 160.0))
        self._list.setFont(font)
        self._list.setIconSize(QSize(px, px))
        self._fit_grid()

    def _fit_grid(self) -> None:
        self._list.setGridSize(self._grid_size(self._list, self._tallest))

    def _grid_size(self, view: QListWidget, tallest: int) -> QSize:
        """Cells as tall as the tallest thumbnail, so landscape crops leave no empty bands."""
        line = view.fontMetrics().height()
        return QSize(self._thumb + 12, (tallest or self._thumb) + line + 14)

    def _row_index(self, row: int) -> int:
        return int(self._list.item(row).data(_INDEX_ROLE))

    def _row_of(self, index: int) -> int:
        for row in range(self._list.count()):
            if self._row_index(row) == index:
                return row
        return -1

    def _set_preview(self, index: int) -> None:
        if index != self._previewed:
            self._previewed = index
            self.candidate_previewed.emit(index)

    def _choose(self, index: int) -> None:
        if 0 <= index < len(self._candidates) and not self._stale:
            self.candidate_chosen.emit(index)

    def _update_controls(self) -> None:
        n = len(self._candidates)
        has_selection = self.selected_index() >= 0 and not self._stale
        self._apply.setEnabled(has_selection)
        self._like.setEnabled(has_selection)
        self._more.setEnabled(n > 0 and not self._stale)
        self._compare.setEnabled(n > 0)
        self._uncertainty.setEnabled(n > 1 or self._uncertainty.isChecked())
        self._count.setText(f"{n} candidate{'s' if n != 1 else ''}" if n else "No candidates yet")

    @Slot(bool)
    def _on_sort_toggled(self, on: bool) -> None:
        selected = self.selected_index()
        order = list(range(len(self._candidates)))
        if on:
            # Stable sort: equal scores keep arrival order.
            order.sort(key=lambda i: -self._candidates[i].score)
        self._list.blockSignals(True)
        self._list.clear()
        for index in order:
            self._list.addItem(self._make_item(index))
        if selected >= 0:
            self._list.setCurrentRow(self._row_of(selected))
        self._list.blockSignals(False)
        self._update_controls()

    @Slot(QListWidgetItem)
    def _on_list_item_entered(self, item: QListWidgetItem) -> None:
        self._set_preview(int(item.data(_INDEX_ROLE)))

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_list_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        self._update_controls()
        self._set_preview(-1 if current is None else int(current.data(_INDEX_ROLE)))

    @Slot(QListWidgetItem)
    def _on_list_item_double_clicked(self, item: QListWidgetItem) -> None:
        self._choose(int(item.data(_INDEX_ROLE)))

    @Slot()
    def _on_apply_clicked(self) -> None:
        self._choose(self.selected_index())

    @Slot()
    def _on_like_clicked(self) -> None:
        index = self.selected_index()
        if index >= 0:
            self.more_like_this_requested.emit(index, self.spread())

    def _handle_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if mods != Qt.KeyboardModifier.NoModifier:
            return False
        if key in _DIGIT_KEYS:
            self.pick_digit(_DIGIT_KEYS[key])
            return True
        if key in _ENTER_KEYS:
            self._choose(self.selected_index())
            return True
        return False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self._list and event.type() == QEvent.Type.KeyPress:
            if self._handle_key(event):  # type: ignore[arg-type]
                return True
        elif watched is self._list.viewport() and event.type() == QEvent.Type.Leave:
            # The pointer left the thumbnails: go back to showing the selection.
            self._set_preview(self.selected_index())
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if not self._handle_key(event):
            super().keyPressEvent(event)
