from __future__ import annotations

import numpy as np
import torch
from training_helpers import tiny_config

from inpaint_gui.engine import load_engine
from inpaint_gui.engine.checkpoint import read_release_info
from inpaint_gui.engine.pluralistic import latent_noise
from inpaint_gui.training import runs
from inpaint_gui.training.config import TrainConfig
from inpaint_gui.training.export import export_run
from inpaint_gui.training.loop import train
from inpaint_gui.training.task import make_task


def test_export_then_load_engine_round_trip(image_dir, tmp_path):
    cfg = tiny_config(image_dir, "steps=2")
    assert cfg.model.spectral_norm  # the release must fold it
    train(cfg, tmp_path / "run", progress_bar=False)
    out = tmp_path / "ckpt" / "tiny.safetensors"
    info = export_run(tmp_path / "run", out, half=False, evaluation={"overall": {"psnr": 1.0}})
    assert info.steps == 2 and info.resolution == 32 and info.dataset == str(image_dir)
    assert read_release_info(out).evaluation == {"overall": {"psnr": 1.0}}
    assert info.model_config["spectral_norm"] is False

    engine = load_engine("pluralistic", checkpoint=out, device="cpu")
    assert not any(k.startswith("posterior.") for k in engine.generator.state_dict())
    image = np.random.default_rng(0).integers(0, 255, (40, 48, 3), dtype=np.uint8)
    mask = np.zeros((40, 48), bool)
    mask[10:30, 12:30] = True
    cands = engine.inpaint(image, mask, n=3, seed=5)
    assert len(cands) == 3 and np.array_equal(cands[0].image[~mask], image[~mask])
    assert not np.array_equal(cands[0].image, cands[1].image)

    # the released weights compute what the EMA generator (spectral norm unfolded) computes
    state = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "run"))
    task = make_task(TrainConfig.from_dict(state["config"]), torch.device("cpu"))
    task.load_state_dict(state["task"], optimizers=False)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    m = torch.zeros(1, 1, 32, 32)
    m[..., 8:24, 8:20] = 1
    with torch.no_grad():
        enc_a, enc_b = task.ema.encode(x, m), engine.generator.encode(x, m)
        noise = latent_noise(3, tuple(enc_a.prior_mu.shape[1:]))[None]
        a, b = task.ema.sample(enc_a, noise, m), engine.generator.sample(enc_b, noise, m)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_half_precision_export_is_smaller(image_dir, tmp_path):
    train(tiny_config(image_dir, "steps=1"), tmp_path / "run", progress_bar=False)
    full, half = tmp_path / "full.safetensors", tmp_path / "half.safetensors"
    export_run(tmp_path / "run", full, half=False)
    export_run(runs.latest_checkpoint(tmp_path / "run"), half, half=True)
    assert half.stat().st_size < 0.7 * full.stat().st_size
    load_engine("pluralistic", checkpoint=half, device="cpu")


def test_damaged_checkpoints_fail_export_in_one_line(image_dir, tmp_path):
    import pytest

    train(tiny_config(image_dir, "steps=1"), tmp_path / "run", progress_bar=False)
    ckpt = runs.latest_checkpoint(tmp_path / "run")
    state = runs.load_checkpoint(ckpt)
    net = state["task"]["networks"]["generator"]
    key = next(k for k, v in net.items() if v.ndim == 4)
    net[key] = torch.zeros(3, 3, 3, 3)
    wrong = tmp_path / "wrong.pt"
    torch.save(state, wrong)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    for path, words in ((wrong, "size mismatch"), (empty, "unreadable training checkpoint")):
        with pytest.raises(runs.RunError, match=words) as caught:
            export_run(path, tmp_path / "out.safetensors")
        assert "\n" not in str(caught.value) and str(path) in str(caught.value)
    assert not (tmp_path / "out.safetensors").exists()


def test_model_settings_too_large_are_refused_before_building(image_dir):
    import pytest

    cfg = tiny_config(image_dir, "model.channels=800,800,800,800")  # 238 M parameters
    with pytest.raises(ValueError, match="parameters.*the limit is"):
        make_task(cfg, torch.device("cpu"))
