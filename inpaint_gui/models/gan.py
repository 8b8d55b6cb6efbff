"""An unconditional DCGAN-style generator and discriminator (Radford et al. 2016), for latent search.

The generator maps z in [-1, 1]^z_dim to an image in [-1, 1]; the discriminator maps an image to one
logit. With the WGAN-GP objective (Gulrajani et al. 2017) the discriminator is a critic and has no
batch normalisation (the gradient penalty is per sample), so `norm` is "none" there.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

GAN_OBJECTIVES = ("dcgan", "wgan-gp")
DISC_NORMS = ("batch", "none")


@dataclass(frozen=True)
class GanConfig:
    """Architecture of the generator / discriminator pair."""

    resolution: int = 64  # output side; a power of two >= 16
    z_dim: int = 100
    g_channels: int = 64  # width of the generator's last hidden layer; doubles per level upwards
    d_channels: int = 64  # width of the discriminator's first layer; doubles per level downwards
    max_channels: int = 512
    d_norm: str = "batch"  # "batch" (DCGAN) or "none" (a WGAN-GP critic)

    def __post_init__(self) -> None:
        r = self.resolution
        if r < 16 or r & (r - 1):
            raise ValueError(f"GAN resolution must be a power of two >= 16, got {r}")
        if self.z_dim < 1:
            raise ValueError(f"z_dim must be >= 1, got {self.z_dim}")
        if min(self.g_channels, self.d_channels, self.max_channels) < 4:
            raise ValueError("GAN channel counts must be >= 4")
        if self.d_norm not in DISC_NORMS:
            raise ValueError(f"d_norm must be one of {DISC_NORMS}, got {self.d_norm!r}")

    @property
    def levels(self) -> int:
        """Upsampling steps from 4x4 to the resolution."""
        return int(math.log2(self.resolution)) - 2

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GanConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown GAN settings: {', '.join(sorted(unknown))}")
        return cls(**d)


def _width(base: int, level: int, cap: int) -> int:
    return min(base * 2**level, cap)


class DCGenerator(nn.Module):
    """z [N, z_dim] -> image [N, 3, R, R] in [-1, 1] (transposed convolutions, BN, ReLU, tanh)."""

    def __init__(self, config: GanConfig) -> None:
        super().__init__()
        self.config = config
        c, n = config.g_channels, config.levels
        top = _width(c, n - 1, config.max_channels)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(config.z_dim, top, 4, 1, 0, bias=False),
            nn.BatchNorm2d(top),
            nn.ReLU(inplace=True),
        ]
        for i in range(n - 1, 0, -1):  # 4x4 -> R/2 x R/2
            cin, cout = _width(c, i, config.max_channels), _width(c, i - 1, config.max_channels)
            layers += [
                nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(True),
            ]
        layers += [nn.ConvTranspose2d(c, 3, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        _init_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.config.z_dim:
            raise ValueError(f"z must be [N, {self.config.z_dim}], got {tuple(z.shape)}")
        return self.net(z[:, :, None, None])  # [N, 3, R, R]


class DCDiscriminator(nn.Module):
    """image [N, 3, R, R] in [-1, 1] -> logit [N] (strided convolutions, LeakyReLU)."""

    def __init__(self, config: GanConfig) -> None:
        super().__init__()
        self.config = config
        c, n = config.d_channels, config.levels
        layers: list[nn.Module] = [nn.Conv2d(3, c, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for i in range(1, n):  # R/2 -> 4x4
            cin, cout = _width(c, i - 1, config.max_channels), _width(c, i, config.max_channels)
            layers.append(nn.Conv2d(cin, cout, 4, 2, 1, bias=config.d_norm == "none"))
            if config.d_norm == "batch":
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        layers.append(nn.Conv2d(_width(c, n - 1, config.max_channels), 1, 4, 1, 0))
        self.net = nn.Sequential(*layers)
        _init_weights(self)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        r = self.config.resolution
        if image.ndim != 4 or tuple(image.shape[1:]) != (3, r, r):
            raise ValueError(f"image must be [N, 3, {r}, {r}], got {tuple(image.shape)}")
        return self.net(image).flatten()  # [N]


def _init_weights(module: nn.Module) -> None:
    """DCGAN's initialisation: convolutions N(0, 0.02), batch-norm scales N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
