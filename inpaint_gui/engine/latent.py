"""Semantic inpainting by latent search (Yeh et al., CVPR 2017) over an unconditional GAN.

For each candidate a code z, drawn uniformly in [-1, 1] from the candidate's seed, is optimised with
Adam so that G(z) agrees with the photo: a contextual loss (L1 on the known pixels, each weighted by
the share of hole pixels in its window, so the border counts most) plus a small perceptual loss (the
discriminator's judgement of G(z)); z is clipped back into [-1, 1] after every step. All candidates
are one batch. G(z) is then brought to the photo's resolution and blended in: the difference between
the photo and G(z) on the known pixels is diffused into the hole (a membrane blend), so colour and
brightness meet the photo at the border while G(z)'s detail stays.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn

from inpaint_gui.core.compose import InputError, describe
from inpaint_gui.engine.base import Cancelled, Engine
from inpaint_gui.engine.checkpoint import (
    LATENT_FACES_NAME,
    CheckpointError,
    ReleaseInfo,
    build_within_budget,
    check_weights,
    checkpoint_dir,
    load_release,
    save_release,
)
from inpaint_gui.engine.device import choose_device, use_bf16
from inpaint_gui.engine.tensors import to_uint8
from inpaint_gui.models.gan import DCDiscriminator, DCGenerator, GanConfig
from inpaint_gui.models.layers import push_pull_fill

log = logging.getLogger(__name__)

OBJECTIVES = ("dcgan", "wgan-gp")

#: (step, total, loss) after every search step; loss is the mean over candidates.
StepCallback = Callable[[int, int, float], None]
#: (step, total, previews): each candidate's current fill as the search sees it, a small uint8
#: (h, w, 3) RGB image of the region around the hole (the photo's pixels outside the hole).
PreviewCallback = Callable[[int, int, list[NDArray[np.uint8]]], None]


@dataclass(frozen=True)
class SearchSettings:
    """How the latent search runs."""

    # 50 steps of 0.1 reach what 100 of 0.05 or 0.1 do (hole PSNR within 0.1 dB on eval/faces at
    # 64 px, docs/decisions.md); the search is the engine's whole cost, linear in steps.
    steps: int = 50
    lr: float = 0.1  # Adam's step on z (z lives in [-1, 1])
    perceptual: float = 0.01  # weight of the discriminator's loss against the contextual loss
    window: int = 7  # side of the window that weights each known pixel by the hole pixels near it

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError(f"steps must be >= 0, got {self.steps}")
        if self.lr <= 0 or self.perceptual < 0:
            raise ValueError("lr must be > 0 and perceptual >= 0")
        if self.window < 1 or self.window % 2 == 0:
            raise ValueError(f"window must be an odd number >= 1, got {self.window}")


def uniform_z(seed: int, z_dim: int, near: int | None = None, spread: float = 0.0) -> torch.Tensor:
    """A candidate's starting code [z_dim], uniform in [-1, 1]; with near, a blend towards near's."""
    z = torch.rand(z_dim, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    if near is None:
        return z
    base = torch.rand(z_dim, generator=torch.Generator().manual_seed(near)) * 2 - 1
    return (math.sqrt(1.0 - spread * spread) * base + spread * z).clamp(-1, 1)


def context_weights(known: torch.Tensor, hole: torch.Tensor, window: int) -> torch.Tensor:
    """Yeh et al.'s W: each known pixel weighted by the share of hole pixels in its window.

    known, hole: [N, 1, H, W] in {0, 1} (pixels outside the photo are neither). Returns [N, 1, H, W].
    """
    near = F.avg_pool2d(hole, window, stride=1, padding=window // 2, count_include_pad=False)
    return known * near


def adversarial_loss(logits: torch.Tensor, objective: str) -> torch.Tensor:
    """The generator's loss per sample [N] under the GAN objective (non-saturating for DCGAN)."""
    if objective == "dcgan":
        return F.softplus(-logits.float())
    if objective == "wgan-gp":
        return -logits.float()
    raise ValueError(f"unknown GAN objective {objective!r}; choose from {', '.join(OBJECTIVES)}")


