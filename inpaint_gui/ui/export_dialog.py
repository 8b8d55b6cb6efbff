"""The Export Image dialog: where, which format, what quality, keep metadata or not."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

log = logging.getLogger(__name__)

#: Label, extension, whether the format has a quality setting, whether it can hold ICC/EXIF.
FORMATS = (
    ("PNG (lossless)", ".png", False, True),
    ("JPEG", ".jpg", True, True),
    ("WebP", ".webp", True, True),
    ("TIFF (lossless)", ".tif", False, True),
)


class ExportDialog(QDialog):
    """Asks for an export path, format and quality. Overwrite prompts are the caller's."""

    def __init__(self, suggested: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export image")
        self._path = QLineEdit(str(suggested))
        self._path.setObjectName("exportPath")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        row = QHBoxLayout()
        row.addWidget(self._path, 1)
        row.addWidget(browse)
        self._format = QComboBox()
        self._format.setObjectName("exportFormat")
        for label, *_ in FORMATS:
            self._format.addItem(label)
        self._quality = QSpinBox()
        self._quality.setObjectName("exportQuality")
        self._quality.setRange(1, 100)
        self._quality.setValue(92)
        self._quality.setSuffix(" %")
        self._metadata = QCheckBox("Keep colour profile and EXIF of the original")
        self._metadata.setChecked(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("File", row)
        form.addRow("Format", self._format)
        form.addRow("Quality", self._quality)
        form.addRow("", self._metadata)
        form.addRow(buttons)
        self._format.currentIndexChanged.connect(self._on_format_changed)
        suffix = suggested.suffix.lower()
        index = next((i for i, f in enumerate(FORMATS) if f[1] == suffix or (suffix, f[1]) in _ALIASES), 0)
        self._format.setCurrentIndex(index)
        self._on_format_changed(index)
        self.resize(560, self.sizeHint().height())

    def path(self) -> Path:
        """The chosen path, its extension matching the chosen format."""
        path = Path(self._path.text().strip()).expanduser()
        ext = FORMATS[self._format.currentIndex()][1]
        if (path.suffix.lower(), ext) in _ALIASES or path.suffix.lower() == ext:
            return path
        return path.with_suffix(ext)

    def quality(self) -> int:
        return int(self._quality.value())

    def keep_metadata(self) -> bool:
        return self._metadata.isChecked()

    def set_format(self, extension: str) -> None:
        for i, f in enumerate(FORMATS):
            if f[1] == extension:
                self._format.setCurrentIndex(i)

    def _on_format_changed(self, index: int) -> None:
        _, ext, has_quality, _ = FORMATS[index]
        self._quality.setEnabled(has_quality)
        text = self._path.text().strip()
        if text:
            self._path.setText(str(Path(text).with_suffix(ext)))

    def _on_browse_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Export image", self._path.text(), "", "", QFileDialog.Option.DontConfirmOverwrite
        )
        if name:
            self._path.setText(name)
            self.set_format(Path(name).suffix.lower().replace(".jpeg", ".jpg").replace(".tiff", ".tif"))


_ALIASES = {(".jpeg", ".jpg"), (".tiff", ".tif")}
