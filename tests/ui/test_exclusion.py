"""Mask > Don't copy from the masked area: the painted area becomes PatchMatch's exclusion."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QMessageBox
from test_main_window import _make_window, _open, _paint_rect, dialogs, photo  # noqa: F401


def test_painted_area_becomes_the_exclusion_sent_with_each_request(qtbot, tmp_path, photo, dialogs):  # noqa: F811
    window = _make_window(qtbot, tmp_path)
    try:
        _open(qtbot, window, photo)
        rounds, actions = window.rounds, window.window_actions
        assert not actions.clear_exclusion.isEnabled()
        _paint_rect(window, 0, 0, 20, 10)
        actions.exclude_area.trigger()
        assert rounds.exclude is not None and rounds.exclude[:10, :20].all() and rounds.exclude.sum() == 200
        assert not window.document.mask_doc.any()  # cleared for the hole
        assert actions.clear_exclusion.isEnabled()

        sent = []
        window.controller.generate = lambda *a, **k: sent.append(k["options"]) or 1  # type: ignore[method-assign]
        _paint_rect(window, 30, 30, 40, 40)
        actions.generate.trigger()
        assert sent[-1]["patch_size"] == window.settings.patch_size
        assert np.array_equal(sent[-1]["exclude"], rounds.exclude)

        actions.clear_exclusion.trigger()
        assert rounds.exclude is None and not actions.clear_exclusion.isEnabled()
    finally:
        dialogs.answer = QMessageBox.StandardButton.Discard
        window.close()
