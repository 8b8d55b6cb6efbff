"""Mask tools: one press-drag-release of a tool, turned into MaskDoc operations.

A gesture works in widget coordinates (what the mouse gives) and converts to
image coordinates through the function the canvas passes in. It tells the
canvas what to repaint: mask boxes (image pixels) that changed, and widget
rectangles of its own feedback (rubber band, lasso path).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRect, QRectF
from PySide6.QtGui import QPainter, QPolygonF

from inpaint_gui.core.mask_doc import Box, MaskDiff, MaskDoc
from inpaint_gui.ui.canvas_draw import draw_outlined

log = logging.getLogger(__name__)

ToImage = Callable[[QPointF], tuple[float, float]]
FromImage = Callable[[float, float], QPointF]
LASSO_STEP = 2  # screen pixels between lasso points


class Tool(enum.Enum):
    BRUSH = "brush"
    ERASER = "eraser"
    RECTANGLE = "rectangle"
    LASSO = "lasso"
    SELECT = "select"  # select an object from a box: ui.object_select, not a Gesture


@dataclass
class Change:
    """What a gesture step changed: mask boxes (image pixels) and feedback rectangles (widget pixels)."""

    mask_boxes: list[Box] = field(default_factory=list)
    feedback: QRect | None = None


class Gesture:
    """One use of a tool. value=True adds to the mask, False removes."""

    def __init__(
        self, tool: Tool, doc: MaskDoc, value: bool, radius: float, to_image: ToImage, from_image: FromImage
    ) -> None:
        self.tool = tool
        self.value = value
        self._doc = doc
        self._radius = radius
        self._to_image = to_image
        self._from_image = from_image
        self._diffs: list[MaskDiff] = []
        self._last: tuple[float, float] | None = None
        # Rectangle: [start, now]; lasso: the path. In image coordinates, so zooming or
        # panning in the middle of a gesture keeps the points where they were put.
        self._points: list[tuple[float, float]] = []

    def begin(self, pos: QPointF) -> Change:
        if self.tool in (Tool.BRUSH, Tool.ERASER):
            self._last = self._to_image(pos)
            return self._stroke_to(self._last)
        point = self._to_image(pos)
        self._points = [point, point] if self.tool == Tool.RECTANGLE else [point]
        return Change()

    def move(self, pos: QPointF) -> Change:
        if self._last is not None:
            return self._stroke_to(self._to_image(pos))
        if self.tool == Tool.RECTANGLE:
            old = self._feedback_rect()
            self._points[1] = self._to_image(pos)
            return Change(feedback=old.united(self._feedback_rect()))
        last = self._from_image(*self._points[-1])
        if (pos - last).manhattanLength() >= LASSO_STEP:
            change = Change(feedback=_grow(QRectF(last, pos).normalized()))
            self._points.append(self._to_image(pos))
            return change
        return Change()

    def finish(self) -> tuple[str, MaskDiff | None, Change]:
        """The edit's undo text, its diff (None if nothing changed) and what to repaint."""
        if self.tool in (Tool.BRUSH, Tool.ERASER):
            return ("Paint mask" if self.value else "Erase mask"), MaskDiff.concat(self._diffs), Change()
        feedback = self._feedback_rect()
        if self.tool == Tool.RECTANGLE:
            diff = self._doc.rectangle(self._points[0], self._points[1], self.value)
            text = "Rectangle" if self.value else "Subtract rectangle"
        else:
            diff = self._doc.polygon(self._points, self.value)
            text = "Lasso" if self.value else "Subtract lasso"
        return text, diff, Change(diff.boxes if diff is not None else [], feedback)

    def draw(self, painter: QPainter, pen: float) -> None:
        """The rubber band or lasso path, in widget coordinates."""
        points = self._widget_points()
        if self.tool == Tool.RECTANGLE:
            rect = QRectF(points[0], points[1])
            draw_outlined(painter, pen, lambda: painter.drawRect(rect))
        elif self.tool == Tool.LASSO and len(points) > 1:
            poly = QPolygonF(points)
            draw_outlined(painter, pen, lambda: painter.drawPolyline(poly))

    def _stroke_to(self, point: tuple[float, float]) -> Change:
        assert self._last is not None
        diff = self._doc.stroke(self._last, point, self._radius, self.value)
        self._last = point
        if diff is None:
            return Change()
        self._diffs.append(diff)
        return Change(diff.boxes)

    def _feedback_rect(self) -> QRect:
        if not self._points:
            return QRect()
        return _grow(QPolygonF(self._widget_points()).boundingRect())

    def _widget_points(self) -> list[QPointF]:
        return [self._from_image(x, y) for x, y in self._points]


def _grow(rect: QRectF) -> QRect:
    """A widget rectangle covering rect and the outline's width around it."""
    return rect.toAlignedRect().adjusted(-6, -6, 6, 6)
