"""A small residual U-Net against noise, grain, JPEG blocking and mild blur: output = input + f(input)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class _Block(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(ch, ch, 3, padding=1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class RestoreNet(nn.Module):
    """Input and output [N, 3, H, W] in [-1, 1]; H and W multiples of `stride`.

    The last convolution starts at zero, so an untrained network returns its input.
    """

    def __init__(self, channels: Sequence[int] = (32, 64, 96), blocks: int = 2) -> None:
        super().__init__()
        ch = [int(c) for c in channels]
        if len(ch) < 1 or min(ch) < 4 or blocks < 1:
            raise ValueError(f"bad RestoreNet shape: channels {channels}, blocks {blocks}")
        self.stride = 2 ** (len(ch) - 1)
        self.stem = nn.Conv2d(3, ch[0], 3, padding=1)
        self.enc = nn.ModuleList(nn.Sequential(*(_Block(c) for _ in range(blocks))) for c in ch)
        self.down = nn.ModuleList(
            nn.Conv2d(a, b, 4, stride=2, padding=1) for a, b in zip(ch[:-1], ch[1:], strict=True)
        )
        self.up = nn.ModuleList(
            nn.Sequential(nn.Conv2d(b, a * 4, 3, padding=1), nn.PixelShuffle(2))
            for a, b in zip(ch[:-1], ch[1:], strict=True)
        )
        self.dec = nn.ModuleList(nn.Sequential(*(_Block(c) for _ in range(blocks))) for c in ch[:-1])
        self.head = nn.Conv2d(ch[0], 3, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % self.stride or x.shape[-2] % self.stride:
            raise ValueError(f"height and width must be multiples of {self.stride}, got {tuple(x.shape)}")
        h = self.stem(x)
        skips = []
        for i, enc in enumerate(self.enc):
            h = enc(h)
            if i < len(self.down):
                skips.append(h)
                h = self.down[i](h)
        for i in reversed(range(len(self.up))):
            h = self.dec[i](self.up[i](h) + skips[i])
        return x + self.head(h)  # [N, 3, H, W]
