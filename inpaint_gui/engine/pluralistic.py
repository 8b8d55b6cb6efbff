"""The pluralistic engine: one encoder pass per image, candidates decoded in batches."""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.detail import DetailMap, remove_checkerboard
from inpaint_gui.core.region import Region
from inpaint_gui.engine.base import Engine, number_between
from inpaint_gui.engine.checkpoint import (
    CheckpointError,
    ReleaseInfo,
    build_within_budget,
    check_weights,
    default_checkpoint,
    load_release,
    missing_checkpoint_message,
    save_release,
)
from inpaint_gui.engine.device import choose_device, use_bf16
from inpaint_gui.engine.fullres import attention_detail, similarity_detail
from inpaint_gui.engine.tensors import image_to_tensor, mask_to_tensor, tensor_to_images, to_uint8
from inpaint_gui.models import PluralisticConfig, PluralisticGenerator

log = logging.getLogger(__name__)

#: Where the full-resolution detail of a scaled-down fill comes from (engine.fullres).
DETAIL_MODES = ("similarity", "attention", "off")

#: A small architecture for tests and demos of the plumbing; it proposes noise until trained.
TINY_CONFIG = PluralisticConfig(
    channels=(8, 8, 16, 16),
    z_channels=4,
    prior_blocks=1,
    posterior_blocks=1,
    attention_level=1,
    output_levels=2,
)


#: The range of PluralisticEngine.variety: at 0 every candidate would be the prior's mean; at 2.5 the
#: shipped faces network's fills of large holes already carry smears and creases. The guided engine
#: keeps only each draw's layout and takes bolder draws (its default is 4).
MIN_VARIETY, MAX_VARIETY = 0.25, 5.0


