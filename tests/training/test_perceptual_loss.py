"""The trainer's perceptual lever (loss.perceptual: frozen LPIPS-Alex) and starting from a release file.

Tests that need the LPIPS weights are marked `uses_metric_weights` and skipped, with the reason,
where `inpaint metric-weights` has not been run.
"""

from __future__ import annotations

import json

import pytest
import torch
from training_helpers import tiny_config

from inpaint_gui.engine.checkpoint import ReleaseInfo, load_release, save_release
from inpaint_gui.engine.pluralistic import build_generator, inference_state_dict
from inpaint_gui.models import PluralisticGenerator, fold_spectral_norm
from inpaint_gui.training import losses as L
from inpaint_gui.training import perceptual as pc
from inpaint_gui.training.config import TrainConfig
from inpaint_gui.training.loop import train
from inpaint_gui.training.pluralistic_task import PluralisticTask

_HAVE = (pc.weights_dir() / pc.LPIPS_SOURCE.cached).is_file()
needs_weights = pytest.mark.skipif(
    not _HAVE, reason=f"LPIPS weights not in {pc.weights_dir()}: {pc.ENABLE_HINT}"
)


def _images(n: int = 2, size: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(n, 3, size // 8, size // 8, generator=g)
    return torch.nn.functional.interpolate(base, size=(size, size), mode="bilinear") * 2 - 1


def test_the_option_is_validated_in_config(image_dir):
    for bad in ("loss.perceptual=-1", "loss.perceptual_pool=0"):
        with pytest.raises(ValueError, match=bad.split("=")[0]):
            tiny_config(image_dir, bad)
    assert TrainConfig().loss.perceptual == 0.0  # off by default


def test_missing_weights_are_named(image_dir):
    # without the marker, conftest points the weights folder at an empty one
    cfg = tiny_config(image_dir, "loss.perceptual=1")
    with pytest.raises(ValueError, match="inpaint metric-weights"):
        PluralisticTask(cfg, torch.device("cpu"))


@pytest.mark.uses_metric_weights
@needs_weights
def test_perceptual_loss_is_zero_for_identical_images_and_trains_the_generator_only():
    lpips = pc.load_lpips().requires_grad_(False)
    x = _images()
    for pool, size in ((1, 64), (2, 64), (2, 32)):  # 32 px pooled to 16 px is enlarged to LPIPS' minimum
        y = _images(size=size)
        assert L.perceptual_loss(lpips, y, y, pool).item() == 0.0
    noisy = (x + 0.3 * torch.randn_like(x)).clamp(-1, 1)
    assert L.perceptual_loss(lpips, noisy, x).item() > 0.05
    assert L.perceptual_loss(lpips, noisy, x, 2).item() > 0.0
    gen = torch.nn.Conv2d(3, 3, 3, padding=1)
    for amp in (False, True):  # float32 and bf16 autocast
        gen.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            loss = L.perceptual_loss(lpips, gen(x), x, 2)
        assert loss.dtype == torch.float32 and torch.isfinite(loss) and loss.item() > 0
        loss.backward()
        assert gen.weight.grad is not None and gen.weight.grad.abs().sum() > 0
        assert all(p.grad is None for p in lpips.parameters())


@pytest.mark.uses_metric_weights
@needs_weights
def test_a_run_trains_with_the_perceptual_loss(image_dir, tmp_path):
    cfg = tiny_config(image_dir, "steps=3", "loss.perceptual=5", "loss.perceptual_pool=2")
    assert train(cfg, tmp_path / "run", progress_bar=False) == 3
    stats = [json.loads(line) for line in (tmp_path / "run" / "stats.jsonl").read_text().splitlines()]
    values = [s["perceptual"] for s in stats if "perceptual" in s]
    assert len(values) == 3 and all(0 < v < 2 for v in values)
    lpips_names = {k for k, _ in pc.load_lpips().state_dict().items()}
    saved = torch.load(sorted((tmp_path / "run" / "checkpoints").glob("*.pt"))[-1], weights_only=True)
    assert not any(k in lpips_names for net in saved["task"]["networks"].values() for k in net)


def _trained_like_release(cfg: TrainConfig, path, seed: int = 1) -> PluralisticGenerator:
    """A release as export writes one: a spectral-norm generator, norm folded, posterior dropped."""
    torch.manual_seed(seed)
    g = PluralisticGenerator(cfg.model).eval()
    fold_spectral_norm(g)
    plain = {**cfg.model.to_dict(), "spectral_norm": False}
    info = ReleaseInfo(engine="pluralistic", model_config=plain, resolution=32, dataset="test", steps=0)
    save_release(path, inference_state_dict(g), info)
    state, info = load_release(path)
    return build_generator(path, info, state).eval()


def test_a_run_starts_from_a_release_file(image_dir, tmp_path, caplog):
    cfg = tiny_config(image_dir, "steps=1", "model.prefill=true")
    rel = tmp_path / "rel.safetensors"
    plain = _trained_like_release(cfg, rel)
    task = PluralisticTask(cfg, torch.device("cpu"))
    fresh = task.init_from_release(rel)
    assert any("posterior" in f for f in fresh) and any("discriminator" in f for f in fresh)
    x, m = _images(2, 32), torch.zeros(2, 1, 32, 32)
    m[:, :, 8:24, 6:20] = 1
    with torch.no_grad():
        for net in (task.ema.eval(), task.generator.eval()):
            e1, e2 = plain.encode(x, m), net.encode(x, m)
            z = torch.randn_like(e1.prior_mu)
            diff = (plain.sample(e1, z, m) - net.sample(e2, z, m)).abs().max().item()
            assert diff < 0.02, diff
    # through the loop: run.init names the release file
    with caplog.at_level("INFO"):
        train(
            tiny_config(image_dir, "steps=1", "model.prefill=true", f"run.init={rel}"),
            tmp_path / "r",
            progress_bar=False,
        )
    assert "generator starts from release" in caplog.text
    # fusion blocks may be added to a release without them: only they start fresh
    fused_task = PluralisticTask(
        tiny_config(image_dir, "steps=1", "model.prefill=true", "model.fusion=true"), torch.device("cpu")
    )
    assert any("fusion" in f for f in fused_task.init_from_release(rel))
    with torch.no_grad():
        e1, e2 = plain.encode(x, m), fused_task.ema.eval().encode(x, m)
        z = torch.randn_like(e1.prior_mu)
        assert (plain.sample(e1, z, m) - fused_task.ema.sample(e2, z, m)).abs().max() < 0.06
    # another architecture is refused with the settings that differ
    other = tiny_config(image_dir, "steps=1", "model.z_channels=8", f"run.init={rel}")
    with pytest.raises(ValueError, match=r"model.z_channels \(8 here, 4 there\)"):
        train(other, tmp_path / "o", progress_bar=False)
    with pytest.raises(ValueError, match="nowhere.safetensors"):
        train(
            tiny_config(image_dir, "steps=1", f"run.init={tmp_path / 'nowhere.safetensors'}"),
            tmp_path / "n",
            progress_bar=False,
        )
