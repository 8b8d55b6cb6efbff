"""Presentation mode for talks: full screen, a large gallery, a big brush cursor, large toolbar."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSize, Qt

if TYPE_CHECKING:
    from inpaint_gui.ui.main_window import MainWindow

log = logging.getLogger(__name__)

GALLERY_THUMBNAIL = 300
CURSOR_PEN = 3.0
TOOLBAR_ICONS = 32


class Presentation:
    """Switches the window in and out of presentation mode, restoring the layout afterwards."""

    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self.active = False
        self._geometry = QByteArray()
        self._state = QByteArray()
        self._thumbnail = 0
        self._was_maximized = False
        self._font_size = 0.0

    def set_active(self, on: bool) -> None:
        if on == self.active:
            return
        w = self._window
        if on:
            self._geometry, self._state = w.saveGeometry(), w.saveState()
            self._was_maximized = w.isMaximized()
            self._thumbnail = w.gallery.thumbnail_size()
            w.menuBar().hide()
            w.toolbar.setIconSize(QSize(TOOLBAR_ICONS, TOOLBAR_ICONS))
            font = w.toolbar.font()
            self._font_size = font.pointSizeF()
            font.setPointSizeF(self._font_size * 1.4)
            w.toolbar.setFont(font)
            w.gallery.set_thumbnail_size(GALLERY_THUMBNAIL)
            w.gallery_dock.show()
            w.canvas.set_cursor_pen(CURSOR_PEN)
            w.showFullScreen()
            # A third of the screen for the gallery: the audience sees the candidates.
            w.resizeDocks(
                [w.gallery_dock], [max(GALLERY_THUMBNAIL + 60, w.width() // 3)], Qt.Orientation.Horizontal
            )
        else:
            w.canvas.set_cursor_pen(1.0)
            w.gallery.set_thumbnail_size(self._thumbnail)
            font = w.toolbar.font()
            font.setPointSizeF(self._font_size)
            w.toolbar.setFont(font)
            w.toolbar.setIconSize(QSize(20, 20))
            w.menuBar().show()
            if self._was_maximized:
                w.showMaximized()
            else:
                w.showNormal()
            w.restoreGeometry(self._geometry)
            w.restoreState(self._state)
        self.active = on
        w.actions.presentation.setChecked(on)
        w.canvas.fit()
        log.info("presentation mode %s", "on" if on else "off")
