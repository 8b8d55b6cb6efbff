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
    QMessageBox,
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
        self._path.textEdited.connect(self._on_path_edited)
        suffix = suggested.suffix.lower()
        index = next((i for i, f in enumerate(FORMATS) if f[1] == suffix or (suffix, f[1]) in _ALIASES), 0)
        self._format.setCurrentIndex(index)
        self._on_format_changed(index)
        self.resize(560, self.sizeHint().height())

    def path(self) -> Path:
        """The chosen path; after accept() its extension names the format written."""
        return Path(self._path.text().strip()).expanduser()

    def accept(self) -> None:
        """Make the name and the format agree first; asks when the name names another format."""
        ext = FORMATS[self._format.currentIndex()][1]
        agreed = agree_format(self, self.path(), ext, "Export")
        if agreed is None:
            return  # the user cancelled the question: stay in the dialog
        self._format.blockSignals(True)  # keep the agreed name as it is (.tiff stays .tiff)
        self.set_format(canonical_suffix(agreed.suffix))
        self._format.blockSignals(False)
        self._path.setText(str(agreed))
        super().accept()

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

    def _on_path_edited(self, text: str) -> None:
        """A typed name with a known extension picks the format (the name is what the user sees)."""
        suffix = canonical_suffix(Path(text.strip()).suffix)
        if suffix in SUFFIX_FORMATS:
            self._format.blockSignals(True)  # _on_format_changed would rewrite what is being typed
            self.set_format(suffix)
            self._format.blockSignals(False)
            self._quality.setEnabled(FORMATS[self._format.currentIndex()][2])

    def _on_browse_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Export image", self._path.text(), "", "", QFileDialog.Option.DontConfirmOverwrite
        )
        if name:
            self._path.setText(name)
            self.set_format(canonical_suffix(Path(name).suffix))


_ALIASES = {(".jpeg", ".jpg"), (".tiff", ".tif")}
#: The format each writable extension names (the written format follows the extension).
SUFFIX_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".webp": "WebP", ".tif": "TIFF"}


def canonical_suffix(suffix: str) -> str:
    """'.JPEG' -> '.jpg', '.tiff' -> '.tif': the extension FORMATS and SUFFIX_FORMATS use."""
    return dict(_ALIASES).get(suffix.lower(), suffix.lower())


def agree_format(parent: QWidget | None, path: Path, chosen: str, verb: str = "Save") -> Path | None:
    """path with an extension that names the chosen format (chosen: '.png', '.jpg', ...).

    A name without a known image extension gets chosen's appended; a name of
    another format asks which of the two to write; None when the user cancels.
    """
    chosen = canonical_suffix(chosen)
    named = SUFFIX_FORMATS.get(canonical_suffix(path.suffix))
    if named is None:
        return path.with_name(path.name + chosen)
    if named == SUFFIX_FORMATS[chosen]:
        return path
    other = path.with_suffix(chosen)
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Which format?",
        f"“{path.name}” is the name of a {named} file, but {SUFFIX_FORMATS[chosen]} is chosen as the format.",
        QMessageBox.StandardButton.NoButton,
        parent,
    )
    by_name = box.addButton(f"{verb} {named} ({path.name})", QMessageBox.ButtonRole.AcceptRole)
    by_choice = box.addButton(
        f"{verb} {SUFFIX_FORMATS[chosen]} ({other.name})", QMessageBox.ButtonRole.AcceptRole
    )
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(by_name)
    box.exec()
    clicked = box.clickedButton()
    return path if clicked is by_name else other if clicked is by_choice else None
