"""Choosing the torch device."""

from __future__ import annotations

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")
AMP_MODES = ("auto", "bf16", "off")


def choose_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple MPS, then CPU; an unavailable explicit choice is an error."""
    base = name.split(":")[0]
    if base not in DEVICES:
        raise ValueError(f"unknown device {name!r}; choose from {', '.join(DEVICES)}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if base == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but CUDA is not available")
    if base == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' was asked for but Apple MPS is not available")
    return torch.device(name)


def use_bf16(device: torch.device, mode: str) -> bool:
    """Whether an amp mode ("auto", "bf16", "off") means bf16 autocast on this device.

    "auto" takes it on CUDA and on CPUs with AMX, whose bf16 tile units make a CPU training step
    about 2x faster than float32 (1.69 vs 3.39 s, cpu-small at 128 px, one thread) and inference
    about 2x too; on CPUs without them bf16 is emulated and slow, and MPS stays float32.
    """
    if mode not in AMP_MODES:
        raise ValueError(f"unknown amp mode {mode!r}; choose from {', '.join(AMP_MODES)}")
    if mode != "auto":
        return mode == "bf16"
    return device.type == "cuda" or (device.type == "cpu" and cpu_has_amx())


def cpu_has_amx() -> bool:
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private, so guarded
    try:
        return bool(probe and probe())
    except RuntimeError:
        return False