class PluralisticEngine(Engine):
    """Pluralistic Image Completion (Zheng, Cham, Cai, CVPR 2019).

    Every candidate decodes its own draw z = mu + std * eps from the conditional
    prior p(z | visible pixels); eps comes from a torch.Generator seeded with the
    candidate's seed, on the CPU, so a seed means the same draw on every device.
    """

    name = "pluralistic"
    label = "Pluralistic (several fills)"
    pluralistic = True
    blend = "membrane"
    detail = "similarity"
    detail_modes = DETAIL_MODES
    #: Context around each hole, as a multiple of its size: with 0.5 an ellipse's crop is about
    #: 20% hole, within the 5-60% (mean ~32%) of the training masks (training.masks, MaskConfig).
    context = 0.5
    #: How far from the prior's mean the candidates are drawn: eps is scaled by this (a sampling
    #: temperature). 1 is the prior the network learnt; more gives candidates that differ more, in
    #: layout as well as shading, at some cost in realism (figures: docs/decisions.md).
    variety = 1.0
    options = (*Engine.options, "variety")

    def __init__(
        self,
        generator: PluralisticGenerator,
        info: ReleaseInfo,
        device: torch.device,
        path: Path | None = None,
        max_side: int | None = None,
        batch_size: int = 2,
        amp: str = "auto",
    ) -> None:
        # channels_last lets oneDNN skip layout reorders between convolutions: ~20% faster on CPU.
        self.generator = generator.eval().to(device, memory_format=torch.channels_last)
        self.info = info
        self.device = device
        self.path = path
        self.size_multiple = generator.config.stride  # type: ignore[misc]
        #: Longest side a region is filled at: the network's training size. Larger regions are
        #: scaled down and get their detail back from the photo (engine.fullres). At twice that
        #: size the network sees a hole larger than any it was trained on, and its attention costs
        #: 16 times as much: eval/scenes at 256 px (every 20th, n = 6) LPIPS 0.164 -> 0.162,
        #: KID x10^3 16.9 -> 11.3 at the training size (docs/speed.md).
        self.max_side = max_side if max_side is not None else info.resolution
        #: Candidates decoded per forward pass: 2-3 is fastest on a 2-core CPU (cache-sized
        #: activations), and it lets a GUI stream them in pairs; 1 streams one by one.
        self.batch_size = batch_size
        #: bf16 autocast ("auto": on CUDA and on CPUs with AMX): 2.2-2.6x faster on such a CPU (faces,
        #: 6 fills at 256 px: 0.30 s against 0.67 s) and within ~0.4 grey levels of float32 (56 dB).
        self.bf16 = use_bf16(device, amp)

    @classmethod
    def from_checkpoint(
        cls, checkpoint: str | Path | None = None, device: str = "auto", **kwargs
    ) -> PluralisticEngine:
        """Load a release checkpoint; None = the default shipped one."""
        dev = choose_device(device)
        if checkpoint is None:
            checkpoint = default_checkpoint()
            if checkpoint is None:
                raise CheckpointError(missing_checkpoint_message())
        path = Path(checkpoint)
        state, info = load_release(path, engine=cls.name)
        side = kwargs.get("max_side") or 2 * info.resolution
        generator = build_generator(path, info, state, side, kwargs.get("batch_size", 2))
        log.info("loaded %s (%s, %d steps) on %s", path.name, info.dataset, info.steps, dev)
        return cls(generator, info, dev, path=path, **kwargs)

    def _fill_region(
        self,
        region: Region,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        seeds: Sequence[int],
        near: int | None,
        spread: float,
    ) -> Iterator[tuple[NDArray[np.uint8], DetailMap | None]]:
        """Fills at native size lose the sub-pixel output layer's 2-px checkerboard here (CHECKER);
        scaled ones are smoothed on their way up instead (core.detail.NOTCH). Only scaled fills
        need detail maps: a fill at native size has every pixel it will be shown at."""
        fills = self._fill(image, mask, seeds, near, spread, with_detail=region.scaled)
        if region.scaled:
            return fills
        return ((remove_checkerboard(fill), detail) for fill, detail in fills)

    def _fill(
        self,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        seeds: Sequence[int],
        near: int | None,
        spread: float,
        *,
        with_detail: bool = True,
    ) -> Iterator[tuple[NDArray[np.uint8], DetailMap | None]]:
        cl = torch.channels_last
        attention = self.generator.decoder.attention
        mode = self.detail if with_detail else "off"
        with self._torch_mode():
            x = image_to_tensor(image, self.device).contiguous(memory_format=cl)  # [1, 3, H, W]
            m = mask_to_tensor(mask, self.device).contiguous(memory_format=cl)  # [1, 1, H, W]
            enc = self.generator.encode(x, m)
        shape = tuple(enc.prior_mu.shape[1:])  # (z, h, w)
        stride = 2**self.generator.config.attention_level
        for start in range(0, len(seeds), self.batch_size):
            batch = seeds[start : start + self.batch_size]
            noise = torch.stack([latent_noise(s, shape, near, spread) for s in batch]) * self.variety
            maps: list[DetailMap | None] = [None] * len(batch)
            attention.keep_map = mode == "attention"
            try:
                with self._torch_mode():
                    out = self.generator.sample(enc, noise.to(self.device), m)  # [b, 3, H, W]
                    images = tensor_to_images(out.float())
                    if mode == "attention" and attention.last_map is not None:
                        maps = attention_detail(attention.last_map, m, stride, attention.last_pool)
                    elif mode == "similarity":
                        # On the fills as rounded for display: float noise that differs with the
                        # batch size could otherwise swap near-equal sources (a candidate's bytes
                        # must not depend on how it was batched).
                        maps = similarity_detail(to_uint8(out).float(), m, stride)
            finally:
                attention.keep_map, attention.last_map = False, None
            # Outside the torch modes: the caller's code runs between yields.
            yield from zip(images, maps, strict=True)

    def _set_option(self, key: str, value: Any) -> None:
        if key != "variety":
            super()._set_option(key, value)
        elif not number_between(value, MIN_VARIETY, MAX_VARIETY):
            raise InputError(f"variety must be between {MIN_VARIETY:g} and {MAX_VARIETY:g}, got {value!r}")
        else:
            self.variety = float(value)

    @contextlib.contextmanager
    def _torch_mode(self) -> Iterator[None]:
        with torch.inference_mode():
            if not self.bf16:
                yield
                return
            with torch.autocast(self.device.type, torch.bfloat16):
                yield


