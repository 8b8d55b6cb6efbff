"""The History panel: the document's generation rounds, newest first; reopening one puts its
candidates back in the gallery (and its mask on the canvas) to pick another."""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from inpaint_gui.core.contact_sheet import fit_image
from inpaint_gui.ui.history import RoundRecord
from inpaint_gui.ui.qimage import rgb_to_qimage

log = logging.getLogger(__name__)

_NUMBER_ROLE = Qt.ItemDataRole.UserRole
ICON_SIZE = 64


class HistoryPanel(QWidget):
    """Lists rounds; emits round_requested(number) on double-click, Enter or the Reopen button."""

    round_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._list = QListWidget(self)
        self._list.setObjectName("historyList")
        self._list.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self._list.setWordWrap(True)
        self._list.itemActivated.connect(self._on_list_item_activated)
        self._list.currentItemChanged.connect(lambda *_: self._update_button())
        self._empty = QLabel("Generation rounds appear here; reopen one to pick another candidate.", self)
        self._empty.setWordWrap(True)
        self._reopen = QPushButton("Reopen round", self)
        self._reopen.setToolTip("Put this round's candidates back in the gallery, with its mask")
        self._reopen.clicked.connect(self._on_reopen_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._empty)
        layout.addWidget(self._list)
        layout.addWidget(self._reopen)
        self._icons: dict[tuple[int, str], QIcon] = {}
        self.set_rounds([], None)

    def set_rounds(self, records: list[RoundRecord], active: int | None) -> None:
        """Show records (oldest first in the list given; shown newest first); active is marked."""
        keep = {(r.number, r.token) for r in records}
        self._icons = {k: v for k, v in self._icons.items() if k in keep}
        current = self.selected_round()
        before = set(self.rounds_shown())
        if active is not None and before and active not in before:
            current = active  # a new round: select it, as the list is scrolled to it below
        self._list.clear()
        shown = None
        for record in reversed(records):
            text = record.describe()
            if record.number == active:
                text += "  ◀ in the gallery"
            item = QListWidgetItem(self._icon(record), text)
            item.setData(_NUMBER_ROLE, record.number)
            item.setToolTip(f"{record.details()}\nDouble-click or Enter to reopen")
            self._list.addItem(item)
            if record.number == current:
                self._list.setCurrentItem(item)
            if record.number == active:
                shown = item
        if shown is not None:  # the round in the gallery is in view (a new one is at the top)
            self._list.scrollToItem(shown)
        self._empty.setVisible(not records)
        self._list.setVisible(bool(records))
        self._update_button()

    def selected_round(self) -> int | None:
        item = self._list.currentItem()
        return None if item is None else int(item.data(_NUMBER_ROLE))

    def rounds_shown(self) -> list[int]:
        return [int(self._list.item(i).data(_NUMBER_ROLE)) for i in range(self._list.count())]

    def select_round(self, number: int) -> None:
        for i in range(self._list.count()):
            if int(self._list.item(i).data(_NUMBER_ROLE)) == number:
                self._list.setCurrentRow(i)
                return

    def _icon(self, record: RoundRecord) -> QIcon:
        key = (record.number, record.token)
        if key not in self._icons:
            self._icons[key] = QIcon()
            if record.candidates:
                pick = record.applied[-1] if record.applied else 0
                crop = fit_image(record.candidates[pick].crop, None, ICON_SIZE)
                pixmap = QPixmap.fromImage(rgb_to_qimage(np.ascontiguousarray(crop)))
                self._icons[key] = QIcon(pixmap)
        return self._icons[key]

    def _update_button(self) -> None:
        self._reopen.setEnabled(self.selected_round() is not None)

    @Slot(QListWidgetItem)
    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        self.round_requested.emit(int(item.data(_NUMBER_ROLE)))

    @Slot()
    def _on_reopen_clicked(self) -> None:
        number = self.selected_round()
        if number is not None:
            self.round_requested.emit(number)
