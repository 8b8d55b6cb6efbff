"""`inpaint augment`: variants + manifest, resume, bad files, and exact rebuilds from the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inpaint_gui.cli import main
from inpaint_gui.engine import load_engine
from inpaint_gui.engine.pluralistic import save_random_release
from inpaint_gui.training.augment import MANIFEST, make_mask, rebuild


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    for name in ("a.png", "b.jpg", "sub/c.png"):
        Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)).save(root / name)
    (root / "broken.png").write_bytes(b"not an image")
    return root


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]


def test_variants_manifest_resume_and_bad_files(data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    args = ["augment", "--data", str(data), "-o", str(out), "-k", "3", "--engine", "telea", "--seed", "5"]
    assert main(args) == 1  # one bad file: reported, skipped, the rest written
    assert "broken.png" in capsys.readouterr().err
    rows = _rows(out)
    assert sorted((r["source"], r["variant"]) for r in rows) == [
        (s, j) for s in ("a.png", "b.jpg", "sub/c.png") for j in range(3)
    ]
    assert len({r["seed"] for r in rows}) == len(rows) and len({r["mask_seed"] for r in rows}) == len(rows)
    for row in rows:
        source = np.asarray(Image.open(data / row["source"]).convert("RGB"))
        output = np.asarray(Image.open(out / row["output"]))
        mask = np.asarray(Image.open(out / row["mask"]))[..., 0] > 0
        assert np.array_equal(mask, make_mask(row, *source.shape[:2]))  # the spec alone gives the mask
        assert 0.02 < mask.mean() < 0.4
        np.testing.assert_array_equal(output[~mask], source[~mask])

    # Resume: a lost output and a half-written manifest line are made again, the rest skipped.
    (out / rows[4]["output"]).unlink()
    with open(out / MANIFEST, "a") as f:
        f.write('{"source": "a.p')
    before = (out / rows[0]["output"]).stat().st_mtime_ns
    main(args)
    for line in (out / MANIFEST).read_text().splitlines():
        json.loads(line)  # the redone row starts a line of its own instead of joining the torn one
    assert len(_rows(out)) == 10  # nine, and the lost output made again
    assert (out / rows[4]["output"]).is_file()
    assert (out / rows[0]["output"]).stat().st_mtime_ns == before
    assert "wrote 1 variants" in capsys.readouterr().out

    # Other settings into the same folder are refused before any work.
    assert main([*args[:-4], "--engine", "navier-stokes"]) == 2
    assert "other settings" in capsys.readouterr().err
    # So is another seed for the whole set: the folder would hold the old set under the new seed.
    assert main([*args[:-1], "6"]) == 2
    assert "set_seed 5, now 6" in capsys.readouterr().err


def test_manifest_rebuilds_every_output_exactly(data: Path, tmp_path: Path) -> None:
    checkpoint = save_random_release(tmp_path / "tiny.safetensors")
    out = tmp_path / "out"
    (data / "broken.png").unlink()
    args = ["augment", "--data", str(data), "-o", str(out), "-k", "2", "--engine", "pluralistic"]
    assert main([*args, "--checkpoint", str(checkpoint), "--device", "cpu"]) == 0
    engine = load_engine("pluralistic", checkpoint=checkpoint, device="cpu")
    rows = _rows(out)
    assert len(rows) == 6
    outputs = [np.asarray(Image.open(out / r["output"])) for r in rows]
    assert not np.array_equal(outputs[0], outputs[1])
    for row, output in zip(rows[::-1], outputs[::-1], strict=True):  # any order: each row stands alone
        np.testing.assert_array_equal(rebuild(row, data, out, engine), output)


def test_bad_options(data: Path, tmp_path: Path, capsys) -> None:
    base = ["augment", "-o", str(tmp_path / "o"), "--engine", "telea"]
    assert main([*base, "--data", str(tmp_path / "missing")]) == 2
    assert main([*base, "--data", str(data), "--hole-min", "0.5", "--hole-max", "0.2"]) == 2
    assert main([*base, "--data", str(data), "-k", "0"]) == 2
    assert main([*base, "--data", str(data), "--engine", "nope"]) == 2
    assert "valid engines" in capsys.readouterr().err


def test_bounds_are_checked_where_the_numbers_enter(data: Path, tmp_path: Path, capsys) -> None:
    base = ["augment", "--data", str(data), "-o", str(tmp_path / "o"), "--engine", "telea"]
    assert main([*base, "-k", "100000000"]) == 2  # the plan alone once took 22 GB
    assert main([*base, "--seed", "-1"]) == 2
    err = capsys.readouterr().err
    assert "-k: must be from 1 to 1000" in err and "--seed: must be from 0" in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


def test_a_second_run_into_a_locked_folder_is_refused(data: Path, tmp_path: Path, capsys) -> None:
    import fcntl

    from inpaint_gui.training.augment import LOCK

    out = tmp_path / "out"
    out.mkdir()
    args = ["augment", "--data", str(data), "-o", str(out), "-k", "1", "--engine", "telea"]
    with open(out / LOCK, "a") as held:  # another run holds the folder
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(args) == 2
        assert "another `inpaint augment` is writing" in capsys.readouterr().err
    assert not (out / MANIFEST).exists() or not _rows(out)
    assert main(args) == 1  # released: it runs (broken.png fails)
    assert len(_rows(out)) == 3


def test_output_inside_the_data_is_refused(data: Path, capsys) -> None:
    out = data / "augmented"
    assert main(["augment", "--data", str(data), "-o", str(out), "-k", "1", "--engine", "telea"]) == 2
    assert "inside" in capsys.readouterr().err and not out.exists()


def test_gifs_are_reported_and_tiny_images_skipped(data: Path, tmp_path: Path, capsys) -> None:
    (data / "broken.png").unlink()
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(data / "anim.gif")
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(data / "dot.png")
    out = tmp_path / "out"
    assert main(["augment", "--data", str(data), "-o", str(out), "-k", "2", "--engine", "telea"]) == 1
    err = capsys.readouterr().err
    assert "skipping 1 image(s)" in err and "anim.gif" in err
    assert "dot.png: too small to augment (1 x 1 pixels" in err
    assert {r["source"] for r in _rows(out)} == {"a.png", "b.jpg", "sub/c.png"}
