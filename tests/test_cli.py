"""`inpaint fill` end to end: single pairs, manifests, bad rows and bad options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inpaint_gui.cli import main

H, W = 48, 64


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """A textured image and a rectangular hole, as files."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    mask = np.zeros((H, W), np.uint8)
    mask[10:30, 20:40] = 255
    Image.fromarray(rgb).save(tmp_path / "photo.png")
    Image.fromarray(mask).save(tmp_path / "photo_mask.png")
    return tmp_path / "photo.png", tmp_path / "photo_mask.png"


def _results(folder: Path) -> dict:
    return json.loads((folder / "candidates.json").read_text())


def test_fill_one_pair(pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    image, mask = pair
    out = tmp_path / "out"

    assert main(["fill", str(image), str(mask), "-o", str(out), "--engine", "telea"]) == 0

    results = _results(out)
    assert results["engine"] == "telea" and results["n"] == 1  # classical engines give one fill
    assert results["image"] == str(image) and results["mask"] == str(mask)
    [entry] = results["candidates"]
    assert entry["file"] == "candidate_00.png" and entry["seed"] == 0
    assert isinstance(entry["score"], float) and entry["seconds"] >= 0
    filled = np.asarray(Image.open(out / "candidate_00.png"))
    original = np.asarray(Image.open(image))
    hole = np.asarray(Image.open(mask)) > 0
    np.testing.assert_array_equal(filled[~hole], original[~hole])
    assert (filled[hole] != original[hole]).any()
    assert "wrote 1 candidate" in capsys.readouterr().out


def test_alpha_of_an_rgba_input_is_kept(pair: tuple[Path, Path], tmp_path: Path) -> None:
    image, mask = pair
    rgba = np.asarray(Image.open(image).convert("RGBA")).copy()
    rgba[:, :8, 3] = 0
    Image.fromarray(rgba, "RGBA").save(image)

    assert main(["fill", str(image), str(mask), "-o", str(tmp_path / "out"), "--engine", "telea"]) == 0

    written = Image.open(tmp_path / "out" / "candidate_00.png")
    assert written.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(written)[..., 3], rgba[..., 3])


