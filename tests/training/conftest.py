from __future__ import annotations

from pathlib import Path

import pytest
from training_helpers import write_images


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    return write_images(tmp_path / "images", 12)


@pytest.fixture(autouse=True)
def _no_metric_weights(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LPIPS and KID cost seconds per evaluation on a CPU: only tests marked `uses_metric_weights` see
    the weights `inpaint metric-weights` cached; the others evaluate as a machine without them would."""
    if request.node.get_closest_marker("uses_metric_weights") is None:
        monkeypatch.setenv("INPAINT_METRIC_WEIGHTS", str(tmp_path / "no-metric-weights"))
