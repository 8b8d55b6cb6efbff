"""The model-specific part of training behind one small interface, so every engine reuses the loop.

The loop (loop.py) owns data, devices, DDP, logging, sample grids, checkpoints and resuming; a task
owns its networks, optimisers, losses and one optimisation step, and knows how to make release
weights. A new engine adds a TrainTask subclass and one line in TASKS.
"""

from __future__ import annotations

import abc
import contextlib
import importlib
import warnings
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from inpaint_gui.training.config import TrainConfig

#: engine name -> "module:Class" of its training task (imported only when used).
TASKS: dict[str, str] = {
    "pluralistic": "inpaint_gui.training.pluralistic_task:PluralisticTask",
    "restore": "inpaint_gui.training.restore_task:RestoreTask",
    "latent": "inpaint_gui.training.latent_task:LatentGanTask",
}


class TrainTask(abc.ABC):
    """Networks, optimisers and one training step of one engine."""

    name: ClassVar[str]

    def __init__(self, cfg: TrainConfig, device: torch.device) -> None:
        self.cfg = cfg
        self.device = device

    @abc.abstractmethod
    def networks(self) -> dict[str, nn.Module]:
        """Every module whose state a training checkpoint keeps, by name (unwrapped, not DDP)."""

    @abc.abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Optimisers by name; each param group holds a "base_lr" that the schedule scales."""

    @abc.abstractmethod
    def distribute(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        """Wrap the modules a step runs forward through (DistributedDataParallel) with `wrap`."""

    @abc.abstractmethod
    def train_step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        """One optimisation step on a CPU batch {"image": uint8 [N, 3, H, W], "mask": uint8 [N, 1, H, W]}.

        Returns detached scalar tensors (losses and other figures) for logging; no host sync needed.
        """

    @abc.abstractmethod
    def sample(self, images: torch.Tensor, masks: torch.Tensor, candidates: int, seed: int) -> torch.Tensor:
        """Composited fills of the inference network: uint8 [N, candidates, 3, H, W].

        images uint8 [N, 3, H, W], masks uint8 [N, 1, H, W]; must not touch the training RNG.
        """

    @abc.abstractmethod
    def release(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """(inference state dict, architecture dict) for a release checkpoint."""

    # -- helpers for tasks with a `generator`, its `ema` copy and `_amp` (bf16 autocast on or off) --

    def _autocast(self) -> contextlib.AbstractContextManager:
        if not getattr(self, "_amp", False):
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def _clip(self, module: nn.Module) -> None:
        if self.cfg.optim.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(module.parameters(), self.cfg.optim.grad_clip)

    @torch.no_grad()
    def _update_ema(self, step: int) -> None:
        """EMA of the generator's parameters (decay warming up over the first steps); buffers copied."""
        ema, generator = self.ema, self.generator  # type: ignore[attr-defined]
        decay = min(self.cfg.optim.ema_decay, (1 + step) / (10 + step))
        for p_ema, p in zip(ema.parameters(), generator.parameters(), strict=True):
            p_ema.lerp_(p.detach(), 1 - decay)
        for b_ema, b in zip(ema.buffers(), generator.buffers(), strict=True):
            b_ema.copy_(b)

    def set_lr_scale(self, scale: float) -> None:
        for opt in self.optimizers().values():
            for group in opt.param_groups:
                group["lr"] = group["base_lr"] * scale

    def state_dict(self) -> dict[str, Any]:
        return {
            "networks": {k: m.state_dict() for k, m in self.networks().items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers().items()},
        }

    def load_state_dict(self, state: dict[str, Any], optimizers: bool = True) -> None:
        nets, opts = self.networks(), self.optimizers()
        saved = state["networks"]
        if set(saved) != set(nets):
            raise ValueError(f"checkpoint holds networks {sorted(saved)}, this task has {sorted(nets)}")
        for k, m in nets.items():
            m.load_state_dict(saved[k])
            bad = nonfinite(m.state_dict())
            if bad:
                raise ValueError(f"network {k!r} holds NaN or infinite values ({bad})")
        if optimizers:
            for k, o in opts.items():
                o.load_state_dict(state["optimizers"][k])
                _check_optimizer(k, o)

    def nonfinite_weights(self) -> str:
        """The first network tensor holding NaN or infinity ("network.name"), or "" when none does."""
        for k, m in self.networks().items():
            bad = nonfinite(m.state_dict())
            if bad:
                return f"{k}.{bad}"
        return ""

    def init_networks(self, state: dict[str, Any], skip: Sequence[str] = ()) -> list[str]:
        """Start from another run's network weights: every tensor whose name and shape match is
        copied, except in the networks named in skip; returns what was left as initialised."""
        saved = state["networks"]
        unknown = sorted(set(skip) - set(self.networks()))
        if unknown:
            raise ValueError(
                f"run.init_skip: no network {', '.join(unknown)}; this task has {', '.join(self.networks())}"
            )
        fresh = []
        for k, m in self.networks().items():
            if k in skip:
                fresh.append(f"{k} (all of it)")
                continue
            theirs = saved.get(k, {})
            ours = m.state_dict()
            take = {n: t for n, t in theirs.items() if n in ours and ours[n].shape == t.shape}
            fresh += [f"{k}.{n}" for n in ours if n not in take]
            m.load_state_dict({**ours, **take})
        return fresh


