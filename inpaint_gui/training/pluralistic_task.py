"""Training objective of "Pluralistic Image Completion" (Zheng, Cham, Cai, CVPR 2019).

Two paths share the encoder and decoder:
- reconstructive: z ~ q(z | I_c) from the hole's content; KL(q || N(0, sigma(hole)^2)) with sigma
  growing with the hole's share; L1 on the whole image at every output scale;
- generative: z ~ p(z | I_m) from the visible pixels; KL(p || stop_grad q); L1 on visible pixels only
  (the hole has many right answers; the adversarial loss judges it).
Both outputs, composited into the real image, are judged by a global spectral-norm discriminator
and, when disc.local is on, a local one on a crop around the hole (Iizuka et al. 2017).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize

from inpaint_gui.engine.checkpoint import CheckpointError, load_release
from inpaint_gui.engine.device import use_bf16
from inpaint_gui.engine.pluralistic import build_generator, inference_state_dict
from inpaint_gui.engine.tensors import to_model_range, to_uint8
from inpaint_gui.models import Encoded, PluralisticGenerator, fold_spectral_norm
from inpaint_gui.models.discriminator import InpaintDiscriminators
from inpaint_gui.training import losses as L
from inpaint_gui.training.config import TrainConfig
from inpaint_gui.training.task import TrainTask, memory_format


class GeneratorStep(nn.Module):
    """The generator's whole training forward in one call: DDP synchronises through forward()."""

    def __init__(self, generator: PluralisticGenerator, gen_samples: int = 1) -> None:
        super().__init__()
        self.generator = generator
        self.gen_samples = gen_samples

    def forward(
        self, image: torch.Tensor, mask: torch.Tensor
    ) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Outputs coarse->fine, each [(1 + gen_samples) N, 3, h, w] (reconstructive first, then
        each generative sample), and the posterior's and prior's (mu, std), each [N, z, h, w]."""
        g = self.generator
        enc = g.encode(image, mask)
        mu_q, std_q = g.infer_posterior(image, mask)
        z = [mu_q + std_q * torch.randn_like(mu_q)]
        z += [enc.prior_mu + enc.prior_std * torch.randn_like(enc.prior_mu) for _ in range(self.gen_samples)]
        k = len(z)
        tiled = Encoded(
            [torch.cat([f] * k) for f in enc.features],
            torch.cat([enc.context] * k),
            mu_q,
            std_q,
            None if enc.prefill is None else torch.cat([enc.prefill] * k),
            None if enc.seen is None else torch.cat([enc.seen] * k),
        )
        outs = g.decode(torch.cat(z), tiled, torch.cat([mask] * k), all_levels=True)
        return outs, mu_q, std_q, enc.prior_mu, enc.prior_std


class PluralisticTask(TrainTask):
    name = "pluralistic"

    def __init__(self, cfg: TrainConfig, device: torch.device) -> None:
        super().__init__(cfg, device)
        res = cfg.data.resolution
        self.local_size = int(res * cfg.disc.local_size) if cfg.disc.local else None
        layout = memory_format(device, cfg.run.memory_format)
        self.generator = PluralisticGenerator(cfg.model).to(device, memory_format=layout)
        self.disc = InpaintDiscriminators(cfg.disc.channels, self.local_size).to(device, memory_format=layout)
        self.ema = copy.deepcopy(self.generator).eval().requires_grad_(False)
        o = cfg.optim
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2))
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))
        for opt, lr in ((self.opt_g, o.lr_g), (self.opt_d, o.lr_d)):
            for group in opt.param_groups:
                group["base_lr"] = lr
        self.g_step: nn.Module = GeneratorStep(self.generator, 2 if cfg.loss.diversity > 0 else 1)
        self.d_step: nn.Module = self.disc
        if cfg.run.compile:
            self.g_step = torch.compile(self.g_step)
            self.d_step = torch.compile(self.d_step)
        self._d_plain: nn.Module = self.d_step  # used in the generator's step, outside DDP
        self._amp = use_bf16(device, cfg.run.amp)
        self.lpips: nn.Module | None = None
        if cfg.loss.perceptual > 0:
            from inpaint_gui.training.perceptual import ENABLE_HINT, load_lpips, weights_dir

            self.lpips = load_lpips(str(device))
            if self.lpips is None:
                raise ValueError(
                    f"loss.perceptual needs the LPIPS weights, not in {weights_dir()}: {ENABLE_HINT}"
                )
            self.lpips.requires_grad_(False)  # frozen, in eval mode; not a network of the run

    # -- TrainTask -------------------------------------------------------------------------------

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.disc, "ema": self.ema}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def distribute(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self.g_step = wrap(self.g_step)
        self.d_step = wrap(self.d_step)

    def train_step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        cfg, lw = self.cfg, self.cfg.loss
        dev = self.device
        boxes = hole_boxes(batch["mask"], self.local_size) if self.local_size else None
        image = to_model_range(batch["image"].to(dev, non_blocking=True))  # [N, 3, H, W]
        mask = batch["mask"].to(dev, non_blocking=True).float()  # [N, 1, H, W], 1 = hole
        n = image.shape[0]
        boxes2 = boxes.to(dev).repeat(2, 1) if boxes is not None else None

        # --- generator: both paths, discriminators frozen
        self.disc.requires_grad_(False)
        with self._autocast():
            outs, mu_q, std_q, mu_p, std_p = self.g_step(image, mask)
        spread = image.new_zeros(())
        if lw.diversity > 0:  # the second generative sample serves only the diversity hinge
            spread = L.spread_hinge(
                outs[-1][n : 2 * n], outs[-1][2 * n :], mask, lw.diversity_target, lw.diversity_pool
            )
            outs = [o[: 2 * n] for o in outs]
        levels = len(outs)
        targets, holes = L.pyramid(image, levels), L.pyramid(mask, levels)
        app_rec = image.new_zeros(())
        app_gen = image.new_zeros(())
        for i, (out, target, hole) in enumerate(zip(outs, targets, holes, strict=True)):
            w = 1.0 if i == levels - 1 else lw.coarse_weight
            app_rec = app_rec + w * L.masked_l1(out[:n], target)
            app_gen = app_gen + w * L.masked_l1(out[n:], target, 1 - hole)
        ratio = mask.mean(dim=(1, 2, 3)).view(-1, 1, 1, 1)
        prior_std = lw.prior_std_min + (lw.prior_std_max - lw.prior_std_min) * ratio
        kl_rec = L.kl_normal(mu_q, std_q, torch.zeros_like(mu_q), prior_std)
        kl_gen = L.kl_normal(mu_p, std_p, mu_q.detach(), std_q.detach())
        mask2, real2 = torch.cat([mask, mask]), torch.cat([image, image])
        fake = mask2 * outs[-1].float() + (1 - mask2) * real2  # composited, [2N, 3, H, W]
        with self._autocast():
            logits_g, logits_l = self._d_plain(fake, mask2, boxes2)
        adv_rec = L.g_loss(logits_g[:n], cfg.disc.gan_loss)
        adv_gen = L.g_loss(logits_g[n:], cfg.disc.gan_loss)
        if logits_l is not None:
            adv_rec = adv_rec + lw.adv_local * L.g_loss(logits_l[:n], cfg.disc.gan_loss)
            adv_gen = adv_gen + lw.adv_local * L.g_loss(logits_l[n:], cfg.disc.gan_loss)
        texture = L.texture_loss(fake, real2, mask2) if lw.texture > 0 else image.new_zeros(())
        anchor = L.lowpass_l1(fake[n:], image, mask, lw.anchor_pool) if lw.anchor > 0 else image.new_zeros(())
        perceptual = image.new_zeros(())
        if self.lpips is not None:
            with self._autocast():
                perceptual = L.perceptual_loss(self.lpips, outs[-1][:n], image) + L.perceptual_loss(
                    self.lpips, fake[n:], image, lw.perceptual_pool
                )
        total_g = (
            lw.perceptual * perceptual
            + lw.texture * texture
            + lw.anchor * anchor
            + lw.diversity * spread
            + lw.app_rec * app_rec
            + lw.app_gen * app_gen
            + lw.kl_rec * kl_rec
            + lw.kl_gen * kl_gen
            + lw.adv_rec * adv_rec
            + lw.adv_gen * adv_gen
        )
        self.opt_g.zero_grad(set_to_none=True)
        total_g.backward()
        self._clip(self.generator)
        self.opt_g.step()
        self._update_ema(step)

        # --- discriminators: real vs both paths' composites
        self.disc.requires_grad_(True)
        with self._autocast():
            d_in = torch.cat([image, fake.detach()])
            boxes3 = boxes.to(dev).repeat(3, 1) if boxes is not None else None
            d_g, d_l = self.d_step(d_in, torch.cat([mask, mask2]), boxes3)
        loss_d = L.d_loss(d_g[:n], d_g[n:], cfg.disc.gan_loss)
        out = {}
        if d_l is not None:
            loss_local = L.d_loss(d_l[:n], d_l[n:], cfg.disc.gan_loss)
            out["d_local"] = loss_local.detach()
            loss_d = loss_d + lw.adv_local * loss_local
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self._clip(self.disc)
        self.opt_d.step()

        out.update(
            {
                "g_total": total_g.detach(),
                "app_rec": app_rec.detach(),
                "app_gen": app_gen.detach(),
                "kl_rec": kl_rec.detach(),
                "kl_gen": kl_gen.detach(),
                "texture": texture.detach(),
                "anchor": anchor.detach(),
                "spread": spread.detach(),
                "perceptual": perceptual.detach(),
                "adv_rec": adv_rec.detach(),
                "adv_gen": adv_gen.detach(),
                "d_total": loss_d.detach(),
                "d_real": d_g[:n].float().mean().detach(),
                "d_fake": d_g[n:].float().mean().detach(),
            }
        )
        return out

    @torch.no_grad()
    def sample(self, images: torch.Tensor, masks: torch.Tensor, candidates: int, seed: int) -> torch.Tensor:
        g = self.ema
        x = to_model_range(images.to(self.device))
        m = masks.to(self.device).float()
        enc = g.encode(x, m)
        shape = tuple(enc.prior_mu.shape)
        rows = []
        for c in range(candidates):
            noise = torch.randn(shape, generator=torch.Generator().manual_seed(seed + c))
            y = g.sample(enc, noise.to(self.device), m).float()
            y = m * y + (1 - m) * x
            rows.append(to_uint8(y).cpu())
        return torch.stack(rows, dim=1)

    def release(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        g = PluralisticGenerator(self.cfg.model)
        g.load_state_dict({k: v.detach().cpu() for k, v in self.ema.state_dict().items()})
        fold_spectral_norm(g.eval())
        return inference_state_dict(g), {**self.cfg.model.to_dict(), "spectral_norm": False}

    def init_from_release(self, path: str | Path) -> list[str]:
        """Start the generator (and its EMA) from a release checkpoint's inference weights.

        The release must hold this run's architecture (model settings other than spectral_norm),
        except that a run with model.fusion may start from a release without fusion blocks.
        Its weights have spectral norm folded in: each becomes the parametrisation's `original`, and
        power iteration is run to convergence, so the training network computes what the release
        does. Returns what starts fresh: the posterior (not in a release) and the discriminators.
        """
        path = Path(path)
        try:
            state, info = load_release(path)
            if info.engine != self.name:
                raise CheckpointError(f"{path}: a checkpoint for engine {info.engine!r}, not {self.name!r}")
            plain = build_generator(path, info, state)
        except CheckpointError as exc:
            raise ValueError(str(exc)) from None
        ours = {**self.cfg.model.to_dict(), "spectral_norm": False}
        theirs = {**plain.config.to_dict(), "spectral_norm": False}
        new_fusion = ours["fusion"] and not theirs["fusion"]  # only the new blocks start fresh
        if new_fusion:
            theirs["fusion"] = True
        differ = [
            f"model.{k} ({ours[k]!r} here, {theirs.get(k)!r} there)" for k in ours if ours[k] != theirs.get(k)
        ]
        if differ:
            raise ValueError(f"run.init {path}: another architecture: {', '.join(differ)}")
        g = self.generator
        with torch.no_grad():
            for name, t in plain.state_dict().items():
                owner, _, attr = name.rpartition(".")
                module = g.get_submodule(owner)
                if parametrize.is_parametrized(module, attr):
                    p = module.parametrizations[attr]
                    p.original.copy_(t)
                    sn = p[0]
                    if hasattr(sn, "_power_method"):  # torch's spectral norm: converge u and v on t
                        sn._power_method(sn._reshape_weight_to_matrix(p.original), 200)
                else:
                    g.state_dict()[name].copy_(t)
        self.ema.load_state_dict(g.state_dict())
        fresh = ["generator.posterior (not in a release)", "discriminator (all of it)"]
        return fresh + (["generator.decoder.fuse (new fusion blocks)"] if new_fusion else [])


def hole_boxes(mask: torch.Tensor, size: int) -> torch.Tensor:
    """Top-left corners [N, 2] (int64) of size x size crops centred on each hole's bounding box.

    mask: [N, 1, H, W] (CPU), 1 = hole; an empty mask gives a centred crop.
    """
    n, _, h, w = mask.shape
    m = mask[:, 0] > 0
    out = torch.empty(n, 2, dtype=torch.int64)
    for dim, (length, anyv) in enumerate(((h, m.any(dim=2)), (w, m.any(dim=1)))):
        idx = torch.arange(length).expand(n, length)
        has = anyv.any(dim=1)
        first = torch.where(anyv, idx, length).min(dim=1).values
        last = torch.where(anyv, idx, -1).max(dim=1).values
        centre = torch.where(has, (first + last + 1) // 2, torch.full_like(first, length // 2))
        out[:, dim] = (centre - size // 2).clamp(0, length - size)
    return out
