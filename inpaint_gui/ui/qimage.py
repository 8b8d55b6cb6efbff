"""The one place that converts between numpy arrays and QImage.

Rules kept here so nobody else has to remember them: rows of a QImage are
`bytesPerLine()` apart (padded to 4 bytes), and a QImage built on a numpy
buffer does not own it, so every function returns a QImage with its own copy
of the pixels, or a numpy view of a QImage the caller keeps alive.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QImage, QPainter

log = logging.getLogger(__name__)


def rgb_to_qimage(rgb: NDArray[np.uint8], alpha: NDArray[np.uint8] | None = None) -> QImage:
    """A QImage owning a copy of uint8 (H, W, 3) RGB (and optional (H, W) alpha).

    The result is Format_RGB32 (or ARGB32_Premultiplied with alpha), the formats
    the raster paint engine draws fastest.
    """
    _check_rgb(rgb)
    h, w = rgb.shape[:2]
    if alpha is None:
        src = np.ascontiguousarray(rgb)
        wrapped = QImage(src.data, w, h, src.strides[0], QImage.Format.Format_RGB888)
        return wrapped.convertToFormat(QImage.Format.Format_RGB32)  # copies: src may go away
    if alpha.shape != (h, w) or alpha.dtype != np.uint8:
        raise ValueError(f"alpha must be uint8 {(h, w)}, got {alpha.dtype} {alpha.shape}")
    rgba = np.empty((h, w, 4), dtype=np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = alpha
    wrapped = QImage(rgba.data, w, h, rgba.strides[0], QImage.Format.Format_RGBA8888)
    return wrapped.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


def qimage_to_rgb(image: QImage) -> tuple[NDArray[np.uint8], NDArray[np.uint8] | None]:
    """Copy any QImage into (rgb uint8 (H, W, 3), alpha uint8 (H, W) or None if opaque)."""
    if image.isNull():
        raise ValueError("the image is empty")
    has_alpha = image.hasAlphaChannel()
    fmt = QImage.Format.Format_RGBA8888 if has_alpha else QImage.Format.Format_RGB888
    converted = image.convertToFormat(fmt)
    channels = 4 if has_alpha else 3
    h, w = converted.height(), converted.width()
    rows = _rows(converted, np.uint8)
    pixels = rows[:, : w * channels].reshape(h, w, channels)
    rgb = pixels[..., :3].copy()
    alpha = pixels[..., 3].copy() if has_alpha else None
    if alpha is not None and bool((alpha == 255).all()):
        alpha = None
    return rgb, alpha


def paste_rgb(target: QImage, rgb: NDArray[np.uint8], top: int, left: int) -> None:
    """Overwrite the pixels of target at (top, left) with an RGB crop."""
    _check_rgb(rgb)
    h, w = rgb.shape[:2]
    src = np.ascontiguousarray(rgb)
    wrapped = QImage(src.data, w, h, src.strides[0], QImage.Format.Format_RGB888)
    painter = QPainter(target)
    try:
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(QPoint(left, top), wrapped)  # draws before src can go away
    finally:
        painter.end()


def new_mask_overlay(height: int, width: int) -> QImage:
    """An Indexed8 image for the mask overlay: index 0 transparent, 1 the overlay colour.

    One byte per pixel, and colour or opacity changes are a colour-table swap.
    """
    overlay = QImage(width, height, QImage.Format.Format_Indexed8)
    overlay.setColorTable([0, 0])
    overlay.fill(0)
    return overlay


def set_overlay_colour(overlay: QImage, colour: QColor, opacity: float) -> None:
    """Show masked pixels of overlay in colour at opacity (0..1)."""
    c = QColor(colour)
    c.setAlphaF(max(0.0, min(1.0, opacity)))
    overlay.setColorTable([0, c.rgba()])


def write_mask(overlay: QImage, mask: NDArray[np.bool_], top: int = 0, left: int = 0) -> None:
    """Copy a bool crop of the mask into the overlay at (top, left)."""
    if mask.dtype != np.bool_ or mask.ndim != 2:
        raise ValueError(f"mask must be a 2-D bool array, got {mask.dtype} {mask.shape}")
    h, w = mask.shape
    if top < 0 or left < 0 or top + h > overlay.height() or left + w > overlay.width():
        raise ValueError(f"mask crop {w}x{h} at ({left}, {top}) lies outside the overlay")
    rows = _rows(overlay, np.uint8)
    rows[top : top + h, left : left + w] = mask.view(np.uint8)


def mask_from_overlay(overlay: QImage) -> NDArray[np.bool_]:
    """The mask stored in an overlay made by new_mask_overlay (a copy)."""
    rows = _rows(overlay, np.uint8)
    return rows[:, : overlay.width()] != 0


def rgba_to_qimage(rgba: NDArray[np.uint8]) -> QImage:
    """A QImage owning a copy of uint8 (H, W, 4) straight-alpha RGBA (heat maps, overlays)."""
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"expected uint8 (H, W, 4) RGBA, got {rgba.dtype} {rgba.shape}")
    src = np.ascontiguousarray(rgba)
    h, w = src.shape[:2]
    wrapped = QImage(src.data, w, h, src.strides[0], QImage.Format.Format_RGBA8888)
    return wrapped.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


def _rows(image: QImage, dtype: type) -> NDArray:
    """A writable numpy view (H, bytesPerLine) of image's pixels; image must outlive it."""
    buf = image.bits()  # non-const bits(): detaches a shared image before we write
    rows = np.frombuffer(buf, dtype=dtype, count=image.height() * image.bytesPerLine())
    return rows.reshape(image.height(), image.bytesPerLine())


def _check_rgb(rgb: NDArray[np.uint8]) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        got = f"{rgb.dtype} {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise ValueError(f"expected uint8 (H, W, 3) RGB, got {got}")
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ValueError("image is empty")