def test_existing_results_are_kept_unless_overwrite(
    pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    image, mask = pair
    args = ["fill", str(image), str(mask), "-o", str(tmp_path / "out"), "--engine", "telea"]
    assert main(args) == 0
    assert main(args) == 1
    assert "already exists" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0


def test_never_writes_over_the_input(tmp_path: Path) -> None:
    image = tmp_path / "candidate_00.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(image)
    Image.new("L", (8, 8), 255).save(tmp_path / "m.png")
    before = image.read_bytes()
    args = ["fill", str(image), str(tmp_path / "m.png"), "-o", str(tmp_path), "--engine", "telea"]
    assert main([*args, "--overwrite"]) == 1
    assert image.read_bytes() == before


def test_mask_size_mismatch_names_both_sizes(
    pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    image, _ = pair
    Image.new("L", (30, 20), 255).save(tmp_path / "small.png")
    code = main(
        ["fill", str(image), str(tmp_path / "small.png"), "-o", str(tmp_path / "o"), "--engine", "telea"]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert f"mask is 30x20 but the image is {W}x{H}" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_unknown_engine_lists_valid_names(pair: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    image, mask = pair
    assert main(["fill", str(image), str(mask), "-o", str(tmp_path / "o"), "--engine", "magic"]) == 2
    err = capsys.readouterr().err
    assert "magic" in err and "telea" in err and "navier-stokes" in err and "pluralistic" in err
    assert len(err.strip().splitlines()) == 1


def test_checkpoint_problems_are_one_line(pair: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    image, mask = pair
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a checkpoint")
    args = ["fill", str(image), str(mask), "-o", str(tmp_path / "o")]
    assert main([*args, "--engine", "pluralistic", "--checkpoint", str(broken)]) == 2
    assert main([*args, "--engine", "telea", "--checkpoint", str(broken)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "Traceback" not in "".join(err)
    assert "broken.safetensors" in err[0]


@pytest.mark.parametrize(
    "args",
    [
        ["fill"],
        ["fill", "a.png", "-o", "o"],
        ["fill", "a.png", "m.png"],  # no -o
        ["fill", "a.png", "m.png", "-o", "o", "--manifest", "p.csv"],
        ["fill", "a.png", "m.png", "-o", "o", "-n", "0"],
        ["fill", "a.png", "m.png", "-o", "o", "--seed", "-1"],
        ["unknown-command"],
        [],
    ],
)
def test_usage_errors_exit_2(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2


def test_bad_pixel_limit_in_environment(
    pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    image, mask = pair
    args = ["fill", str(image), str(mask), "-o", str(tmp_path / "o"), "--engine", "telea"]
    monkeypatch.setenv("INPAINT_MAX_PIXELS", "lots")
    assert main(args) == 2
    assert "INPAINT_MAX_PIXELS" in capsys.readouterr().err
    monkeypatch.setenv("INPAINT_MAX_PIXELS", "1000")
    assert main(args) == 1
    assert "limit" in capsys.readouterr().err


# --- manifests -----------------------------------------------------------------------------------


def _manifest(folder: Path, text: str) -> Path:
    path = folder / "pairs.csv"
    path.write_text(text)
    return path


def test_manifest_runs_good_rows_and_reports_bad_ones(
    pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    Image.new("L", (10, 10), 255).save(tmp_path / "small_mask.png")
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    csv = _manifest(
        tmp_path,
        "image,mask,stem\n"
        "photo.png,photo_mask.png,first\n"
        "missing.png,photo_mask.png,gone\n"
        "photo.png,small_mask.png,wrong_size\n"
        "corrupt.png,photo_mask.png,corrupt\n"
        "photo.png\n"
        "photo.png,photo_mask.png,x,extra\n"
        "photo.png,photo_mask.png\n",  # no stem: the image's
    )
    out = tmp_path / "out"

    code = main(["fill", "--manifest", str(csv), "-o", str(out), "--engine", "telea"])

    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["first", "photo"]
    assert (out / "first" / "candidate_00.png").is_file()
    assert _results(out / "photo")["image"] == str(tmp_path / "photo.png")  # relative to the CSV
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 5
    assert any("pairs.csv:3" in line and "missing.png" in line and "not found" in line for line in err)
    assert any("mask is 10x10 but the image is 64x48" in line for line in err)
    assert any("corrupt.png" in line for line in err)
    assert any("pairs.csv:6" in line and "image and mask" in line for line in err)
    assert any("pairs.csv:7" in line and "4 fields" in line for line in err)


def test_manifest_all_good_exits_0(pair: tuple[Path, Path], tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    csv = _manifest(sub, "image,mask\n../photo.png,../photo_mask.png\n")
    assert main(["fill", "--manifest", str(csv), "-o", str(tmp_path / "out"), "--engine", "telea"]) == 0
    assert (tmp_path / "out" / "photo" / "candidates.json").is_file()


def test_duplicate_stems_do_not_overwrite(pair: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    csv = _manifest(
        tmp_path,
        "image,mask,stem\n"
        "photo.png,photo_mask.png,cat\n"
        "photo.png,photo_mask.png,Cat\n"
        "photo.png,photo_mask.png,cat_2\n",
    )
    out = tmp_path / "out"
    assert main(["fill", "--manifest", str(csv), "-o", str(out), "--engine", "telea"]) == 0
    # "Cat" and "cat" are one folder on macOS and Windows, so the second gets a new name.
    assert sorted(p.name for p in out.iterdir()) == ["Cat_3", "cat", "cat_2"]
    assert "already used" in capsys.readouterr().err


def test_manifest_stem_cannot_leave_the_output_folder(pair, tmp_path: Path, capsys) -> None:
    csv = _manifest(tmp_path, "image,mask,stem\nphoto.png,photo_mask.png,../escape\n")
    assert main(["fill", "--manifest", str(csv), "-o", str(tmp_path / "out"), "--engine", "telea"]) == 1
    assert not (tmp_path / "escape").exists()
    assert "plain folder name" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["", "picture,mask\na.png,b.png\n", "image\na.png\n", "image,mask\n"])
def test_unusable_manifest_is_a_usage_error(text: str, tmp_path: Path, capsys) -> None:
    csv = _manifest(tmp_path, text)
    assert main(["fill", "--manifest", str(csv), "-o", str(tmp_path / "out"), "--engine", "telea"]) == 2
    assert "pairs.csv" in capsys.readouterr().err


def test_missing_manifest_is_a_usage_error(tmp_path: Path) -> None:
    assert (
        main(["fill", "--manifest", str(tmp_path / "no.csv"), "-o", str(tmp_path), "--engine", "telea"]) == 2
    )


# --- the pluralistic engine, and the real entry point ---------------------------------------------


def test_fill_with_a_tiny_pluralistic_checkpoint(pair: tuple[Path, Path], tmp_path: Path) -> None:
    from inpaint_gui.engine.pluralistic import save_random_release

    checkpoint = save_random_release(tmp_path / "tiny.safetensors")
    image, mask = pair
    csv = _manifest(tmp_path, "image,mask,stem\nphoto.png,photo_mask.png,a\nphoto.png,photo_mask.png,b\n")
    common = ["-n", "3", "--seed", "5", "--engine", "pluralistic", "--checkpoint", str(checkpoint)]

    assert main(["fill", str(image), str(mask), "-o", str(tmp_path / "one"), *common]) == 0
    assert main(["fill", "--manifest", str(csv), "-o", str(tmp_path / "many"), *common]) == 0

    results = _results(tmp_path / "one")
    assert results["engine"] == "pluralistic" and results["n"] == 3
    assert results["checkpoint"] == str(checkpoint)
    assert [c["seed"] for c in results["candidates"]] == [5, 6, 7]
    fills = [np.asarray(Image.open(tmp_path / "one" / c["file"])) for c in results["candidates"]]
    assert not np.array_equal(fills[0], fills[1])
    hole = np.asarray(Image.open(mask)) > 0
    original = np.asarray(Image.open(image))
    for fill in fills:
        np.testing.assert_array_equal(fill[~hole], original[~hole])
    # Same seeds in the batch run: same pictures.
    for name in ("a", "b"):
        np.testing.assert_array_equal(
            np.asarray(Image.open(tmp_path / "many" / name / "candidate_01.png")), fills[1]
        )


def test_fill_variety_is_recorded_and_checked(pair: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    from inpaint_gui.engine.pluralistic import save_random_release

    checkpoint = save_random_release(tmp_path / "tiny.safetensors")
    image, mask = pair
    net = ["--engine", "pluralistic", "--checkpoint", str(checkpoint), "-n", "2"]
    assert main(["fill", str(image), str(mask), "-o", str(tmp_path / "v"), *net, "--variety", "2"]) == 0
    assert _results(tmp_path / "v")["variety"] == 2.0
    assert main(["fill", str(image), str(mask), "-o", str(tmp_path / "w"), *net, "--variety", "7"]) == 2
    assert "variety must be between" in capsys.readouterr().err
    assert (
        main(
            ["fill", str(image), str(mask), "-o", str(tmp_path / "t"), "--engine", "telea", "--variety", "2"]
        )
        == 2
    )
    assert "no such setting" in capsys.readouterr().err
    assert not (tmp_path / "w").exists() and not (tmp_path / "t").exists()


def test_entry_point_is_wired(pair: tuple[Path, Path], tmp_path: Path) -> None:
    image, mask = pair
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "inpaint_gui.cli",
            "fill",
            str(image),
            str(mask),
            "-o",
            str(tmp_path / "o"),
            "--engine",
            "telea",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o" / "candidate_00.png").is_file()


def test_every_subcommand_is_registered(capsys: pytest.CaptureFixture) -> None:
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    for name in (
        "fill",
        "train",
        "pack",
        "export",
        "eval",
        "metric-weights",
        "restore",
        "augment",
        "train-detector",
    ):
        assert name in listed
    assert main(["train", "--out", "x", "--print-config", "--steps", "7"]) == 0
    assert '"steps": 7' in capsys.readouterr().out


def test_out_of_memory_skips_the_row_and_the_rest_still_run(
    pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inpaint_gui.engine.classical import TeleaEngine

    real = TeleaEngine.inpaint
    calls = []

    def first_runs_out_of_memory(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(TeleaEngine, "inpaint", first_runs_out_of_memory)
    csv = _manifest(tmp_path, "image,mask,stem\nphoto.png,photo_mask.png,a\nphoto.png,photo_mask.png,b\n")
    assert main(["fill", "--manifest", str(csv), "-o", str(tmp_path / "out"), "--engine", "telea"]) == 1
    assert "not enough memory" in capsys.readouterr().err
    assert (tmp_path / "out" / "b" / "candidates.json").is_file()


# --- masks that fill nothing or everything, -n bounds, stale results (issue 12) -----------------


def test_an_empty_mask_is_refused(pair: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    image, mask = pair
    Image.fromarray(np.zeros((H, W), np.uint8)).save(mask)
    out = tmp_path / "out"
    assert main(["fill", str(image), str(mask), "-o", str(out), "--engine", "telea"]) == 1
    err = capsys.readouterr().err
    assert "mask is empty" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()  # nothing written that looks like a result


def test_a_mask_covering_everything_is_warned_about(pair: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    image, mask = pair
    Image.fromarray(np.full((H, W), 255, np.uint8)).save(mask)
    main(["fill", str(image), str(mask), "-o", str(tmp_path / "out"), "--engine", "telea"])
    assert "covers the whole image" in capsys.readouterr().err


@pytest.mark.parametrize("n", ["101", "1000000000"])
def test_n_is_bounded(n: str, pair: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    image, mask = pair
    assert main(["fill", str(image), str(mask), "-o", str(tmp_path / "o"), "-n", n]) == 2
    assert "at most 100" in capsys.readouterr().err


def test_overwrite_with_fewer_candidates_removes_the_stale_ones(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    from inpaint_gui.engine.pluralistic import save_random_release

    checkpoint = save_random_release(tmp_path / "tiny.safetensors")
    image, mask = pair
    out = tmp_path / "out"
    mine = out / "notes.png"  # a file of the user's, which this tool never wrote
    common = [
        str(image),
        str(mask),
        "-o",
        str(out),
        "--engine",
        "pluralistic",
        "--checkpoint",
        str(checkpoint),
    ]
    assert main(["fill", *common, "-n", "4"]) == 0
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(mine)
    assert main(["fill", *common, "-n", "2", "--overwrite"]) == 0
    listed = [c["file"] for c in _results(out)["candidates"]]
    assert listed == ["candidate_00.png", "candidate_01.png"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*listed, "candidates.json", "notes.png"])