def latent_search(
    generator: DCGenerator,
    discriminator: DCDiscriminator,
    objective: str,
    target: torch.Tensor,
    known: torch.Tensor,
    hole: torch.Tensor,
    z: torch.Tensor,
    settings: SearchSettings,
    *,
    bf16: bool = False,
    on_step: Callable[[int, float, torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """Optimise z [B, z_dim] so G(z) matches target on the known pixels; returns G(z) [B, 3, R, R].

    target [B, 3, R, R] in [-1, 1]; known, hole [B, 1, R, R] in {0, 1}. Both networks must be in
    eval mode. Each candidate's loss is its own (summed, not averaged, over the batch), so its
    search does not depend on which other candidates share the batch. on_step(step, loss, fake) is
    called after every step with the mean loss and the G(z) [B, 3, R, R] that step judged (detached,
    float); it may raise to stop the search.
    """
    weights = context_weights(known, hole, settings.window)
    weights = weights / weights.sum(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)  # [B, 1, R, R]
    z = z.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=settings.lr)
    autocast = torch.autocast("cpu", torch.bfloat16) if bf16 else contextlib.nullcontext()
    with torch.enable_grad():
        for step in range(settings.steps):
            with autocast:
                fake = generator(z)
                logits = discriminator(fake) if settings.perceptual > 0 else None
            contextual = ((fake.float() - target).abs().mean(dim=1, keepdim=True) * weights).sum(
                dim=(1, 2, 3)
            )
            loss = contextual
            if logits is not None:
                loss = loss + settings.perceptual * adversarial_loss(logits, objective)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
            with torch.no_grad():
                z.clamp_(-1, 1)
            if on_step is not None:
                on_step(step + 1, float(loss.detach().mean()), fake.detach().float())
    with torch.no_grad(), autocast:
        return generator(z).float()


def membrane_blend(
    photo: NDArray[np.uint8], generated: NDArray[np.float32], hole: NDArray[np.bool_]
) -> NDArray[np.uint8]:
    """generated (h, w, 3) float in [0, 255], shifted by a smooth field so it meets photo at the hole's
    border: photo - generated on the known pixels, diffused into the hole (push-pull)."""
    diff = photo.astype(np.float32) - generated  # [h, w, 3]
    t = torch.from_numpy(np.ascontiguousarray(diff.transpose(2, 0, 1)))[None]
    visible = torch.from_numpy((~hole).astype(np.float32))[None, None]
    field = push_pull_fill(t, visible)[0].numpy().transpose(1, 2, 0)
    return np.clip(generated + field, 0, 255).round().astype(np.uint8)


class LatentEngine(Engine):
    """Latent search over a faces GAN: each seed starts z somewhere else and lands on another fill.

    It expects the photo (or the part of it around the hole, up to max_side) to look like the
    training images: an aligned face filling the frame.
    """

    name = "latent"
    label = "Latent search (GAN)"
    pluralistic = True
    # on_step(step, total, loss) after every search step; on_preview(step, total, previews) every
    # preview_every steps and after the last, for a live view of the fills converging.
    request_options = ("on_step", "on_preview")
    preview_every = 5
    max_side: int | None = 1024
    context = 2.0

    def __init__(
        self,
        generator: DCGenerator,
        discriminator: DCDiscriminator,
        objective: str,
        info: ReleaseInfo,
        device: torch.device | None = None,
        path: Path | None = None,
        settings: SearchSettings | None = None,
        amp: str = "auto",
    ) -> None:
        self.device = device or torch.device("cpu")
        self.generator = generator.eval().requires_grad_(False).to(self.device)
        self.discriminator = discriminator.eval().requires_grad_(False).to(self.device)
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown GAN objective {objective!r}")
        self.objective = objective
        self.info = info
        self.path = path
        self.settings = settings or SearchSettings()
        self.bf16 = self.device.type == "cpu" and use_bf16(self.device, amp)
        self._on_step: StepCallback | None = None
        self._on_preview: PreviewCallback | None = None

    @classmethod
    def from_checkpoint(
        cls, checkpoint: str | Path | None = None, device: str = "auto", **kwargs: Any
    ) -> LatentEngine:
        """Load a release checkpoint; None = the shipped faces one."""
        dev = choose_device(device)
        path = Path(checkpoint) if checkpoint is not None else checkpoint_dir() / LATENT_FACES_NAME
        if checkpoint is None and not path.is_file():
            raise CheckpointError(
                f"no latent-search checkpoint found ({path} is missing): train one with "
                "`inpaint train --set engine=latent` and `inpaint export`, or pass --checkpoint PATH"
            )
        state, info = load_release(path, engine=cls.name)
        generator, discriminator, objective = build_networks(path, info, state)
        log.info("loaded %s (%s, %d steps) on %s", path.name, info.dataset, info.steps, dev)
        return cls(generator, discriminator, objective, info, dev, path=path, **kwargs)

    def warm_up(self, n: int = 6) -> None:
        """A two-step search of n candidates on a blank square, so the first request does not pay
        for creating the kernels for these shapes (0.9-1.8 s here, measured; the app asks for 6)."""
        keep, self.settings = self.settings, dataclasses.replace(self.settings, steps=2)
        try:
            hole = np.zeros((64, 64), bool)
            hole[24:40, 24:40] = True
            self.inpaint(np.zeros((64, 64, 3), np.uint8), hole, n=n, seed=0)
        finally:
            self.settings = keep

    def _begin_request(self, image: NDArray[np.uint8], count: int, extras: Mapping[str, Any]) -> None:
        """on_step(step, total, loss) is called after every search step, on_preview(step, total,
        previews) every preview_every steps and after the last; should_cancel is also polled
        between search steps."""
        for key in self.request_options:
            if extras.get(key) is not None and not callable(extras[key]):
                raise InputError(f"{key} must be callable, got {describe(extras[key])}")
        self._on_step = extras.get("on_step")
        self._on_preview = extras.get("on_preview")

    def _end_request(self) -> None:
        self._on_step = self._on_preview = None

    def _fill(
        self,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        seeds: Sequence[int],
        near: int | None,
        spread: float,
    ) -> Iterator[NDArray[np.uint8]]:
        h, w = mask.shape
        res = self.generator.config.resolution
        side = max(h, w)
        top, left = (side - h) // 2, (side - w) // 2  # centred in a square; the margin is neither
        square = np.zeros((side, side, 3), np.uint8)
        square[top : top + h, left : left + w] = image
        inside = np.zeros((side, side), np.float32)
        inside[top : top + h, left : left + w] = 1
        hole_sq = np.zeros((side, side), np.float32)
        hole_sq[top : top + h, left : left + w] = mask
        small = cv2.resize(square, (res, res), interpolation=cv2.INTER_AREA)
        hole_s = (cv2.resize(hole_sq, (res, res), interpolation=cv2.INTER_AREA) > 0).astype(np.float32)
        inside_s = (cv2.resize(inside, (res, res), interpolation=cv2.INTER_AREA) > 0.99).astype(np.float32)
        known_s = inside_s * (1 - hole_s)

        b = len(seeds)
        z_dim = self.generator.config.z_dim
        z = torch.stack([uniform_z(s, z_dim, near, spread) for s in seeds]).to(self.device)
        target = torch.from_numpy(small).permute(2, 0, 1)[None].float().div(127.5).sub(1).to(self.device)
        known = torch.from_numpy(known_s)[None, None].to(self.device)
        hole = torch.from_numpy(hole_s)[None, None].to(self.device)
        total = self.settings.steps

        # The part of the square the photo covers, at the search's resolution, for previews.
        t_s, l_s = round(top * res / side), round(left * res / side)
        h_s, w_s = max(1, round(h * res / side)), max(1, round(w * res / side))
        known_t = torch.from_numpy(known_s)[None, None]

        def step(i: int, loss: float, fake: torch.Tensor) -> None:
            if self._on_step is not None:
                self._on_step(i, total, loss)
            if self._on_preview is not None and (i % self.preview_every == 0 or i == total):
                rgb = to_uint8(fake.cpu() * (1 - known_t) + target.cpu() * known_t)
                crop = rgb[:, :, t_s : t_s + h_s, l_s : l_s + w_s].permute(0, 2, 3, 1).numpy()
                self._on_preview(i, total, [np.ascontiguousarray(c) for c in crop])
            if i < total:
                if self._cancel_requested():
                    raise Cancelled()

        fake = latent_search(
            self.generator,
            self.discriminator,
            self.objective,
            target.expand(b, -1, -1, -1),
            known.expand(b, -1, -1, -1),
            hole.expand(b, -1, -1, -1),
            z,
            self.settings,
            bf16=self.bf16,
            on_step=step,
        )
        generated = fake.add(1).mul(127.5).clamp(0, 255).permute(0, 2, 3, 1).cpu().numpy()  # [B, R, R, 3]
        for g in generated:
            up = cv2.resize(g, (side, side), interpolation=cv2.INTER_CUBIC)[top : top + h, left : left + w]
            yield membrane_blend(image, np.clip(up, 0, 255), mask)


#: Batch norm's step counter: an integer that inference never reads, so releases leave it out
#: (release checkpoints hold floating-point weights only).
_COUNTER = "num_batches_tracked"


def build_networks(
    path: Path, info: ReleaseInfo, state: dict[str, torch.Tensor]
) -> tuple[DCGenerator, DCDiscriminator, str]:
    """The generator, the discriminator and the objective of a latent release checkpoint."""
    arch = dict(info.model_config)
    objective = arch.pop("objective", None)
    if objective not in OBJECTIVES:
        raise CheckpointError(f"{path}: metadata names no known GAN objective ({objective!r})")
    try:
        config = GanConfig.from_dict(arch)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: bad architecture settings in metadata ({exc})") from None
    batch = 6  # the app asks for 6 candidates; the search keeps both networks' activations for backward

    def search(pair: nn.Module) -> None:
        generator, discriminator = pair  # type: ignore[misc]
        discriminator(generator(torch.zeros(batch, config.z_dim)))

    meta = build_within_budget(
        path,
        lambda: nn.ModuleList([DCGenerator(config), DCDiscriminator(config)]),
        search,
        f"to search for {batch} candidates at {config.resolution} x {config.resolution} pixels",
    )
    nets = (DCGenerator(config), DCDiscriminator(config))
    for prefix, net, plan in zip(("generator.", "discriminator."), nets, meta, strict=True):
        theirs = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        ours = {k: v for k, v in plan.state_dict().items() if not k.endswith(_COUNTER)}
        check_weights(
            path, {prefix + k: v for k, v in ours.items()}, {prefix + k: v for k, v in theirs.items()}
        )
        counters = {k: v for k, v in net.state_dict().items() if k.endswith(_COUNTER)}
        net.load_state_dict({**theirs, **counters})
    return nets[0], nets[1], objective


def release_state(generator: DCGenerator, discriminator: DCDiscriminator) -> dict[str, torch.Tensor]:
    """Both networks' weights under "generator." and "discriminator." (the search needs both)."""
    out = {f"generator.{k}": v for k, v in generator.state_dict().items() if not k.endswith(_COUNTER)}
    out.update(
        {f"discriminator.{k}": v for k, v in discriminator.state_dict().items() if not k.endswith(_COUNTER)}
    )
    return out


def release_config(config: GanConfig, objective: str) -> dict[str, Any]:
    return {**config.to_dict(), "objective": objective}


def save_random_release(
    path: str | Path, config: GanConfig | None = None, objective: str = "dcgan", seed: int = 0
) -> Path:
    """A randomly initialised latent release checkpoint, written by the real saver (tests, demos)."""
    config = config or GanConfig(resolution=16, z_dim=8, g_channels=8, d_channels=8)
    torch.manual_seed(seed)
    g, d = DCGenerator(config), DCDiscriminator(config)
    info = ReleaseInfo(
        engine=LatentEngine.name,
        model_config=release_config(config, objective),
        resolution=config.resolution,
        dataset="none (random initialisation)",
        steps=0,
    )
    save_release(path, release_state(g.eval(), d.eval()), info)
    return Path(path)
