"""Discriminators for training: a global one on the whole image and a local one on the hole (GLCIC)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from inpaint_gui.models.layers import ResBlock, act, conv


class PatchDiscriminator(nn.Module):
    """Spectral-norm residual network giving a map of real/fake logits.

    Input: image [N, 3, H, W] in [-1, 1] and mask [N, 1, H, W] (1 = hole), so it knows where to look.
    Output: [N, 1, H / 2**len(channels), W / 2**len(channels)].
    """

    def __init__(self, channels: Sequence[int], sn: bool = True) -> None:
        super().__init__()
        ch = list(channels)
        self.stem = conv(4, ch[0], 3, sn=sn)
        self.blocks = nn.Sequential(
            *(ResBlock(ch[max(i - 1, 0)], ch[i], down=True, sn=sn) for i in range(len(ch)))
        )
        self.act = act()
        self.out = conv(ch[-1], 1, 3, sn=sn)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.stem(torch.cat([image, mask * 2 - 1], dim=1))
        return self.out(self.act(self.blocks(x)))


class InpaintDiscriminators(nn.Module):
    """The global discriminator and, when `local_size` is set, the local one.

    One module so that a training step runs one forward per update (what DDP expects).
    """

    def __init__(self, channels: Sequence[int], local_size: int | None, sn: bool = True) -> None:
        super().__init__()
        self.global_d = PatchDiscriminator(channels, sn)
        self.local_size = local_size
        self.local_d = PatchDiscriminator(channels, sn) if local_size else None

    def forward(
        self, image: torch.Tensor, mask: torch.Tensor, boxes: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(global logits, local logits or None); boxes: int64 [N, 2] top-left corners of the local crops."""
        out_global = self.global_d(image, mask)
        if self.local_d is None:
            return out_global, None
        if boxes is None:
            raise ValueError("the local discriminator needs the crop boxes")
        crops = crop_boxes(torch.cat([image, mask], dim=1), boxes, self.local_size)
        return out_global, self.local_d(crops[:, :3], crops[:, 3:])


def crop_boxes(x: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Square crops [N, C, size, size] of x [N, C, H, W] at per-sample top-left corners boxes [N, 2]."""
    n, _, h, w = x.shape
    ar = torch.arange(size, device=x.device)
    rows = (boxes[:, 0:1].to(x.device) + ar).clamp(0, h - 1)  # [N, size]
    cols = (boxes[:, 1:2].to(x.device) + ar).clamp(0, w - 1)  # [N, size]
    idx = torch.arange(n, device=x.device)[:, None, None]
    # advanced indexing: [N, size, size, C] -> [N, C, size, size]
    return x.permute(0, 2, 3, 1)[idx, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
