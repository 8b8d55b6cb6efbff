"""The Select object tool on the canvas and in the window: box, proposal, corrections, commit, undo."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QSettings, Qt

from inpaint_gui.core.mask_doc import MaskDoc
from inpaint_gui.core.selection import DEFAULT_GROW, select_object
from inpaint_gui.ui import qimage
from inpaint_gui.ui.canvas import MaskCanvas, Tool
from inpaint_gui.ui.main_window import MainWindow
from inpaint_gui.ui.settings import Settings

H, W = 120, 160
BOX = (40, 20, 80, 80)  # x, y, w, h around the object
TIMEOUT_MS = 20_000


def _scene() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:H, 0:W]
    stripes = (np.sin(xx / 4.0) * 30).astype(np.float32)
    image = np.stack([100 + stripes, 130 + stripes * 0.5, 80 + 0 * stripes], axis=2)
    image += rng.normal(0, 10, (H, W, 3))
    obj = np.zeros((H, W), np.uint8)
    cv2.ellipse(obj, (80, 60), (28, 24), 0, 0, 360, 1, -1)
    obj = obj.astype(bool)
    image[obj] = (210, 60, 60)
    return np.clip(image, 0, 255).astype(np.uint8), obj


@pytest.fixture
def scene():
    return _scene()


@pytest.fixture
def canvas(qtbot, scene):
    image, _ = scene
    canvas = MaskCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(400, 320)
    canvas.show()
    qtbot.waitExposed(canvas)
    doc = MaskDoc(H, W)
    canvas.set_document(qimage.rgb_to_qimage(image), doc)
    canvas.object_select.set_image_source(lambda: image)
    canvas.set_tool(Tool.SELECT)
    canvas.doc = doc
    edits: list = []
    canvas.mask_edited.connect(lambda text, diff: edits.append((text, diff)))
    canvas.edits = edits
    return canvas


def _at(canvas: MaskCanvas, x: float, y: float) -> QPoint:
    return canvas.map_from_image(x, y).toPoint()


def _drag(qtbot, canvas, a, b, button=Qt.MouseButton.LeftButton, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mousePress(canvas, button, modifier, _at(canvas, *a))
    qtbot.mouseMove(canvas, _at(canvas, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
    qtbot.mouseMove(canvas, _at(canvas, *b))
    qtbot.mouseRelease(canvas, button, modifier, _at(canvas, *b))


def _select_box(qtbot, canvas, modifier=Qt.KeyboardModifier.NoModifier, button=Qt.MouseButton.LeftButton):
    x, y, w, h = BOX
    selector = canvas.object_select
    _drag(qtbot, canvas, (x, y), (x + w, y + h), button, modifier)
    # The work runs on the pool: on release the outline has not arrived yet.
    assert selector.is_busy() and selector.proposal() is None
    qtbot.waitUntil(lambda: selector.has_proposal() and not selector.is_busy(), timeout=TIMEOUT_MS)
    return selector.proposal().full()


def test_box_shows_an_outline_then_enter_adds_it_as_one_undoable_edit(qtbot, canvas, scene):
    image, obj = scene
    proposal = _select_box(qtbot, canvas)
    assert not canvas.doc.any() and not canvas.edits  # nothing is committed before Enter
    d = cv2.distanceTransform((~obj).astype(np.uint8), cv2.DIST_L2, 5)
    assert proposal[obj].all() and not proposal[d > DEFAULT_GROW + 3].any()

    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert len(canvas.edits) == 1
    text, diff = canvas.edits[0]
    assert text == "Select object"
    assert np.array_equal(canvas.doc.mask, proposal)
    canvas.doc.undo(diff)
    assert not canvas.doc.any()
    assert not canvas.object_select.has_proposal()


def test_selection_adds_to_the_mask_and_changes_nothing_outside_it(qtbot, canvas, scene):
    image, _ = scene
    before = np.zeros((H, W), bool)
    before[:10, :] = True  # a brushed stripe elsewhere
    before[60:64, 70:90] = True  # and one inside the object
    canvas.doc.combine(before, 0, 0, "replace")
    proposal = _select_box(qtbot, canvas)
    qtbot.keyClick(canvas, Qt.Key.Key_Enter)
    mask = canvas.doc.mask
    assert np.array_equal(mask, before | proposal)
    assert np.array_equal(mask[~proposal], before[~proposal])
    canvas.doc.undo(canvas.edits[-1][1])
    assert np.array_equal(canvas.doc.mask, before)  # undo restores the previous mask exactly


@pytest.mark.parametrize("how", ["alt", "right", "ctrl"])
def test_alt_ctrl_or_the_right_button_subtract_the_object(qtbot, canvas, how):
    canvas.doc.fill()
    modifier = {
        "alt": Qt.KeyboardModifier.AltModifier,
        "ctrl": Qt.KeyboardModifier.ControlModifier,
        "right": Qt.KeyboardModifier.NoModifier,
    }[how]
    button = Qt.MouseButton.RightButton if how == "right" else Qt.MouseButton.LeftButton
    proposal = _select_box(qtbot, canvas, modifier, button)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert canvas.edits[-1][0] == "Subtract object"
    assert np.array_equal(canvas.doc.mask, ~proposal)


def test_escape_drops_the_proposal_and_leaves_the_mask_alone(qtbot, canvas):
    _select_box(qtbot, canvas)
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert not canvas.object_select.has_proposal()
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert not canvas.doc.any() and not canvas.edits


def test_a_stroke_inside_the_box_corrects_the_outline(qtbot, canvas, scene):
    image, obj = scene
    # A blue part stuck to the object (a bud, a shadow) that the box takes in with it.
    bud = np.zeros((H, W), np.uint8)
    cv2.circle(bud, (80, 30), 9, 1, -1)
    bud = bud.astype(bool) & ~obj
    image[bud] = (40, 60, 220)
    first = _select_box(qtbot, canvas)
    assert first[bud].mean() > 0.9
    selector = canvas.object_select
    # "Not object" (right button) across the blue part.
    _drag(qtbot, canvas, (74, 28), (86, 28), Qt.MouseButton.RightButton)
    qtbot.waitUntil(lambda: not selector.is_busy() and selector.has_proposal(), timeout=TIMEOUT_MS)
    second = selector.proposal().full()
    assert second[obj].all()
    # Only the grow's band along the object reaches into the blue part now.
    d = cv2.distanceTransform((~obj).astype(np.uint8), cv2.DIST_L2, 5)
    assert not second[bud & (d > DEFAULT_GROW + 1.5)].any()
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert np.array_equal(canvas.doc.mask, second) and len(canvas.edits) == 1


def test_grow_changes_recompute_the_shown_outline(qtbot, canvas):
    first = _select_box(qtbot, canvas)
    selector = canvas.object_select
    selector.set_grow(0)
    qtbot.waitUntil(lambda: not selector.is_busy(), timeout=TIMEOUT_MS)
    tight = selector.proposal().full()
    assert tight.sum() < first.sum() and (first >= tight).all()


def test_a_new_box_elsewhere_commits_the_previous_object(qtbot, canvas):
    first = _select_box(qtbot, canvas)
    _drag(qtbot, canvas, (2, 100), (30, 118))
    assert np.array_equal(canvas.doc.mask, first) and len(canvas.edits) == 1
    canvas.object_select.cancel()


def test_in_the_window_the_tool_has_a_shortcut_and_a_grow_box(qtbot, tmp_path: Path, scene):
    image, _ = scene
    path = tmp_path / "scene.png"
    Image.fromarray(image).save(path)
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.engine = "telea"
    window = MainWindow(settings=settings, session_root=tmp_path / "sessions")
    qtbot.addWidget(window)
    window.resize(900, 600)
    window.show()
    qtbot.waitExposed(window)
    try:
        with qtbot.waitSignal(window.files.opened, timeout=TIMEOUT_MS):
            assert window.files.open_path(path)
        actions = window.window_actions
        assert actions.tools[Tool.SELECT].shortcut().toString() == "O"
        actions.tools[Tool.SELECT].trigger()
        assert window.canvas.tool() == Tool.SELECT
        actions.select_grow_spin.setValue(7)
        assert window.canvas.object_select.grow() == 7

        canvas = window.canvas
        x, y, w, h = BOX
        _drag(qtbot, canvas, (x, y), (x + w, y + h))
        selector = canvas.object_select
        qtbot.waitUntil(lambda: selector.has_proposal() and not selector.is_busy(), timeout=TIMEOUT_MS)
        expected = select_object(image, (x, y, w, h), grow=7)
        canvas.setFocus()
        qtbot.keyClick(canvas, Qt.Key.Key_Return)  # the tool's Enter, not "Apply candidate"
        assert np.array_equal(window.document.mask_doc.mask, expected)
        assert np.array_equal(np.asarray(window.document.rgb), image)  # selecting never touches pixels
        actions.undo.trigger()
        assert not window.document.mask_doc.any()
    finally:
        window.close()