def memory_format(device: torch.device, mode: str) -> torch.memory_format:
    """The layout run.memory_format asks for: "auto" = channels_last on a CPU, where oneDNN then skips
    reordering between convolutions (a cpu-small step 1.4x faster in float32, 1.5x in bf16)."""
    if mode == "auto":
        return torch.channels_last if device.type == "cpu" else torch.contiguous_format
    return torch.channels_last if mode == "channels_last" else torch.contiguous_format


def make_task(cfg: TrainConfig, device: torch.device) -> TrainTask:
    """The training task of cfg.engine; raises ValueError listing the engines that can be trained."""
    if cfg.engine not in TASKS:
        raise ValueError(f"no trainer for engine {cfg.engine!r}; trainable engines: {', '.join(TASKS)}")
    module, cls = TASKS[cfg.engine].split(":")
    task_cls: type[TrainTask] = getattr(importlib.import_module(module), cls)
    _check_size(task_cls, cfg)
    return task_cls(cfg, device)


def _check_size(task_cls: type[TrainTask], cfg: TrainConfig) -> None:
    """ValueError when cfg's networks exceed the checkpoints' parameter budget: they are counted on
    PyTorch's meta device, which allocates nothing, before the real ones take memory."""
    from inpaint_gui.engine.checkpoint import MAX_PARAMETERS

    try:
        # Pretrained loss networks load their weights into meta tensors too, a no-op torch warns about.
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            task = task_cls(cfg, torch.device("meta"))
        count = sum(p.numel() for m in task.networks().values() for p in m.parameters())
    except (RuntimeError, NotImplementedError, TypeError, AttributeError):
        return  # a task the meta device cannot build is checked by building it for real
    if count > MAX_PARAMETERS:
        raise ValueError(
            f"these model settings make networks of {count:,} parameters ({count * 16 / 1e9:.0f} GB "
            f"with their gradients and optimiser state); the limit is {MAX_PARAMETERS:,}"
        )


def nonfinite(state: dict[str, Any]) -> str:
    """The name of the first floating-point tensor of state holding NaN or infinity, or ""."""
    for name, t in state.items():
        if isinstance(t, torch.Tensor) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            return name
    return ""


def _check_optimizer(name: str, optimizer: torch.optim.Optimizer) -> None:
    """ValueError unless every per-parameter state tensor (Adam's moments) has its parameter's shape
    and finite values: torch loads any shape and fails only at the next step, deep in the update."""
    for group in optimizer.param_groups:
        for param in group["params"]:
            for key, value in optimizer.state.get(param, {}).items():
                if not isinstance(value, torch.Tensor) or value.ndim == 0:
                    continue  # the step counter
                if value.shape != param.shape:
                    raise ValueError(
                        f"optimizer {name!r}: state {key!r} has shape {tuple(value.shape)}, "
                        f"its parameter {tuple(param.shape)}"
                    )
                if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                    raise ValueError(f"optimizer {name!r}: state {key!r} holds NaN or infinite values")
