"""`inpaint select`: a box in, a mask PNG out; the same mask the core (and the app) selects."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from inpaint_gui.cli import main
from inpaint_gui.core.image_io import load_mask
from inpaint_gui.core.selection import Stroke, select_object


@pytest.fixture
def photo(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    h, w = 90, 130
    yy, xx = np.mgrid[0:h, 0:w]
    image = np.stack([90 + 30 * np.sin(xx / 3.0), 120 + 20 * np.cos(yy / 4.0), 70 + 0 * xx], axis=2)
    image = image + rng.normal(0, 8, (h, w, 3))
    obj = np.zeros((h, w), np.uint8)
    cv2.circle(obj, (65, 45), 22, 1, -1)
    obj = obj.astype(bool)
    image[obj] = (230, 220, 40)
    image = np.clip(image, 0, 255).astype(np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(image).save(path)
    return path, image, obj


def test_select_writes_the_mask_the_core_selects(photo, tmp_path: Path, capsys) -> None:
    path, image, obj = photo
    out = tmp_path / "mask.png"
    assert main(["select", str(path), "--box", "35,15,60,60", "-o", str(out), "--grow", "2"]) == 0
    mask = load_mask(out)
    assert np.array_equal(mask, select_object(image, (35, 15, 60, 60), grow=2))
    assert mask[obj].all()
    d = cv2.distanceTransform((~obj).astype(np.uint8), cv2.DIST_L2, 5)
    assert not mask[d > 4].any()
    assert "pixels selected" in capsys.readouterr().out


def test_strokes_reach_the_selection(photo, tmp_path: Path) -> None:
    path, image, _ = photo
    out = tmp_path / "mask.png"
    args = ["select", str(path), "--box", "35,15,60,60", "-o", str(out), "--grow", "0"]
    args += ["--bg-stroke", "50,45,80,45", "--fg-stroke", "40,20", "--stroke-radius", "2"]
    assert main(args) == 0
    expected = select_object(
        image,
        (35, 15, 60, 60),
        fg_strokes=[Stroke(((40.0, 20.0),), 2.0)],
        bg_strokes=[Stroke(((50.0, 45.0), (80.0, 45.0)), 2.0)],
        grow=0,
    )
    assert np.array_equal(load_mask(out), expected)
    assert load_mask(out)[20, 40]


def test_an_existing_mask_is_kept_unless_overwrite(photo, tmp_path: Path, capsys) -> None:
    path, _, _ = photo
    out = tmp_path / "mask.png"
    out.write_bytes(b"keep me")
    assert main(["select", str(path), "--box", "35,15,60,60", "-o", str(out)]) == 2
    assert out.read_bytes() == b"keep me"
    assert "--overwrite" in capsys.readouterr().err
    assert main(["select", str(path), "--box", "35,15,60,60", "-o", str(out), "--overwrite"]) == 0


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--box", "1,2,3"], 2, "X,Y,W,H"),
        (["--box", "500,500,20,20"], 1, "less than"),
        (["--box", "35,15,60,60", "--grow", "-1"], 2, "0.."),
        (["--box", "35,15,60,60", "--fg-stroke", "1,2,3"], 2, "pairs"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    photo, tmp_path: Path, capsys, extra, code, message
) -> None:
    path, _, _ = photo
    out = tmp_path / "mask.png"
    assert main(["select", str(path), "-o", str(out), *extra]) == code
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_missing_image_is_reported(tmp_path: Path, capsys) -> None:
    assert (
        main(["select", str(tmp_path / "nope.jpg"), "--box", "0,0,9,9", "-o", str(tmp_path / "m.png")]) == 1
    )
    assert "nope.jpg" in capsys.readouterr().err
