"""The restoration network applied tile by tile: no seams, only the selection changes, progress, cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from inpaint_gui.engine.base import Cancelled
from inpaint_gui.engine.checkpoint import CheckpointError, ReleaseInfo, save_release
from inpaint_gui.engine.restore import Restorer
from inpaint_gui.models.restore import RestoreNet


@pytest.fixture(autouse=True)
def _one_thread():
    """Two spinning threads crawl on a shared machine; one keeps these tests at a fraction of a second."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _release(path: Path, engine: str = "restore", identity: bool = False) -> Path:
    torch.manual_seed(0)
    net = RestoreNet((8, 16), 1)
    if not identity:
        torch.nn.init.normal_(net.head.weight, std=0.05)
    info = ReleaseInfo(engine, {"channels": [8, 16], "blocks": 1}, 64, "test", 0)
    save_release(path, net.state_dict(), info, half=False)
    return path


@pytest.fixture(scope="module")
def restorer(tmp_path_factory: pytest.TempPathFactory) -> Restorer:
    return Restorer.from_checkpoint(_release(tmp_path_factory.mktemp("r") / "restore_t.safetensors"), "cpu")


def test_tiles_leave_no_seams(restorer: Restorer, photo: np.ndarray) -> None:
    whole = restorer.restore(photo, tile=1024)
    tiled = restorer.restore(photo, tile=96, overlap=24)
    assert not np.array_equal(whole, photo)  # the network does change the image
    assert np.abs(whole.astype(int) - tiled.astype(int)).max() <= 1


def test_only_the_selection_changes(restorer: Restorer, photo: np.ndarray, hole: np.ndarray) -> None:
    out = restorer.restore(photo, hole, tile=40)
    np.testing.assert_array_equal(out[~hole], photo[~hole])
    assert (out[hole] != photo[hole]).any()
    np.testing.assert_array_equal(restorer.restore(photo, np.zeros_like(hole)), photo)


def test_untrained_network_is_the_identity(tmp_path: Path, photo: np.ndarray) -> None:
    r = Restorer.from_checkpoint(_release(tmp_path / "id.safetensors", identity=True), "cpu")
    np.testing.assert_array_equal(r.restore(photo, tile=64), photo)


def test_progress_and_cancel(restorer: Restorer, photo: np.ndarray) -> None:
    seen: list[tuple[int, int]] = []
    restorer.restore(photo, tile=64, on_progress=lambda d, t: seen.append((d, t)))
    assert seen == [(i, 15) for i in range(1, 16)]  # 131 x 257 in 64 px tiles: 3 rows x 5
    with pytest.raises(Cancelled):
        restorer.restore(photo, tile=64, should_cancel=lambda: True)


def test_wrong_checkpoint_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not 'restore'"):
        Restorer.from_checkpoint(_release(tmp_path / "x.safetensors", engine="pluralistic"), "cpu")
    with pytest.raises(CheckpointError, match="not found"):
        Restorer.from_checkpoint(tmp_path / "missing.safetensors", "cpu")
