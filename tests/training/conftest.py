from __future__ import annotations

from pathlib import Path

import pytest
from training_helpers import write_images


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    return write_images(tmp_path / "images", 12)
