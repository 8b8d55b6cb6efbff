"""`inpaint restore`: detect defects, fill them with an engine; bad input reported in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inpaint_gui.cli import main


def _clean(h: int = 256, w: int = 320) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([40 + 150 * x / w, 60 + 120 * y / h, np.full_like(x, 120)], axis=2)
    return img.astype(np.uint8)


@pytest.fixture
def scratched(tmp_path: Path) -> tuple[Path, np.ndarray]:
    clean = _clean()
    damaged = clean.copy()
    damaged[30:220, 150:152] = 250  # a hairline scratch
    damaged[60:63, 60:63] = 5  # a dark speck
    path = tmp_path / "old.png"
    Image.fromarray(damaged).save(path)
    return path, clean


def test_restore_removes_a_scratch_and_leaves_the_rest(scratched, tmp_path: Path) -> None:
    path, clean = scratched
    out = tmp_path / "restored.png"
    assert main(["restore", str(path), "-o", str(out), "--mask-out", str(tmp_path / "m.png")]) == 0
    damaged = np.asarray(Image.open(path))
    restored = np.asarray(Image.open(out))
    mask = np.asarray(Image.open(tmp_path / "m.png"))[..., 0] > 0
    assert mask[30:220, 150:152].all() and mask[60:63, 60:63].all()
    np.testing.assert_array_equal(restored[~mask], damaged[~mask])  # only the mask is touched
    err = np.abs(restored.astype(int) - clean.astype(int))
    assert err[30:220, 150:152].max() < 20 and err[60:63, 60:63].max() < 20


def test_mask_only_writes_the_mask(scratched, tmp_path: Path) -> None:
    path, _ = scratched
    out = tmp_path / "mask.png"
    assert main(["restore", str(path), "-o", str(out), "--mask-only"]) == 0
    mask = np.asarray(Image.open(out))[..., 0] > 0
    assert mask[30:220, 150:152].mean() > 0.95 and mask.mean() < 0.05


def test_bad_input_is_reported(scratched, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path, _ = scratched
    out = tmp_path / "out.png"
    out.write_bytes(b"keep me")
    assert main(["restore", str(path), "-o", str(out)]) == 2
    assert out.read_bytes() == b"keep me"
    assert main(["restore", str(path), "-o", str(path), "--overwrite"]) == 2
    assert "input image" in capsys.readouterr().err
    (tmp_path / "junk.png").write_bytes(b"not an image")
    assert main(["restore", str(tmp_path / "junk.png"), "-o", str(tmp_path / "x.png")]) == 1
    assert main(["restore", str(path), "-o", str(tmp_path / "y.png"), "--engine", "nope"]) == 2
    assert "valid engines" in capsys.readouterr().err
    assert main(["restore", str(path), "-o", str(tmp_path / "z.png"), "--sensitivity", "2"]) == 2
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "y.png").exists()


def test_denoise_runs_the_network_tile_by_tile(scratched, tmp_path: Path, monkeypatch, capsys) -> None:
    import torch

    from tests.engine.test_restore import _release

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two spinning threads crawl on a shared machine
    try:
        _check_denoise(scratched, tmp_path, monkeypatch, capsys, _release)
    finally:
        torch.set_num_threads(threads)


def _check_denoise(scratched, tmp_path: Path, monkeypatch, capsys, _release) -> None:

    path, _ = scratched
    monkeypatch.setenv("INPAINT_CHECKPOINT_DIR", str(tmp_path / "none"))
    out = tmp_path / "d.png"
    assert main(["restore", str(path), "-o", str(out), "--denoise"]) == 2
    assert "no restoration checkpoint" in capsys.readouterr().err and not out.exists()

    identity = _release(tmp_path / "restore_id.safetensors", identity=True)
    args = ["restore", str(path), "-o", str(out), "--denoise", "--restore-checkpoint", str(identity)]
    assert main([*args, "--no-defects", "--tile", "64"]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(path)))
    assert main([*args, "--overwrite"]) == 0  # then the defects are filled as usual
    assert np.abs(np.asarray(Image.open(out))[30:220, 150:152].astype(int) - 250).min() > 50
    assert main(["restore", str(path), "-o", str(tmp_path / "e.png"), "--no-defects"]) == 2


@pytest.mark.parametrize("detector", ["trained", "classical"])
def test_both_detectors_find_the_scratch_and_the_speck(scratched, tmp_path: Path, detector: str) -> None:
    path, _ = scratched
    out = tmp_path / "mask.png"
    args = ["restore", str(path), "-o", str(out), "--mask-only", "--detector", detector]
    assert main(args) == 0
    mask = np.asarray(Image.open(out))[..., 0] > 0
    # the trained network alone misses the middle of this long straight scratch; the classical
    # scratches it confirms cover it
    assert mask[30:220, 150:152].all() and mask[60:63, 60:63].all() and mask.mean() < 0.05


def test_without_the_trained_checkpoint_the_classical_detector_serves(
    scratched, tmp_path: Path, monkeypatch, capsys
) -> None:
    path, _ = scratched
    monkeypatch.setenv("INPAINT_CHECKPOINT_DIR", str(tmp_path / "empty"))
    out = tmp_path / "mask.png"
    assert main(["restore", str(path), "-o", str(out), "--mask-only"]) == 0
    assert "using the classical one" in capsys.readouterr().err
    mask = np.asarray(Image.open(out))[..., 0] > 0
    assert mask[30:220, 150:152].all() and mask[60:63, 60:63].all()


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"\x80\x04\x95" + b"\x00" * 40, "pickle"), (b"", "not a readable safetensors file")],
)
def test_a_broken_trained_detector_says_so(
    scratched, tmp_path: Path, monkeypatch, capsys, content: bytes, words: str
) -> None:
    path, _ = scratched
    folder = tmp_path / "ckpts"
    folder.mkdir()
    (folder / "defects_synthetic.safetensors").write_bytes(content)
    monkeypatch.setenv("INPAINT_CHECKPOINT_DIR", str(folder))
    out = tmp_path / "mask.png"
    assert main(["restore", str(path), "-o", str(out), "--mask-only"]) == 2
    err = capsys.readouterr().err
    assert words in err and "defects_synthetic.safetensors" in err and "not installed" not in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    assert main(["restore", str(path), "-o", str(out), "--mask-only", "--detector", "classical"]) == 0


def test_output_names_are_checked_before_any_work(scratched, tmp_path: Path, capsys) -> None:
    path, _ = scratched
    assert main(["restore", str(path), "-o", str(tmp_path / "out.xyz")]) == 2
    assert "cannot write .xyz" in capsys.readouterr().err
    same = tmp_path / "same.png"
    assert main(["restore", str(path), "-o", str(same), "--mask-out", str(same)]) == 2
    assert "--mask-out" in capsys.readouterr().err and not same.exists()
