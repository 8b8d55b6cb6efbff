"""Loss functions shared by training tasks; all return scalar float32 tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_loss(real: torch.Tensor, fake: torch.Tensor, kind: str) -> torch.Tensor:
    """Discriminator loss on logit maps of real and generated images."""
    real, fake = real.float(), fake.float()
    if kind == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    if kind == "lsgan":
        return ((real - 1) ** 2).mean() + (fake**2).mean()
    raise ValueError(f"unknown GAN loss {kind!r}")


def g_loss(fake: torch.Tensor, kind: str) -> torch.Tensor:
    """Generator's adversarial loss on the discriminator's logits for its images."""
    fake = fake.float()
    if kind == "hinge":
        return -fake.mean()
    if kind == "lsgan":
        return ((fake - 1) ** 2).mean()
    raise ValueError(f"unknown GAN loss {kind!r}")


def kl_normal(mu1: torch.Tensor, std1: torch.Tensor, mu2: torch.Tensor, std2: torch.Tensor) -> torch.Tensor:
    """KL(N(mu1, std1^2) || N(mu2, std2^2)) per element, averaged; std2 may broadcast ([N, 1, 1, 1])."""
    mu1, std1, mu2, std2 = mu1.float(), std1.float(), mu2.float(), std2.float()
    var_ratio = (std1 / std2) ** 2
    term = ((mu1 - mu2) / std2) ** 2
    return 0.5 * (var_ratio + term - 1 - torch.log(var_ratio)).mean()


def masked_l1(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean absolute error over all elements; weight [N, 1, H, W] in [0, 1] zeroes what it excludes."""
    diff = (pred.float() - target.float()).abs()
    if weight is not None:
        diff = diff * weight
    return diff.mean()


def lowpass_l1(fake: torch.Tensor, real: torch.Tensor, hole: torch.Tensor, pool: int) -> torch.Tensor:
    """L1 between fake and real after pool x pool average pooling, weighted by each cell's hole share.

    Cells of known pixels count zero, so only the hole's coarse content (layout, colour) is pulled
    towards the photo; detail finer than a cell is left free. fake, real: [N, 3, H, W]; hole:
    [N, 1, H, W], 1 = hole. Sizes that do not divide by pool keep the partial cells (ceil_mode).
    """
    f, r, m = (F.avg_pool2d(t.float(), pool, ceil_mode=True) for t in (fake, real, hole))
    return masked_l1(f, r, m)


def spread_hinge(
    a: torch.Tensor, b: torch.Tensor, hole: torch.Tensor, target: float, pool: int = 1
) -> torch.Tensor:
    """How far two fills of the same images are from differing by target inside the hole.

    Both fills and the hole are first average-pooled in pool x pool cells (ceil_mode), so with pool
    > 1 pixel noise averages out and only differences of layout and colour count. Per image, the
    mean |a - b| over the cells, each weighted by its share of hole; relu(target - that), averaged
    over images. Past the target it costs nothing, so the push for variety stops there.
    a, b: [N, 3, H, W]; hole: [N, 1, H, W], 1 = hole; images without a hole count 0.
    """
    a, b, hole = (F.avg_pool2d(t.float(), pool, ceil_mode=True) for t in (a, b, hole))
    diff = (a - b).abs().mean(dim=1, keepdim=True)
    area = hole.sum(dim=(1, 2, 3))
    spread = (diff * hole).sum(dim=(1, 2, 3)) / area.clamp_min(1e-6)
    return (F.relu(target - spread) * (area > 0)).mean()


def pyramid(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """x at 1/2**level for level = levels-1 .. 0 (coarse to fine, like the generator's outputs)."""
    out = [x]
    for _ in range(levels - 1):
        out.append(F.avg_pool2d(out[-1], 2))
    return out[::-1]


def band_energy(image: torch.Tensor, hole: torch.Tensor, bands: int = 3) -> torch.Tensor:
    """Mean absolute response of each Laplacian-pyramid band inside the hole: [N, bands].

    Band k is level k minus its 2x-blurred, re-enlarged self (detail at 1/2**k scale), averaged
    over colour channels and over the hole's pixels at that level. image: [N, 3, H, W]; hole:
    [N, 1, H, W], 1 = hole. An image (or hole) too small for a band gives 0 there.
    """
    x, m = image.float(), hole.float()
    out = []
    for _ in range(bands):
        if min(x.shape[-2:]) < 2:
            out.append(x.new_zeros(x.shape[0]))
            continue
        down = F.avg_pool2d(x, 2, ceil_mode=True)
        detail = (x - F.interpolate(down, size=x.shape[-2:], mode="bilinear", align_corners=False)).abs()
        area = m.sum(dim=(1, 2, 3)).clamp_min(1.0)
        out.append((detail.mean(dim=1, keepdim=True) * m).sum(dim=(1, 2, 3)) / area)
        x, m = down, (F.avg_pool2d(m, 2, ceil_mode=True) > 0.5).float()
    return torch.stack(out, dim=1)


def texture_loss(
    fake: torch.Tensor, real: torch.Tensor, hole: torch.Tensor, eps: float = 0.01
) -> torch.Tensor:
    """How far the fill's amount of detail, per pyramid band, is from the photo's in the same hole.

    |log(eps + E_fake) - log(eps + E_real)| per image and band, averaged (E = band_energy). It
    compares how much texture there is, not where, so it leaves candidates free to differ, and it
    needs no pretrained network. A blurred fill scores high; so does one noisier than the photo.
    eps (in [-1, 1] units, ~1.3 grey levels) keeps flat holes (sky) from dominating.
    """
    e_fake = band_energy(fake, hole)
    with torch.no_grad():
        e_real = band_energy(real, hole)
    return (torch.log(eps + e_fake) - torch.log(eps + e_real)).abs().mean()


LPIPS_MIN_SIDE = 32  # AlexNet's two 3x3 poolings need conv1 maps of at least 7 px


def perceptual_loss(
    lpips: torch.nn.Module, fake: torch.Tensor, real: torch.Tensor, pool: int = 1
) -> torch.Tensor:
    """Mean LPIPS between fake and real ([N, 3, H, W] in [-1, 1]) after pool x pool average pooling.

    lpips: a frozen LPIPSAlex (its weights take no gradient; fake does). Images whose pooled side
    is under LPIPS_MIN_SIDE are enlarged (bilinear) to it first. 0 for identical images.
    """
    f, r = fake, real.detach()
    if pool > 1:
        f, r = F.avg_pool2d(f, pool, ceil_mode=True), F.avg_pool2d(r, pool, ceil_mode=True)
    side = min(f.shape[-2:])
    if side < LPIPS_MIN_SIDE:
        size = [max(LPIPS_MIN_SIDE, round(s * LPIPS_MIN_SIDE / side)) for s in f.shape[-2:]]
        f = F.interpolate(f, size=size, mode="bilinear", align_corners=False)
        r = F.interpolate(r, size=size, mode="bilinear", align_corners=False)
    return lpips(f, r).float().mean()
