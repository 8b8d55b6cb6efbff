from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication

from inpaint_gui.core.mask_doc import MaskDoc
from inpaint_gui.ui import qimage
from inpaint_gui.ui.canvas import MaskCanvas, Tool

H, W = 100, 200


class RecordingCanvas(MaskCanvas):
    """Remembers the rectangles it was asked to repaint."""

    def __init__(self) -> None:
        super().__init__()
        self.painted: list = []

    def paintEvent(self, event) -> None:  # noqa: N802
        self.painted.append(event.rect())
        super().paintEvent(event)


@pytest.fixture
def image() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 200, (H, W, 3), dtype=np.uint8)


@pytest.fixture
def canvas(qtbot, image):
    canvas = RecordingCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(500, 330)
    canvas.show()
    qtbot.waitExposed(canvas)
    doc = MaskDoc(H, W)
    canvas.set_document(qimage.rgb_to_qimage(image), doc)
    canvas.doc = doc
    return canvas


def _at(canvas: MaskCanvas, x: float, y: float) -> QPoint:
    return canvas.map_from_image(x, y).toPoint()


def _drag(qtbot, canvas, points, button=Qt.MouseButton.LeftButton, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mousePress(canvas, button, modifier, points[0])
    for p in points[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, button, modifier, points[-1])


def test_brush_stroke_paints_the_expected_mask_at_a_zoom_other_than_one(qtbot, canvas):
    assert canvas.zoom() != pytest.approx(1.0)
    canvas.set_brush_size(12)
    points = [_at(canvas, 20, 30), _at(canvas, 80, 40), _at(canvas, 150, 70)]
    with qtbot.waitSignal(canvas.mask_edited) as edited:
        _drag(qtbot, canvas, points)
    text, diff = edited.args
    assert text == "Paint mask"
    expected = MaskDoc(H, W)
    pts = [canvas.map_to_image(QPointF(p)) for p in points]
    expected.stroke(pts[0], pts[0], 6)
    expected.stroke(pts[0], pts[1], 6)
    expected.stroke(pts[1], pts[2], 6)
    assert (canvas.doc.mask == expected.mask).all()
    assert canvas.doc.mask[30, 20] and canvas.doc.mask[40, 80] and canvas.doc.mask[70, 150]
    assert not canvas.doc.mask[90, 10]
    # The emitted diff undoes the whole stroke at once.
    canvas.doc.undo(diff)
    assert not canvas.doc.mask.any()


def test_fast_mouse_movement_leaves_no_gaps(qtbot, canvas):
    canvas.set_brush_size(6)
    _drag(qtbot, canvas, [_at(canvas, 5, 50), _at(canvas, 195, 50)])  # one move event across the image
    assert canvas.doc.mask[50, 5:195].all()


def test_eraser_and_right_button_remove_mask(qtbot, canvas):
    canvas.doc.rectangle((0, 0), (W, H))
    canvas.refresh_mask()
    canvas.set_brush_size(10)
    _drag(qtbot, canvas, [_at(canvas, 20, 50), _at(canvas, 60, 50)], Qt.MouseButton.RightButton)
    assert not canvas.doc.mask[50, 20:60].any()
    canvas.set_tool(Tool.ERASER)
    with qtbot.waitSignal(canvas.mask_edited) as edited:
        _drag(qtbot, canvas, [_at(canvas, 100, 20), _at(canvas, 100, 80)])
    assert edited.args[0] == "Erase mask"
    assert not canvas.doc.mask[20:80, 100].any()
    assert canvas.doc.mask[50, 150]


def test_rectangle_and_lasso_tools(qtbot, canvas):
    canvas.set_tool(Tool.RECTANGLE)
    _drag(qtbot, canvas, [_at(canvas, 10.2, 10.2), _at(canvas, 40, 30), _at(canvas, 60.5, 40.5)])
    assert canvas.doc.mask[11:40, 11:60].all()
    assert not canvas.doc.mask[45:, :].any() and not canvas.doc.mask[:, 65:].any()

    canvas.set_tool(Tool.LASSO)
    square = [(120, 20), (180, 20), (180, 80), (120, 80), (121, 21)]
    with qtbot.waitSignal(canvas.mask_edited) as edited:
        _drag(qtbot, canvas, [_at(canvas, x, y) for x, y in square])
    assert edited.args[0] == "Lasso"
    assert canvas.doc.mask[25:75, 125:175].all()
    assert not canvas.doc.mask[85:, 110:].any()

    # Alt subtracts with the shape tools.
    canvas.set_tool(Tool.RECTANGLE)
    _drag(
        qtbot, canvas, [_at(canvas, 130, 30), _at(canvas, 170, 70)], modifier=Qt.KeyboardModifier.AltModifier
    )
    assert not canvas.doc.mask[35:65, 135:165].any()


def test_space_drag_and_middle_button_pan_without_painting(qtbot, canvas):
    before = canvas.map_from_image(0, 0)
    canvas.setFocus()
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    _drag(qtbot, canvas, [QPoint(200, 150), QPoint(230, 170)])
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    moved = canvas.map_from_image(0, 0) - before
    assert (moved.x(), moved.y()) == pytest.approx((30, 20))
    _drag(qtbot, canvas, [QPoint(200, 150), QPoint(190, 150)], Qt.MouseButton.MiddleButton)
    moved = canvas.map_from_image(0, 0) - before
    assert (moved.x(), moved.y()) == pytest.approx((20, 20))
    assert not canvas.doc.mask.any()


def test_wheel_zooms_around_the_cursor_and_fit_and_100_percent(qtbot, canvas):
    anchor = _at(canvas, 50, 25)
    under = canvas.map_to_image(QPointF(anchor))
    zoom = canvas.zoom()
    event = QWheelEvent(
        QPointF(anchor),
        QPointF(canvas.mapToGlobal(anchor)),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas, event)
    assert canvas.zoom() == pytest.approx(zoom * 1.25)
    assert canvas.map_to_image(QPointF(anchor)) == pytest.approx(under)
    canvas.actual_size()
    assert canvas.zoom() == 1.0
    canvas.fit()
    assert canvas.zoom() == pytest.approx(zoom)


def test_preview_and_compare_draw_in_place(qtbot, canvas, image):
    canvas.doc.rectangle((0, 0), (W, H))
    canvas.refresh_mask()
    canvas.set_overlay_style(QColor(0, 0, 255), 1.0)
    centre = _at(canvas, 100.5, 50.5)
    assert canvas.grab().toImage().pixelColor(centre) == QColor(0, 0, 255)

    green = np.zeros((20, 20, 3), np.uint8)
    green[..., 1] = 255
    canvas.set_preview(green, 40, 90)
    shown = canvas.grab().toImage()
    assert shown.pixelColor(centre) == QColor(0, 255, 0)  # the preview hides the overlay
    assert shown.pixelColor(_at(canvas, 10.5, 10.5)) == QColor(0, 0, 255)

    original = image.copy()
    original[48:53, 98:103] = (255, 255, 0)  # a block: the view smooths at this zoom
    canvas.set_original(qimage.rgb_to_qimage(original))
    canvas.set_compare(True)
    assert canvas.grab().toImage().pixelColor(centre) == QColor(255, 255, 0)
    canvas.set_compare(False)
    canvas.set_preview(None)
    assert canvas.grab().toImage().pixelColor(centre) == QColor(0, 0, 255)


def test_pasting_pixels_updates_the_view_at_every_zoom(qtbot, canvas):
    red = np.zeros((10, 10, 3), np.uint8)
    red[..., 0] = 255
    canvas.set_zoom(0.2)  # drawn from a halved copy, which must follow the change
    canvas.paste_image(red, 40, 90)
    canvas.set_zoom(1 / 8)
    canvas.grab()
    canvas.set_zoom(0.2)
    red[...] = (0, 0, 255)
    canvas.paste_image(red, 40, 90)
    canvas.set_zoom(3.0, canvas.map_from_image(95, 45))
    assert canvas.grab().toImage().pixelColor(_at(canvas, 95.5, 45.5)) == QColor(0, 0, 255)
    small = canvas._pyramid.level(2)  # the 1/4 copy now shows blue there too
    assert small.pixelColor(23, 11).blue() > 200


def test_a_small_stroke_repaints_only_a_small_area(qtbot, canvas):
    canvas.set_brush_size(4)
    qtbot.mouseMove(canvas, _at(canvas, 50, 50))
    qtbot.wait(20)
    canvas.painted.clear()
    _drag(qtbot, canvas, [_at(canvas, 50, 50), _at(canvas, 55, 52)])
    qtbot.waitUntil(lambda: bool(canvas.painted))
    area = sum(r.width() * r.height() for r in canvas.painted)
    assert area < 0.1 * canvas.width() * canvas.height()


def test_brush_size_is_clamped_and_cursor_pen_is_settable(canvas):
    canvas.set_brush_size(0)
    assert canvas.brush_size() == 1
    canvas.set_brush_size(10**6)
    assert canvas.brush_size() == 2000
    canvas.set_cursor_pen(3)
    canvas.grab()  # draws without error


def test_empty_canvas_ignores_input(qtbot):
    canvas = MaskCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(300, 200)
    canvas.show()
    _drag(qtbot, canvas, [QPoint(10, 10), QPoint(50, 50)])
    canvas.zoom_in()
    canvas.fit()
    canvas.grab()
    assert not canvas.has_image()


def test_space_held_when_the_pointer_leaves_is_released(qtbot, canvas):
    """A Space released outside the canvas must not leave left clicks panning."""
    from PySide6.QtCore import QEvent

    canvas.setFocus()
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    QApplication.sendEvent(canvas, QEvent(QEvent.Type.Leave))
    before = canvas.map_from_image(0, 0)
    _drag(qtbot, canvas, [QPoint(200, 150), QPoint(230, 170)])
    assert canvas.map_from_image(0, 0) == before  # painted, did not pan
    assert canvas.doc.mask.any()


def test_a_rectangle_keeps_its_start_when_the_view_changes_mid_drag(qtbot, canvas):
    canvas.set_tool(Tool.RECTANGLE)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _at(canvas, 10, 10))
    canvas.pan_by(40, 25)  # e.g. a wheel scroll while dragging
    end = _at(canvas, 50, 40)
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert canvas.doc.mask[12:38, 12:48].all()
    assert not canvas.doc.mask[:8, :].any() and not canvas.doc.mask[:, :8].any()
