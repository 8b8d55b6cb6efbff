"""What the main window's parts may use of the window: narrow protocols, so that none imports it.

GenerationRounds, SessionAutosave and Presentation are handed the main window as their host (it is
also the Qt parent of their timers and dialogs); these protocols say which of its parts each one
reaches, and they are all the window promises them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QDockWidget, QMenuBar, QStatusBar, QToolBar

    from inpaint_gui.ui.actions import WindowActions
    from inpaint_gui.ui.canvas import MaskCanvas
    from inpaint_gui.ui.controller import GenerationController
    from inpaint_gui.ui.document import DocumentFiles, ImageDocument
    from inpaint_gui.ui.gallery import CandidateGallery
    from inpaint_gui.ui.history import RoundHistory, RoundRecord
    from inpaint_gui.ui.settings import Settings


class Autosave(Protocol):
    def schedule(self) -> None: ...

    def save_now(self) -> None: ...

    def start_save(self) -> None: ...


class PresentationMode(Protocol):
    active: bool


class RoundsHost(Protocol):
    """What GenerationRounds uses: the document, the engine's controller and the widgets it fills."""

    document: ImageDocument
    controller: GenerationController
    gallery: CandidateGallery
    canvas: MaskCanvas
    window_actions: WindowActions
    settings: Settings
    autosave: Autosave
    presentation: PresentationMode


class _ActiveRound(Protocol):
    record: RoundRecord | None


class RoundsState(Protocol):
    """What the autosave reads of the rounds, and how it brings them back."""

    history: RoundHistory
    round: _ActiveRound | None

    def restore_history(self, records: list[RoundRecord], active: int | None) -> None: ...


class SessionHost(Protocol):
    """What SessionAutosave uses: the document, its files, the rounds and the status bar."""

    document: ImageDocument
    files: DocumentFiles
    rounds: RoundsState

    def engine_name(self) -> str: ...

    def statusBar(self) -> QStatusBar: ...


class PresentedWindow(Protocol):
    """What presentation mode changes: the window's layout, font and these parts."""

    canvas: MaskCanvas
    gallery: CandidateGallery
    gallery_dock: QDockWidget
    toolbar: QToolBar
    window_actions: WindowActions

    def saveGeometry(self) -> QByteArray: ...

    def saveState(self) -> QByteArray: ...

    def restoreGeometry(self, geometry: QByteArray) -> bool: ...

    def restoreState(self, state: QByteArray) -> bool: ...

    def isMaximized(self) -> bool: ...

    def menuBar(self) -> QMenuBar: ...

    def font(self) -> QFont: ...

    def setFont(self, font: QFont) -> None: ...

    def showFullScreen(self) -> None: ...

    def showMaximized(self) -> None: ...

    def showNormal(self) -> None: ...

    def width(self) -> int: ...

    def resizeDocks(self, docks: list[QDockWidget], sizes: list[int], orientation: object) -> None: ...
