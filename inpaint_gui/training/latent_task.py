"""Training of the latent-search engine's unconditional GAN (engine = "latent").

Two objectives, `gan.objective`:
- "dcgan" (Radford et al. 2016): non-saturating BCE, batch norm in both networks;
- "wgan-gp" (Gulrajani et al. 2017): Wasserstein critic without batch norm, gradient penalty on
  random interpolates, `gan.critic_steps` critic updates per generator update (each on the step's
  real batch with fresh z), and a small drift term (Karras et al. 2018) that keeps critic values
  near zero, so its judgement has a stable scale for the latent search's perceptual loss.
The masks the loop draws are not used in training; the sample grids fill them by latent search.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_gui.engine.device import use_bf16
from inpaint_gui.engine.latent import (
    SearchSettings,
    latent_search,
    release_config,
    release_state,
    uniform_z,
)
from inpaint_gui.engine.tensors import to_model_range, to_uint8
from inpaint_gui.models.gan import DCDiscriminator, DCGenerator, GanConfig
from inpaint_gui.training.config import TrainConfig
from inpaint_gui.training.task import TrainTask, memory_format


def gan_config(cfg: TrainConfig) -> GanConfig:
    g = cfg.gan
    return GanConfig(
        resolution=cfg.data.resolution,
        z_dim=g.z_dim,
        g_channels=g.g_channels,
        d_channels=g.d_channels,
        d_norm="none" if g.objective == "wgan-gp" else "batch",
    )


class LatentGanTask(TrainTask):
    name = "latent"

    def __init__(self, cfg: TrainConfig, device: torch.device) -> None:
        super().__init__(cfg, device)
        self.arch = gan_config(cfg)
        layout = memory_format(device, cfg.run.memory_format)
        self.generator = DCGenerator(self.arch).to(device, memory_format=layout)
        self.disc = DCDiscriminator(self.arch).to(device, memory_format=layout)
        self.ema = copy.deepcopy(self.generator).eval().requires_grad_(False)
        o = cfg.optim
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2))
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))
        for opt, lr in ((self.opt_g, o.lr_g), (self.opt_d, o.lr_d)):
            for group in opt.param_groups:
                group["base_lr"] = lr
        self.g_step: nn.Module = self.generator
        self.d_step: nn.Module = self.disc
        if cfg.run.compile:
            self.g_step = torch.compile(self.g_step)
            self.d_step = torch.compile(self.d_step)
        self._amp = use_bf16(device, cfg.run.amp)

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.disc, "ema": self.ema}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def distribute(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self.g_step = wrap(self.g_step)
        self.d_step = wrap(self.d_step)

    def train_step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        g = self.cfg.gan
        layout = memory_format(self.device, self.cfg.run.memory_format)
        real = to_model_range(batch["image"].to(self.device, non_blocking=True))  # [N, 3, R, R]
        real = real.contiguous(memory_format=layout)
        n = real.shape[0]
        out: dict[str, torch.Tensor] = {}

        # --- discriminator / critic
        self.disc.requires_grad_(True)
        for _ in range(g.critic_updates):
            with torch.no_grad(), self._autocast():
                fake = self.g_step(self._z(n)).float()
            with self._autocast():
                d_real = self.d_step(real).float()
                d_fake = self.d_step(fake).float()
            if g.objective == "dcgan":
                loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
            else:
                gp = self._gradient_penalty(real, fake)
                loss_d = d_fake.mean() - d_real.mean() + g.gp_weight * gp + g.drift * (d_real**2).mean()
                out["gp"] = gp.detach()
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()

        # --- generator
        self.disc.requires_grad_(False)
        with self._autocast():
            logits = self.d_step(self.g_step(self._z(n))).float()
        if g.objective == "dcgan":
            loss_g = F.softplus(-logits).mean()
        else:
            loss_g = -logits.mean()
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self._update_ema(step)

        out.update(
            {
                "g_total": loss_g.detach(),
                "d_total": loss_d.detach(),
                "d_real": d_real.mean().detach(),
                "d_fake": d_fake.mean().detach(),
            }
        )
        return out

    def sample(self, images: torch.Tensor, masks: torch.Tensor, candidates: int, seed: int) -> torch.Tensor:
        """Fills of the EMA generator found by latent search (gan.sample_steps steps), composited."""
        x = to_model_range(images.to(self.device))  # [N, 3, R, R]
        hole = masks.to(self.device).float()  # [N, 1, R, R]
        n = x.shape[0]
        z = torch.stack([uniform_z(seed + c, self.arch.z_dim) for _ in range(n) for c in range(candidates)])
        rep = lambda t: t.repeat_interleave(candidates, dim=0)  # noqa: E731
        disc = copy.deepcopy(self.disc).eval().requires_grad_(False)
        settings = SearchSettings(steps=self.cfg.gan.sample_steps)
        fake = latent_search(
            self.ema,
            disc,
            self.cfg.gan.objective,
            rep(x),
            rep(1 - hole),
            rep(hole),
            z.to(self.device),
            settings,
            bf16=self._amp,
        )
        y = rep(hole) * fake + (1 - rep(hole)) * rep(x)
        return to_uint8(y).cpu().view(n, candidates, *y.shape[1:])

    def release(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        g, d = DCGenerator(self.arch), DCDiscriminator(self.arch)
        g.load_state_dict({k: v.detach().cpu() for k, v in self.ema.state_dict().items()})
        d.load_state_dict({k: v.detach().cpu() for k, v in self.disc.state_dict().items()})
        return release_state(g.eval(), d.eval()), release_config(self.arch, self.cfg.gan.objective)

    # -- helpers ---------------------------------------------------------------------------------

    def _z(self, n: int) -> torch.Tensor:
        return (torch.rand(n, self.arch.z_dim) * 2 - 1).to(self.device)  # the training RNG, on the CPU

    def _gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """(||grad D(x_hat)|| - 1)^2 on random interpolates between real and fake images."""
        eps = torch.rand(real.shape[0], 1, 1, 1).to(self.device)
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        with self._autocast():
            out = self.d_step(x_hat).float()
        (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
        return ((grad.float().flatten(1).norm(dim=1) - 1) ** 2).mean()
