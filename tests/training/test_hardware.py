"""run.amp and run.memory_format: what "auto" picks per device, and that the fast CPU settings
train the same networks as float32 in PyTorch's default layout, up to bf16 rounding."""

from __future__ import annotations

import pytest
import torch
from training_helpers import tiny_config

from inpaint_gui.engine import device as D
from inpaint_gui.engine.device import use_bf16
from inpaint_gui.training.task import make_task, memory_format

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


@pytest.mark.parametrize("amx", [True, False])
def test_auto_bf16_on_cuda_and_on_cpus_with_amx(monkeypatch, amx):
    monkeypatch.setattr(D, "cpu_has_amx", lambda: amx)
    assert use_bf16(CUDA, "auto") and use_bf16(CPU, "auto") is amx
    for dev in (CPU, CUDA):
        assert use_bf16(dev, "bf16") and not use_bf16(dev, "off")


def test_auto_layout_is_channels_last_on_cpu_only():
    assert memory_format(CPU, "auto") == torch.channels_last
    assert memory_format(CUDA, "auto") == torch.contiguous_format
    assert memory_format(CUDA, "channels_last") == torch.channels_last
    assert memory_format(CPU, "contiguous") == torch.contiguous_format


def _weights(task):
    return [p for p in task.generator.parameters() if p.dim() == 4]


def _batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    image = (torch.rand(4, 3, 32, 32, generator=g) * 255).to(torch.uint8)
    mask = torch.zeros(4, 1, 32, 32, dtype=torch.uint8)
    mask[:, :, 8:24, 6:20] = 1
    return {"image": image, "mask": mask}


def test_fast_cpu_settings_train_the_same_networks(image_dir):
    plain = tiny_config(image_dir, "run.amp=off", "run.memory_format=contiguous")
    fast = tiny_config(image_dir, "run.amp=bf16", "run.memory_format=channels_last")
    tasks = []
    for cfg in (plain, fast):
        torch.manual_seed(0)
        tasks.append(make_task(cfg, CPU))
    a, b = tasks
    assert all(p.is_contiguous() for p in _weights(a))
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in _weights(b))
    for wa, wb in zip(_weights(a), _weights(b), strict=True):
        assert torch.equal(wa, wb)  # same initialisation, whatever the layout

    for step in range(3):
        torch.manual_seed(step)
        la = a.train_step(_batch(step), step)
        torch.manual_seed(step)
        lb = b.train_step(_batch(step), step)
    # Within 1% after three steps (measured: at most 0.2% on these; other batches give 2-4%).
    for key in ("app_rec", "kl_rec", "kl_gen", "d_real"):
        assert lb[key].item() == pytest.approx(la[key].item(), rel=0.01), key

    state, arch = b.release()  # a release from a channels_last run is plain and loadable
    assert all(t.is_contiguous() for t in state.values())
    assert arch["spectral_norm"] is False
