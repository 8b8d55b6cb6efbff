"""The one place where pixel values become model tensors and back.

Models see float32 in [-1, 1]; images are uint8 in [0, 255]. The trainer's
batches (uint8 [N, 3, H, W] tensors) use the same two functions.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray


def to_model_range(t: torch.Tensor) -> torch.Tensor:
    """uint8 tensor, any layout -> float32 in [-1, 1], same layout."""
    return t.float().div_(127.5).sub_(1.0)


def to_uint8(t: torch.Tensor) -> torch.Tensor:
    """float tensor in [-1, 1], any layout -> uint8 in [0, 255], same layout, rounded."""
    return t.detach().float().add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


def image_to_tensor(image: NDArray[np.uint8], device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 (H, W, 3) RGB -> float32 [1, 3, H, W] in [-1, 1]."""
    array = np.ascontiguousarray(image)
    if not array.flags.writeable:  # the app's frozen photo: torch refuses to share a read-only buffer
        array = array.copy()
    t = torch.from_numpy(array).to(device)
    return to_model_range(t.permute(2, 0, 1).unsqueeze(0))


def mask_to_tensor(mask: NDArray[np.bool_], device: torch.device | str = "cpu") -> torch.Tensor:
    """bool (H, W), True = fill -> float32 [1, 1, H, W], 1 = hole."""
    return torch.from_numpy(np.ascontiguousarray(mask)).to(device)[None, None].float()


def tensor_to_images(t: torch.Tensor) -> NDArray[np.uint8]:
    """float [N, 3, H, W] in [-1, 1] -> uint8 (N, H, W, 3) RGB."""
    return to_uint8(t).permute(0, 2, 3, 1).contiguous().cpu().numpy()
