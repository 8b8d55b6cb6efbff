from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inpaint_gui.engine.pluralistic import save_random_release


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_random_release(tmp_path_factory.mktemp("ckpt") / "tiny.safetensors")


@pytest.fixture
def photo() -> np.ndarray:
    """A smooth gradient with texture: deterministic, and unlike any constant."""
    rng = np.random.default_rng(0)
    h, w = 131, 257
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) % 256], axis=-1)
    return (img + rng.integers(0, 20, (h, w, 3))).clip(0, 255).astype(np.uint8)


@pytest.fixture
def hole(photo: np.ndarray) -> np.ndarray:
    mask = np.zeros(photo.shape[:2], bool)
    mask[40:90, 100:170] = True
    return mask
