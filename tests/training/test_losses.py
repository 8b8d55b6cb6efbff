from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaint_gui.training.losses import band_energy, lowpass_l1, spread_hinge, texture_loss


def _texture(seed: int, n: int = 2, size: int = 64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 3, size, size, generator=g) * 2 - 1) * 0.5


def _hole(n: int = 2, size: int = 64) -> torch.Tensor:
    mask = torch.zeros(n, 1, size, size)
    mask[..., 16:48, 8:56] = 1
    return mask


def test_blur_lowers_every_band_and_a_flat_image_has_none():
    real, hole = _texture(0), _hole()
    blurred = F.avg_pool2d(real, 5, stride=1, padding=2)
    e_real, e_blur = band_energy(real, hole), band_energy(blurred, hole)
    assert e_real.shape == (2, 3)
    assert bool((e_blur < 0.6 * e_real).all())
    assert torch.equal(band_energy(torch.full_like(real, 0.3), hole), torch.zeros(2, 3))


def test_the_loss_asks_how_much_detail_not_where():
    real, hole = _texture(0), _hole()
    other = _texture(1)  # the same kind of texture, other pixels: a different, equally good fill
    blurred = F.avg_pool2d(real, 5, stride=1, padding=2)
    assert texture_loss(real, real, hole) == 0
    assert texture_loss(other, real, hole) < 0.05
    assert texture_loss(blurred, real, hole) > 0.5
    assert texture_loss(real * 3, real, hole) > 0.5  # noisier than the photo is penalised too
    # L1 ranks them the other way round: it prefers the blur to a different texture
    assert (blurred - real).abs().mean() < (other - real).abs().mean()


def test_gradients_reach_the_fill_only_in_the_hole():
    real, hole = _texture(0), _hole()
    fake = F.avg_pool2d(real, 3, stride=1, padding=1).requires_grad_(True)
    texture_loss(fake, real, hole).backward()
    grad = fake.grad.abs().sum(dim=1, keepdim=True)
    assert grad[hole > 0].sum() > 0
    far = torch.ones_like(hole)
    far[..., 8:56, 0:64] = 0  # rows well away from the hole (band filters reach a few pixels)
    assert grad[far > 0].sum() == 0


def test_tiny_images_and_empty_holes_stay_finite():
    x = torch.rand(1, 3, 3, 5)
    assert torch.isfinite(texture_loss(x, x.flip(-1), torch.ones(1, 1, 3, 5)))
    assert torch.isfinite(texture_loss(x, x, torch.zeros(1, 1, 3, 5)))


def test_lowpass_l1_ties_coarse_colour_and_leaves_detail_free():
    real, hole = _texture(0), _hole()
    # detail rearranged inside each 8x8 cell: the cells' means, so the loss, do not change
    n, c, h, w = real.shape
    cells = real.reshape(n, c, h // 8, 8, w // 8, 8)
    shuffled = cells.flip(3).flip(5).reshape(n, c, h, w)
    fill = hole * shuffled + (1 - hole) * real
    assert lowpass_l1(fill, real, hole, 8) < 1e-6
    assert lowpass_l1(fill, real, hole, 1) > 0.05  # at full resolution the same fill is far off
    # a colour cast in the hole is what it pulls back, in proportion to the hole's share of the image
    cast = real + 0.2 * hole
    share = hole.mean().item()
    assert lowpass_l1(cast, real, hole, 8).item() == pytest.approx(0.2 * share, rel=0.05)
    # known pixels are not its business
    assert lowpass_l1(real + 0.2 * (1 - hole), real, hole, 8).item() < 0.2 * share * 0.1


def test_spread_hinge_rewards_fills_that_differ_in_the_hole_up_to_the_target():
    real, hole = _texture(0), _hole()
    same = spread_hinge(real, real, hole, 0.1)
    assert same.item() == pytest.approx(0.1)  # identical candidates pay the whole target
    # fills differing by 0.06 everywhere in the hole pay what is missing: 0.04
    apart = spread_hinge(real, real + 0.06 * hole, hole, 0.1)
    assert apart.item() == pytest.approx(0.04, abs=1e-5)
    # past the target nothing more is asked (no push towards noise), and no gradient flows
    far = (real + 0.3 * hole).requires_grad_()
    loss = spread_hinge(real, far, hole, 0.1)
    loss.backward()
    assert loss.item() == 0 and far.grad.abs().max() == 0
    # differences outside the hole do not count; images without a hole cost nothing
    assert spread_hinge(real, real + 0.5 * (1 - hole), hole, 0.1).item() == pytest.approx(0.1)
    assert spread_hinge(real, real, torch.zeros_like(hole), 0.1).item() == 0


def test_spread_hinge_with_pooling_ignores_pixel_noise_and_sees_colour():
    real, hole = _texture(0), _hole()  # hole edges fall on 8-pixel cell borders
    g = torch.Generator().manual_seed(1)
    flicker = torch.where(torch.rand(real.shape, generator=g) < 0.5, 0.2, -0.2)
    # +-0.2 per pixel: a big difference pixel by pixel, almost none once 8x8 cells are averaged
    noisy = real + flicker * hole
    assert spread_hinge(real, noisy, hole, 0.1).item() == 0
    assert spread_hinge(real, noisy, hole, 0.1, pool=8).item() > 0.07  # pooled: ~0.02 of 0.2 left
    # a different colour over the hole is a difference at any pooling
    assert spread_hinge(real, real + 0.2 * hole, hole, 0.1, pool=8).item() == 0
