"""A small fully convolutional network that marks dust, specks, spots and scratches, pixel by pixel."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class DefectNet(nn.Module):
    """Defect logits [N, 1, H, W] for images [N, 3, H, W] in [-1, 1], any H and W.

    A 3x3 stem, residual 3x3 convolutions with growing dilation (1, 2, 4, 8, 1: each output pixel sees
    `reach` pixels on every side, enough for a scratch's width and its surroundings), a 1x1 head.
    """

    def __init__(self, channels: int = 24, dilations: Sequence[int] = (1, 2, 4, 8, 1)) -> None:
        super().__init__()
        if channels < 1 or not dilations or min(dilations) < 1:
            raise ValueError(f"bad DefectNet shape: channels {channels}, dilations {dilations}")
        self.inp = nn.Conv2d(3, channels, 3, padding=1)
        self.body = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=d, dilation=d) for d in dilations)
        self.out = nn.Conv2d(channels, 1, 1)
        #: Pixels of context each output pixel depends on, on every side.
        self.reach = 1 + sum(int(d) for d in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.inp(x))
        for conv in self.body:
            x = x + F.relu(conv(x))
        return self.out(x)
