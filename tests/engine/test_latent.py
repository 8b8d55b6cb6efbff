"""The latent-search engine on a tiny random GAN written by the real release saver."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from inpaint_gui.core.compose import InputError
from inpaint_gui.engine import Cancelled, load_engine
from inpaint_gui.engine.checkpoint import CheckpointError
from inpaint_gui.engine.latent import (
    LatentEngine,
    SearchSettings,
    context_weights,
    latent_search,
    membrane_blend,
    save_random_release,
)
from inpaint_gui.engine.pluralistic import save_random_release as save_pluralistic
from inpaint_gui.models.gan import DCDiscriminator, DCGenerator, GanConfig


@pytest.fixture(scope="module")
def latent_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_random_release(tmp_path_factory.mktemp("latent") / "latent.safetensors")


@pytest.fixture
def engine(latent_checkpoint: Path) -> LatentEngine:
    e = load_engine("latent", checkpoint=latent_checkpoint, device="cpu")
    assert isinstance(e, LatentEngine)
    e.settings = SearchSettings(steps=5, lr=0.1)
    return e


def test_known_pixels_are_untouched_and_seeds_differ(engine, photo, hole):
    out = engine.inpaint(photo, hole, n=3, seed=7)
    assert [c.seed for c in out] == [7, 8, 9]
    for c in out:
        assert c.image.shape == photo.shape and c.image.dtype == np.uint8
        assert np.array_equal(c.image[~hole], photo[~hole])
    assert not np.array_equal(out[0].image, out[1].image)
    assert not np.array_equal(out[1].image, out[2].image)


def test_deterministic_per_seed(engine, photo, hole):
    a = engine.inpaint(photo, hole, n=2, seed=3)
    b = engine.inpaint(photo, hole, n=2, seed=3)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.image, y.image)
    # a candidate alone, searched in a batch of one, lands within a grey level or two
    single = engine.inpaint(photo, hole, n=1, seed=4)[0]
    diff = np.abs(single.image.astype(int) - a[1].image.astype(int))
    assert diff.max() <= 2


def test_progress_per_step_and_cancel_between_steps(engine, photo, hole):
    seen: list[tuple[int, int, float]] = []
    engine.inpaint(photo, hole, n=2, seed=0, on_step=lambda s, t, loss: seen.append((s, t, loss)))
    assert [s for s, _, _ in seen] == [1, 2, 3, 4, 5] and all(t == 5 for _, t, _ in seen)
    assert all(np.isfinite(loss) for *_, loss in seen)

    steps: list[int] = []
    with pytest.raises(Cancelled):
        engine.inpaint(
            photo,
            hole,
            n=2,
            seed=0,
            on_step=lambda s, t, loss: steps.append(s),
            should_cancel=lambda: len(steps) >= 2,
        )
    assert steps == [1, 2]  # stopped after the step that saw the flag, not at the end
    assert engine._on_step is None and engine._should_cancel is None  # nothing kept for the next call


def test_previews_show_each_candidate_converging(engine, photo, hole):
    engine.settings = SearchSettings(steps=7, lr=0.1)
    engine.preview_every = 3
    seen: list[tuple[int, int, list[np.ndarray]]] = []
    out = engine.inpaint(photo, hole, n=3, seed=0, on_preview=lambda s, t, fills: seen.append((s, t, fills)))
    assert [(s, t) for s, t, _ in seen] == [(3, 7), (6, 7), (7, 7)]  # every 3rd step and the last
    res = engine.generator.config.resolution
    for _, _, fills in seen:
        assert len(fills) == 3  # one per candidate, all searched at once
        for fill in fills:
            # the region around the hole at the search's resolution, the photo's aspect kept
            assert fill.dtype == np.uint8 and fill.ndim == 3 and fill.shape[2] == 3
            assert max(fill.shape[:2]) == res and fill.shape[0] < fill.shape[1]
    assert not np.array_equal(seen[-1][2][0], seen[-1][2][1])  # candidates differ
    assert not np.array_equal(seen[0][2][0], seen[-1][2][0])  # and move as the search goes on
    assert engine._on_preview is None  # nothing kept for the next call
    assert len(out) == 3
    with pytest.raises(InputError, match="on_preview must be callable"):
        engine.inpaint(photo, hole, n=1, on_preview="not a function")


def test_search_finds_a_code_the_generator_can_reach():
    torch.manual_seed(0)
    config = GanConfig(resolution=16, z_dim=8, g_channels=8, d_channels=8)
    g, d = DCGenerator(config).eval(), DCDiscriminator(config).eval()
    z_star, z0 = torch.rand(2, 8) * 2 - 1
    with torch.no_grad():
        target = g(z_star[None])  # [1, 3, 16, 16]
    hole = torch.zeros(1, 1, 16, 16)
    hole[..., 4:12, 4:12] = 1
    losses: list[float] = []
    settings = SearchSettings(steps=60, lr=0.1, perceptual=0.0)
    found = latent_search(
        g, d, "dcgan", target, 1 - hole, hole, z0[None], settings, on_step=lambda _s, v, _f: losses.append(v)
    )
    assert len(losses) == 60 and losses[-1] < 0.5 * losses[0]
    with torch.no_grad():
        start = g(z0[None])
    inside = hole.bool().expand_as(target)
    assert (found - target)[inside].abs().mean() < 0.5 * (start - target)[inside].abs().mean()


def test_context_weights_favour_the_border():
    hole = torch.zeros(1, 1, 16, 16)
    hole[..., 6:10, 6:10] = 1
    w = context_weights(1 - hole, hole, 5)
    assert w[0, 0, 6, 6] == 0  # hole pixels carry no weight
    assert w[0, 0, 5, 7] > w[0, 0, 4, 7] > 0 == w[0, 0, 0, 0]  # nearer the hole weighs more


def test_membrane_blend_meets_the_photo_at_the_border():
    photo = np.full((20, 20, 3), 100, np.uint8)
    generated = np.full((20, 20, 3), 160.0, np.float32)
    generated[8:12, 8:12] += np.arange(4)[:, None, None] * 5  # detail inside the hole
    hole = np.zeros((20, 20), bool)
    hole[6:14, 6:14] = True
    out = membrane_blend(photo, generated, hole)
    assert abs(int(out[6, 6, 0]) - 100) <= 3  # colour offset removed at the border
    assert int(out[11, 10, 0]) - int(out[8, 10, 0]) == 15  # generated detail kept


def test_bad_checkpoints_give_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="for engine 'pluralistic'"):
        LatentEngine.from_checkpoint(save_pluralistic(tmp_path / "p.safetensors"), device="cpu")
    with pytest.raises(CheckpointError, match="not found"):
        LatentEngine.from_checkpoint(tmp_path / "missing.safetensors", device="cpu")
    with pytest.raises(ValueError, match="power of two"):
        GanConfig(resolution=48)


def test_a_release_holds_floating_point_weights_only(tmp_path):
    """Batch norm's integer step counters stay out of the file (release loading refuses integer
    tensors), and the networks still load from it."""
    from safetensors import safe_open

    from inpaint_gui.engine.latent import save_random_release

    path = save_random_release(tmp_path / "latent.safetensors")
    with safe_open(str(path), "pt") as f:
        assert not [k for k in f.keys() if not f.get_tensor(k).is_floating_point()]
    assert load_engine("latent", checkpoint=path, device="cpu").name == "latent"
