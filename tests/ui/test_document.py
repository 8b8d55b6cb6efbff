"""ImageDocument's unsaved-changes state."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inpaint_gui.core.image_io import LoadedImage
from inpaint_gui.ui.document import ImageDocument


def test_a_different_fill_after_save_and_undo_is_unsaved(qtbot, tmp_path: Path) -> None:
    """Freed fills' ids get reused; the saved state must not be recognised by id()."""
    rgb = np.zeros((64, 64, 3), np.uint8)
    mask = np.zeros((64, 64), bool)
    mask[10:20, 10:20] = True
    doc = ImageDocument()
    for _ in range(100):  # id reuse is likely within a few rounds; one miss fails the test
        doc.set_image(LoadedImage(rgb, None, None, None, tmp_path / "x.png", "PNG"))
        doc.apply_fill(np.full_like(rgb, 255), mask, seed=1)
        doc.mark_saved(tmp_path / "out.png")
        assert not doc.is_modified()
        doc.undo_stack.undo()
        doc.apply_fill(np.full_like(rgb, 100), mask, seed=2)
        doc.undo_stack.undo()
        doc.apply_fill(np.full_like(rgb, 50), mask, seed=3)
        assert doc.is_modified()
    doc.undo_stack.undo()
    doc.undo_stack.redo()
    assert doc.is_modified()
