"""Architecture settings of the pluralistic network."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

#: Bounds on single settings; the parameter count as a whole is checked where a file is loaded
#: (engine.pluralistic.build_generator), before a network is built.
MAX_LEVELS, MAX_WIDTH, MAX_BLOCKS = 8, 8192, 64


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class PluralisticConfig:
    """Width and depth of the dual-path network.

    channels[i] is the width at level i, where level i works at 1/2**i of the
    input size; the latent z lives at the last level, so inputs must be a
    multiple of 2**(len(channels) - 1).
    """

    channels: tuple[int, ...] = (16, 32, 64, 128, 256)
    z_channels: int = 64
    prior_blocks: int = 2  # residual blocks inferring p(z | visible image)
    posterior_blocks: int = 1  # residual blocks inferring q(z | hole content)
    decoder_blocks: int = 1  # residual blocks at the latent level of the decoder
    attention_level: int = 3  # level of the short+long term attention layer
    output_levels: int = 4  # training outputs: full size plus levels 1 .. output_levels-1
    spectral_norm: bool = False  # only for training; release weights have it folded in
    # Start the hole from a push-pull fill (layers.push_pull_fill) instead of zeros, and make every
    # output that fill plus a learned correction (from a zero-initialised layer): a new network
    # begins as good as a diffusion fill and learns structure and texture on top of it.
    prefill: bool = False
    # Add the encoder's features to the decoder's at every level between the latent one and full
    # size (through a 1x1 convolution), as a U-Net does; the paper's decoder sees them only through
    # its attention layer. Not in the paper: an experiment on whether that limits the coarse fill
    # (on scenes it made no difference in 1,600 steps; docs/decisions.md).
    skips: bool = False
    # DFNet-style fusion blocks (Hong et al., "Deep Fusion Network for Image Completion", 2019): each
    # output image is blended with the network's input at that scale (the visible pixels, and the
    # prefill or zeros in the hole) by a learned per-pixel alpha, so the fill can meet its border.
    # They start almost closed (alpha ~0.02 towards the input), so an existing network can be
    # fine-tuned with them (run.init from a release without them: only they start fresh).
    fusion: bool = False

    def __post_init__(self) -> None:
        # Types first: these come from JSON a file carries, where "64" or 4.5 must not slip through.
        if not isinstance(self.channels, (list, tuple)) or not all(_is_int(c) for c in self.channels):
            raise ValueError(f"channels must be a list of whole numbers, got {self.channels!r:.80}")
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        for name in ("z_channels", "prior_blocks", "posterior_blocks", "decoder_blocks"):
            if not _is_int(getattr(self, name)):
                raise ValueError(f"{name} must be a whole number, got {getattr(self, name)!r:.40}")
        for name in ("attention_level", "output_levels"):
            if not _is_int(getattr(self, name)):
                raise ValueError(f"{name} must be a whole number, got {getattr(self, name)!r:.40}")
        for name in ("spectral_norm", "prefill", "skips", "fusion"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r:.40}")
        levels = len(self.channels) - 1
        if levels < 2:
            raise ValueError("channels needs at least 3 levels")
        if levels > MAX_LEVELS:
            raise ValueError(f"channels allows at most {MAX_LEVELS + 1} levels, got {len(self.channels)}")
        if any(not 4 <= c <= MAX_WIDTH for c in self.channels):
            raise ValueError(f"every channel count must be in 4..{MAX_WIDTH}, got {self.channels}")
        if not 1 <= self.z_channels <= MAX_WIDTH:
            raise ValueError(f"z_channels must be in 1..{MAX_WIDTH}, got {self.z_channels}")
        blocks = (self.prior_blocks, self.posterior_blocks, self.decoder_blocks)
        if min(blocks) < 0 or max(blocks) > MAX_BLOCKS:
            raise ValueError(f"block counts must be in 0..{MAX_BLOCKS}, got {blocks}")
        if not 1 <= self.attention_level < levels:
            raise ValueError(f"attention_level must be in 1..{levels - 1}, got {self.attention_level}")
        if not 1 <= self.output_levels <= levels:
            raise ValueError(f"output_levels must be in 1..{levels}, got {self.output_levels}")

    @property
    def levels(self) -> int:
        return len(self.channels) - 1

    @property
    def stride(self) -> int:
        """Input sizes must be a multiple of this."""
        return 2**self.levels

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PluralisticConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model settings: {', '.join(sorted(unknown))}")
        return cls(**d)
