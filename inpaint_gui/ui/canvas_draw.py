"""Drawing helpers for MaskCanvas: halved copies of the image for zoomed-out views, outlines, badges."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen

from inpaint_gui.core.mask_doc import Box

log = logging.getLogger(__name__)

MAX_LEVEL = 6  # 1/64: a 6000-pixel photo still has ~100 pixels across


class ImagePyramid:
    """The image at 1/2, 1/4, ... made lazily by area-averaged halving and kept in step with edits.

    Drawing a 6000x4000 photo at 20% from a copy a quarter of the size both looks
    smoother than sampling the full image and touches fewer pixels.
    """

    def __init__(self, image: QImage) -> None:
        self.image = image
        self._levels: list[QImage] = []  # _levels[k - 1] is the image at 1 / 2**k

    def level(self, k: int) -> QImage:
        """The image scaled by 1 / 2**k (k >= 1; capped at MAX_LEVEL)."""
        k = max(1, min(k, MAX_LEVEL))
        while len(self._levels) < k:
            prev = self._levels[-1] if self._levels else self.image
            w, h = max(1, (prev.width() + 1) // 2), max(1, (prev.height() + 1) // 2)
            self._levels.append(_halve(prev, w, h))
        return self._levels[k - 1]

    def refresh(self, box: Box) -> None:
        """Redo the halved copies over box after the full image changed there."""
        top, left, bottom, right = box
        prev = self.image
        for level in self._levels:
            # Align to even coordinates so every output pixel averages a whole 2x2 block.
            top, left = top & ~1, left & ~1
            bottom, right = min(prev.height(), bottom + (bottom & 1)), min(prev.width(), right + (right & 1))
            part = _halve(
                prev.copy(QRect(left, top, right - left, bottom - top)),
                (right - left + 1) // 2,
                (bottom - top + 1) // 2,
            )
            top, left, bottom, right = top // 2, left // 2, (bottom + 1) // 2, (right + 1) // 2
            painter = QPainter(level)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
            painter.drawImage(QPoint(left, top), part)
            painter.end()
            prev = level


def _halve(image: QImage, width: int, height: int) -> QImage:
    return image.scaled(
        width, height, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


def draw_outlined(painter: QPainter, pen_width: float, draw: Callable[[], None]) -> None:
    """Call draw twice, with a dark wide pen then a light one, so the shape shows on any image."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(QColor(0, 0, 0, 200), pen_width + 2))
    draw()
    painter.setPen(QPen(QColor(255, 255, 255), pen_width))
    draw()


def crosshair(centre: QPointF, arm: float = 4.0) -> QPainterPath:
    path = QPainterPath()
    path.moveTo(centre.x() - arm, centre.y())
    path.lineTo(centre.x() + arm, centre.y())
    path.moveTo(centre.x(), centre.y() - arm)
    path.lineTo(centre.x(), centre.y() + arm)
    return path


def draw_badge(painter: QPainter, text: str, scale: float = 1.0) -> None:
    """A label in a dark box at the top left (e.g. "Original" while comparing)."""
    font = painter.font()
    font.setPointSizeF(font.pointSizeF() * 1.2 * scale)
    font.setBold(True)
    painter.setFont(font)
    box = painter.fontMetrics().boundingRect(text).adjusted(-10, -5, 10, 5)
    box.moveTopLeft(QPoint(12, 12))
    painter.fillRect(box, QColor(0, 0, 0, 170))
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def layer_box(image: QImage, at: QPoint) -> tuple[int, int, int, int]:
    """The image rectangle (top, left, bottom, right) a layer drawn at `at` covers."""
    return at.y(), at.x(), at.y() + image.height(), at.x() + image.width()


def draw_layer(
    painter: QPainter,
    layer: QImage,
    at: QPoint,
    src: QRect,
    target: Callable[[QRect], QRectF],
    smooth: bool,
) -> None:
    """Draw the part of a layer placed at `at` (image pixels) that falls in src, where target maps
    image rectangles to the screen; smooth: scale smoothly (off when pixels are shown as squares)."""
    part = src.intersected(QRect(at, layer.size()))
    if part.isEmpty():
        return
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
    painter.drawImage(target(part), layer, QRectF(part.translated(-at.x(), -at.y())))
