"""Restore: detect defects proposes the mask as one undoable edit, added to what was painted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from inpaint_gui.ui import restore
from tests.ui.test_main_window import _open, dialogs, window  # noqa: F401 - fixtures


def _scratched_photo(tmp_path: Path) -> Path:
    h, w = 200, 260
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([50 + 150 * x / w, 70 + 100 * y / h, np.full_like(x, 110)], axis=2).astype(np.uint8)
    img[20:180, 120:122] = 245  # a scratch
    img[40:43, 40:43] = 10  # a speck
    path = tmp_path / "old.png"
    Image.fromarray(img).save(path)
    return path


def test_detect_defects_fills_the_mask_and_undo_removes_it(qtbot, window, tmp_path, monkeypatch):  # noqa: F811
    _open(qtbot, window, _scratched_photo(tmp_path))
    doc = window.document
    doc.edit_mask("paint", lambda m: m.rectangle((200, 150), (220, 170)))  # the user's own stroke
    painted = doc.mask_doc.copy()
    asked: list[tuple[int, str]] = []
    monkeypatch.setattr(restore, "ask_detection", lambda _w, s, d: asked.append((s, d)) or (70, "classical"))

    assert window.restore.detect.isEnabled()
    with qtbot.waitSignal(window.restore.detect_finished, timeout=20_000) as signal:
        window.restore.detect.trigger()
        assert not window.restore.detect.isEnabled()  # detecting in the background, one at a time
    mask = doc.mask_doc.copy()
    assert 0 < signal.args[0] <= int(mask.sum())  # the pixels proposed
    assert window.restore.detect.isEnabled()
    assert asked == [(50, "trained")] and window.restore.sensitivity == 70  # the trained one by default
    assert mask[20:180, 120:122].all() and mask[40:43, 40:43].all()
    assert mask[painted].all()  # what was painted stays
    assert mask.mean() < 0.1
    assert "Proposed" in window.statusBar().currentMessage()

    window.window_actions.undo.trigger()
    assert np.array_equal(doc.mask_doc.copy(), painted)
    window.window_actions.redo.trigger()
    assert np.array_equal(doc.mask_doc.copy(), mask)


def test_a_detection_for_a_replaced_image_is_dropped(qtbot, window, tmp_path):  # noqa: F811
    _open(qtbot, window, _scratched_photo(tmp_path))
    with qtbot.waitSignal(window.restore.detect_finished, timeout=20_000) as signal:
        assert window.restore.propose(0.5)
        assert not window.restore.propose(0.5)  # one at a time
        window.restore._on_detect_cancelled()  # what the progress dialog's Cancel does
    assert signal.args == [-1] and not window.document.mask_doc.any()
    assert "cancelled" in window.statusBar().currentMessage()


def test_the_trained_detector_can_be_chosen(qtbot, window, tmp_path, monkeypatch):  # noqa: F811
    _open(qtbot, window, _scratched_photo(tmp_path))
    with qtbot.waitSignal(window.restore.detect_finished, timeout=60_000) as signal:
        assert window.restore.propose(0.5, "trained")  # the shipped checkpoint
    assert signal.args[0] > 0 and window.document.mask_doc.copy()[40:43, 40:43].all()  # the speck
    monkeypatch.setenv("INPAINT_CHECKPOINT_DIR", str(tmp_path / "empty"))
    window.restore._trained = None
    with qtbot.waitSignal(window.restore.detect_finished, timeout=20_000) as signal:
        window.restore.propose(0.5, "trained")
    assert signal.args == [-1] and "no defect detector checkpoint" in window.statusBar().currentMessage()


def test_reduce_noise_applies_the_network_to_the_mask_undoably(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    from tests.engine.test_restore import _release

    folder = tmp_path / "ckpts"
    _release(folder / "restore_test.safetensors")
    monkeypatch.setenv("INPAINT_CHECKPOINT_DIR", str(folder))
    _open(qtbot, window, _scratched_photo(tmp_path))
    doc = window.document
    before = np.array(doc.rgb)
    doc.edit_mask("paint", lambda m: m.rectangle((10, 10), (100, 80)))
    mask = doc.mask_doc.copy()
    with qtbot.waitSignal(window.restore.denoise_finished, timeout=20_000) as signal:
        assert window.restore.start_denoise()
        assert not window.restore.denoise.isEnabled()  # one at a time
    assert signal.args == [True]
    after = np.array(doc.rgb)
    np.testing.assert_array_equal(after[~mask], before[~mask])
    assert (after[mask] != before[mask]).any()
    assert window.restore.denoise.isEnabled()
    window.window_actions.undo.trigger()
    np.testing.assert_array_equal(np.array(doc.rgb), before)


def test_reduce_noise_without_a_checkpoint_says_so(qtbot, window, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("INPAINT_CHECKPOINT_DIR", str(tmp_path / "empty"))
    _open(qtbot, window, _scratched_photo(tmp_path))
    before = np.array(window.document.rgb)
    with qtbot.waitSignal(window.restore.denoise_finished, timeout=20_000) as signal:
        window.restore.denoise.trigger()
    assert signal.args == [False]
    assert "no restoration checkpoint" in window.statusBar().currentMessage()
    np.testing.assert_array_equal(np.array(window.document.rgb), before)


def test_the_detect_dialog_returns_what_was_chosen(qtbot, window, monkeypatch):  # noqa: F811
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QComboBox, QSpinBox

    offered: list[list[str]] = []

    def answer(cancel: bool) -> None:  # an assertion failing here would leave the dialog open
        dialog = QApplication.activeModalWidget()
        combo = dialog.findChild(QComboBox)
        offered.append([combo.itemData(i) for i in range(combo.count())])
        dialog.findChild(QSpinBox).setValue(30)
        combo.setCurrentIndex(combo.findData("classical"))
        dialog.reject() if cancel else dialog.accept()

    QTimer.singleShot(0, lambda: answer(False))
    assert restore.ask_detection(window, 50, "trained") == (30, "classical")
    QTimer.singleShot(0, lambda: answer(True))
    assert restore.ask_detection(window, 50, "trained") is None
    assert offered[0] == ["trained", "classical"]  # the trained one is installed with the app
    assert window.restore.detector == "trained"  # and the default
