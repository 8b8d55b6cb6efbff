"""The latent engine's GAN through the shared training loop: both objectives, resume, export."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from training_helpers import tiny_config

from inpaint_gui.engine import load_engine
from inpaint_gui.engine.latent import LatentEngine
from inpaint_gui.training import runs
from inpaint_gui.training.config import TrainConfig, apply_overrides
from inpaint_gui.training.export import export_run
from inpaint_gui.training.loop import train

GAN = ["engine=latent", "gan.z_dim=8", "gan.g_channels=8", "gan.d_channels=8", "gan.sample_steps=3"]


def _cfg(image_dir, *extra):
    return tiny_config(image_dir, *GAN, *extra)


@pytest.mark.parametrize("objective, figures", [("dcgan", set()), ("wgan-gp", {"gp"})])
def test_each_objective_trains_through_the_loop(image_dir, tmp_path, objective, figures):
    cfg = _cfg(image_dir, f"gan.objective={objective}", "steps=3", "run.sample_every=3")
    assert train(cfg, tmp_path / "run", progress_bar=False) == 3
    stats = runs.read_stats(tmp_path / "run")
    assert [r["step"] for r in stats] == [1, 2, 3]
    assert {"g_total", "d_total", "d_real", "d_fake"} | figures <= set(stats[-1])
    assert all(np.isfinite(v) for r in stats for v in r.values())
    assert (tmp_path / "run" / "samples" / "step_00000003.png").is_file()
    state = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "run"))
    has_bn = any("running_mean" in k for k in state["task"]["networks"]["discriminator"])
    assert has_bn == (objective == "dcgan")  # a WGAN-GP critic has no batch norm


def test_wgan_gp_runs_several_critic_updates_per_step(image_dir, tmp_path):
    cfg = _cfg(image_dir, "gan.objective=wgan-gp", "steps=1")
    assert cfg.gan.critic_updates == 5
    train(cfg, tmp_path / "run", progress_bar=False)
    state = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "run"))
    adam = state["task"]["optimizers"]
    assert adam["discriminator"]["state"][0]["step"].item() == 5
    assert adam["generator"]["state"][0]["step"].item() == 1


def test_resume_is_bit_exact(image_dir, tmp_path):
    train(_cfg(image_dir, "steps=4"), tmp_path / "a", progress_bar=False)
    train(_cfg(image_dir, "steps=2"), tmp_path / "b", progress_bar=False)
    train(_cfg(image_dir, "steps=4"), tmp_path / "b", resume=True, progress_bar=False)
    a = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "a"))["task"]
    b = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "b"))["task"]
    for net in ("generator", "discriminator", "ema"):
        for k, t in a["networks"][net].items():
            assert torch.equal(t, b["networks"][net][k]), f"{net}.{k}"
    sa, sb = runs.read_stats(tmp_path / "a"), runs.read_stats(tmp_path / "b")
    assert [r["g_total"] for r in sa] == [r["g_total"] for r in sb]


def test_export_then_load_engine_round_trip(image_dir, tmp_path):
    train(_cfg(image_dir, "steps=2"), tmp_path / "run", progress_bar=False)
    out = tmp_path / "latent.safetensors"
    info = export_run(tmp_path / "run", out, notes="test")
    assert info.engine == "latent" and info.resolution == 32 and info.steps == 2
    engine = load_engine("latent", checkpoint=out, device="cpu")
    assert isinstance(engine, LatentEngine)
    assert engine.generator.config.z_dim == 8 and engine.objective == "dcgan"
    # the release's generator is the run's EMA generator (float16 in the file)
    state = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "run"))["task"]["networks"]["ema"]
    for k, v in engine.generator.state_dict().items():
        if k.endswith("num_batches_tracked"):  # an integer step counter inference never reads: not shipped
            continue
        torch.testing.assert_close(v.float(), state[k].float(), atol=2e-3, rtol=2e-3)
    photo = np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    mask = np.zeros((40, 30), bool)
    mask[10:20, 5:15] = True
    engine.settings = type(engine.settings)(steps=2)
    fills = engine.inpaint(photo, mask, n=2, seed=1)
    assert len(fills) == 2 and all(np.array_equal(f.image[~mask], photo[~mask]) for f in fills)


def test_gan_settings_are_checked():
    base = TrainConfig().to_dict()
    with pytest.raises(ValueError, match="gan.objective"):
        TrainConfig.from_dict(apply_overrides(base, ["gan.objective=lsgan"]))
    with pytest.raises(ValueError, match="power of two"):
        TrainConfig.from_dict(apply_overrides(base, ["engine=latent", "data.resolution=48"]))
