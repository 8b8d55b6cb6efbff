"""A check the architecture options' tests share: a release with the option loads and fills."""

from __future__ import annotations

from pathlib import Path

import torch

from inpaint_gui.engine import load_engine
from inpaint_gui.engine.pluralistic import save_random_release
from inpaint_gui.models.config import PluralisticConfig


def assert_release_fills(path: Path, config: PluralisticConfig) -> None:
    """Write a random release of config at path, load it as the app does and fill a hole: known
    pixels kept, two seeds different."""
    engine = load_engine("pluralistic", save_random_release(path, config), "cpu")
    image = torch.randint(0, 256, (48, 40, 3), dtype=torch.uint8).numpy()
    mask = torch.zeros(48, 40, dtype=torch.bool).numpy()
    mask[10:30, 5:25] = True
    a, b = engine.inpaint(image, mask, n=2)
    assert (a.image[~mask] == image[~mask]).all() and (a.image != b.image).any()
