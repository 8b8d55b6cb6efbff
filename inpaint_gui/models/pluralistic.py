"""The dual-path CVAE generator of "Pluralistic Image Completion" (Zheng, Cham, Cai, CVPR 2019).

Images are float32 in [-1, 1], [N, 3, H, W]; masks are float32 [N, 1, H, W]
with 1 = hole. The latent z is a spatial Gaussian at the coarsest level.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_gui.models.config import PluralisticConfig
from inpaint_gui.models.layers import ResBlock, ShortLongAttention, Up, act, conv, push_pull_fill

MIN_STD = 1e-4


@dataclass
class Encoded:
    """What the generator needs of the visible image, computed once per image."""

    features: list[torch.Tensor]  # level i: [N, channels[i], H/2**i, W/2**i]
    context: torch.Tensor  # [N, channels[-1], h, w], input to the decoder beside z
    prior_mu: torch.Tensor  # [N, z, h, w]
    prior_std: torch.Tensor  # [N, z, h, w]
    prefill: torch.Tensor | None = None  # [N, 3, H, W] push-pull fill of the hole (config.prefill)
    seen: torch.Tensor | None = None  # [N, 4, H, W] the encoder's input: image (fill in the hole), visible


class Encoder(nn.Module):
    """Shared by both paths: one residual downsampling block per level."""

    def __init__(self, cfg: PluralisticConfig) -> None:
        super().__init__()
        ch, sn = cfg.channels, cfg.spectral_norm
        self.stem = conv(4, ch[0], 3, sn=sn)
        self.blocks = nn.ModuleList(ResBlock(ch[i - 1], ch[i], down=True, sn=sn) for i in range(1, len(ch)))

    def forward(self, seen: torch.Tensor) -> list[torch.Tensor]:
        """seen: [N, 4, H, W] from seen_input()."""
        x = self.stem(seen)
        feats = [x]
        for block in self.blocks:
            x = block(x)
            feats.append(x)
        return feats


def seen_input(image: torch.Tensor, visible: torch.Tensor, fill: torch.Tensor | None) -> torch.Tensor:
    """The encoder's input [N, 4, H, W]: the visible pixels, fill (or zeros) elsewhere, and visible."""
    seen = image * visible if fill is None else image * visible + fill * (1 - visible)
    return torch.cat([seen, visible], dim=1)


class Fusion(nn.Module):
    """A learned alpha blend of an output image with the network's input at its scale (DFNet).

    out = image + alpha * (input - image), alpha = sigmoid(f(image, input, visible)). The last layer
    starts at zero weights and a bias of -4, so alpha starts at 0.018 everywhere: a network fine-tuned
    with new fusion blocks begins almost where it was.
    """

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(7, width, 3, padding=1), act(), nn.Conv2d(width, 1, 3, padding=1))
        nn.init.zeros_(self.body[2].weight)
        nn.init.constant_(self.body[2].bias, -4.0)

    def forward(self, image: torch.Tensor, seen: torch.Tensor) -> torch.Tensor:
        """image [N, 3, h, w]; seen [N or 1, 4, H, W], area-resized to h x w if needed."""
        if seen.shape[-2:] != image.shape[-2:]:
            seen = F.interpolate(seen, size=image.shape[-2:], mode="area")
        seen = seen.expand(image.shape[0], -1, -1, -1)
        alpha = torch.sigmoid(self.body(torch.cat([image, seen], dim=1)))
        return image + alpha * (seen[:, :3] - image)


class GaussianHead(nn.Module):
    """Residual blocks, then a convolution giving a per-location mean and std."""

    def __init__(self, channels: int, z_channels: int, blocks: int, sn: bool) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*(ResBlock(channels, channels, sn=sn) for _ in range(blocks)))
        self.act = act()
        self.out = conv(channels, 2 * z_channels, 3, sn=sn)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.blocks(x)
        mu, raw = self.out(self.act(h)).chunk(2, dim=1)
        return h, mu, F.softplus(raw) + MIN_STD


