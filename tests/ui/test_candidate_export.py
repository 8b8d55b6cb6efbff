"""Exporting candidates and contact sheets: files, names, manifest, no overwriting, background task."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inpaint_gui.core.image_io import ImageError, load_image
from inpaint_gui.engine.base import Candidate
from inpaint_gui.ui import export as export_mod
from inpaint_gui.ui.export import ExportTask, candidate_filename, export_candidates, export_contact_sheet


def _cands(n: int = 3) -> list[Candidate]:
    rng = np.random.default_rng(0)
    return [
        Candidate(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8), 50 + i, -0.5 * i, 0.0) for i in range(n)
    ]


def test_export_candidates_writes_lossless_files_and_manifest(tmp_path: Path) -> None:
    cands = _cands()
    paths = export_candidates(cands, tmp_path, "my photo", numbers=[1, 2, 5])
    images, manifest = paths[:-1], paths[-1]
    assert [p.name for p in images] == [
        "my-photo-candidate01-seed50.png",
        "my-photo-candidate02-seed51.png",
        "my-photo-candidate05-seed52.png",
    ]
    for p, c in zip(images, cands, strict=True):
        assert np.array_equal(load_image(p).rgb, c.image)
    data = json.loads(manifest.read_text())
    assert [r["seed"] for r in data["candidates"]] == [50, 51, 52]
    assert [r["number"] for r in data["candidates"]] == [1, 2, 5]
    # A second export never replaces the first.
    again = export_candidates(cands, tmp_path, "my photo", ext="jpg")
    assert again[0].name == "my-photo-candidate01-seed50.jpg"
    third = export_candidates(cands, tmp_path, "my photo")
    assert third[0].name == "my-photo-candidate01-seed50-2.png"
    assert np.array_equal(load_image(images[0]).rgb, cands[0].image)


def test_export_candidates_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="not a folder"):
        export_candidates(_cands(), tmp_path / "missing", "x")
    with pytest.raises(ImageError, match="cannot export candidates as .gif"):
        export_candidates(_cands(), tmp_path, "x", ext=".gif")
    with pytest.raises(ImageError, match="no candidates"):
        export_candidates([], tmp_path, "x")
    assert candidate_filename("a/b c", 3, 9) == "a-b-c-candidate03-seed9.png"


def test_contact_sheet_file(tmp_path: Path) -> None:
    cands = _cands(4)
    mask = np.zeros((30, 40), bool)
    mask[10:20, 10:20] = True
    out = export_contact_sheet(cands, tmp_path / "sheet.png", original=cands[0].image, mask=mask, title="t")
    sheet = load_image(out).rgb
    assert sheet.shape[0] > 100 and sheet.shape[1] > 100
    with pytest.raises(ImageError, match="already exists"):
        export_contact_sheet(cands, out)
    original = tmp_path / "photo.png"
    original.write_bytes(b"keep me")
    with pytest.raises(ImageError, match="original image"):
        export_contact_sheet(cands, original, overwrite=True, protect=[original])
    assert original.read_bytes() == b"keep me"


def test_export_task_reports_in_gui_thread(qtbot) -> None:
    task = ExportTask(lambda: 42)
    with qtbot.waitSignal(task.finished, timeout=10_000) as blocker:
        task.start()
    assert blocker.args == [42] and not task.is_running()

    def boom() -> None:
        raise ImageError("disk full")

    task = ExportTask(boom)
    with qtbot.waitSignal(task.failed, timeout=10_000) as blocker:
        task.start()
    assert blocker.args == ["disk full"]


def test_candidates_dialog_exports_to_chosen_folder(qtbot, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(export_mod.QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
    task = export_mod.export_candidates_dialog(None, _cands(2), tmp_path / "src.jpg")
    assert task is not None
    with qtbot.waitSignal(task.finished, timeout=10_000) as blocker:
        pass
    names = [p.name for p in blocker.args[0]]
    assert names == ["src-candidate01-seed50.png", "src-candidate02-seed51.png", "src-candidates.json"]
    monkeypatch.setattr(export_mod.QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    assert export_mod.export_candidates_dialog(None, _cands(2), None) is None
