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


def pyramid(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """x at 1/2**level for level = levels-1 .. 0 (coarse to fine, like the generator's outputs)."""
    out = [x]
    for _ in range(levels - 1):
        out.append(F.avg_pool2d(out[-1], 2))
    return out[::-1]
