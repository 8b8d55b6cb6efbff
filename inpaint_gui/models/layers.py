"""Building blocks shared by the generator and the discriminators."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm


def conv(cin: int, cout: int, k: int = 3, stride: int = 1, sn: bool = False) -> nn.Conv2d:
    layer = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)
    return spectral_norm(layer) if sn else layer


def act() -> nn.Module:
    return nn.LeakyReLU(0.2, inplace=False)


class ResBlock(nn.Module):
    """Pre-activation residual block; `down` halves the resolution."""

    def __init__(self, cin: int, cout: int, down: bool = False, sn: bool = False) -> None:
        super().__init__()
        self.down = down
        self.conv1 = conv(cin, cout, 3, stride=2 if down else 1, sn=sn)
        self.conv2 = conv(cout, cout, 3, sn=sn)
        self.skip = conv(cin, cout, 1, sn=sn) if cin != cout else None
        self.act = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(self.act(self.conv1(self.act(x))))
        s = F.avg_pool2d(x, 2) if self.down else x
        if self.skip is not None:
            s = self.skip(s)
        return s + y


class Up(nn.Module):
    """Nearest-neighbour upsampling then a 3x3 convolution (no checkerboard artefacts)."""

    def __init__(self, cin: int, cout: int, sn: bool = False) -> None:
        super().__init__()
        self.conv = conv(cin, cout, 3, sn=sn)
        self.act = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(self.act(x), scale_factor=2.0, mode="nearest"))


class ShortLongAttention(nn.Module):
    """Short+long term attention of Zheng et al. 2019.

    One attention map is computed from the decoder features. Applied to the
    decoder's own values it relates distant generated regions (short term);
    applied to the encoder features of the visible image it copies visible
    context into the hole (long term). Visible positions keep their own
    encoder features in the long-term branch.

    Keys and values are average-pooled to at most `max_keys` positions, so memory
    and time grow linearly, not quadratically, with the image size at inference;
    at training sizes (32x32 and below at the default level) nothing is pooled.
    """

    max_keys = 64 * 64
    #: Queries whose attention rows are computed at a time. The shipped faces network at 256 px has
    #: a 4k x 4k map (64 MB a candidate), written once and read twice; in blocks of 256 rows it stays
    #: in cache: the layer takes half the time (0.21 -> 0.10 s for two candidates), the whole
    #: engine about 15% less. Every row is the same softmax either way. With keep_map the whole
    #: map is kept, so it is one block.
    query_block = 256

    def __init__(self, channels: int, enc_channels: int, sn: bool = False) -> None:
        super().__init__()
        #: Set to keep the last forward's attention map in `last_map` ([N, HW, M], keys pooled by
        #: `last_pool`), for detail transfer at inference; off, the forward pass does no extra work.
        self.keep_map = False
        self.last_map: torch.Tensor | None = None
        self.last_pool = 1
        key = max(channels // 8, 4)
        self.query = conv(channels, key, 1, sn=sn)
        self.key = conv(channels, key, 1, sn=sn)
        self.value = conv(channels, channels, 1, sn=sn)
        self.enc_value = conv(enc_channels, channels, 1, sn=sn)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.fuse = conv(2 * channels, channels, 1, sn=sn)

    def forward(self, x: torch.Tensor, enc: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        # x: [N, C, H, W] decoder; enc: [N or 1, Ce, H, W] encoder of the visible image;
        # hole: [N or 1, 1, H, W], 1 where any pixel of the cell is to be filled.
        n, c, h, w = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)  # [N, HW, k]
        e = self.enc_value(enc)  # [N or 1, C, H, W]
        v = torch.cat([self.value(x), e.expand(n, -1, -1, -1)], dim=1)  # [N, 2C, H, W]
        kx = x
        factor = math.ceil(math.sqrt(h * w / self.max_keys))
        if factor > 1:
            kx = F.avg_pool2d(x, factor, ceil_mode=True)
            v = F.avg_pool2d(v, factor, ceil_mode=True)
        k = self.key(kx).flatten(2)  # [N, k, M], M = HW unless pooled
        vf = v.flatten(2)  # [N, 2C, M]
        scale = q.shape[-1] ** -0.5
        step = h * w if self.keep_map else self.query_block
        blocks = []
        for start in range(0, h * w, step):
            # Plain softmax attention: the fused kernel adds masking checks that cost more here.
            attn = torch.softmax(torch.bmm(q[:, start : start + step], k) * scale, dim=-1)  # [N, step, M]
            blocks.append(torch.bmm(vf, attn.transpose(1, 2)))  # [N, 2C, step]
        if self.keep_map:
            self.last_map, self.last_pool = attn, factor
        out = (blocks[0] if len(blocks) == 1 else torch.cat(blocks, dim=2)).view(n, 2 * c, h, w)
        short, context = out[:, :c], out[:, c:]
        short = x + self.gamma * short
        long = hole * context + (1 - hole) * e
        return self.fuse(torch.cat([short, long], dim=1))


@torch.no_grad()
def push_pull_fill(image: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """A smooth fill of the hole from the visible pixels (push-pull, Gortler et al. 1996).

    Pull: halve image*visible and visible together down to 1 pixel, so each coarse cell holds
    the mean of the visible pixels under it. Push: from the coarsest level back up, each level
    keeps its own mean where enough of the cell is visible and takes the bilinear upsampling of
    the coarser level elsewhere. Known pixels come back unchanged; the hole gets a diffusion-like
    fill (within 0.2 dB of OpenCV's Navier-Stokes on eval/scenes) at the cost of two pyramids.
    image: [N, C, H, W]; visible: [N, 1, H, W] in [0, 1]. Returns [N, C, H, W].
    """
    sums, weights = [image * visible], [visible]
    while max(sums[-1].shape[-2:]) > 1:
        kernel = tuple(2 if n > 1 else 1 for n in sums[-1].shape[-2:])  # a 1-pixel side stays 1
        sums.append(F.avg_pool2d(sums[-1], kernel, ceil_mode=True))
        weights.append(F.avg_pool2d(weights[-1], kernel, ceil_mode=True))
    fill = sums[-1] / weights[-1].clamp_min(1e-6)
    for level in range(len(sums) - 2, -1, -1):
        s, w = sums[level], weights[level]
        up = F.interpolate(fill, size=s.shape[-2:], mode="bilinear", align_corners=False)
        # A coarse cell a quarter visible already has a fair mean; full resolution trusts only
        # visible pixels, so the known ones are exact.
        trust = w if level == 0 else (4 * w).clamp(max=1)
        fill = trust * (s / w.clamp_min(1e-6)) + (1 - trust) * up
    return fill


def fold_spectral_norm(module: nn.Module) -> nn.Module:
    """Replace spectral-norm parametrisations by the plain weights they compute (in place)."""
    for m in module.modules():
        if parametrize.is_parametrized(m):
            for name in list(m.parametrizations.keys()):
                parametrize.remove_parametrizations(m, name, leave_parametrized=True)
    return module
