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
    assert (out / rows[4]["output"]).is_file()
    assert (out / rows[0]["output"]).stat().st_mtime_ns == before
    assert "wrote 1 variants" in capsys.readouterr().out

    # Other settings into the same folder are refused before any work.
    assert main([*args[:-4], "--engine", "navier-stokes"]) == 2
    assert "other settings" in capsys.readouterr().err


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
