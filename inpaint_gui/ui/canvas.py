"""MaskCanvas: draws the image, the mask overlay and a candidate preview; turns mouse input into mask edits.

The mask itself lives in a core MaskDoc; the canvas applies operations to it
while a stroke is in progress (so painting is live) and emits `mask_edited`
with the finished edit's diff for the undo stack. Only the pixels an edit or
the cursor touched are repainted; the overlay is an Indexed8 QImage updated
rectangle by rectangle.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QWidget

from inpaint_gui.core.compose import mask_bbox
from inpaint_gui.core.mask_doc import Box, MaskDoc
from inpaint_gui.ui import canvas_draw as draw
from inpaint_gui.ui import qimage
from inpaint_gui.ui.mask_tools import Change, Gesture, Tool
from inpaint_gui.ui.object_select import ObjectSelect

__all__ = ["MaskCanvas", "Tool"]

log = logging.getLogger(__name__)

MIN_ZOOM = 0.01
MAX_ZOOM = 32.0
ZOOM_STEP = 1.25
PIXEL_ZOOM = 3.0  # from this zoom on, pixels are drawn as squares
BACKGROUND = QColor(48, 48, 52)


class MaskCanvas(QWidget):
    """The image view and mask editor."""

    mask_edited = Signal(str, object)  # description, MaskDiff (already applied to the MaskDoc)
    zoom_changed = Signal(float)
    cursor_moved = Signal(int, int)  # image pixel under the cursor; -1, -1 when outside

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("maskCanvas")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 150)
        self._doc: MaskDoc | None = None
        self._image: QImage | None = None
        self._pyramid: draw.ImagePyramid | None = None
        self._overlay: QImage | None = None
        self._overlay_colour = QColor(255, 40, 80)
        self._overlay_opacity = 0.45
        self._original: QImage | None = None
        self._compare = False
        self._preview: tuple[QImage, QPoint] | None = None
        self._heat: tuple[QImage, QPoint] | None = None
        self._scale = 1.0
        self._offset = QPointF(0, 0)
        self._fitted = True  # refit on resize until the user zooms
        self._tool = Tool.BRUSH
        self._brush_size = 40.0  # diameter in image pixels
        self._cursor_pen = 1.0
        self._cursor: QPointF | None = None
        self._space = False
        self._pan_from: QPointF | None = None
        self._gesture: Gesture | None = None  # the tool use in progress
        self._selecting = False  # a Select object drag (box or correcting stroke) in progress
        self._key_filter_on = False
        self.object_select = ObjectSelect(self)  # the Select object tool's state and work
        self.object_select.changed.connect(self._on_object_select_changed)

    # -- document ------------------------------------------------------------------------

    def set_document(self, image: QImage, doc: MaskDoc) -> None:
        """Show image (a QImage owned by the canvas from now on) with the mask of doc."""
        if (image.height(), image.width()) != doc.shape:
            raise ValueError("image and mask sizes differ")
        self._drop_interaction()
        self._image = image
        self._pyramid = draw.ImagePyramid(image)
        self._doc = doc
        self._overlay = qimage.new_mask_overlay(*doc.shape)
        qimage.write_mask(self._overlay, doc.mask)
        qimage.set_overlay_colour(self._overlay, self._overlay_colour, self._overlay_opacity)
        self._original = None
        self._preview = None
        self._heat = None
        self.fit()

    def clear_document(self) -> None:
        self._drop_interaction()
        self._image = self._overlay = self._original = None
        self._doc = None
        self._pyramid = None
        self._preview = self._heat = None
        self.update()

    def has_image(self) -> bool:
        return self._image is not None

    def image_size(self) -> QSize:
        return self._image.size() if self._image is not None else QSize()

    def paste_image(self, rgb: NDArray[np.uint8], top: int, left: int) -> None:
        """Replace a rectangle of the shown image (an applied fill, or its undo)."""
        if self._image is None:
            return
        qimage.paste_rgb(self._image, rgb, top, left)
        box = (top, left, top + rgb.shape[0], left + rgb.shape[1])
        if self._pyramid is not None:
            self._pyramid.refresh(box)
        self._update_box(box)

    def refresh_mask(self, boxes: list[Box] | None = None) -> None:
        """Copy the MaskDoc into the overlay for boxes (everything when None) and repaint them."""
        if self._doc is None or self._overlay is None:
            return
        h, w = self._doc.shape
        for top, left, bottom, right in boxes if boxes is not None else [(0, 0, h, w)]:
            qimage.write_mask(self._overlay, self._doc.mask[top:bottom, left:right], top, left)
            self._update_box((top, left, bottom, right))

    def set_original(self, image: QImage | None) -> None:
        """The image to show while comparing; None = the current image."""
        self._original = image
        if self._compare:
            self.update()

    def set_compare(self, on: bool) -> None:
        if on != self._compare:
            self._compare = on
            self.update()

    def comparing(self) -> bool:
        return self._compare

    def set_preview(self, rgb: NDArray[np.uint8] | None, top: int = 0, left: int = 0) -> None:
        """Show a candidate's crop in place of the image there (None = show the image)."""
        old = self._preview
        self._preview = None if rgb is None else (qimage.rgb_to_qimage(rgb), QPoint(left, top))
        for item in (old, self._preview):
            if item is not None:
                self._update_box(draw.layer_box(*item))

    def previewing(self) -> bool:
        return self._preview is not None

    def set_heatmap(self, rgba: NDArray[np.uint8] | None, top: int = 0, left: int = 0) -> None:
        """Draw an RGBA layer (the uncertainty map) over the image; None removes it."""
        old = self._heat
        self._heat = None if rgba is None else (qimage.rgba_to_qimage(rgba), QPoint(left, top))
        for item in (old, self._heat):
            if item is not None:
                self._update_box(draw.layer_box(*item))

    def set_overlay_style(self, colour: QColor, opacity: float) -> None:
        self._overlay_colour, self._overlay_opacity = QColor(colour), float(opacity)
        if self._overlay is not None:
            qimage.set_overlay_colour(self._overlay, self._overlay_colour, self._overlay_opacity)
            self.update()

    # -- tools ---------------------------------------------------------------------------

    def tool(self) -> Tool:
        return self._tool

    def set_tool(self, tool: Tool) -> None:
        self._finish_interaction()
        if tool != Tool.SELECT:
            self.commit_selection()  # leaving the tool keeps the outline the user saw
        self._tool = tool
        self._update_cursor_shape()
        self._update_cursor_area()

    def brush_size(self) -> float:
        return self._brush_size

    def set_brush_size(self, size: float) -> None:
        """Brush diameter in image pixels."""
        self._update_cursor_area()
        self._brush_size = float(min(max(size, 1.0), 2000.0))
        self._update_cursor_area()

    def set_cursor_pen(self, width: float) -> None:
        """Width of the brush outline in screen pixels (thicker in presentation mode)."""
        self._update_cursor_area()
        self._cursor_pen = width
        self._update_cursor_area()

    # -- view ----------------------------------------------------------------------------

    def zoom(self) -> float:
        return self._scale

    def fit(self) -> None:
        if self._image is None:
            return
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() / iw, self.height() / ih) * 0.98
        self._set_view(scale, QPointF((self.width() - iw * scale) / 2, (self.height() - ih * scale) / 2))
        self._fitted = True

    def actual_size(self) -> None:
        """100%: about the cursor when it is over the canvas, else with the hole (the mask) centred."""
        if self._image is None:
            return
        if self._cursor is not None and self.rect().contains(self._cursor.toPoint()):
            self.set_zoom(1.0, self._cursor)
            return
        box = mask_bbox(self._doc.mask) if self._doc is not None else None
        if box is None:
            self.set_zoom(1.0)
            return
        top, left, bottom, right = box
        self._fitted = False
        # Centre the hole, or the whole image along a side where it fits in the view.
        iw, ih = self._image.width(), self._image.height()
        x = (left + right) / 2 if iw > self.width() else iw / 2
        y = (top + bottom) / 2 if ih > self.height() else ih / 2
        self._set_view(1.0, QPointF(self.width() / 2 - x, self.height() / 2 - y))

    def zoom_in(self) -> None:
        self.set_zoom(self._scale * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self._scale / ZOOM_STEP)

    def set_zoom(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under anchor (widget coordinates; default the centre) still."""
        if self._image is None:
            return
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        scale = min(max(scale, MIN_ZOOM), MAX_ZOOM)
        at = self.map_to_image(anchor)
        self._fitted = False
        self._set_view(scale, QPointF(anchor.x() - at[0] * scale, anchor.y() - at[1] * scale))

    def pan_by(self, dx: float, dy: float) -> None:
        if self._image is None:
            return
        self._fitted = False
        self._offset += QPointF(dx, dy)
        whole = abs(dx - round(dx)) < 1e-9 and abs(dy - round(dy)) < 1e-9
        # scroll() would also move what is drawn at fixed screen places (the "Original" label,
        # a rubber band in progress), leaving trails: repaint everything then.
        if whole and not self._compare and self._gesture is None:
            self.scroll(round(dx), round(dy))  # moves what is drawn, repaints only the exposed strips
        else:
            self.update()

    def map_to_image(self, pos: QPointF) -> tuple[float, float]:
        return (pos.x() - self._offset.x()) / self._scale, (pos.y() - self._offset.y()) / self._scale

    def map_from_image(self, x: float, y: float) -> QPointF:
        return QPointF(x * self._scale + self._offset.x(), y * self._scale + self._offset.y())

    def _set_view(self, scale: float, offset: QPointF) -> None:
        changed = scale != self._scale
        self._scale, self._offset = scale, offset
        self.update()
        if changed:
            self.zoom_changed.emit(scale)

    # -- painting ------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        exposed = event.rect()
        painter.fillRect(exposed, BACKGROUND)
        if self._image is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                "Open an image (Ctrl+O), drop one here, or paste one (Ctrl+V)",
            )
            return
        src = self._visible_source(exposed)
        if src is not None:
            base = self._original if (self._compare and self._original is not None) else self._image
            self._draw_image(painter, base, src, use_levels=base is self._image)
            if not self._compare:
                if self._overlay is not None:
                    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
                    painter.drawImage(self._target(src), self._overlay, QRectF(src))
                if self._preview is not None:  # on top: the candidate hides the mask it fills
                    draw.draw_layer(painter, *self._preview, src, self._target, self._scale < PIXEL_ZOOM)
                if self._heat is not None:
                    draw.draw_layer(painter, *self._heat, src, self._target, self._scale < PIXEL_ZOOM)
        if self._compare:
            draw.draw_badge(painter, "Original", max(1.0, self._cursor_pen / 1.5))
        self._draw_tool_feedback(painter)

    def _visible_source(self, exposed: QRect) -> QRect | None:
        """The image pixels under the exposed widget rect, whole pixels, clipped to the image."""
        x0, y0 = self.map_to_image(QPointF(exposed.left(), exposed.top()))
        x1, y1 = self.map_to_image(QPointF(exposed.right() + 1, exposed.bottom() + 1))
        left, top = max(0, math.floor(x0)), max(0, math.floor(y0))
        right = min(self._image.width(), math.ceil(x1))
        bottom = min(self._image.height(), math.ceil(y1))
        if right <= left or bottom <= top:
            return None
        return QRect(left, top, right - left, bottom - top)

    def _target(self, src: QRect | QRectF) -> QRectF:
        r = QRectF(src)
        return QRectF(self.map_from_image(r.left(), r.top()), self.map_from_image(r.right(), r.bottom()))

    def _draw_image(self, painter: QPainter, image: QImage, src: QRect, use_levels: bool) -> None:
        # Smooth up to 3x; beyond that the user is inspecting pixels, so show them square.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._scale < PIXEL_ZOOM)
        level = int(math.floor(math.log2(1.0 / self._scale))) if self._scale < 1.0 and use_levels else 0
        if level > 0 and self._pyramid is not None:
            small = self._pyramid.level(level)
            f = 1.0 / (1 << level)
            source = QRectF(src.left() * f, src.top() * f, src.width() * f, src.height() * f)
            painter.drawImage(self._target(src), small, source)
        else:
            painter.drawImage(self._target(src), image, QRectF(src))

    def _draw_tool_feedback(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = self._cursor_pen
        to_widget = QTransform(self._scale, 0, 0, self._scale, self._offset.x(), self._offset.y())
        self.object_select.draw(painter, to_widget, pen)
        if self._gesture is not None:
            self._gesture.draw(painter, pen)
        if self._brush_cursor_visible():
            c, r = self._cursor, self._screen_radius()
            if r >= 3:
                draw.draw_outlined(painter, pen, lambda: painter.drawEllipse(c, r, r))
            cross = draw.crosshair(c, 4 * pen)
            draw.draw_outlined(painter, pen, lambda: painter.drawPath(cross))

    # -- repaint bookkeeping -------------------------------------------------------------

    def _update_box(self, box: Box) -> None:
        top, left, bottom, right = box
        self.update(
            self._target(QRectF(left, top, right - left, bottom - top)).toAlignedRect().adjusted(-2, -2, 2, 2)
        )

    def _screen_radius(self) -> float:
        return self._brush_size / 2 * self._scale

    def _brush_cursor_visible(self) -> bool:
        return (
            self._cursor is not None
            and self._image is not None
            and self._tool in (Tool.BRUSH, Tool.ERASER)
            and self._pan_from is None
            and not self._space
        )

    def _update_cursor_area(self) -> None:
        if self._cursor is None:
            return
        r = max(self._screen_radius(), 5.0) + self._cursor_pen + 3
        self.update(QRectF(self._cursor.x() - r, self._cursor.y() - r, 2 * r, 2 * r).toAlignedRect())

    def _update_cursor_shape(self) -> None:
        if self._pan_from is not None:
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self._space:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        elif self._tool in (Tool.BRUSH, Tool.ERASER) and self._image is not None:
            self.setCursor(Qt.CursorShape.BlankCursor)  # the outline is the cursor
        else:
            self.setCursor(Qt.CursorShape.CrossCursor)

    # -- input ---------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos = event.position()
        button = event.button()
        if self._image is None:
            return
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            self._update_cursor_area()
            self._pan_from = pos
            self._update_cursor_shape()
            return
        is_tool_button = button in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton)
        if not is_tool_button or self._gesture is not None or self._doc is None:
            return
        # The right button (or Alt) does the opposite: erase with the brush, subtract with shapes.
        subtract = button == Qt.MouseButton.RightButton or bool(
            event.modifiers() & Qt.KeyboardModifier.AltModifier
        )
        if self._tool == Tool.SELECT:  # Ctrl subtracts too, as in other editors' selection tools
            self._press_select(pos, subtract or bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier))
            return
        value = (self._tool != Tool.ERASER) != subtract
        # A candidate's preview covers the mask it fills: painting shows the mask again.
        self.set_preview(None)
        self._gesture = Gesture(
            self._tool, self._doc, value, self._brush_size / 2, self.map_to_image, self.map_from_image
        )
        self._apply_change(self._gesture.begin(pos))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        self._update_cursor_area()
        self._cursor = pos
        if self._pan_from is not None:
            delta = pos - self._pan_from
            self._pan_from = pos
            self.pan_by(round(delta.x()), round(delta.y()))
            return
        if self._gesture is not None:
            self._apply_change(self._gesture.move(pos))
        elif self._selecting:
            self.object_select.move(self.map_to_image(pos))
        self._update_cursor_area()
        x, y = self.map_to_image(pos)
        size = self.image_size()
        inside = 0 <= x < size.width() and 0 <= y < size.height()
        self.cursor_moved.emit(int(x) if inside else -1, int(y) if inside else -1)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._pan_from = None
            self._update_cursor_shape()
            self._update_cursor_area()
            return
        if event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        if self._selecting:
            self._selecting = False
            self.object_select.release()
            return
        self._finish_interaction()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._tool == Tool.SELECT and self.object_select.has_proposal():
            self.commit_selection()  # a double-click accepts the outline
            return
        super().mouseDoubleClickEvent(event)

    # -- the Select object tool (ui.object_select) ----------------------------------------

    def commit_selection(self) -> None:
        """Write a proposed object selection into the mask as one undoable edit."""
        if self._doc is not None and self.object_select.wants_keys():
            text, diff = self.object_select.commit(self._doc)
            if diff is not None:
                self.refresh_mask(diff.boxes)
                self.mask_edited.emit(text, diff)

    def _press_select(self, pos: QPointF, subtract: bool) -> None:
        point = self.map_to_image(pos)
        if self.object_select.has_proposal() and not self.object_select.inside_box(*point):
            self.commit_selection()  # a new box elsewhere: keep the last object, start the next
        self.set_preview(None)
        self._selecting = True
        self.object_select.press(point, subtract, self._scale)

    def _on_object_select_changed(self, rect: QRectF) -> None:
        self.update(self._target(rect).toAlignedRect().adjusted(-8, -8, 8, 8))

    def event(self, event: QEvent) -> bool:
        # Enter and Esc are window shortcuts (apply, cancel); with a selection pending, the tool's.
        if event.type() == QEvent.Type.ShortcutOverride and self.object_select.key_action(event):
            event.accept()
            return True
        return super().event(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta()
        if delta.y() == 0 and delta.x() != 0:
            self.pan_by(delta.x() / 2, 0)
            return
        if delta.y() != 0 and self._image is not None:
            self.set_zoom(self._scale * ZOOM_STEP ** (delta.y() / 120), event.position())
        event.accept()

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802
        self._update_cursor_area()
        self._cursor = None
        self.cursor_moved.emit(-1, -1)
        self._set_key_filter(False)
        if self._pan_from is None:
            # A Space released outside the canvas is never seen here: do not leave it "held".
            self._set_space(False)
        super().leaveEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is None:
            self._set_space(False)  # e.g. Alt+Tab while holding Space
        super().focusOutEvent(event)

    def enterEvent(self, event: QEvent) -> None:  # noqa: N802
        self._set_key_filter(True)
        self._update_cursor_shape()
        super().enterEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        if self._fitted:
            self.fit()
        super().resizeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space:
            self._set_space(True)
            return
        action = self.object_select.key_action(event)
        if action is not None:
            self.commit_selection() if action == "commit" else self.object_select.cancel()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._set_space(False)
            return
        super().keyReleaseEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        # While the pointer is over the canvas, Space pans even if another widget has focus.
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            key_event: QKeyEvent = event  # type: ignore[assignment]
            if key_event.key() == Qt.Key.Key_Space and watched is not self and self._pointer_inside():
                if not key_event.isAutoRepeat():
                    self._set_space(event.type() == QEvent.Type.KeyPress)
                return True
        return False

    def _pointer_inside(self) -> bool:
        return self.isVisible() and self.rect().contains(self.mapFromGlobal(QCursor.pos()))

    def hideEvent(self, event) -> None:  # noqa: N802
        self._set_key_filter(False)
        super().hideEvent(event)

    def _set_key_filter(self, on: bool) -> None:
        app = QApplication.instance()
        if app is None or on == self._key_filter_on:
            return
        if on:
            app.installEventFilter(self)
        else:
            app.removeEventFilter(self)
        self._key_filter_on = on

    def _set_space(self, held: bool) -> None:
        if held != self._space:
            self._space = held
            self._update_cursor_shape()
            self._update_cursor_area()

    def _apply_change(self, change: Change) -> None:
        if change.mask_boxes:
            self.refresh_mask(change.mask_boxes)
        if change.feedback is not None:
            self.update(change.feedback)

    def _drop_interaction(self) -> None:
        """Forget a gesture in progress without emitting it: its mask is being replaced."""
        self.object_select.cancel()
        if self._gesture is not None:
            self.update()
        self._gesture = None
        self._selecting = False
        self._pan_from = None

    def _finish_interaction(self) -> None:
        """End the gesture in progress and emit its edit."""
        gesture, self._gesture = self._gesture, None
        if gesture is None:
            return
        text, diff, change = gesture.finish()
        self._apply_change(change)
        if diff is not None:
            self.mask_edited.emit(text, diff)