class Decoder(nn.Module):
    """From z and the visible image's context to images at several scales."""

    def __init__(self, cfg: PluralisticConfig) -> None:
        super().__init__()
        ch, sn, top = cfg.channels, cfg.spectral_norm, cfg.levels
        self.attention_level = cfg.attention_level
        self.output_levels = cfg.output_levels
        self.inp = conv(cfg.z_channels + ch[top], ch[top], 1, sn=sn)
        self.bottom = nn.Sequential(*(ResBlock(ch[top], ch[top], sn=sn) for _ in range(cfg.decoder_blocks)))
        self.ups = nn.ModuleList()
        self.blocks = nn.ModuleList()
        # Levels top-1 .. 1. Full resolution has no features of its own: the final image is a
        # sub-pixel convolution of level 1 (four pixels per position), several times cheaper
        # than a convolution over full-resolution features, which would cost more than all
        # coarser levels together.
        for level in range(top - 1, 0, -1):
            self.ups.append(Up(ch[level + 1], ch[level], sn=sn))
            self.blocks.append(ResBlock(ch[level], ch[level], sn=sn))
        self.attention = ShortLongAttention(ch[cfg.attention_level], ch[cfg.attention_level], sn=sn)
        skip_levels = [lv for lv in range(1, top) if lv != cfg.attention_level] if cfg.skips else []
        self.skips = nn.ModuleDict({str(lv): conv(ch[lv], ch[lv], 1, sn=sn) for lv in skip_levels})
        # Extra outputs at levels 1 .. output_levels-1, for the multi-scale losses in training.
        # With prefill each output is the fill plus a correction from a zero-initialised plain
        # convolution without bias, so a new network starts as the fill, and the correction learns
        # at the optimiser's full pace (a spectral-normed layer cannot start at zero).
        self.prefill = cfg.prefill
        self.to_rgb = nn.ModuleDict(
            {
                str(level): nn.Sequential(act(), self._head(ch[level], 3, sn))
                for level in range(1, cfg.output_levels)
            }
        )
        self.to_full = nn.Sequential(act(), self._head(ch[1], 3 * 4, sn), nn.PixelShuffle(2))
        # One fusion block per output ("0" = full size), when config.fusion.
        outs = ["0", *self.to_rgb] if cfg.fusion else []
        with torch.random.fork_rng(devices=[]):  # the draws after them (discriminator, z) stay as without
            self.fuse = nn.ModuleDict({key: Fusion() for key in outs})

    def _head(self, cin: int, cout: int, sn: bool) -> nn.Conv2d:
        if not self.prefill:
            return conv(cin, cout, 3, sn=sn)
        layer = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        nn.init.zeros_(layer.weight)
        return layer

    def forward(
        self,
        z: torch.Tensor,
        enc: Encoded,
        mask: torch.Tensor,
        all_levels: bool = False,
    ) -> list[torch.Tensor]:
        """Images from coarse to fine; only the full-resolution one unless all_levels."""
        n = z.shape[0]
        context = enc.context.expand(n, -1, -1, -1)
        x = self.bottom(self.inp(torch.cat([z, context], dim=1)))
        top = len(self.ups)
        outputs = []
        for i, (up, block) in enumerate(zip(self.ups, self.blocks, strict=True)):
            level = top - i
            x = block(up(x))
            if str(level) in self.skips:  # features [N or 1, C, h, w] broadcast over the candidates
                x = x + self.skips[str(level)](enc.features[level])
            if level == self.attention_level:
                hole = F.adaptive_max_pool2d(mask, x.shape[-2:])
                x = self.attention(x, enc.features[level], hole)
            if all_levels and str(level) in self.to_rgb:
                outputs.append(self._image(self.to_rgb[str(level)](x), enc, n, str(level)))
        outputs.append(self._image(self.to_full(x), enc, n, "0"))
        return outputs

    def _image(self, raw: torch.Tensor, enc: Encoded, n: int, key: str) -> torch.Tensor:
        if not self.prefill:
            image = torch.tanh(raw)
        else:
            fill = enc.prefill
            if fill is None:
                raise ValueError("this network starts from a prefill, but the encoding has none")
            if fill.shape[-2:] != raw.shape[-2:]:
                fill = F.interpolate(fill, size=raw.shape[-2:], mode="area")
            image = (fill.expand(n, -1, -1, -1) + raw).clamp(-1, 1)
        if key in self.fuse:
            if enc.seen is None:
                raise ValueError("this network has fusion blocks, but the encoding has no input image")
            image = self.fuse[key](image, enc.seen)
        return image


class PluralisticGenerator(nn.Module):
    """Encoder, conditional prior p(z|I_m), posterior q(z|I_c) and decoder."""

    def __init__(self, cfg: PluralisticConfig, with_posterior: bool = True) -> None:
        super().__init__()
        self.config = cfg
        ch, sn = cfg.channels, cfg.spectral_norm
        self.encoder = Encoder(cfg)
        self.prior = GaussianHead(ch[-1], cfg.z_channels, cfg.prior_blocks, sn)
        # Only training needs the posterior; release checkpoints leave it out.
        self.posterior = (
            GaussianHead(ch[-1], cfg.z_channels, cfg.posterior_blocks, sn) if with_posterior else None
        )
        self.decoder = Decoder(cfg)

    def encode(self, image: torch.Tensor, mask: torch.Tensor) -> Encoded:
        """Generative path: features and conditional prior from the visible pixels."""
        self._check(image, mask)
        visible = 1 - mask
        fill = push_pull_fill(image, visible) if self.config.prefill else None
        seen = seen_input(image, visible, fill)
        feats = self.encoder(seen)
        context, mu, std = self.prior(feats[-1])
        return Encoded(feats, context, mu, std, fill, seen if self.config.fusion else None)

    def infer_posterior(self, image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reconstructive path: q(z | I_c) from the hole content alone (training only)."""
        if self.posterior is None:
            raise RuntimeError("this generator was built without its posterior head (inference only)")
        self._check(image, mask)
        fill = push_pull_fill(image, mask) if self.config.prefill else None
        feats = self.encoder(seen_input(image, mask, fill))
        _, mu, std = self.posterior(feats[-1])
        return mu, std

    def decode(
        self, z: torch.Tensor, enc: Encoded, mask: torch.Tensor, all_levels: bool = False
    ) -> list[torch.Tensor]:
        return self.decoder(z, enc, mask, all_levels)

    def sample(self, enc: Encoded, noise: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Full-resolution images for noise [N, z, h, w] drawn from N(0, 1): z = mu + std * noise."""
        z = enc.prior_mu + enc.prior_std * noise
        return self.decode(z, enc, mask)[-1]

    def _check(self, image: torch.Tensor, mask: torch.Tensor) -> None:
        s = self.config.stride
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"image must be [N, 3, H, W], got {tuple(image.shape)}")
        if mask.shape != (image.shape[0], 1, *image.shape[2:]):
            raise ValueError(f"mask must be [N, 1, H, W] matching the image, got {tuple(mask.shape)}")
        if image.shape[2] % s or image.shape[3] % s:
            raise ValueError(f"height and width must be multiples of {s}, got {tuple(image.shape[2:])}")
