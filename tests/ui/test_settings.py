"""Settings (typed QSettings wrapper) and SettingsDialog, on an isolated INI file."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor

from inpaint_gui.engine import EngineInfo
from inpaint_gui.ui.settings import MAX_RECENT, Settings, SettingsDialog

ENGINES = [
    EngineInfo("guided", "Guided (network layout, photo texture)", True, False, "no pluralistic checkpoint"),
    EngineInfo("patchmatch", "PatchMatch (from the photo)", False, True, ""),
    EngineInfo("pluralistic", "Pluralistic (several fills)", True, False, "no pluralistic checkpoint found"),
    EngineInfo("telea", "Telea (fast marching)", False, True, ""),
    EngineInfo("navier-stokes", "Navier-Stokes", False, True, ""),
]


@pytest.fixture
def ini(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


def _settings(ini: Path) -> Settings:
    return Settings(QSettings(str(ini), QSettings.Format.IniFormat))


def test_defaults(ini) -> None:
    s = _settings(ini)
    assert s.n_candidates == 6
    assert s.seed_mode == "random" and s.seed == 0
    assert s.engine == "guided" and s.checkpoint is None and s.device == "auto"
    assert s.patch_size == 7
    assert s.overlay_opacity == pytest.approx(0.45) and s.overlay_colour.isValid()
    assert s.recent_files == []


def test_values_survive_a_restart(ini) -> None:
    s = _settings(ini)
    s.n_candidates = 9
    s.seed_mode = "fixed"
    s.seed = 1234
    s.engine = "telea"
    s.checkpoint = "/x/y.safetensors"
    s.device = "cpu"
    s.overlay_colour = QColor("#00ff00")
    s.overlay_opacity = 0.3
    s.thumbnail_size = 300
    s.sync()
    t = _settings(ini)
    assert (t.n_candidates, t.seed_mode, t.seed, t.engine) == (9, "fixed", 1234, "telea")
    assert (t.checkpoint, t.device, t.overlay_colour.name()) == ("/x/y.safetensors", "cpu", "#00ff00")
    assert t.overlay_opacity == pytest.approx(0.3) and t.thumbnail_size == 300
    assert t.next_seed() == 1234


def test_bad_stored_values_fall_back(ini) -> None:
    raw = QSettings(str(ini), QSettings.Format.IniFormat)
    raw.setValue("generation/n_candidates", "lots")
    raw.setValue("generation/seed_mode", "sometimes")
    raw.setValue("engine/device", "tpu")
    raw.setValue("canvas/overlay_opacity", 7)
    raw.sync()
    s = _settings(ini)
    assert s.n_candidates == 6 and s.seed_mode == "random" and s.device == "auto"
    assert s.overlay_opacity == 1.0
    with pytest.raises(ValueError, match="seed mode"):
        s.seed_mode = "sometimes"


def test_random_seeds_differ(ini) -> None:
    s = _settings(ini)
    assert len({s.next_seed() for _ in range(20)}) > 1


def test_recent_files(ini, tmp_path) -> None:
    s = _settings(ini)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    s.add_recent_file(a)
    s.sync()
    assert _settings(ini).recent_files == [str(a.resolve())]  # a one-item list stays a list
    s.add_recent_file(b)
    s.add_recent_file(a)
    assert s.recent_files == [str(a.resolve()), str(b.resolve())]
    for i in range(20):
        s.add_recent_file(tmp_path / f"{i}.png")
    assert len(s.recent_files) == MAX_RECENT and s.recent_files[0].endswith("19.png")
    s.remove_recent_file(tmp_path / "19.png")
    assert not s.recent_files[0].endswith("19.png")


def test_startup_engine_falls_back_without_checkpoint(ini, tmp_path) -> None:
    s = _settings(ini)
    assert s.startup_engine(ENGINES) == ("patchmatch", None)  # the default (guided) has no scenes network
    with_network = [EngineInfo(e.name, e.label, e.needs_checkpoint, True, "") for e in ENGINES]
    assert s.startup_engine(with_network) == ("guided", None)
    s.engine = "pluralistic"
    assert s.startup_engine(ENGINES) == ("patchmatch", None)  # no scenes checkpoint: photos get PatchMatch
    ckpt = tmp_path / "mine.safetensors"
    ckpt.write_bytes(b"x")
    s.checkpoint = str(ckpt)
    assert s.startup_engine(ENGINES) == ("pluralistic", str(ckpt))
    s.engine = "navier-stokes"
    assert s.startup_engine(ENGINES) == ("navier-stokes", None)


def test_dialog_disables_unavailable_engine_with_reason(qtbot, ini, tmp_path) -> None:
    s = _settings(ini)
    dialog = SettingsDialog(s, engines=ENGINES)
    qtbot.addWidget(dialog)
    assert not dialog.engine_enabled("pluralistic") and dialog.engine_enabled("telea")
    assert "no pluralistic checkpoint found" in dialog._engine_reason.text()
    assert dialog._engine.currentData() == "patchmatch"  # the saved choice cannot load
    ckpt = tmp_path / "mine.safetensors"
    ckpt.write_bytes(b"x")
    dialog._checkpoint.setText(str(ckpt))
    assert dialog.engine_enabled("pluralistic") and dialog._engine_reason.text() == ""
    dialog._engine.setCurrentIndex(dialog._engine.findData("pluralistic"))
    dialog._n.setValue(4)
    dialog._seed_mode.setCurrentIndex(1)
    dialog._seed.setValue(77)
    dialog.accept()
    t = _settings(ini)
    assert (t.engine, t.checkpoint, t.n_candidates, t.seed_mode, t.seed) == (
        "pluralistic",
        str(ckpt),
        4,
        "fixed",
        77,
    )


def test_dialog_cancel_writes_nothing(qtbot, ini) -> None:
    s = _settings(ini)
    dialog = SettingsDialog(s, engines=ENGINES)
    qtbot.addWidget(dialog)
    dialog._n.setValue(3)
    dialog.reject()
    assert _settings(ini).n_candidates == 6


def test_dialog_lists_real_engines(qtbot, ini) -> None:
    dialog = SettingsDialog(_settings(ini))
    qtbot.addWidget(dialog)
    names = [dialog._engine.itemData(i) for i in range(dialog._engine.count())]
    assert {"telea", "navier-stokes", "pluralistic"} <= set(names)
    assert dialog.engine_enabled("telea")


def test_patch_size_is_kept_odd_and_in_range(qtbot, ini) -> None:
    s = _settings(ini)
    s.patch_size = 10
    assert s.patch_size == 11
    s.patch_size = 99
    assert s.patch_size == 31
    dialog = SettingsDialog(s, engines=ENGINES)
    qtbot.addWidget(dialog)
    dialog._patch.setValue(9)
    dialog.accept()
    assert _settings(ini).patch_size == 9


def test_engine_options_default_to_the_engines_own_and_survive_a_restart(ini) -> None:
    s = _settings(ini)
    assert (s.context, s.blend, s.detail) == (0.0, "auto", "auto") and s.engine_options() == {}
    s.context, s.blend, s.detail = 0.75, "feather", "off"
    s.sync()
    again = _settings(ini)
    assert again.engine_options() == {"context": 0.75, "blend": "feather", "detail": "off"}
    with pytest.raises(ValueError, match="engine/blend"):
        again.blend = "poisson"


def test_bad_engine_options_in_the_file_fall_back_to_auto(ini) -> None:
    raw = QSettings(str(ini), QSettings.Format.IniFormat)
    raw.setValue("engine/context", "wide")
    raw.setValue("engine/blend", "poisson")
    raw.setValue("engine/detail", 3)
    raw.sync()
    assert _settings(ini).engine_options() == {}


def test_dialog_edits_context_blend_and_detail(qtbot, ini) -> None:
    s = _settings(ini)
    dialog = SettingsDialog(s, engines=ENGINES)
    qtbot.addWidget(dialog)
    from PySide6.QtWidgets import QComboBox, QDoubleSpinBox

    dialog.findChild(QDoubleSpinBox, "context").setValue(1.5)
    blend = dialog.findChild(QComboBox, "blend")
    blend.setCurrentIndex(blend.findData("hard"))
    detail = dialog.findChild(QComboBox, "detail")
    detail.setCurrentIndex(detail.findData("attention"))
    dialog.accept()
    assert s.engine_options() == {"context": 1.5, "blend": "hard", "detail": "attention"}


def test_variety_defaults_to_the_engines_and_matches_its_range(qtbot, ini) -> None:
    from inpaint_gui.engine import pluralistic
    from inpaint_gui.ui import settings as ui_settings

    assert (ui_settings.MIN_VARIETY, ui_settings.MAX_VARIETY) == (
        pluralistic.MIN_VARIETY,
        pluralistic.MAX_VARIETY,
    )
    s = _settings(ini)
    assert s.variety == 0.0 and "variety" not in s.engine_options()
    dialog = SettingsDialog(s, engines=ENGINES)
    qtbot.addWidget(dialog)
    from PySide6.QtWidgets import QDoubleSpinBox

    dialog.findChild(QDoubleSpinBox, "variety").setValue(2.0)
    dialog.accept()
    assert _settings(ini).engine_options() == {"variety": 2.0}
    s.variety = 0.1  # below the engine's range: back to its default
    assert s.variety == 0.0


def test_straight_lines_are_on_by_default_and_turned_off_in_the_dialog(qtbot, ini) -> None:
    s = _settings(ini)
    assert s.continue_lines is True and "continue_lines" not in s.engine_options()
    dialog = SettingsDialog(s, engines=ENGINES)
    qtbot.addWidget(dialog)
    from PySide6.QtWidgets import QCheckBox

    box = dialog.findChild(QCheckBox, "continueLines")
    assert box.isChecked()
    box.setChecked(False)
    dialog.accept()
    again = _settings(ini)
    assert again.continue_lines is False
    assert again.engine_options() == {"continue_lines": False}


def test_every_engine_takes_the_app_settings_without_loading_the_others() -> None:
    """The app sends every engine's settings to whichever engine is loaded; a classical engine
    (whose module does not load patchmatch's) must skip the patchmatch settings, not refuse them."""
    import subprocess
    import sys

    code = (
        "from inpaint_gui.engine import load_engine\n"
        "e = load_engine('telea', device='cpu')\n"
        "e.configure(patch_size=9, continue_lines=False, context=0.5)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
