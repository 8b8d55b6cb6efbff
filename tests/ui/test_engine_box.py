"""The toolbar's engine box: one item per installed release checkpoint, one click switches."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QStandardItemModel

from inpaint_gui.engine import latent
from inpaint_gui.engine.checkpoint import CHECKPOINT_DIR_ENV, FACES_NAME, LATENT_FACES_NAME, SCENES_NAME
from inpaint_gui.engine.pluralistic import save_random_release
from inpaint_gui.ui.main_window import MainWindow
from inpaint_gui.ui.rounds import CHECKPOINT_ROLE
from inpaint_gui.ui.settings import Settings, SettingsDialog


class Window:
    """A main window that is never shown, so no engine loads: load requests are recorded instead."""

    def __init__(self, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checkpoint: str | None = None):
        self.settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        self.settings.engine = "telea"
        self.settings.checkpoint = checkpoint
        self.w = MainWindow(settings=self.settings, session_root=tmp_path / "sessions")
        qtbot.addWidget(self.w)
        self.loads: list[tuple[str, str | None, str]] = []
        monkeypatch.setattr(self.w.controller, "load_engine", lambda *args: self.loads.append(args))
        self.w.rounds.load_engine("telea", None)  # what start-up does with these settings
        self.box = self.w.window_actions.engine_box

    def items(self) -> list[tuple[str, str, str | None]]:
        """(label, engine, checkpoint) of every item."""
        b = self.box
        return [(b.itemText(i), b.itemData(i), b.itemData(i, CHECKPOINT_ROLE)) for i in range(b.count())]

    def row(self, label: str) -> int:
        row = self.box.findText(label)
        assert row >= 0, f"{label!r} not in {self.items()}"
        return row

    def enabled(self, row: int) -> bool:
        model = self.box.model()
        assert isinstance(model, QStandardItemModel)
        return model.item(row).isEnabled()

    def activate(self, label: str) -> None:
        """What a click on the item does: the box emits activated (setCurrentIndex alone does not)."""
        row = self.row(label)
        self.box.setCurrentIndex(row)
        self.box.activated.emit(row)


@pytest.fixture
def releases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "checkpoints"
    for name in (SCENES_NAME, FACES_NAME, "alpine.safetensors"):  # alpine sorts first by name
        save_random_release(folder / name, resolution=64)
    latent.save_random_release(folder / LATENT_FACES_NAME)
    (folder / "broken.safetensors").write_bytes(b"not a checkpoint")
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(folder))
    return folder


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, releases: Path) -> Iterator[Window]:
    win = Window(qtbot, tmp_path, monkeypatch)
    yield win
    win.w.close()


def test_box_lists_scenes_faces_then_other_releases_then_the_classical_engines(window, releases):
    assert window.items() == [
        ("Guided: scenes", "guided", None),  # the default for photos, the pluralistic files
        ("Guided: faces", "guided", str(releases / FACES_NAME)),
        ("Guided: alpine", "guided", str(releases / "alpine.safetensors")),
        ("PatchMatch (from the photo)", "patchmatch", None),
        ("Pluralistic: scenes", "pluralistic", None),  # the default: the setting keeps following it
        ("Pluralistic: faces", "pluralistic", str(releases / FACES_NAME)),
        ("Pluralistic: alpine", "pluralistic", str(releases / "alpine.safetensors")),
        ("Telea (fast marching)", "telea", None),
        ("Navier-Stokes", "navier-stokes", None),
        ("Latent: faces", "latent", None),  # its default file, listed once
    ]
    assert all(window.enabled(i) for i in range(window.box.count()))
    tip = window.box.itemData(window.row("Pluralistic: faces"), Qt.ItemDataRole.ToolTipRole)
    assert "none (random initialisation)" in tip and "64×64 px" in tip and "0 steps" in tip
    assert window.box.currentText() == "Telea (fast marching)"


def test_choosing_faces_then_scenes_stores_the_checkpoint_and_loads_it(window, releases):
    window.loads.clear()
    window.activate("Pluralistic: faces")
    faces = str(releases / FACES_NAME)
    assert (window.settings.engine, window.settings.checkpoint) == ("pluralistic", faces)
    assert window.loads == [("pluralistic", faces, "auto")]
    assert window.w.rounds.engine_label.text() == "Engine: loading Pluralistic: faces…"

    window.activate("Pluralistic: faces")  # already loaded: no second load
    assert len(window.loads) == 1

    window.activate("Pluralistic: scenes")
    assert (window.settings.engine, window.settings.checkpoint) == ("pluralistic", None)
    assert window.loads[-1] == ("pluralistic", None, "auto")

    window.activate("Navier-Stokes")
    assert window.settings.engine == "navier-stokes"
    assert window.loads[-1] == ("navier-stokes", None, "auto")
    assert window.box.currentText() == "Navier-Stokes"


def test_load_engine_selects_the_item_of_that_checkpoint(window, releases):
    window.w.rounds.load_engine("pluralistic", str(releases / FACES_NAME))
    assert window.box.currentText() == "Pluralistic: faces"
    # The default file named by its path is the scenes item, not a new one.
    window.w.rounds.load_engine("pluralistic", str(releases / SCENES_NAME))
    assert window.box.currentText() == "Pluralistic: scenes"
    assert window.box.count() == 10  # guided and pluralistic: 3 files each; patchmatch, telea, ns, latent


def test_a_checkpoint_chosen_in_settings_outside_the_folder_gets_its_own_item(
    qtbot, tmp_path, monkeypatch, releases
):
    mine = save_random_release(tmp_path / "elsewhere" / "mine.safetensors")
    win = Window(qtbot, tmp_path, monkeypatch, checkpoint=str(mine))
    assert win.items()[3] == ("Guided: mine", "guided", str(mine))
    assert win.items()[8] == ("Pluralistic: mine", "pluralistic", str(mine))
    win.activate("Pluralistic: mine")
    assert win.loads[-1] == ("pluralistic", str(mine), "auto")
    assert win.settings.checkpoint == str(mine)

    # A file set in the Settings dialog is selected in the box once the dialog is accepted.
    other = save_random_release(tmp_path / "elsewhere" / "other.safetensors")

    def accept_with_other(dialog: SettingsDialog) -> int:
        dialog._checkpoint.setText(str(other))
        dialog.accept()
        return SettingsDialog.DialogCode.Accepted

    monkeypatch.setattr(SettingsDialog, "exec", accept_with_other)
    win.w.window_actions.settings.trigger()
    assert win.loads[-1] == ("pluralistic", str(other), "auto")
    assert win.box.currentText() == "Pluralistic: other"
    win.w.close()


def test_an_empty_folder_leaves_disabled_pluralistic_and_latent_items(qtbot, tmp_path, monkeypatch):
    empty = tmp_path / "none"
    empty.mkdir()
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(empty))
    win = Window(qtbot, tmp_path, monkeypatch)
    assert [(name, ckpt) for _, name, ckpt in win.items()] == [
        ("guided", None),
        ("patchmatch", None),
        ("pluralistic", None),
        ("telea", None),
        ("navier-stokes", None),
        ("latent", None),
    ]
    assert not win.enabled(0) and not win.enabled(2) and not win.enabled(5)
    assert "no pluralistic checkpoint" in win.box.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert "no pluralistic checkpoint" in win.box.itemData(2, Qt.ItemDataRole.ToolTipRole)
    assert "no latent-search checkpoint" in win.box.itemData(5, Qt.ItemDataRole.ToolTipRole)
    assert win.enabled(1) and win.enabled(3) and win.enabled(4)
    win.w.close()


def test_faces_alone_is_offered_while_the_default_says_it_is_missing(qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "faces_only"
    save_random_release(folder / FACES_NAME, resolution=64)
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(folder))
    win = Window(qtbot, tmp_path, monkeypatch)
    labels = [label for label, _, _ in win.items()]
    assert labels[1] == "Guided: faces" and win.enabled(1)
    assert labels[4] == "Pluralistic: faces" and win.enabled(4)
    assert not win.enabled(0) and not win.enabled(3)
    win.activate("Pluralistic: faces")
    assert win.loads[-1] == ("pluralistic", str(folder / FACES_NAME), "auto")
    win.w.close()


def test_listing_the_box_items_imports_no_torch(releases):
    code = (
        "import sys; from inpaint_gui.ui.engine_choices import engine_choices; "
        "from inpaint_gui.ui.settings import list_engines; "
        "print(len(engine_choices(list_engines())), 'torch' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    count, torch_loaded = done.stdout.split()
    assert count == "10"
    assert torch_loaded == "False"  # the box is filled in the GUI thread at start-up


def test_the_faces_checkpoint_really_loads_and_the_status_bar_names_it(qtbot, tmp_path, releases):
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.engine = "telea"
    w = MainWindow(settings=settings, session_root=tmp_path / "sessions")
    qtbot.addWidget(w)
    ready: list[str] = []
    w.controller.engine_ready.connect(ready.append)
    w.show()
    qtbot.waitUntil(lambda: ready == ["telea"], timeout=20_000)
    box = w.window_actions.engine_box
    row = box.findText("Pluralistic: faces")
    with qtbot.waitSignal(w.controller.engine_ready, timeout=60_000):
        box.setCurrentIndex(row)
        box.activated.emit(row)
    assert w.rounds.engine_label.text() == "Engine: Pluralistic: faces"
    assert settings.checkpoint == str(releases / FACES_NAME)
    w.close()


def test_missing_photo_network_is_said_in_words_once(qtbot, tmp_path, monkeypatch):
    from inpaint_gui.ui.engine_choices import missing_network_note

    empty = tmp_path / "none"
    empty.mkdir()
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(empty))
    win = Window(qtbot, tmp_path, monkeypatch)
    said = []
    win.w.rounds.message.connect(lambda text, ms: said.append(text))
    win.w.rounds._on_controller_engine_ready("patchmatch")
    win.w.rounds._on_controller_engine_ready("patchmatch")
    assert len(said) == 1 and "No photo network is installed" in said[0] and "PatchMatch" in said[0]
    from inpaint_gui.ui.settings import list_engines

    assert missing_network_note(list_engines(), "telea").endswith("gives one fill.")
    win.w.close()