def latent_noise(
    seed: int, shape: tuple[int, ...], near: int | None = None, spread: float = 0.0
) -> torch.Tensor:
    """Standard normal noise for one candidate; with near, a blend that keeps unit variance."""
    eps = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    if near is None:
        return eps
    base = torch.randn(shape, generator=torch.Generator().manual_seed(near))
    return math.sqrt(1.0 - spread * spread) * base + spread * eps


#: The side at which a network's working memory is counted before it is built (then scaled).
PROBE_SIDE = 256


def probe_fill(generator: nn.Module, side: int, batch: int) -> None:
    """One fill of `batch` candidates at side x side pixels, as the engine runs it: what the budget
    counts (checkpoint.build_within_budget)."""
    assert isinstance(generator, PluralisticGenerator)
    image, mask = torch.zeros(1, 3, side, side), torch.zeros(1, 1, side, side)
    enc = generator.encode(image, mask)
    generator.sample(enc, torch.zeros(batch, *enc.prior_mu.shape[1:]), mask)


def build_generator(
    path: Path, info: ReleaseInfo, state: dict[str, torch.Tensor], side: int | None = None, batch: int = 2
) -> PluralisticGenerator:
    """An inference generator from a release checkpoint's config and weights.

    The architecture is first built and run on PyTorch's meta device, which allocates nothing: its
    parameters and a fill of `batch` candidates at `side` pixels (default: twice the training size,
    the engine's default max_side) are checked against the budget (checkpoint.build_within_budget),
    and its tensors' names, shapes and dtypes against the weights, before the real network takes
    any memory.
    """
    try:
        config = PluralisticConfig.from_dict({**info.model_config, "spectral_norm": False})
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: bad architecture settings in metadata ({exc})") from None
    s = config.stride
    side = -(-(side or 2 * info.resolution) // s) * s  # the largest region a fill works on, padded
    probe = min(side, -(-PROBE_SIDE // s) * s)  # outputs grow with the pixels: counted here, scaled

    network = build_within_budget(
        path,
        lambda: PluralisticGenerator(config, with_posterior=False),
        lambda generator: probe_fill(generator, probe, batch),
        f"to fill {batch} candidates at {side} x {side} pixels",
        scale=(side / probe) ** 2,
        pixels=batch * side * side,
    )
    check_weights(path, network.state_dict(), state)
    generator = PluralisticGenerator(config, with_posterior=False)
    generator.load_state_dict(state)
    return generator


def inference_state_dict(generator: PluralisticGenerator) -> dict[str, torch.Tensor]:
    """Weights a release needs: spectral norm already folded, posterior head left out."""
    return {k: v for k, v in generator.state_dict().items() if not k.startswith("posterior.")}


def open_outputs(generator: PluralisticGenerator, std: float = 0.05) -> PluralisticGenerator:
    """Give a new prefill network's zero output layers random weights (in place), so its output
    shows what the layers beneath compute instead of the fill alone (tests, plumbing demos)."""
    with torch.no_grad():
        for head in (*generator.decoder.to_rgb.values(), generator.decoder.to_full):
            nn.init.normal_(head[1].weight, std=std)
    return generator


def save_random_release(
    path: str | Path, config: PluralisticConfig = TINY_CONFIG, seed: int = 0, resolution: int = 64
) -> Path:
    """A randomly initialised release checkpoint, written by the real saver (tests, plumbing demos).

    A new prefill network's output layers are zero (it would give the fill alone); here they are
    random too, so candidates differ as they do in a trained one.
    """
    torch.manual_seed(seed)
    generator = PluralisticGenerator(
        PluralisticConfig.from_dict({**config.to_dict(), "spectral_norm": False})
    )
    if generator.config.prefill:
        open_outputs(generator)
    info = ReleaseInfo(
        engine=PluralisticEngine.name,
        model_config=generator.config.to_dict(),
        resolution=resolution,
        dataset="none (random initialisation)",
        steps=0,
    )
    save_release(path, inference_state_dict(generator), info)
    return Path(path)
