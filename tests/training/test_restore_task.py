"""The restoration network's training through the shared loop: learns, resumes exactly, exports, loads."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from training_helpers import tiny_config

from inpaint_gui.core.degrade import DegradeConfig, degrade
from inpaint_gui.engine.checkpoint import read_release_info
from inpaint_gui.engine.restore import Restorer
from inpaint_gui.training import runs
from inpaint_gui.training.export import export_run
from inpaint_gui.training.loop import train

RESTORE = ("engine=restore", "restore.channels=8,16", "restore.blocks=1", "run.sample_every=2")


def test_train_resume_export_and_restore(image_dir, tmp_path):
    cfg = tiny_config(image_dir, "steps=4", *RESTORE)
    train(cfg, tmp_path / "a", progress_bar=False)
    train(tiny_config(image_dir, "steps=2", *RESTORE), tmp_path / "b", progress_bar=False)
    train(cfg, tmp_path / "b", resume=True, progress_bar=False)
    a = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "a"))["task"]["networks"]
    b = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "b"))["task"]["networks"]
    for net in ("generator", "discriminator", "ema"):
        assert all(torch.equal(a[net][k], b[net][k]) for k in a[net]), net
    assert (tmp_path / "a" / "samples" / "step_00000002.png").is_file()
    stats = runs.read_stats(tmp_path / "a")
    assert {"l1", "adv", "d_total"} <= stats[-1].keys()

    out = tmp_path / "restore_tiny.safetensors"
    info = export_run(tmp_path / "a", out)
    assert read_release_info(out).engine == "restore" and info.model_config == {
        "channels": [8, 16],
        "blocks": 1,
    }
    restorer = Restorer.from_checkpoint(out, "cpu")
    image = np.random.default_rng(0).integers(0, 256, (37, 45, 3), dtype=np.uint8)
    assert restorer.restore(image).shape == image.shape


def test_perceptual_loss_is_refused_without_its_network(image_dir, tmp_path):
    with pytest.raises(ValueError, match="LPIPS"):
        train(tiny_config(image_dir, "steps=1", *RESTORE, "restore.perceptual=1"), tmp_path / "p")


def test_degradations_are_reproducible_and_bounded():
    img = np.full((64, 64, 3), 128, np.uint8)
    a = degrade(img, np.random.default_rng(3))
    assert np.array_equal(a, degrade(img, np.random.default_rng(3)))
    assert not np.array_equal(a, degrade(img, np.random.default_rng(4)))
    clean = degrade(img, np.random.default_rng(3), DegradeConfig(0, 0, 0, 100, 100))
    assert np.abs(clean.astype(int) - 128).max() <= 2  # nothing but a near-lossless JPEG
    with pytest.raises(ValueError):
        DegradeConfig(jpeg_min=90, jpeg_max=10)
