from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from training_helpers import write_images

from inpaint_gui.engine.pluralistic import save_random_release
from inpaint_gui.training import perceptual as pc
from inpaint_gui.training.evaluate import (
    METRICS,
    evaluate,
    markdown_table,
    pair_images_and_masks,
    write_report,
)
from inpaint_gui.training.object_masks import write_object_masks

pc_weights = pc.weights_dir()
needs_weights = pytest.mark.skipif(
    not all((pc_weights / s.cached).is_file() for s in (pc.LPIPS_SOURCE, pc.EFFNET_SOURCE)),
    reason=f"metric weights not in {pc_weights}: {pc.ENABLE_HINT}",
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
    every = pair_images_and_masks(images, masks, every=2)
    assert [p.image for p in every] == [p.image for p in pairs][::2][:3]
    assert [p.band for p in every] == ["b0", "b2", "b4"]
    with pytest.raises(ValueError):
        pair_images_and_masks(images, masks, every=0)


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


def test_engine_options_change_the_fills_and_are_recorded(eval_set, tmp_path):
    """variety spreads the draws further (more diversity); an option the engine lacks is refused."""
    images, masks = eval_set
    ckpt = save_random_release(tmp_path / "tiny.safetensors", resolution=32)
    kw = dict(checkpoint=ckpt, n=3, resolution=32, device="cpu", baselines=False, perceptual=False)
    plain = evaluate(images, masks, **kw)
    wide = evaluate(images, masks, options={"variety": 3.0}, **kw)
    assert wide["settings"]["options"] == {"variety": 3.0} and plain["settings"]["options"] == {}
    spread = [r["engines"]["pluralistic"]["overall"]["diversity"] for r in (plain, wide)]
    assert spread[1] > spread[0]
    with pytest.raises(ValueError, match="no setting variety"):
        evaluate(images, masks, engine="telea", options={"variety": 2.0}, resolution=32, baselines=False)


def test_grid_shows_crops_around_large_holes_with_every_engine_and_the_original(eval_set, tmp_path):
    images, masks = eval_set
    ckpt = save_random_release(tmp_path / "tiny.safetensors", resolution=32)
    grid = tmp_path / "grid.png"
    evaluate(images, masks, checkpoint=ckpt, n=3, resolution=32, device="cpu", grid=grid, grid_rows=3)
    picture = cv2.cvtColor(cv2.imread(str(grid)), cv2.COLOR_BGR2RGB)
    # pairs with holes of 20% and more: b2 and b4, twice each; 3 rows asked for; columns: input,
    # 3 candidates, telea, navier-stokes, original; tiles padded to the largest crop, 2 px apart
    th, tw = (picture.shape[0] - 2) / 3 - 2, (picture.shape[1] - 2) / 7 - 2
    assert th == int(th) and tw == int(tw) and th <= 32 and tw <= 32
    th, tw = int(th), int(tw)
    tile = [picture[2 : 2 + th, 2 + j * (tw + 2) : 2 + j * (tw + 2) + tw] for j in range(7)]
    greyed = (tile[0] != tile[6]).any(axis=2)
    assert 0.25 <= greyed.mean() < 1  # the crop is around the hole: it covers more than its 25% share
    # every fill keeps the pixels outside the hole: they match the original where the input does
    for j in range(1, 6):
        np.testing.assert_array_equal(tile[j][~greyed], tile[6][~greyed])


def test_without_metric_weights_the_report_says_what_was_skipped(eval_set, tmp_path):
    images, masks = eval_set
    report = evaluate(images, masks, engine="telea", resolution=32, limit=3)
    assert report["settings"]["perceptual"]["skipped"] == ["LPIPS", "LPIPS diversity", "KID"]
    overall = report["engines"]["telea"]["overall"]
    assert overall["lpips"] is None and overall["kid"] is None
    table = markdown_table(report)
    assert "Skipped: LPIPS, LPIPS diversity, KID" in table and "inpaint metric-weights" in table


@pytest.mark.uses_metric_weights
@needs_weights
def test_eval_reports_lpips_diversity_and_kid(eval_set, tmp_path):
    images, masks = eval_set
    ckpt = save_random_release(tmp_path / "tiny.safetensors", resolution=32)
    report = evaluate(
        images, masks, checkpoint=ckpt, n=2, resolution=32, device="cpu", limit=4, baselines=False
    )
    assert report["settings"]["perceptual"]["skipped"] == []
    res = report["engines"]["pluralistic"]
    for v in [*res["bands"].values(), res["overall"]]:
        assert 0 <= v["lpips_best"] <= v["lpips"] < 1
        assert v["lpips_diversity"] > 0  # a random network's candidates differ
    assert res["bands"]["b0"]["kid"] is None  # two images: too few for KID
    assert np.isfinite(res["overall"]["kid"]["mean"]) and res["overall"]["kid"]["std"] >= 0
    assert res["bands"]["b0"]["lpips"] < res["bands"]["b4"]["lpips"]  # bigger holes, further from the photo
    head = markdown_table(report).splitlines()[0]
    assert head.startswith("| band | hole | engine | LPIPS | LPIPS diversity | KID ×10³ | PSNR |")


def test_object_masks_are_reported_by_border_and_interior(tmp_path):
    images = write_images(tmp_path / "images", 6, sizes=[(40, 40)])
    masks = write_object_masks(tmp_path / "objects", count=6)
    report = evaluate(images, masks, engine="telea", baselines=False)
    res = report["engines"]["telea"]
    assert set(res["bands"]) == {
        f"{b} {e}" for b in ("05-20%", "20-35%", "35-50%") for e in ("border", "interior")
    }
    assert set(res["groups"]) == {"border", "interior"}
    assert res["groups"]["border"]["count"] == res["groups"]["interior"]["count"] == 3
    table = markdown_table(report)
    assert "| all border |" in table and "| all interior |" in table


def test_a_truncated_photo_is_skipped_not_taken_as_ground_truth(eval_set, caplog):
    images, masks = eval_set
    first = sorted(images.rglob("*.png"))[0]
    noisy = np.random.default_rng(1).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    jpeg = cv2.imencode(".jpg", noisy)[1].tobytes()
    first.unlink()
    torn = first.with_suffix(".jpg")
    torn.write_bytes(jpeg[: len(jpeg) // 2])  # cv2.imread decodes this, the rest grey
    report = evaluate(images, masks, engine="telea", baselines=False, perceptual=False)
    assert any("truncated" in r.message and torn.name in r.message for r in caplog.records)
    assert torn.name not in json.dumps(report)


@pytest.mark.parametrize("resolution", ["0", "-5", "100000"])
def test_eval_resolution_out_of_range_is_one_line(eval_set, tmp_path, capsys, resolution):
    from inpaint_gui.cli import main

    images, masks = eval_set
    args = ["eval", "--images", str(images), "--masks", str(masks), "--engine", "telea"]
    args += ["-o", str(tmp_path / "r.json")]
    assert main([*args, "--resolution", resolution]) == 2
    err = capsys.readouterr().err
    assert "resolution must be from 16 to 8192" in err and "Traceback" not in err
