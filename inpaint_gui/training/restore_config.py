"""Settings of the restoration network's training (TrainConfig.restore; used when engine = "restore")."""

from __future__ import annotations

from dataclasses import dataclass

from inpaint_gui.core.degrade import DegradeConfig


@dataclass(frozen=True)
class RestoreConfig:
    channels: tuple[int, ...] = (32, 64, 96)  # RestoreNet width per level
    blocks: int = 2  # residual blocks per level
    l1: float = 1.0  # L1 between the restored and the clean photo
    adv: float = 0.01  # hinge adversarial loss of a patch discriminator on the restored photo
    perceptual: float = 0.0  # LPIPS weight, when the lpips weights are installed (0 = off)
    blur_max: float = 1.2  # degradations made on the fly: see core.degrade.DegradeConfig
    noise_max: float = 20.0
    grain_max: float = 14.0
    jpeg_min: int = 25
    jpeg_max: int = 85

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if not self.channels or min(self.channels) < 4:
            raise ValueError("restore.channels: at least one level, each >= 4")
        if self.blocks < 1:
            raise ValueError("restore.blocks must be >= 1")
        if min(self.l1, self.adv, self.perceptual) < 0:
            raise ValueError("restore loss weights must be >= 0")
        self.degrade()  # validates the ranges

    def degrade(self) -> DegradeConfig:
        return DegradeConfig(self.blur_max, self.noise_max, self.grain_max, self.jpeg_min, self.jpeg_max)
