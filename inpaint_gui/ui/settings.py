"""User settings: a typed wrapper over QSettings, and the dialog that edits them.

Every getter validates what it reads (the file is the user's to edit) and falls
back to the default with a warning, so a bad value never breaks start-up.

    settings = Settings()              # the app's store
    settings = Settings(QSettings(path, QSettings.Format.IniFormat))   # tests
    seed = settings.next_seed()
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, Slot
from PySide6.QtGui import QColor, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from inpaint_gui.core.mask_prep import MAX_GROW
from inpaint_gui.engine import EngineInfo

log = logging.getLogger(__name__)

ORGANIZATION = "inpaint-gui"
APPLICATION = "inpaint-gui"
SEED_MODES = ("random", "fixed")
DEVICES = ("auto", "cpu", "cuda", "mps")  # as engine.device.DEVICES, without importing torch
# "auto" = the engine's own default. Modes as core.blend.BLEND_MODES and engine.pluralistic.DETAIL_MODES.
BLEND_CHOICES = (
    ("auto", "Engine default"),
    ("hard", "Hard edge"),
    ("membrane", "Colour-matched (membrane)"),
    ("feather", "Colour-matched + feathered edge"),
)
DETAIL_CHOICES = (
    ("auto", "Engine default"),
    ("similarity", "From similar context (patch similarity)"),
    ("attention", "From the network's attention"),
    ("off", "Off (upsampled fill only)"),
)
MAX_CONTEXT = 4.0
#: The pluralistic engine's variety range (engine.pluralistic: MIN_VARIETY, MAX_VARIETY; not imported,
#: so the dialog opens without torch); 0 here = the engine's default.
MIN_VARIETY, MAX_VARIETY = 0.25, 5.0
MAX_UI_SEED = 2**31 - 1  # QSpinBox holds a C int
MAX_CANDIDATES = 32
MAX_FEATHER = 32  # soft edge, pixels
MAX_RECENT = 10
DEFAULT_ENGINE = "guided"  # for photos (docs/decisions.md); patchmatch when its network is missing
FALLBACK_ENGINE = "patchmatch"
PATCH_SIZES = (3, 31)  # odd sizes between, for the patchmatch engine's detail setting


class Settings:
    """Typed access to the persistent settings; writes go straight to QSettings."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._s = store if store is not None else QSettings(ORGANIZATION, APPLICATION)

    # ---- generation --------------------------------------------------------

    @property
    def n_candidates(self) -> int:
        return self._int("generation/n_candidates", 6, 1, MAX_CANDIDATES)

    @n_candidates.setter
    def n_candidates(self, value: int) -> None:
        self._s.setValue("generation/n_candidates", _clamp(int(value), 1, MAX_CANDIDATES))

    @property
    def seed_mode(self) -> str:
        value = str(self._s.value("generation/seed_mode", "random"))
        return value if value in SEED_MODES else self._bad("generation/seed_mode", value, "random")

    @seed_mode.setter
    def seed_mode(self, value: str) -> None:
        if value not in SEED_MODES:
            raise ValueError(f"seed mode must be one of {', '.join(SEED_MODES)}, got {value!r}")
        self._s.setValue("generation/seed_mode", value)

    @property
    def seed(self) -> int:
        return self._int("generation/seed", 0, 0, MAX_UI_SEED)

    @seed.setter
    def seed(self, value: int) -> None:
        self._s.setValue("generation/seed", _clamp(int(value), 0, MAX_UI_SEED))

    def next_seed(self) -> int:
        """The first seed of a new request: the fixed seed, or a fresh random one."""
        if self.seed_mode == "fixed":
            return self.seed
        return random.randrange(0, MAX_UI_SEED)

    # ---- engine --------------------------------------------------------------

    @property
    def engine(self) -> str:
        return str(self._s.value("engine/name", DEFAULT_ENGINE)) or DEFAULT_ENGINE

    @engine.setter
    def engine(self, value: str) -> None:
        self._s.setValue("engine/name", str(value))

    @property
    def continue_lines(self) -> bool:
        """Whether straight lines and ellipse rims seen on both sides of a hole are drawn across it
        before the fill (patchmatch and guided)."""
        return self._int("engine/continue_lines", 1, 0, 1) == 1

    @continue_lines.setter
    def continue_lines(self, value: bool) -> None:
        self._s.setValue("engine/continue_lines", int(bool(value)))

    @property
    def patch_size(self) -> int:
        """PatchMatch's patch side in pixels (odd): small follows fine grain, large keeps structures."""
        value = self._int("engine/patch_size", 7, *PATCH_SIZES)
        return value if value % 2 else value + 1

    @patch_size.setter
    def patch_size(self, value: int) -> None:
        value = _clamp(int(value), *PATCH_SIZES)
        self._s.setValue("engine/patch_size", value if value % 2 else value + 1)

    @property
    def checkpoint(self) -> str | None:
        """A checkpoint file chosen by the user, None = the engine's default."""
        value = self._s.value("engine/checkpoint", "")
        return str(value) if value else None

    @checkpoint.setter
    def checkpoint(self, value: str | None) -> None:
        self._s.setValue("engine/checkpoint", str(value) if value else "")

    @property
    def device(self) -> str:
        value = str(self._s.value("engine/device", "auto"))
        return value if value in DEVICES else self._bad("engine/device", value, "auto")

    @device.setter
    def device(self, value: str) -> None:
        if value not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {value!r}")
        self._s.setValue("engine/device", value)

    @property
    def context(self) -> float:
        """Context kept around each hole, times the hole's size; 0 = the engine's default."""
        value = self._float("engine/context", 0.0, 0.0, MAX_CONTEXT)
        return value if value == 0.0 or value >= 0.1 else self._bad("engine/context", value, 0.0)

    @context.setter
    def context(self, value: float) -> None:
        value = _clamp(float(value), 0.0, MAX_CONTEXT)
        self._s.setValue("engine/context", 0.0 if value < 0.1 else value)

    @property
    def blend(self) -> str:
        return self._choice("engine/blend", BLEND_CHOICES)

    @blend.setter
    def blend(self, value: str) -> None:
        self._set_choice("engine/blend", BLEND_CHOICES, value)

    @property
    def detail(self) -> str:
        return self._choice("engine/detail", DETAIL_CHOICES)

    @detail.setter
    def detail(self, value: str) -> None:
        self._set_choice("engine/detail", DETAIL_CHOICES, value)

    @property
    def variety(self) -> float:
        """How far from the prior's mean network candidates are drawn (pluralistic, guided); 0 = the
        engine's default."""
        value = self._float("engine/variety", 0.0, 0.0, MAX_VARIETY)
        return value if value == 0.0 or value >= MIN_VARIETY else self._bad("engine/variety", value, 0.0)

    @variety.setter
    def variety(self, value: float) -> None:
        value = _clamp(float(value), 0.0, MAX_VARIETY)
        self._s.setValue("engine/variety", 0.0 if value < MIN_VARIETY else value)

    def engine_options(self) -> dict[str, Any]:
        """The engine settings the user changed from the engine's defaults, for Engine.configure."""
        out: dict[str, Any] = {}
        if self.context:
            out["context"] = self.context
        if self.variety:
            out["variety"] = self.variety
        for key, value in (("blend", self.blend), ("detail", self.detail)):
            if value != "auto":
                out[key] = value
        if not self.continue_lines:
            out["continue_lines"] = False
        return out

    def startup_engine(self, engines: Sequence[EngineInfo]) -> tuple[str, str | None]:
        """(engine, checkpoint) to load at start: the saved choice if it can load, else the first that can.

        An engine that needs a checkpoint counts as loadable when the user chose a file that exists.
        """
        by_name = {e.name: e for e in engines}
        info = by_name.get(self.engine)
        ckpt = self.checkpoint
        if info is not None:
            if not info.needs_checkpoint:
                return info.name, None
            if info.available or (ckpt is not None and Path(ckpt).is_file()):
                return info.name, ckpt
        for e in engines:
            if e.available and not e.needs_checkpoint:
                log.info("engine %r cannot load; starting with %r", self.engine, e.name)
                return e.name, None
        return FALLBACK_ENGINE, None

    # ---- canvas ----------------------------------------------------------------

    @property
    def overlay_colour(self) -> QColor:
        colour = QColor(str(self._s.value("canvas/overlay_colour", "#ff2d55")))
        return colour if colour.isValid() else QColor("#ff2d55")

    @overlay_colour.setter
    def overlay_colour(self, value: QColor | str) -> None:
        colour = QColor(value)
        if not colour.isValid():
            raise ValueError(f"not a colour: {value!r}")
        self._s.setValue("canvas/overlay_colour", colour.name())

    @property
    def overlay_opacity(self) -> float:
        return self._float("canvas/overlay_opacity", 0.45, 0.0, 1.0)

    @overlay_opacity.setter
    def overlay_opacity(self, value: float) -> None:
        self._s.setValue("canvas/overlay_opacity", _clamp(float(value), 0.0, 1.0))

    @property
    def feather(self) -> int:
        """Soft edge in pixels: the fill blends into the photo over this ring outside the mask."""
        return self._int("mask/feather", 0, 0, MAX_FEATHER)

    @feather.setter
    def feather(self, value: int) -> None:
        self._s.setValue("mask/feather", _clamp(int(value), 0, MAX_FEATHER))

    @property
    def grow(self) -> int:
        """Pixels the painted mask is grown by before filling (an object's halo or soft shadow)."""
        return self._int("mask/grow", 0, 0, MAX_GROW)

    @grow.setter
    def grow(self, value: int) -> None:
        self._s.setValue("mask/grow", _clamp(int(value), 0, MAX_GROW))

    # ---- gallery ---------------------------------------------------------------

    @property
    def thumbnail_size(self) -> int:
        return self._int("gallery/thumbnail_size", 128, 48, 1024)

    @thumbnail_size.setter
    def thumbnail_size(self, value: int) -> None:
        self._s.setValue("gallery/thumbnail_size", _clamp(int(value), 48, 1024))

    @property
    def spread(self) -> float:
        return self._float("gallery/spread", 0.25, 0.0, 1.0)

    @spread.setter
    def spread(self, value: float) -> None:
        self._s.setValue("gallery/spread", _clamp(float(value), 0.0, 1.0))

    # ---- recent files ------------------------------------------------------------

    @property
    def recent_files(self) -> list[str]:
        """Most recent first, at most MAX_RECENT."""
        value = self._s.value("files/recent", [])
        if value is None or value == "":
            return []
        if isinstance(value, str):  # QSettings gives a lone string for a one-item list
            value = [value]
        return [str(v) for v in value if v][:MAX_RECENT]

    def add_recent_file(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        files = [f for f in self.recent_files if f != path]
        self._s.setValue("files/recent", [path, *files][:MAX_RECENT])

    def remove_recent_file(self, path: str | Path) -> None:
        files = self.recent_files
        drop = {str(path), str(Path(path).resolve())}
        self._s.setValue("files/recent", [f for f in files if f not in drop])

    def clear_recent_files(self) -> None:
        self._s.setValue("files/recent", [])

    # ---- window layout -----------------------------------------------------------

    @property
    def window_state(self) -> tuple[QByteArray, QByteArray] | None:
        """(geometry, dock/toolbar state) as saved by QMainWindow, or None before the first close."""
        geometry, state = self._s.value("window/geometry"), self._s.value("window/state")
        if isinstance(geometry, QByteArray) and isinstance(state, QByteArray):
            return geometry, state
        return None

    @window_state.setter
    def window_state(self, value: tuple[QByteArray, QByteArray]) -> None:
        self._s.setValue("window/geometry", value[0])
        self._s.setValue("window/state", value[1])

    def sync(self) -> None:
        self._s.sync()

    # ---- helpers -------------------------------------------------------------------

    def _int(self, key: str, default: int, lo: int, hi: int) -> int:
        raw = self._s.value(key, default)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            return self._bad(key, raw, default)
        return value if lo <= value <= hi else self._bad(key, raw, _clamp(value, lo, hi))

    def _float(self, key: str, default: float, lo: float, hi: float) -> float:
        raw = self._s.value(key, default)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            return self._bad(key, raw, default)
        return value if lo <= value <= hi else self._bad(key, raw, _clamp(value, lo, hi))

    def _choice(self, key: str, choices: Sequence[tuple[str, str]]) -> str:
        value = str(self._s.value(key, "auto"))
        return value if value in dict(choices) else self._bad(key, value, "auto")

    def _set_choice(self, key: str, choices: Sequence[tuple[str, str]], value: str) -> None:
        if value not in dict(choices):
            raise ValueError(f"{key} must be one of {', '.join(dict(choices))}, got {value!r}")
        self._s.setValue(key, value)

    @staticmethod
    def _bad(key: str, raw: Any, fallback: Any) -> Any:
        log.warning("setting %s has an invalid value %r; using %r", key, raw, fallback)
        return fallback


def _clamp(value: Any, lo: Any, hi: Any) -> Any:
    return max(lo, min(hi, value))


def list_engines() -> list[EngineInfo]:
    """describe_engines(), or every registered engine marked unknown if describing fails."""
    from inpaint_gui.engine import available_engines, describe_engines

    try:
        return describe_engines()
    except Exception:  # a broken checkpoint folder must not stop the dialog opening
        log.exception("describing engines failed; offering every engine")
        return [EngineInfo(n, n, False, True, "") for n in available_engines()]


class SettingsDialog(QDialog):
    """Edits a Settings; nothing is written until OK."""

    def __init__(
        self, settings: Settings, parent: QWidget | None = None, engines: Sequence[EngineInfo] | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = settings
        self._engines = list(engines) if engines is not None else list_engines()

        self._n = QSpinBox(self)
        self._n.setRange(1, MAX_CANDIDATES)
        self._n.setValue(settings.n_candidates)
        self._seed_mode = QComboBox(self)
        self._seed_mode.addItem("Random each time", "random")
        self._seed_mode.addItem("Fixed", "fixed")
        self._seed_mode.setCurrentIndex(SEED_MODES.index(settings.seed_mode))
        self._seed = QSpinBox(self)
        self._seed.setRange(0, MAX_UI_SEED)
        self._seed.setValue(settings.seed)
        self._seed_mode.currentIndexChanged.connect(self._on_seed_mode_changed)

        self._engine = QComboBox(self)
        self._engine.setObjectName("engine")
        for info in self._engines:
            self._engine.addItem(info.label, info.name)
        self._engine_reason = QLabel(self)
        self._engine_reason.setWordWrap(True)
        self._engine_reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._checkpoint = QLineEdit(settings.checkpoint or "", self)
        self._checkpoint.setPlaceholderText("default checkpoint")
        self._checkpoint.textChanged.connect(self._update_engines)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._on_browse_clicked)
        self._device = QComboBox(self)
        for d in DEVICES:
            self._device.addItem(d, d)
        self._device.setCurrentIndex(DEVICES.index(settings.device))
        self._patch = QSpinBox(self)
        self._patch.setObjectName("patchSize")
        self._patch.setRange(*PATCH_SIZES)
        self._patch.setSingleStep(2)
        self._patch.setSuffix(" px")
        self._patch.setValue(settings.patch_size)
        self._patch.setToolTip(
            "Side of the patches PatchMatch copies from the photo: small follows fine grain, "
            "large keeps longer structures (planks, tiles, edges) together"
        )

        self._lines = QCheckBox("Continue lines and rims across the hole", self)
        self._lines.setObjectName("continueLines")
        self._lines.setChecked(settings.continue_lines)
        self._lines.setToolTip(
            "PatchMatch and Guided: a straight line seen on both sides of the hole (a joint, an edge,\n"
            "a horizon), or the rim of a cup, plate or wheel, is drawn across it before the fill, so\n"
            "it comes back whole"
        )
        self._context = self._engine_default_spin("context", MAX_CONTEXT, settings.context, " × hole size")
        self._context.setToolTip(
            "Photo kept around each hole for the engine to look at. Learned engines scale it to their\n"
            "working size: less context means more detail of their own; more, more of the scene."
        )
        self._variety = self._engine_default_spin("variety", MAX_VARIETY, settings.variety)
        self._variety.setToolTip(
            "How different the network's candidates are from each other, for the pluralistic and\n"
            "guided engines (1: as the network learnt; 2: eyes, mouths and shapes vary more, with\n"
            "more smears in large holes; the guided engine keeps only the layout and defaults to 4)"
        )
        self._blend = self._choices("blend", BLEND_CHOICES, settings.blend)
        self._blend.setToolTip("How a fill meets the photo at the mask's edge")
        self._detail = self._choices("detail", DETAIL_CHOICES, settings.detail)
        self._detail.setToolTip(
            "Where a learned fill's full-resolution detail (grain, texture) comes from when the\n"
            "engine works at a smaller size than the photo"
        )

        self._colour = settings.overlay_colour
        self._colour_button = QPushButton(self)
        self._colour_button.clicked.connect(self._on_colour_clicked)
        self._opacity = QSlider(Qt.Orientation.Horizontal, self)
        self._opacity.setRange(0, 100)
        self._opacity.setValue(round(settings.overlay_opacity * 100))
        self._feather = QSpinBox(self)
        self._feather.setObjectName("feather")
        self._feather.setRange(0, MAX_FEATHER)
        self._feather.setSuffix(" px")
        self._feather.setSpecialValueText("off (hard edge)")
        self._feather.setValue(settings.feather)
        self._feather.setToolTip(
            "Fills are generated for the mask grown by this many pixels and blend into the photo "
            "across that ring; pixels beyond it are never changed"
        )
        self._grow = QSpinBox(self)
        self._grow.setObjectName("grow")
        self._grow.setRange(0, MAX_GROW)
        self._grow.setSuffix(" px")
        self._grow.setSpecialValueText("off")
        self._grow.setValue(settings.grow)
        self._grow.setToolTip(
            "Fills cover the painted mask grown by this many pixels: an object's halo or soft shadow edge"
        )

        seed_row = QHBoxLayout()
        seed_row.addWidget(self._seed_mode)
        seed_row.addWidget(self._seed, 1)
        ckpt_row = QHBoxLayout()
        ckpt_row.addWidget(self._checkpoint, 1)
        ckpt_row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("Candidates per request", self._n)
        form.addRow("Seed", seed_row)
        form.addRow("Engine", self._engine)
        form.addRow("", self._engine_reason)
        form.addRow("Checkpoint", ckpt_row)
        form.addRow("Device", self._device)
        form.addRow("PatchMatch detail (patch size)", self._patch)
        form.addRow("", self._lines)
        form.addRow("Context around holes", self._context)
        form.addRow("Variety of candidates", self._variety)
        form.addRow("Blend", self._blend)
        form.addRow("Full-resolution detail", self._detail)
        form.addRow("Mask colour", self._colour_button)
        form.addRow("Mask opacity", self._opacity)
        form.addRow("Soft edge", self._feather)
        form.addRow("Grow mask by", self._grow)
        std = QDialogButtonBox.StandardButton
        buttons = QDialogButtonBox(std.Ok | std.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

        self._update_engines()
        self._select_engine(settings.engine)
        self._on_seed_mode_changed()
        self._show_colour()

    def engine_enabled(self, name: str) -> bool:
        """Whether the engine can be picked now (for tests and callers)."""
        row = self._engine.findData(name)
        model = self._engine.model()
        return row >= 0 and isinstance(model, QStandardItemModel) and model.item(row).isEnabled()

    def accept(self) -> None:
        s = self._settings
        s.n_candidates = self._n.value()
        s.seed_mode = str(self._seed_mode.currentData())
        s.seed = self._seed.value()
        if self._engine.currentIndex() >= 0 and self.engine_enabled(str(self._engine.currentData())):
            s.engine = str(self._engine.currentData())
        s.checkpoint = self._checkpoint.text().strip() or None
        s.device = str(self._device.currentData())
        s.patch_size = self._patch.value()
        s.continue_lines = self._lines.isChecked()
        s.context = self._context.value()
        s.variety = self._variety.value()
        s.blend = str(self._blend.currentData())
        s.detail = str(self._detail.currentData())
        s.overlay_colour = self._colour
        s.overlay_opacity = self._opacity.value() / 100.0
        s.feather = self._feather.value()
        s.grow = self._grow.value()
        s.sync()
        super().accept()

    def _engine_default_spin(
        self, name: str, maximum: float, current: float, suffix: str = ""
    ) -> QDoubleSpinBox:
        """A spin box from 0 ("Engine default") to maximum in quarter steps."""
        box = QDoubleSpinBox(self)
        box.setObjectName(name)
        box.setRange(0.0, maximum)
        box.setSingleStep(0.25)
        box.setSuffix(suffix)
        box.setSpecialValueText("Engine default")
        box.setValue(current)
        return box

    def _choices(self, name: str, choices: Sequence[tuple[str, str]], current: str) -> QComboBox:
        box = QComboBox(self)
        box.setObjectName(name)
        for value, label in choices:
            box.addItem(label, value)
        box.setCurrentIndex(max(0, box.findData(current)))
        return box

    def _select_engine(self, name: str) -> None:
        row = self._engine.findData(name)
        if row < 0 or not self.engine_enabled(name):
            row = next((i for i, e in enumerate(self._engines) if self.engine_enabled(e.name)), -1)
        self._engine.setCurrentIndex(row)

    @Slot()
    def _update_engines(self) -> None:
        """Disable engines that cannot load, with the reason; a chosen checkpoint file enables them."""
        ckpt = self._checkpoint.text().strip()
        has_file = bool(ckpt) and Path(ckpt).is_file()
        model = self._engine.model()
        reasons = []
        for row, info in enumerate(self._engines):
            ok = info.available or (info.needs_checkpoint and has_file)
            if isinstance(model, QStandardItemModel):
                item = model.item(row)
                item.setEnabled(ok)
                item.setToolTip("" if ok else info.reason)
            if not ok:
                reasons.append(f"{info.label}: unavailable — {info.reason}")
        self._engine_reason.setText("\n".join(reasons))
        self._engine_reason.setVisible(bool(reasons))
        current = self._engine.currentData()
        if current is not None and not self.engine_enabled(str(current)):
            self._select_engine(str(current))

    @Slot()
    def _on_seed_mode_changed(self) -> None:
        self._seed.setEnabled(self._seed_mode.currentData() == "fixed")

    @Slot()
    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a checkpoint", self._checkpoint.text(), "Checkpoints (*.safetensors);;All files (*)"
        )
        if path:
            self._checkpoint.setText(path)

    @Slot()
    def _on_colour_clicked(self) -> None:
        colour = QColorDialog.getColor(self._colour, self, "Mask colour")
        if colour.isValid():
            self._colour = colour
            self._show_colour()

    def _show_colour(self) -> None:
        self._colour_button.setText(self._colour.name())
        text = "black" if self._colour.lightness() > 128 else "white"
        self._colour_button.setStyleSheet(f"background-color: {self._colour.name()}; color: {text}")
