from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from training_helpers import write_images

from inpaint_gui.engine.pluralistic import save_random_release
from inpaint_gui.training.evaluate import (
    METRICS,
    evaluate,
    markdown_table,
    pair_images_and_masks,
    write_report,
)


@pytest.fixture
def eval_set(tmp_path):
    images = write_images(tmp_path / "images", 6, sizes=[(48, 48)])
    masks = tmp_path / "masks"
    masks.mkdir()
    rng = np.random.default_rng(0)
    for band, share in ((0, 0.08), (2, 0.25), (4, 0.45)):
        for j in range(2):
            m = np.zeros((256, 256), np.uint8)
            side = int(256 * np.sqrt(share))
            top, left = rng.integers(0, 256 - side, 2)
            m[top : top + side, left : left + side] = 255
            cv2.imwrite(str(masks / f"b{band}_{j:05d}.png"), m)
    return images, masks


def test_pairing_is_deterministic_and_cycles_bands(eval_set):
    images, masks = eval_set
    pairs = pair_images_and_masks(images, masks)
    assert pairs == pair_images_and_masks(images, masks)
    assert [p.band for p in pairs] == ["b0", "b2", "b4"] * 2
    assert [p.mask.name for p in pairs[:4]] == [
        "b0_00000.png",
        "b2_00000.png",
        "b4_00000.png",
        "b0_00001.png",
    ]
    assert len(pair_images_and_masks(images, masks, limit=4)) == 4


def test_eval_reports_every_field(eval_set, tmp_path):
    images, masks = eval_set
    ckpt = save_random_release(tmp_path / "tiny.safetensors", resolution=32)
    report = evaluate(images, masks, checkpoint=ckpt, n=3, resolution=32, device="cpu")
    assert set(report["engines"]) == {"pluralistic", "telea", "navier-stokes"}
    for name, res in report["engines"].items():
        assert set(res["bands"]) == {"b0", "b2", "b4"}
        for v in [*res["bands"].values(), res["overall"]]:
            assert set(v["mean"]) == set(v["best"]) == set(METRICS)
            for k in METRICS:
                assert np.isfinite(v["mean"][k])
                better = (
                    v["best"][k] >= v["mean"][k] if not k.startswith("l1") else v["best"][k] <= v["mean"][k]
                )
                assert better, (name, k)
            assert v["sharpness"] >= 0 and v["sharpness_magnitude"] >= 0
            assert v["diversity"] >= 0 and 0 < v["hole_ratio"] < 1
        assert res["overall"]["count"] == 6
    assert report["engines"]["pluralistic"]["candidates"] == 3
    assert report["engines"]["pluralistic"]["overall"]["diversity"] > 0  # random net: differing fills
    assert report["engines"]["telea"]["overall"]["diversity"] == 0  # one candidate
    # bigger holes hurt the classical fills' hole-free PSNR
    bands = report["engines"]["telea"]["bands"]
    assert bands["b0"]["mean"]["psnr"] > bands["b4"]["mean"]["psnr"]

    json_path, md_path = write_report(report, tmp_path / "out" / "report.json")
    assert json.loads(json_path.read_text())["settings"]["count"] == 6
    table = md_path.read_text()
    assert table == markdown_table(report)
    assert table.count("| b2 |") == 3 and "| overall |" in table and "navier-stokes" in table
    # cells sit under their own headers
    head = table.splitlines()[0].strip("| ").split(" | ")
    row = next(r for r in table.splitlines() if r.startswith("| overall |") and "| telea |" in r)
    cells = dict(zip(head, row.strip("| ").split(" | "), strict=True))
    overall = report["engines"]["telea"]["overall"]
    assert cells["PSNR hole"].startswith(f"{overall['mean']['psnr_hole']:.2f}")
    assert cells["SSIM"].startswith(f"{overall['mean']['ssim']:.3f}")
    assert cells["L1 hole"].startswith(f"{overall['mean']['l1_hole']:.3f}")
    assert cells["sharpness (magnitude)"] == f"{overall['sharpness_magnitude']:.2f}"


def test_grid_shows_large_holes_with_candidates_navier_stokes_and_original(eval_set, tmp_path):
    images, masks = eval_set
    ckpt = save_random_release(tmp_path / "tiny.safetensors", resolution=32)
    grid = tmp_path / "grid.png"
    evaluate(images, masks, checkpoint=ckpt, n=3, resolution=32, device="cpu", grid=grid, grid_rows=3)
    picture = cv2.imread(str(grid))
    # pairs with holes of 20% and more: b2 and b4, twice each; 3 rows asked for
    # columns: input, 3 candidates, navier-stokes, original; 32 px tiles 2 px apart
    assert picture.shape == (3 * 34 + 2, 6 * 34 + 2, 3)
    first = cv2.cvtColor(picture[2:34, 2:34], cv2.COLOR_BGR2RGB)
    original = cv2.cvtColor(picture[2:34, 5 * 34 + 2 : 5 * 34 + 34], cv2.COLOR_BGR2RGB)
    greyed = (first != original).any(axis=2)
    assert 0.2 <= greyed.mean() < 0.35  # the b2 hole (25%) is greyed out in the input column
