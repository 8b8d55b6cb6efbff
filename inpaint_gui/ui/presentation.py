"""Presentation mode for talks: full screen, a large gallery, a big brush cursor, large toolbar."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QFont

if TYPE_CHECKING:
    from inpaint_gui.ui.window_parts import PresentedWindow

log = logging.getLogger(__name__)

GALLERY_THUMBNAIL = 300
CURSOR_PEN = 3.0
TOOLBAR_ICONS = 32
FONT_SCALE = 1.35


class Presentation:
    """Switches the window in and out of presentation mode, restoring the layout afterwards."""

    def __init__(self, window: PresentedWindow) -> None:
        self._window = window
        self.active = False
        self._geometry = QByteArray()
        self._state = QByteArray()
        self._thumbnail = 0
        self._was_maximized = False
        self._font = QFont()

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
            self._font = w.font()
            font = w.font()
            font.setPointSizeF(font.pointSizeF() * FONT_SCALE)
            w.setFont(font)  # toolbar, dock, buttons, status bar: readable from the back of the room
            for item in w.window_actions.brush_slider_items:
                item.setVisible(False)
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
            w.setFont(self._font)
            for item in w.window_actions.brush_slider_items:
                item.setVisible(True)
            w.toolbar.setIconSize(QSize(20, 20))
            w.menuBar().show()
            if self._was_maximized:
                w.showMaximized()
            else:
                w.showNormal()
            w.restoreGeometry(self._geometry)
            w.restoreState(self._state)
        self.active = on
        w.window_actions.presentation.setChecked(on)
        w.canvas.fit()
        log.info("presentation mode %s", "on" if on else "off")
