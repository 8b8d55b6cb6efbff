"""The history of generation rounds: undoing an Apply brings its candidates back,
an earlier round can be reopened to pick another, and the history survives an autosave."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from inpaint_gui.engine.pluralistic import save_random_release
from inpaint_gui.ui.main_window import MainWindow
from inpaint_gui.ui.session import SessionStore
from inpaint_gui.ui.settings import Settings

TIMEOUT_MS = 30_000
H, W = 96, 128
N = 4


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    for name in ("warning", "question", "information", "critical"):
        monkeypatch.setattr(
            QMessageBox, name, staticmethod(lambda *a, **k: QMessageBox.StandardButton.Discard)
        )
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.engine, settings.device = "pluralistic", "cpu"
    settings.checkpoint = str(save_random_release(tmp_path / "tiny.safetensors"))
    settings.n_candidates = N
    w = MainWindow(settings=settings, session_root=tmp_path / "sessions")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.controller.engine_name == "pluralistic", timeout=TIMEOUT_MS)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(4).integers(0, 256, (H, W, 3), dtype=np.uint8)).save(photo)
    with qtbot.waitSignal(w.files.opened, timeout=TIMEOUT_MS):
        w.files.open_path(photo)
    yield w
    w.close()


def _round(qtbot, w: MainWindow, x0: int, y0: int, x1: int, y1: int) -> list:
    w.document.edit_mask("paint", lambda m: m.rectangle((x0, y0), (x1, y1)))
    with qtbot.waitSignal(w.controller.request_finished, timeout=TIMEOUT_MS):
        w.rounds.generate()
    return w.gallery.candidates()


def test_undoing_an_apply_brings_its_candidates_back_to_pick_another(qtbot, window):
    original = np.array(window.document.rgb)
    candidates = _round(qtbot, window, 40, 30, 80, 60)
    assert len(candidates) == N
    hole = window.document.mask_doc.copy()
    window.rounds.apply(0)
    assert not window.gallery.candidates()

    window.document.undo_stack.undo()
    back = window.gallery.candidates()
    assert [c.seed for c in back] == [c.seed for c in candidates]
    for before, after in zip(candidates, back, strict=True):
        np.testing.assert_array_equal(after.image[hole], before.image[hole])
    window.rounds.apply(2)  # another one this time
    now = np.asarray(window.document.rgb)
    np.testing.assert_array_equal(now[hole], candidates[2].image[hole])
    np.testing.assert_array_equal(now[~hole], original[~hole])
    assert window.rounds.history.records[0].applied == [2]  # the undone Apply of 0 is not marked


def test_an_earlier_round_reopens_from_the_history_panel(qtbot, window, tmp_path):
    first = _round(qtbot, window, 10, 10, 40, 40)
    mask_a = window.document.mask_doc.copy()
    window.rounds.apply(0)
    second = _round(qtbot, window, 70, 50, 110, 80)
    mask_b = window.document.mask_doc.copy()
    window.rounds.apply(1)
    panel = window.history_panel
    assert panel.rounds_shown() == [2, 1]  # newest first

    panel.select_round(1)
    panel.round_requested.emit(panel.selected_round())  # what double-click and "Reopen round" emit
    np.testing.assert_array_equal(window.document.mask_doc.mask, mask_a)
    assert [c.seed for c in window.gallery.candidates()] == [c.seed for c in first]
    window.rounds.apply(3)
    now = np.asarray(window.document.rgb)
    np.testing.assert_array_equal(now[mask_a], first[3].image[mask_a])
    np.testing.assert_array_equal(now[mask_b], second[1].image[mask_b])  # round 2's fill is kept

    window.autosave.save_now()
    saved = SessionStore.load(window.autosave.store.folder)
    assert [r.number for r in saved.rounds] == [1, 2]
    assert [r.applied for r in saved.rounds] == [[0, 3], [1]]
    assert [c.seed for c in saved.rounds[0].candidates] == [c.seed for c in first]
    top, left, bottom, right = saved.rounds[1].box
    np.testing.assert_array_equal(saved.rounds[1].candidates[0].crop, second[0].image[top:bottom, left:right])


def test_more_candidates_from_another_engine_make_a_round_of_their_own(qtbot, window):
    first = _round(qtbot, window, 40, 30, 80, 60)
    with qtbot.waitSignal(window.controller.engine_ready, timeout=TIMEOUT_MS):
        window.rounds.load_engine("telea", None)
    with qtbot.waitSignal(window.controller.request_finished, timeout=TIMEOUT_MS):
        window.rounds.generate_more()
    assert len(window.gallery.candidates()) == N + 1  # the gallery shows them together
    one, two = window.rounds.history.records
    assert (one.engine, len(one.candidates)) == ("pluralistic", len(first))
    assert (two.engine, len(two.candidates)) == ("telea", 1)  # the history says who made what
    assert two.same_mask(window.document.mask_doc.mask)


def test_a_soft_edge_round_comes_back_after_undo_and_from_a_saved_session(qtbot, window):
    """With a soft edge the candidates fill the grown mask, but the user's mask is what they painted:
    undo and reopen compare against the painted mask and keep blending across the ring."""
    window.settings.feather = 4
    original = np.array(window.document.rgb)
    candidates = _round(qtbot, window, 40, 30, 80, 60)
    painted = window.document.mask_doc.copy()
    window.rounds.apply(1)
    window.document.undo_stack.undo()
    assert [c.seed for c in window.gallery.candidates()] == [c.seed for c in candidates]
    assert window.rounds.round is not None and window.rounds.round.feather == 4
    np.testing.assert_array_equal(window.rounds.round.painted, painted)

    window.autosave.save_now()
    record = SessionStore.load(window.autosave.store.folder).rounds[0]
    assert record.feather == 4
    np.testing.assert_array_equal(record.full_mask(), painted)
    rebuilt = record.rebuild(original)
    grown = window.rounds.round.mask
    assert grown.sum() > painted.sum()
    np.testing.assert_array_equal(rebuilt[1].image[grown], candidates[1].image[grown])
    np.testing.assert_array_equal(rebuilt[1].image[~grown], original[~grown])


def test_a_round_file_with_candidates_of_another_round_keeps_the_ones_that_fit(tmp_path):
    """A round file made up from another save (crops of another box among its own) gives back
    the candidates that fit, and says how many did not; strict reading still refuses it."""
    from inpaint_gui.ui.history import KeptCandidate, RoundRecord, read_round, write_round

    record = RoundRecord(3, (0, 0, 10, 20), np.ones((10, 20), bool), (40, 40), "telea", n=6)
    for seed in range(6):
        shape = (10, 20, 3) if seed % 2 == 0 else (12, 7, 3)  # odd seeds: another round's crops
        record.candidates.append(KeptCandidate(np.full(shape, seed, np.uint8), seed, 0.0))
    path = tmp_path / "round.npz"
    with open(path, "wb") as f:
        write_round(f, record)
    lost: list[str] = []
    back = read_round(path, lost)
    assert [c.seed for c in back.candidates] == [0, 2, 4]
    assert lost == ["round 3: 3 of 6 candidates unreadable"]
    with pytest.raises(ValueError, match="candidate 2"):
        read_round(path)
