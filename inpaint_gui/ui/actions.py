"""The main window's actions, menus and toolbars: names, shortcuts and layout only, no behaviour.

The window connects each action's `triggered`/`toggled` to its own slots, so
this file reads as the list of everything a user can do and how to reach it.
"""

from __future__ import annotations

import logging
import math

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeyEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QMenu, QSlider, QSpinBox, QStyle, QToolBar

from inpaint_gui.core.selection import DEFAULT_GROW as DEFAULT_SELECT_GROW
from inpaint_gui.core.selection import MAX_GROW as MAX_SELECT_GROW
from inpaint_gui.ui.canvas import Tool

log = logging.getLogger(__name__)

MAX_BRUSH = 1000
SLIDER_STEPS = 1000
COMPARE_KEY = Qt.Key.Key_Backslash  # hold to see the original


class WindowActions:
    """Every QAction of the main window, plus the menus and toolbars that show them."""

    def __init__(self, window: QMainWindow, undo_stack: QUndoStack) -> None:
        self._window = window
        style = window.style()
        sp = QStyle.StandardPixmap
        std = QKeySequence.StandardKey

        def make(text: str, shortcut=None, tip: str = "", checkable: bool = False, icon=None) -> QAction:
            action = QAction(text, window)
            if shortcut is not None:
                if isinstance(shortcut, (list, tuple)):
                    action.setShortcuts([QKeySequence(s) for s in shortcut])
                else:
                    action.setShortcut(QKeySequence(shortcut))
            if tip:
                action.setToolTip(tip)
                action.setStatusTip(tip)
            if icon is not None:
                action.setIcon(style.standardIcon(icon))
            action.setCheckable(checkable)
            window.addAction(action)  # shortcuts work even with the menu bar hidden
            return action

        # File
        self.open = make(
            "&Open…", std.Open, "Open an image (also: drop a file, or paste)", icon=sp.SP_DialogOpenButton
        )
        self.paste = make("&Paste image", std.Paste, "Open the image on the clipboard")
        self.save = make("&Save", std.Save, "Save the edited image", icon=sp.SP_DialogSaveButton)
        self.save_as = make("Save &as…", "Ctrl+Shift+S", "Save the edited image under a new name")
        self.export_image = make(
            "&Export image…", "Ctrl+E", "Write PNG, JPEG, WebP or TIFF with a quality setting"
        )
        self.export_candidates = make("Export &candidates…", None, "Write every candidate as a PNG")
        self.export_sheet = make("Export contact &sheet…", None, "One labelled image of all candidates")
        self.quit = make("&Quit", "Ctrl+Q")  # std.Quit is empty on some platforms (offscreen, Windows)
        self.recent_menu = QMenu("Open &recent", window)

        # Edit
        # Own actions rather than createUndoAction: a fixed label keeps the toolbar from jumping;
        # what would be undone goes into the tooltip.
        self.undo = make("&Undo", std.Undo, "Undo", icon=sp.SP_ArrowBack)
        self.redo = make("&Redo", ["Ctrl+Shift+Z", "Ctrl+Y"], "Redo", icon=sp.SP_ArrowForward)
        self.undo.triggered.connect(undo_stack.undo)
        self.redo.triggered.connect(undo_stack.redo)
        self.undo.setEnabled(False)
        self.redo.setEnabled(False)
        undo_stack.canUndoChanged.connect(self.undo.setEnabled)
        undo_stack.canRedoChanged.connect(self.redo.setEnabled)
        undo_stack.undoTextChanged.connect(lambda text: self._set_tip(self.undo, "Undo", text))
        undo_stack.redoTextChanged.connect(lambda text: self._set_tip(self.redo, "Redo", text))
        self.settings = make(
            "Se&ttings…", "Ctrl+,", "Candidates, seed, engine, checkpoint, device, mask colour"
        )

        # Mask tools
        self.tool_group = QActionGroup(window)
        self.tools: dict[Tool, QAction] = {}
        for tool, text, key, tip in (
            (Tool.BRUSH, "&Brush", "B", "Paint what to remove (right button erases)"),
            (Tool.ERASER, "&Eraser", "E", "Erase from the mask"),
            (Tool.RECTANGLE, "&Rectangle", "R", "Drag a rectangle (Alt subtracts)"),
            (Tool.LASSO, "&Lasso", "L", "Draw around an area (Alt subtracts)"),
            (
                Tool.SELECT,
                "Select &object",
                "O",
                "Drag a box around an object; Enter adds its outline to the mask (Alt subtracts)",
            ),
        ):
            action = make(text, key, tip, checkable=True)
            self.tool_group.addAction(action)
            self.tools[tool] = action
        self.tools[Tool.BRUSH].setChecked(True)
        self.tools[Tool.SELECT].setIconText("Object")  # the tool bar's label: the full name is too wide
        self.brush_bigger = make("Bigger brush", "]")
        self.brush_smaller = make("Smaller brush", "[")
        self.clear_mask = make("&Clear mask", "Ctrl+D", "Remove the whole mask")
        self.invert_mask = make("&Invert mask", "Ctrl+I")
        self.grow_mask = make("&Grow mask…", "Ctrl+Alt+G", "Widen the mask by some pixels")
        self.shrink_mask = make("S&hrink mask…", "Ctrl+Alt+H", "Narrow the mask by some pixels")
        self.save_mask = make("&Save mask…", None, "Write the mask as a PNG (white = fill)")
        self.load_mask = make("&Load mask…", None, "Read a mask image of the same size (white = fill)")
        self.reuse_mask = make(
            "Re&use last mask",
            "Ctrl+Shift+M",
            "The mask of the last generation again (e.g. after Apply)",
        )
        self.exclude_area = make(
            "Do&n't copy from the masked area",
            "Ctrl+Shift+X",
            "PatchMatch: never copy patches from what is painted now; the mask is then cleared for the hole",
        )
        self.clear_exclusion = make("Copy from &anywhere again", None, "Forget the area not to copy from")
        self.clear_exclusion.setEnabled(False)

        # View
        self.zoom_in = make("Zoom &in", ["Ctrl++", "Ctrl+="])
        self.zoom_out = make("Zoom &out", "Ctrl+-")
        self.zoom_fit = make("&Fit to window", "Ctrl+0")
        self.zoom_100 = make("&Actual size (100%)", "Ctrl+1")
        self.compare = make(
            "Compare with &original", None, "Show the image as opened (hold \\ to peek)", checkable=True
        )
        self.compare_grid = make("Compare &candidates…", "Ctrl+G", "All candidates side by side or in a grid")
        self.uncertainty = make("&Uncertainty overlay", "U", "Where the candidates disagree", checkable=True)
        self.presentation = make(
            "&Presentation mode", ["F11", "F5"], "Full screen, large gallery, big cursor", True
        )
        self.compare.setIconText("Original")
        self.presentation.setIconText("Present")

        # Generate
        self.generate = make(
            "&Generate", ["Ctrl+Return", "Ctrl+Enter"], "Propose fills for the mask (Ctrl+Enter)"
        )
        self.generate_more = make("Generate &more", "Ctrl+Shift+Return", "Add candidates for the same mask")
        self.more_like_this = make("More &like this", "Ctrl+M", "Candidates near the selected one")
        self.apply = make(
            "&Apply candidate", ["Return", "Enter"], "Write the selected candidate into the image"
        )
        self.cancel = make("&Cancel", "Esc", "Stop generating (Esc); also leaves presentation mode")
        # Digits pick a candidate: 1-9, 0 = 10, two digits typed quickly (1, 2) = 12.
        self.pick = [make(f"Pick candidate {i}", str(i)) for i in range(1, 10)]
        self.pick.append(make("Pick candidate 10", "0"))
        self.next_candidate = make("&Next candidate", ".", "Preview the next candidate")
        self.previous_candidate = make("&Previous candidate", ",", "Preview the previous candidate")

        # Help
        self.shortcuts = make("&Keyboard shortcuts", "F1")
        self.about = make("&About")

        self.brush_slider = QSlider(Qt.Orientation.Horizontal)
        self.brush_slider.setRange(0, SLIDER_STEPS)  # logarithmic: see slider_to_size
        self.brush_slider.setFixedWidth(100)
        self.brush_slider.setToolTip("Brush size in image pixels ([ and ])")
        self.select_grow_spin = QSpinBox()
        self.select_grow_spin.setObjectName("selectGrowSpin")
        self.select_grow_spin.setRange(0, MAX_SELECT_GROW)
        self.select_grow_spin.setValue(DEFAULT_SELECT_GROW)
        self.select_grow_spin.setPrefix("Grow ")
        self.select_grow_spin.setSuffix(" px")
        self.select_grow_spin.setToolTip(
            "Select object: pixels added around the object's outline, for its halo and soft shadow"
        )
        self.brush_spin = SizeBox()
        self.brush_spin.setRange(1, MAX_BRUSH)
        self.brush_spin.setSuffix(" px")
        self.engine_box = EngineBox()
        self.engine_box.setObjectName("engineBox")
        self.engine_box.setToolTip("Inpainting engine")

    def show_tool_options(self, tool: Tool) -> None:
        """The tool bar shows the chosen tool's own setting: the grow of Select object, else the size."""
        selecting = tool == Tool.SELECT
        self.select_grow_item.setVisible(selecting)
        self.brush_spin_item.setVisible(not selecting)

    @staticmethod
    def _set_tip(action: QAction, verb: str, text: str) -> None:
        tip = f"{verb} {text.lower()}" if text else verb
        action.setToolTip(tip)
        action.setStatusTip(tip)

    def build_menus(self) -> None:
        bar = self._window.menuBar()
        file = bar.addMenu("&File")
        file.addActions([self.open])
        file.addMenu(self.recent_menu)
        file.addActions([self.paste])
        file.addSeparator()
        file.addActions([self.save, self.save_as, self.export_image])
        file.addSeparator()
        file.addActions([self.export_candidates, self.export_sheet])
        file.addSeparator()
        file.addAction(self.quit)
        edit = bar.addMenu("&Edit")
        edit.addActions([self.undo, self.redo])
        edit.addSeparator()
        edit.addAction(self.settings)
        mask = bar.addMenu("&Mask")
        mask.addActions(list(self.tools.values()))
        mask.addSeparator()
        mask.addActions([self.brush_bigger, self.brush_smaller])
        mask.addSeparator()
        mask.addActions([self.clear_mask, self.invert_mask, self.grow_mask, self.shrink_mask])
        mask.addSeparator()
        mask.addActions([self.save_mask, self.load_mask, self.reuse_mask])
        mask.addActions([self.exclude_area, self.clear_exclusion])
        view = bar.addMenu("&View")
        view.addActions([self.zoom_in, self.zoom_out, self.zoom_fit, self.zoom_100])
        view.addSeparator()
        view.addActions([self.compare, self.compare_grid, self.uncertainty])
        view.addSeparator()
        view.addAction(self.presentation)
        self.view_menu = view
        gen = bar.addMenu("&Generate")
        gen.addActions([self.generate, self.generate_more, self.more_like_this])
        gen.addSeparator()
        gen.addActions([self.next_candidate, self.previous_candidate])
        gen.addSeparator()
        gen.addActions([self.apply, self.cancel])
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.shortcuts, self.about])

    def build_toolbars(self) -> QToolBar:
        bar = QToolBar("Tools", self._window)
        bar.setObjectName("toolsToolBar")
        bar.setIconSize(QSize(20, 20))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addActions([self.open, self.save])
        bar.addSeparator()
        bar.addActions(list(self.tools.values()))
        # Kept so presentation mode can hide the slider: the bigger font needs the room.
        self.brush_slider_items = [bar.addWidget(QLabel(" Size ")), bar.addWidget(self.brush_slider)]
        # Everything up to Present fits in 1280 px: a toolbar that overflows hides its end.
        # The size box and Select object's grow box take turns in one place (see show_tool_options).
        self.brush_spin_item = bar.addWidget(self.brush_spin)
        self.select_grow_item = bar.addWidget(self.select_grow_spin)
        self.select_grow_item.setVisible(False)
        bar.addSeparator()
        bar.addActions([self.undo, self.redo])
        for action in (self.undo, self.redo):  # arrows say it: their words would push Present off the bar
            bar.widgetForAction(action).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        bar.addSeparator()
        bar.addAction(self.generate)
        bar.addAction(self.cancel)
        bar.addWidget(self.engine_box)
        bar.addSeparator()
        bar.addActions([self.compare, self.presentation])
        self._window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        return bar

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(what, keys) for every action with a shortcut, then the keys no action carries."""
        rows = []
        for action in self._window.actions():
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
            if keys and not action.text().startswith("Pick candidate"):
                rows.append((action.text().replace("&", "").removesuffix("…"), keys))
        rows.append(("Pick candidate", "1 … 9, 0 = 10; type 1 2 quickly for 12"))
        rows.append(("Compare with original", "hold \\"))
        rows.append(("Pan", "Space+drag, middle button"))
        rows.append(("Zoom", "mouse wheel"))
        return rows

    def shortcut_text(self) -> str:
        """The same as plain text, one shortcut a line."""
        return "\n".join(f"{what:<28} {keys}" for what, keys in self.shortcut_rows())


class EngineBox(QComboBox):
    """The toolbar's engine box: as wide as a short name (the toolbar must fit a 1280 px
    window), its list as wide as the longest."""

    def __init__(self) -> None:
        super().__init__()
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(16)

    def showPopup(self) -> None:  # noqa: N802
        view = self.view()
        view.setMinimumWidth(view.sizeHintForColumn(0) + view.verticalScrollBar().sizeHint().width() + 8)
        super().showPopup()


class SizeBox(QSpinBox):
    """The brush-size box. Enter sets the size and hands the keyboard back (done), instead of
    reaching the window's Enter (Apply) while the box keeps the focus and the digits meant to
    pick a candidate."""

    done = Signal()
    _ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in self._ENTER:  # type: ignore[attr-defined]
            event.accept()  # Enter is this box's own key while it has the focus
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        super().keyPressEvent(event)
        if event.key() in self._ENTER:
            self.done.emit()


def slider_to_size(value: int) -> int:
    """Brush diameter for a slider position: equal steps multiply the size, 1 .. MAX_BRUSH px."""
    return max(1, round(MAX_BRUSH ** (value / SLIDER_STEPS)))


def size_to_slider(size: float) -> int:
    return round(math.log(max(size, 1.0)) / math.log(MAX_BRUSH) * SLIDER_STEPS)
