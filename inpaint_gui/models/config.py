"""Architecture settings of the pluralistic network."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


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
    # (on scenes it made no difference in 1,600 steps; docs/training.md, run 11).
    skips: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        levels = len(self.channels) - 1
        if levels < 2:
            raise ValueError("channels needs at least 3 levels")
        if any(c < 4 for c in self.channels):
            raise ValueError(f"every channel count must be >= 4, got {self.channels}")
        if self.z_channels < 1:
            raise ValueError("z_channels must be >= 1")
        if min(self.prior_blocks, self.posterior_blocks, self.decoder_blocks) < 0:
            raise ValueError("block counts must be >= 0")
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
