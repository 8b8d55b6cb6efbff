"""The object-removal benchmark: hole sizes and determinism, scaling, figures of perfect fills."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from inpaint_gui.training import object_bench as ob


@pytest.mark.parametrize("name", ["a.jpg", "kde_kite.jpg", "pop_nasa-45068.jpg", "x.png", "mate_wood.jpg"])
@pytest.mark.parametrize("shape", [(600, 900), (1000, 750), (1600, 1600)])
def test_holes_cover_3_to_15_percent_in_one_piece(name: str, shape: tuple[int, int]) -> None:
    mask, band = ob.bench_mask(name, shape)
    assert mask.shape == shape and mask.dtype == bool
    assert 0.03 <= mask.mean() <= 0.15
    low, high = (int(v) / 100 for v in band.split("%")[0].split("-"))
    assert low <= mask.mean() <= high
    assert cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[0] == 2
    touches = mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()
    assert touches == band.endswith("border")


def test_holes_are_deterministic_per_name_and_seed() -> None:
    a, band_a = ob.bench_mask("photo.jpg", (800, 1200), seed=0)
    b, band_b = ob.bench_mask("photo.jpg", (800, 1200), seed=0)
    assert np.array_equal(a, b) and band_a == band_b
    others = [ob.bench_mask("photo.jpg", (800, 1200), seed=1)[0], ob.bench_mask("other.jpg", (800, 1200))[0]]
    assert all(not np.array_equal(a, o) for o in others)


def test_a_photo_has_the_same_shape_at_every_scale() -> None:
    big, _ = ob.bench_mask("p.jpg", (3000, 4500))
    small, _ = ob.bench_mask("p.jpg", (1155, 1732))
    shrunk = cv2.resize(big.astype(np.uint8), (1732, 1155), interpolation=cv2.INTER_AREA) > 0
    overlap = (shrunk & small).sum() / (shrunk | small).sum()
    assert overlap > 0.9


def test_2mp_scales_large_photos_down_only() -> None:
    big = np.zeros((3000, 4000, 3), np.uint8)
    out = ob.at_scale(big, "2mp")
    assert abs(out.shape[0] * out.shape[1] - ob.TWO_MP) < 0.01 * ob.TWO_MP
    assert out.shape[1] / out.shape[0] == pytest.approx(4 / 3, rel=0.01)
    small = np.zeros((1000, 1500, 3), np.uint8)
    assert ob.at_scale(small, "2mp") is small
    assert ob.at_scale(big, "native") is big
    with pytest.raises(ValueError, match="valid scales"):
        ob.at_scale(big, "4k")


def test_neighbourhood_grows_the_box_and_stays_inside() -> None:
    mask = np.zeros((200, 300), bool)
    mask[50:90, 100:180] = True
    ys, xs = ob.neighbourhood(mask)
    assert (ys.start, ys.stop) == (50 - 16, 90 + 16)
    assert (xs.start, xs.stop) == (100 - 20, 180 + 20)
    mask[:] = False
    mask[0:10, 290:300] = True
    ys, xs = ob.neighbourhood(mask)
    assert ys.start == 0 and xs.stop == 300


def _photo(size: tuple[int, int] = (240, 320), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (*size, 3)).astype(np.float32), (0, 0), 3) * 200
    return np.clip(128 + noise, 0, 255).astype(np.uint8)


def test_the_photo_itself_scores_perfectly() -> None:
    photo = _photo()
    mask, _ = ob.bench_mask("t.jpg", photo.shape[:2])
    rec = ob.score_case(photo, mask, [photo, photo], meter=None)
    assert rec["seam"] == pytest.approx(rec["seam_photo"])
    assert rec["lpips"] is None  # no meter: perceptual figures skipped, not invented


def test_run_over_a_folder_with_identical_fills(tmp_path: Path) -> None:
    for i in range(2):
        cv2.imwrite(str(tmp_path / f"p{i}.png"), _photo(seed=i))
    (tmp_path / "notes.txt").write_text("not a photo")

    def same(image: np.ndarray, mask: np.ndarray, n: int, seed: int) -> list[np.ndarray]:
        return [image.copy() for _ in range(n)]

    def grey(image: np.ndarray, mask: np.ndarray, n: int, seed: int) -> list[np.ndarray]:
        out = image.copy()
        out[mask] = 128
        return [out]

    seen: list[str] = []
    report = ob.run_object_bench(
        ob.list_photos(tmp_path),
        {"same": same, "grey": grey},
        scale="native",
        n={"same": 3, "grey": 1},
        perceptual=False,
        on_case=lambda case, shown, recs: seen.append(case.name),
    )
    assert seen == ["p0.png", "p1.png"]
    same_fig, grey_fig = report["engines"]["same"]["overall"], report["engines"]["grey"]["overall"]
    assert same_fig["count"] == 2 and same_fig["candidates"] == 3
    assert same_fig["seam"] == pytest.approx(same_fig["seam_photo"])
    assert grey_fig["seam"] > same_fig["seam"]  # a flat grey hole has a step all along its outline
    assert "same" in ob.markdown_table(report) and "grey" in ob.markdown_table(report)


def test_an_engine_giving_the_wrong_size_is_named(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "p.png"), _photo())

    def bad(image: np.ndarray, mask: np.ndarray, n: int, seed: int) -> list[np.ndarray]:
        return [image[:10]]

    with pytest.raises(ValueError, match="engine bad"):
        ob.run_object_bench(ob.list_photos(tmp_path), {"bad": bad}, scale="native", perceptual=False)


def test_missing_or_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        ob.list_photos(tmp_path / "nope")
    with pytest.raises(ValueError, match="holds no images"):
        ob.list_photos(tmp_path)


def test_inpaint_eval_objects_writes_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from inpaint_gui.cli import main

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        cv2.imwrite(str(photos / f"p{i}.png"), _photo(seed=i))
    out = tmp_path / "r" / "objects.json"
    args = ["eval", "--objects", "--photos", str(photos), "--engine", "navier-stokes", "--no-baselines"]
    assert main([*args, "--no-perceptual", "--scale", "native", "-o", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["settings"]["count"] == 2 and list(report["engines"]) == ["navier-stokes"]
    assert "navier-stokes" in out.with_suffix(".md").read_text()
    assert main(["eval", "--objects", "-o", str(out)]) == 2
    assert main(["eval", "--objects", "--photos", str(photos), "--masks", "objects", "-o", str(out)]) == 2
    assert main(["eval", "-o", str(out)]) == 2
    assert "--photos" in capsys.readouterr().err
