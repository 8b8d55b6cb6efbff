"""The Select object tool: drag a box, correct with strokes, see the outline, then commit.

Flow: the user drags a box around an object; on release the selection is computed on the
global thread pool (core.selection, no Qt) and its outline is shown as a proposal. While a
proposal is shown, strokes inside its box correct it (left: "this is object", right or Alt:
"this is not"), each recomputing it. Enter (or a double-click) commits the proposal to the
mask as one undoable edit; Esc drops it; a new box dragged outside the old one commits the
old proposal first, so several objects are picked one after another.

The proposal is not committed on release because a box is only a guess: the user sees the
outline first and corrects it with strokes, and the mask (and the undo history) only
changes once, with the result they accepted.

Modifiers at the start of the box follow the rectangle and lasso tools: plain or Shift adds
the object to the mask; Alt, Ctrl or the right button subtracts it.

This object owns no widget: the canvas forwards mouse and key events in image coordinates
and calls `draw` from its paintEvent.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, QPointF, QRectF, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QPainter, QPainterPath, QPen, QPolygonF, QTransform

from inpaint_gui.core.mask_doc import MaskDiff, MaskDoc
from inpaint_gui.core.selection import (
    DEFAULT_GROW,
    MIN_BOX,
    Selection,
    SelectionError,
    Stroke,
    select_region,
)
from inpaint_gui.ui.canvas_draw import draw_outlined

log = logging.getLogger(__name__)

ImageSource = Callable[[], NDArray[np.uint8]]
STROKE_SCREEN_RADIUS = 5.0  # correcting strokes: this many screen pixels wide at any zoom
FILL = QColor(40, 170, 255, 70)


class Phase(enum.Enum):
    IDLE = "idle"
    BOX = "box"  # dragging the box
    STROKE = "stroke"  # painting a correcting stroke
    PROPOSED = "proposed"  # an outline waits for Enter or Esc


@dataclass(frozen=True)
class _Request:
    """Everything one selection needs: plain data, safe to hand to a pool thread."""

    id: int
    image: NDArray[np.uint8]
    box: tuple[float, float, float, float]
    fg: tuple[Stroke, ...]
    bg: tuple[Stroke, ...]
    grow: int


@dataclass(frozen=True)
class _Result:
    id: int
    selection: Selection
    outline: QPainterPath  # in image coordinates; built in the pool thread (plain data, no GUI)


class _Job(QRunnable):
    def __init__(self, request: _Request, relay: _Relay) -> None:
        super().__init__()
        self._request = request
        self._relay = relay
        self.setAutoDelete(True)

    def run(self) -> None:  # pool thread: no widgets, only plain data and signals
        r = self._request
        try:
            sel = select_region(r.image, r.box, r.fg, r.bg, grow=r.grow)
            result: object = _Result(r.id, sel, _outline_path(sel))
        except SelectionError as exc:
            result = (r.id, str(exc))
        except Exception as exc:
            log.exception("object selection failed")
            result = (r.id, f"Selection failed: {type(exc).__name__}: {exc}")
        try:
            self._relay.done.emit(result)
        except RuntimeError:  # the canvas went away while this ran
            pass


class _Relay(QObject):
    done = Signal(object)  # emitted in a pool thread, received (queued) in the GUI thread


class ObjectSelect(QObject):
    """State of the Select object tool for one canvas."""

    changed = Signal(QRectF)  # image rectangle to repaint (empty: everything)
    busy_changed = Signal(bool)
    message = Signal(str)
    grow_changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source: ImageSource | None = None
        self._grow = DEFAULT_GROW
        self._phase = Phase.IDLE
        self._box: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 (image)
        self._drag: list[tuple[float, float]] = []
        self._drag_value = True
        self._stroke_radius = 3.0
        self._subtract = False
        self._fg: list[Stroke] = []
        self._bg: list[Stroke] = []
        self._proposal: Selection | None = None
        self._outline = QPainterPath()
        self._latest = 0  # id of the newest request; older results are dropped
        self._busy = False
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_job_done)

    # -- settings ------------------------------------------------------------------------

    def set_image_source(self, source: ImageSource | None) -> None:
        """Where the current RGB image comes from (read when a selection starts)."""
        self._source = source

    def grow(self) -> int:
        return self._grow

    def set_grow(self, pixels: int) -> None:
        """Pixels added around the object; a shown proposal is recomputed with the new amount."""
        pixels = int(pixels)
        if pixels == self._grow:
            return
        self._grow = pixels
        self.grow_changed.emit(pixels)
        if self._phase == Phase.PROPOSED or (self._busy and self._box is not None):
            self._compute()

    # -- state ---------------------------------------------------------------------------

    def phase(self) -> Phase:
        return self._phase

    def is_busy(self) -> bool:
        return self._busy

    def has_proposal(self) -> bool:
        return self._proposal is not None and self._phase in (Phase.PROPOSED, Phase.STROKE)

    def proposal(self) -> Selection | None:
        return self._proposal

    def wants_keys(self) -> bool:
        """Enter and Esc belong to this tool while a box or a proposal is pending."""
        return self._box is not None

    def key_action(self, event: QKeyEvent) -> str | None:
        """ "commit" for Enter, "cancel" for Esc (no modifiers) while a selection is pending."""
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier  # keypad Enter counts
        if not self.wants_keys() or modifiers != Qt.KeyboardModifier.NoModifier:
            return None
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return "commit"
        return "cancel" if event.key() == Qt.Key.Key_Escape else None

    # -- gestures (image coordinates) ----------------------------------------------------

    def press(self, point: tuple[float, float], subtract: bool, scale: float) -> None:
        x, y = point
        if self._box is not None and self._inside_box(x, y):
            # A correcting stroke on the pending selection.
            self._phase = Phase.STROKE
            self._drag = [point]
            self._drag_value = not subtract
            self._stroke_radius = max(1.0, STROKE_SCREEN_RADIUS / max(scale, 1e-6))
            self.changed.emit(self._drag_rect())
            return
        before = self._shown_area()
        self._phase = Phase.BOX
        self._subtract = subtract
        self._drag = [point, point]
        self._repaint(before)

    def move(self, point: tuple[float, float]) -> None:
        if self._phase == Phase.BOX:
            old = self._drag_rect()
            self._drag[1] = point
            self.changed.emit(old.united(self._drag_rect()))
        elif self._phase == Phase.STROKE:
            last = self._drag[-1]
            if math.hypot(point[0] - last[0], point[1] - last[1]) >= self._stroke_radius / 2:
                self._drag.append(point)
                self.changed.emit(self._drag_rect())

    def release(self) -> None:
        before = self._shown_area()
        if self._phase == Phase.BOX:
            (x0, y0), (x1, y1) = self._drag
            self._drag = []
            box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            if box[2] - box[0] < MIN_BOX or box[3] - box[1] < MIN_BOX:
                self._phase = Phase.PROPOSED if self._proposal is not None else Phase.IDLE
                self._repaint(before)
                return
            self._box = box
            self._fg, self._bg = [], []
            self._proposal = None
            self._outline = QPainterPath()
            self._phase = Phase.PROPOSED
            self._compute()
        elif self._phase == Phase.STROKE:
            stroke = Stroke(tuple(self._drag), self._stroke_radius)
            (self._fg if self._drag_value else self._bg).append(stroke)
            self._drag = []
            self._phase = Phase.PROPOSED
            self._compute()
        self._repaint(before)

    def commit(self, doc: MaskDoc) -> tuple[str, MaskDiff | None]:
        """Write the proposal into doc (one edit) and forget it; the undo text and diff."""
        sel = self._proposal if not self._busy else None
        text = "Subtract object" if self._subtract else "Select object"
        if sel is None:
            if self._box is not None and self._busy:
                self.message.emit("Still selecting: Enter again when the outline shows")
                return text, None
            self.cancel()
            return text, None
        diff = doc.combine(sel.mask, sel.top, sel.left, "subtract" if self._subtract else "add")
        self._reset()
        return text, diff

    def cancel(self) -> None:
        self._reset()

    def _reset(self) -> None:
        before = self._shown_area()
        self._latest += 1  # a selection still running is no longer wanted
        self._phase = Phase.IDLE
        self._box = None
        self._drag = []
        self._fg, self._bg = [], []
        self._proposal = None
        self._outline = QPainterPath()
        self._set_busy(False)
        self.message.emit("")
        self._repaint(before)

    # -- drawing -------------------------------------------------------------------------

    def draw(self, painter: QPainter, to_widget: QTransform, pen: float) -> None:
        """The box, strokes and proposed outline; to_widget maps image to widget coordinates."""
        painter.save()
        if self._phase == Phase.BOX and len(self._drag) == 2:
            rect = to_widget.mapRect(QRectF(QPointF(*self._drag[0]), QPointF(*self._drag[1])).normalized())
            draw_outlined(painter, pen, lambda: painter.drawRect(rect))
        if self._box is not None:
            x0, y0, x1, y1 = self._box
            rect = to_widget.mapRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            painter.setPen(QPen(QColor(255, 255, 255, 150), pen, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)
        if not self._outline.isEmpty():
            path = to_widget.map(self._outline)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(QColor(FILL.red(), FILL.green(), FILL.blue(), 60 if self._busy else 90)))
            painter.drawPath(path)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            draw_outlined(painter, pen, lambda: painter.drawPath(path))
        for strokes, colour in ((self._fg, QColor(60, 220, 90)), (self._bg, QColor(240, 60, 60))):
            for s in strokes:
                self._draw_stroke(painter, to_widget, s.points, s.radius, colour)
        if self._phase == Phase.STROKE and self._drag:
            colour = QColor(60, 220, 90) if self._drag_value else QColor(240, 60, 60)
            self._draw_stroke(painter, to_widget, self._drag, self._stroke_radius, colour)
        painter.restore()

    @staticmethod
    def _draw_stroke(painter, to_widget: QTransform, points, radius: float, colour: QColor) -> None:
        width = max(2.0, 2 * radius * to_widget.m11())
        painter.setPen(
            QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        )
        pts = [to_widget.map(QPointF(x, y)) for x, y in points]
        if len(pts) == 1:
            painter.drawPoint(pts[0])
        else:
            for a, b in zip(pts, pts[1:], strict=False):
                painter.drawLine(a, b)

    # -- work ----------------------------------------------------------------------------

    def _compute(self) -> None:
        if self._box is None:
            return
        if self._source is None:
            self.message.emit("No image to select from")
            return
        self._latest += 1
        x0, y0, x1, y1 = self._box
        request = _Request(
            self._latest,
            self._source(),  # the document's array is frozen and replaced, never written: no copy
            (x0, y0, x1 - x0, y1 - y0),
            tuple(self._fg),
            tuple(self._bg),
            self._grow,
        )
        self._set_busy(True)
        self.message.emit("Selecting…")
        QThreadPool.globalInstance().start(_Job(request, self._relay))

    @Slot(object)
    def _on_job_done(self, result: object) -> None:
        if isinstance(result, tuple):
            request_id, text = result
            if request_id != self._latest:
                return
            self._set_busy(False)
            self.message.emit(text)
            return
        assert isinstance(result, _Result)
        if result.id != self._latest or self._box is None:
            return  # superseded by a newer box, stroke or grow, or cancelled
        before = self._shown_area()
        self._set_busy(False)
        self._proposal = result.selection
        self._outline = result.outline
        area = result.selection.area
        if area == 0:
            self.message.emit("Nothing found in the box: drag a box around an object")
        else:
            verb = "subtract" if self._subtract else "add"
            self.message.emit(
                f"Object outline ({area:,} px, grown {self._grow} px): Enter to {verb}, Esc to cancel; "
                "paint inside to correct (right button: not object)"
            )
        self._repaint(before)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    def inside_box(self, x: float, y: float) -> bool:
        """Whether an image point lies in the pending selection's box."""
        return self._box is not None and self._inside_box(x, y)

    def _inside_box(self, x: float, y: float) -> bool:
        assert self._box is not None
        x0, y0, x1, y1 = self._box
        return x0 <= x <= x1 and y0 <= y <= y1

    def _shown_area(self) -> QRectF:
        """The image rectangle everything this tool draws lies in (repainting only it keeps a
        large photo's repaint cheap: a whole-window repaint at 24 MP takes tens of ms)."""
        area = self._drag_rect()
        if self._box is not None:
            x0, y0, x1, y1 = self._box
            area = area.united(QRectF(x0, y0, x1 - x0, y1 - y0))
        if not self._outline.isEmpty():
            area = area.united(self._outline.boundingRect())
        for s in self._fg + self._bg:
            xs, ys = [p[0] for p in s.points], [p[1] for p in s.points]
            r = s.radius + 1
            area = area.united(
                QRectF(min(xs) - r, min(ys) - r, max(xs) - min(xs) + 2 * r, max(ys) - min(ys) + 2 * r)
            )
        return area.adjusted(-2, -2, 2, 2) if not area.isEmpty() else area

    def _repaint(self, before: QRectF) -> None:
        area = before.united(self._shown_area())
        if not area.isEmpty():
            self.changed.emit(area)

    def _drag_rect(self) -> QRectF:
        if not self._drag:
            return QRectF()
        xs = [p[0] for p in self._drag]
        ys = [p[1] for p in self._drag]
        pad = self._stroke_radius + 2 if self._phase == Phase.STROKE else 2
        return QRectF(min(xs) - pad, min(ys) - pad, max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad)


def _outline_path(sel: Selection) -> QPainterPath:
    """The selection's outline as a path in image coordinates, simplified to about half a pixel."""
    contours, _ = cv2.findContours(
        sel.mask.view(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE, offset=(sel.left, sel.top)
    )
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.OddEvenFill)
    for contour in contours:
        points = cv2.approxPolyDP(contour, 0.5, True).reshape(-1, 2)
        if len(points) < 2:
            continue
        # findContours follows pixel centres; pixel (i, j) spans [j, j+1): hence the half pixel.
        path.addPolygon(QPolygonF([QPointF(x + 0.5, y + 0.5) for x, y in points.tolist()]))
        path.closeSubpath()
    return path
