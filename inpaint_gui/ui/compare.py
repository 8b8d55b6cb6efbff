"""All candidates at once, at canvas size: a grid or a row of views sharing one zoom and pan.

Candidates differ from the original only around the hole, so the view keeps one
full-size pixmap of the original and, per candidate, only the changed box; a
dozen candidates of a 6000x4000 photo cost little more than the photo itself.

    dialog = CompareDialog(original, candidates, mask, parent=window)
    dialog.view.candidate_chosen.connect(apply_candidate)
    dialog.show()
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from inpaint_gui.core.compose import InputError, mask_bbox
from inpaint_gui.core.contact_sheet import Box, focus_box
from inpaint_gui.core.metrics import seam_excess
from inpaint_gui.ui.qimage import rgb_to_qimage

log = logging.getLogger(__name__)

LAYOUTS = ("grid", "row")
_GAP = 6
_MIN_ZOOM, _MAX_ZOOM = 0.01, 32.0
_DIGIT_KEYS = {getattr(Qt.Key, f"Key_{d}"): d for d in range(1, 10)}


def changed_box(original: NDArray[np.uint8], images: Sequence[NDArray[np.uint8]]) -> Box | None:
    """Bounding box of every pixel where any image differs from original; None if none does."""
    changed = np.zeros(original.shape[:2], bool)
    for im in images:
        changed |= np.any(im != original, axis=2)
    return mask_bbox(changed)


class CompareView(QWidget):
    """Paints every candidate in its own cell; wheel zooms and dragging pans all cells together."""

    candidate_selected = Signal(int)  # click or 1-9; index into the candidates given
    candidate_chosen = Signal(int)  # double-click or Enter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self._base: QPixmap | None = None  # the original, full size
        self._patches: list[tuple[QPixmap, int, int]] = []  # per candidate: pixmap, top, left
        self._labels: list[str] = []
        self._size = (0, 0)  # image height, width
        self._focus: Box | None = None
        self._layout = "grid"
        self._show_original = True
        self._selected = -1
        self._zoom = 1.0
        self._center = QPointF(0.0, 0.0)  # image coordinates at the centre of every cell
        self._drag_from: QPointF | None = None

    # ---- content -------------------------------------------------------------

    def set_images(
        self,
        original: NDArray[np.uint8],
        candidates: Sequence[Any],
        mask: NDArray[np.bool_] | None = None,
        numbers: Sequence[int] | None = None,
    ) -> None:
        """Show candidates (with image, seed, score) of original; mask, if given, bounds the changes."""
        if original.ndim != 3 or original.shape[2] != 3 or original.dtype != np.uint8:
            raise InputError("the original must be a uint8 (H, W, 3) image")
        if any(c.shape != original.shape for c in candidates):
            raise InputError("candidates and the original differ in size")
        numbers = list(numbers) if numbers is not None else list(range(1, len(candidates) + 1))
        h, w = original.shape[:2]
        box = mask_bbox(mask) if mask is not None and mask.shape == (h, w) else None
        if box is None:
            box = changed_box(original, [c.image for c in candidates])
        self._base = QPixmap.fromImage(rgb_to_qimage(original))
        self._patches = []
        if box is not None:
            for c in candidates:
                patch = QPixmap.fromImage(rgb_to_qimage(c.region(*box)))
                self._patches.append((patch, box[0], box[1]))
        else:  # no candidate changes anything: each shows the original
            self._patches = [(QPixmap(), 0, 0) for _ in candidates]
        pairs = zip(numbers, candidates, strict=True)
        self._labels = [f"{n}   seed {c.seed}   seam {seam_excess(c.score):+.2f}" for n, c in pairs]
        self._size = (h, w)
        self._focus = focus_box(mask, (h, w)) if mask is not None else box
        self._selected = -1
        self.fit()

    def count(self) -> int:
        return len(self._patches)

    def set_layout_mode(self, mode: str) -> None:
        """'grid' (about square) or 'row' (side by side)."""
        if mode not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {mode!r}")
        self._layout = mode
        self.fit()

    def set_show_original(self, on: bool) -> None:
        """Put the original in the first cell, for reference."""
        self._show_original = on
        self.fit()

    def select(self, index: int) -> None:
        if 0 <= index < self.count():
            self._selected = index
            self.candidate_selected.emit(index)
            self.update()

    def selected_index(self) -> int:
        return self._selected

    # ---- geometry --------------------------------------------------------------

    def _cells(self) -> list[tuple[int, QRect]]:
        """(candidate index or -1 for the original, cell rectangle) in drawing order."""
        entries = ([-1] if self._show_original else []) + list(range(self.count()))
        if not entries:
            return []
        n = len(entries)
        if self._layout == "row":
            cols = n
        else:
            # Columns that make the cells closest to the image's aspect ratio.
            h, w = self._size
            aspect = (w / h) if h else 1.0
            cols = min(n, max(1, round(math.sqrt(n * self.width() / max(1, self.height()) / aspect))))
        rows = math.ceil(n / cols)
        cw = max(1, (self.width() - _GAP * (cols + 1)) // cols)
        ch = max(1, (self.height() - _GAP * (rows + 1)) // rows)
        out = []
        for i, entry in enumerate(entries):
            r, c = divmod(i, cols)
            out.append((entry, QRect(_GAP + c * (cw + _GAP), _GAP + r * (ch + _GAP), cw, ch)))
        return out

    def fit(self) -> None:
        """Zoom so the region of interest (the hole's surroundings) fills each cell."""
        cells = self._cells()
        if not cells or self._size == (0, 0):
            self.update()
            return
        top, left, bottom, right = self._focus or (0, 0, *self._size)
        cell = cells[0][1]
        self._zoom = min(cell.width() / max(1, right - left), cell.height() / max(1, bottom - top))
        self._zoom = max(_MIN_ZOOM, min(_MAX_ZOOM, self._zoom))
        self._center = QPointF((left + right) / 2.0, (top + bottom) / 2.0)
        self.update()

    def zoom(self) -> float:
        return self._zoom

    def _to_image(self, cell: QRect, pos: QPointF) -> QPointF:
        c = QRectF(cell).center()
        return self._center + (pos - c) / self._zoom

    def _cell_at(self, pos: QPointF) -> tuple[int, QRect] | None:
        for entry, rect in self._cells():
            if rect.contains(pos.toPoint()):
                return entry, rect
        return None

    # ---- painting ----------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(40, 40, 40))
        if self._base is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No candidates to compare")
            return
        smooth = self._zoom < 1.0
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        h, w = self._size
        for entry, cell in self._cells():
            painter.save()
            painter.setClipRect(cell)
            painter.fillRect(cell, QColor(25, 25, 25))
            self._draw_part(painter, cell, self._base, 0, 0, w, h)
            if entry >= 0:
                patch, top, left = self._patches[entry]
                if not patch.isNull():
                    self._draw_part(painter, cell, patch, top, left, patch.width(), patch.height())
            label = "original" if entry < 0 else self._labels[entry]
            self._draw_label(painter, cell, label, entry >= 0 and entry == self._selected)
            painter.restore()

    def _draw_part(
        self, painter: QPainter, cell: QRect, pixmap: QPixmap, top: int, left: int, pw: int, ph: int
    ) -> None:
        """Draw only the visible part of a pixmap placed at (top, left) in image coordinates."""
        view = QRectF(
            self._to_image(cell, QPointF(cell.topLeft())),
            self._to_image(cell, QPointF(cell.bottomRight()) + QPointF(1, 1)),
        )
        source = view.intersected(QRectF(left, top, pw, ph))
        if source.isEmpty():
            return
        # Whole pixels only, so scaled edges do not shimmer while panning.
        source = QRectF(QRectF(source).toAlignedRect()).intersected(QRectF(left, top, pw, ph))
        c = QRectF(cell).center()
        target = QRectF(c + (source.topLeft() - self._center) * self._zoom, source.size() * self._zoom)
        painter.drawPixmap(target, pixmap, source.translated(-left, -top))

    @staticmethod
    def _draw_label(painter: QPainter, cell: QRect, text: str, selected: bool) -> None:
        metrics = painter.fontMetrics()
        box = QRect(cell.left(), cell.top(), metrics.horizontalAdvance(text) + 12, metrics.height() + 6)
        painter.fillRect(box, QColor(0, 120, 215, 220) if selected else QColor(0, 0, 0, 170))
        painter.setPen(QColor(240, 240, 240))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        if selected:
            painter.setPen(QColor(0, 120, 215))
            painter.drawRect(cell.adjusted(1, 1, -2, -2))

    # ---- input ---------------------------------------------------------------------

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        hit = self._cell_at(event.position())
        steps = event.angleDelta().y() / 120.0
        if hit is None or steps == 0:
            return
        # Keep the image point under the cursor fixed while zooming.
        anchor = self._to_image(hit[1], event.position())
        new_zoom = max(_MIN_ZOOM, min(_MAX_ZOOM, self._zoom * (1.25**steps)))
        self._center = anchor - (anchor - self._center) * (self._zoom / new_zoom)
        self._zoom = new_zoom
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        self._drag_from = event.position()
        hit = self._cell_at(event.position())
        if hit is not None and hit[0] >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self.select(hit[0])

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._drag_from is None:
            return
        delta = event.position() - self._drag_from
        self._drag_from = event.position()
        self._center -= delta / self._zoom
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        self._drag_from = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        hit = self._cell_at(event.position())
        if hit is not None and hit[0] >= 0:
            self.candidate_chosen.emit(hit[0])

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        key = event.key()
        if key in _DIGIT_KEYS:
            self.select(_DIGIT_KEYS[key] - 1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._selected >= 0:
            self.candidate_chosen.emit(self._selected)
        elif key in (Qt.Key.Key_0, Qt.Key.Key_F):
            self.fit()
        else:
            super().keyPressEvent(event)


class CompareDialog(QDialog):
    """A resizable window around CompareView with layout, original and fit controls."""

    def __init__(
        self,
        original: NDArray[np.uint8],
        candidates: Sequence[Any],
        mask: NDArray[np.bool_] | None = None,
        numbers: Sequence[int] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare candidates")
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.view = CompareView(self)
        self.view.set_images(original, candidates, mask, numbers)

        layout_box = QComboBox(self)
        layout_box.addItem("Grid", "grid")
        layout_box.addItem("Side by side", "row")
        layout_box.currentIndexChanged.connect(lambda _: self.view.set_layout_mode(layout_box.currentData()))
        original_box = QCheckBox("Show original", self)
        original_box.setChecked(True)
        original_box.toggled.connect(self.view.set_show_original)
        fit = QPushButton("Fit", self)
        fit.setToolTip("Zoom to the filled region (F)")
        fit.clicked.connect(self.view.fit)
        hint = QLabel("Wheel: zoom all · drag: pan all · 1-9: select · double-click/Enter: apply", self)
        hint.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

        bar = QHBoxLayout()
        bar.addWidget(layout_box)
        bar.addWidget(original_box)
        bar.addWidget(fit)
        bar.addWidget(hint)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.resize(1100, 750)
        self.view.candidate_chosen.connect(self._on_view_candidate_chosen)

    @Slot(int)
    def _on_view_candidate_chosen(self, index: int) -> None:
        # The caller applies it; the comparison is over.
        self.accept()
