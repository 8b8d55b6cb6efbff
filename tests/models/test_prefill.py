"""The push-pull fill and the networks that start from it (PluralisticConfig.prefill)."""

from __future__ import annotations

import pytest
import torch

from inpaint_gui.models import PluralisticGenerator
from inpaint_gui.models.config import PluralisticConfig
from inpaint_gui.models.layers import push_pull_fill

SMALL = PluralisticConfig(
    channels=(8, 8, 16, 16), z_channels=4, attention_level=1, output_levels=3, prefill=True
)


def _hole(n: int, h: int, w: int) -> torch.Tensor:
    mask = torch.zeros(n, 1, h, w)
    mask[:, :, h // 4 : h // 2 + 3, w // 3 : w - 2] = 1
    return mask


@pytest.mark.parametrize("h, w", [(64, 64), (37, 53), (1, 9), (128, 32)])
def test_fill_keeps_visible_pixels_and_stays_in_their_range(h, w):
    torch.manual_seed(0)
    image = torch.rand(2, 3, h, w)
    mask = _hole(2, h, w)
    fill = push_pull_fill(image, 1 - mask)
    assert fill.shape == image.shape
    seen = mask == 0
    assert torch.equal(fill.masked_select(seen.expand_as(fill)), image.masked_select(seen.expand_as(image)))
    # a weighted mean of visible pixels: never outside their range, per image and channel
    for i in range(2):
        for c in range(3):
            visible = image[i, c][seen[i, 0]]
            assert visible.min() - 1e-6 <= fill[i, c].min() and fill[i, c].max() <= visible.max() + 1e-6


def test_fill_is_smooth_and_follows_the_surroundings():
    # left half dark, right half bright, a hole across the middle: the fill ramps between them
    image = torch.zeros(1, 3, 64, 64)
    image[..., 32:] = 1
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 16:48, 16:48] = 1
    fill = push_pull_fill(image, 1 - mask)[0, 0, 32]
    assert fill[17] < 0.3 and fill[46] > 0.7
    assert bool((fill[16:48].diff() >= -1e-6).all())  # monotonic, no ringing


def test_constant_image_fills_with_its_colour_and_an_empty_hole_changes_nothing():
    image = torch.full((1, 3, 40, 24), 0.25)
    assert torch.allclose(push_pull_fill(image, 1 - _hole(1, 40, 24)), image)
    rand = torch.rand(1, 3, 40, 24)
    assert torch.equal(push_pull_fill(rand, torch.ones(1, 1, 40, 24)), rand)


def test_a_new_prefill_network_outputs_the_fill_at_every_scale():
    torch.manual_seed(0)
    g = PluralisticGenerator(SMALL)
    image, mask = torch.rand(2, 3, 32, 48) * 2 - 1, _hole(2, 32, 48)
    enc = g.encode(image, mask)
    assert enc.prefill is not None
    outs = g.decode(enc.prior_mu, enc, mask, all_levels=True)
    assert [o.shape[-1] for o in outs] == [12, 24, 48]
    for out in outs:
        expected = torch.nn.functional.interpolate(enc.prefill, size=out.shape[-2:], mode="area")
        assert torch.allclose(out, expected, atol=1e-6)
    # the zero output layer gets gradients, so the correction opens; then noise changes the output
    loss = (g.decode(enc.prior_mu, enc, mask)[-1] - image).abs().mean()
    loss.backward()
    assert g.decoder.to_full[1].weight.grad.abs().sum() > 0
    with torch.no_grad():
        torch.nn.init.normal_(g.decoder.to_full[1].weight, std=0.05)
    a = g.sample(enc, torch.randn_like(enc.prior_mu), mask)
    b = g.sample(enc, torch.randn_like(enc.prior_mu), mask)
    assert not torch.allclose(a, b)
    assert a.min() >= -1 and a.max() <= 1


def test_posterior_sees_a_fill_of_the_hole_content():
    g = PluralisticGenerator(SMALL)
    image, mask = torch.rand(1, 3, 32, 32) * 2 - 1, _hole(1, 32, 32)
    mu, std = g.infer_posterior(image, mask)
    assert mu.shape == std.shape == (1, 4, 4, 4) and bool((std > 0).all())
