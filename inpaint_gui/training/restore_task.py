"""Training of the restoration network: degraded/clean pairs made on the fly, L1 + adversarial.

The loop hands over clean crops; each is degraded here (core.degrade) with a Generator seeded by
(seed, step, index), so a resumed run sees the same pairs. The generator (models.restore.RestoreNet)
is judged by a spectral-norm patch discriminator (the inpainting one, with an empty mask channel).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from inpaint_gui.core.degrade import DegradeConfig, degrade
from inpaint_gui.engine.device import use_bf16
from inpaint_gui.engine.tensors import to_model_range, to_uint8
from inpaint_gui.models.discriminator import PatchDiscriminator
from inpaint_gui.models.restore import RestoreNet
from inpaint_gui.training import losses as L
from inpaint_gui.training.config import TrainConfig
from inpaint_gui.training.task import TrainTask, memory_format

_DEGRADE_SALT = 0xDE64
_SAMPLE_SALT = 0x5A3


def degrade_batch(
    images: torch.Tensor, seed: int, step: int, salt: int = _DEGRADE_SALT, cfg: DegradeConfig | None = None
) -> torch.Tensor:
    """uint8 [N, 3, H, W] -> degraded uint8 [N, 3, H, W]; image i's damage depends on (seed, step, i)."""
    cfg = cfg or DegradeConfig()
    out = []
    for i, img in enumerate(images.permute(0, 2, 3, 1).numpy()):
        rng = np.random.default_rng([seed, salt, step, i])
        out.append(degrade(np.ascontiguousarray(img), rng, cfg))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).contiguous()


class RestoreTask(TrainTask):
    name = "restore"

    def __init__(self, cfg: TrainConfig, device: torch.device) -> None:
        super().__init__(cfg, device)
        rc = cfg.restore
        if rc.perceptual > 0:
            raise ValueError("restore.perceptual needs the LPIPS network, which is not installed here")
        layout = memory_format(device, cfg.run.memory_format)
        self.generator = RestoreNet(rc.channels, rc.blocks).to(device, memory_format=layout)
        if cfg.data.resolution % self.generator.stride:
            raise ValueError(
                f"data.resolution must be a multiple of {self.generator.stride} for restore.channels"
            )
        self.disc = PatchDiscriminator(cfg.disc.channels).to(device, memory_format=layout)
        self.ema = copy.deepcopy(self.generator).eval().requires_grad_(False)
        o = cfg.optim
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2))
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))
        for opt, lr in ((self.opt_g, o.lr_g), (self.opt_d, o.lr_d)):
            for group in opt.param_groups:
                group["base_lr"] = lr
        self.g_step: nn.Module = self.generator
        self.d_step: nn.Module = self.disc
        self._amp = use_bf16(device, cfg.run.amp)
        self._degrade_cfg = rc.degrade()

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.disc, "ema": self.ema}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def distribute(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self.g_step = wrap(self.g_step)
        self.d_step = wrap(self.d_step)

    def train_step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        rc, dev = self.cfg.restore, self.device
        clean_u8 = batch["image"]
        bad_u8 = degrade_batch(clean_u8, self.cfg.seed, step, cfg=self._degrade_cfg)
        clean = to_model_range(clean_u8.to(dev))  # [N, 3, H, W]
        bad = to_model_range(bad_u8.to(dev))
        no_mask = torch.zeros_like(clean[:, :1])

        self.disc.requires_grad_(False)
        with self._autocast():
            out = self.g_step(bad)
        out = out.float()
        l1 = (out - clean).abs().mean()
        adv = clean.new_zeros(())
        if rc.adv > 0:
            with self._autocast():
                adv = L.g_loss(self.disc(out, no_mask), self.cfg.disc.gan_loss)
        total_g = rc.l1 * l1 + rc.adv * adv
        self.opt_g.zero_grad(set_to_none=True)
        total_g.backward()
        self._clip(self.generator)
        self.opt_g.step()
        self._update_ema(step)

        figures = {"g_total": total_g.detach(), "l1": l1.detach(), "adv": adv.detach()}
        if rc.adv > 0:
            self.disc.requires_grad_(True)
            with self._autocast():
                logits = self.d_step(torch.cat([clean, out.detach()]), torch.cat([no_mask, no_mask]))
            n = clean.shape[0]
            loss_d = L.d_loss(logits[:n], logits[n:], self.cfg.disc.gan_loss)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self._clip(self.disc)
            self.opt_d.step()
            figures["d_total"] = loss_d.detach()
        return figures

    @torch.no_grad()
    def sample(self, images: torch.Tensor, masks: torch.Tensor, candidates: int, seed: int) -> torch.Tensor:
        """Column 0: the degraded input; the other columns: its restoration (masks are not used)."""
        bad = degrade_batch(images, seed, 0, _SAMPLE_SALT, self._degrade_cfg)
        restored = to_uint8(self.ema(to_model_range(bad.to(self.device))).float()).cpu()
        return torch.stack([bad] + [restored] * max(candidates - 1, 1), dim=1)

    def release(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        weights = {k: v.detach().cpu() for k, v in self.ema.state_dict().items()}
        rc = self.cfg.restore
        return weights, {"channels": list(rc.channels), "blocks": rc.blocks}
