from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from inpaint_gui.engine import load_engine
from inpaint_gui.engine.checkpoint import CheckpointError, ReleaseInfo, read_release_info, save_release
from inpaint_gui.engine.pluralistic import TINY_CONFIG, save_random_release


def test_round_trip_keeps_metadata(tmp_path):
    path = save_random_release(tmp_path / "a.safetensors", resolution=128)
    info = read_release_info(path)
    assert info.engine == "pluralistic"
    assert info.resolution == 128
    assert info.model_config == TINY_CONFIG.to_dict()
    assert not list(tmp_path.glob("*.tmp"))


def test_release_files_are_readable_by_others_as_umask_allows(tmp_path):
    old = os.umask(0o022)
    try:
        path = save_random_release(tmp_path / "shared.safetensors")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644  # not safetensors' owner-only 0600


def test_release_leaves_out_the_posterior(tiny_checkpoint):
    from safetensors import safe_open

    with safe_open(str(tiny_checkpoint), framework="pt") as f:
        keys = list(f.keys())
        dtypes = {f.get_tensor(k).dtype for k in keys}
    assert keys and not any(k.startswith("posterior.") for k in keys)
    assert dtypes == {torch.float16}


def _load(path: Path) -> None:
    load_engine("pluralistic", checkpoint=path, device="cpu")


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        _load(tmp_path / "nope.safetensors")


def test_truncated_file(tmp_path, tiny_checkpoint):
    data = tiny_checkpoint.read_bytes()
    bad = tmp_path / "cut.safetensors"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"cut\.safetensors: "):
        _load(bad)


def test_garbage_file(tmp_path):
    bad = tmp_path / "junk.safetensors"
    bad.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(CheckpointError, match="junk.safetensors"):
        _load(bad)


class _Boom:
    def __reduce__(self):
        return (Path.touch, (Path("/tmp/inpaint_pickle_ran"),))


def test_pickle_is_never_executed(tmp_path):
    """A pickled torch file is refused without running its code."""
    marker = Path("/tmp/inpaint_pickle_ran")
    marker.unlink(missing_ok=True)
    bad = tmp_path / "evil.safetensors"
    bad.write_bytes(pickle.dumps({"weights": _Boom()}))
    with pytest.raises(CheckpointError):
        _load(bad)
    assert not marker.exists()


def test_foreign_safetensors_file(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, str(path))
    with pytest.raises(CheckpointError, match="not an inpaint-gui release checkpoint"):
        _load(path)


def _release_with(tmp_path: Path, state: dict[str, torch.Tensor], config: dict | None = None) -> Path:
    info = ReleaseInfo("pluralistic", config or TINY_CONFIG.to_dict(), 64, "test", 0)
    path = tmp_path / "x.safetensors"
    save_release(path, state, info)
    return path


def test_mismatched_weights(tmp_path, tiny_checkpoint):
    from safetensors.torch import load_file

    state = load_file(str(tiny_checkpoint))
    state.pop(sorted(state)[0])
    with pytest.raises(CheckpointError, match="missing"):
        _load(_release_with(tmp_path, state))


def test_mismatched_architecture(tmp_path, tiny_checkpoint):
    from safetensors.torch import load_file

    state = load_file(str(tiny_checkpoint))
    config = {**TINY_CONFIG.to_dict(), "channels": [8, 8, 16, 32]}
    with pytest.raises(CheckpointError, match="wrong shape"):
        _load(_release_with(tmp_path, state, config))


def test_bad_architecture_settings(tmp_path, tiny_checkpoint):
    from safetensors.torch import load_file

    state = load_file(str(tiny_checkpoint))
    with pytest.raises(CheckpointError, match="bad architecture settings"):
        _load(_release_with(tmp_path, state, {**TINY_CONFIG.to_dict(), "widths": 3}))


def test_nan_weights(tmp_path, tiny_checkpoint):
    from safetensors.torch import load_file

    state = load_file(str(tiny_checkpoint))
    key = sorted(state)[0]
    state[key] = torch.full_like(state[key], float("nan"))
    with pytest.raises(CheckpointError, match="NaN"):
        _load(_release_with(tmp_path, state))


def test_no_default_checkpoint_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setenv("INPAINT_CHECKPOINT_DIR", str(tmp_path))
    with pytest.raises(CheckpointError, match="inpaint train"):
        load_engine("pluralistic")
    assert load_engine("telea").name == "telea"


# --- metadata and tensors are checked before they are trusted ------------------------------------


def _release_with_info(tmp_path: Path, tiny_checkpoint: Path, **changes) -> Path:
    from safetensors.torch import load_file

    info = read_release_info(tiny_checkpoint)
    fields = {**info.__dict__, **changes}
    path = tmp_path / "meta.safetensors"
    save_release(path, load_file(str(tiny_checkpoint)), ReleaseInfo(**fields))
    return path


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"resolution": "64"}, "resolution"),
        ({"resolution": 0}, "resolution"),
        ({"resolution": -5}, "resolution"),
        ({"resolution": True}, "resolution"),
        ({"steps": "many"}, "steps"),
        ({"engine": 3}, "engine"),
        ({"model_config": [1, 2]}, "model_config"),
        ({"model_config": {**TINY_CONFIG.to_dict(), "channels": ["8", "8", "16", "16"]}}, "channels"),
        ({"model_config": {**TINY_CONFIG.to_dict(), "z_channels": 4.5}}, "z_channels"),
        ({"model_config": {**TINY_CONFIG.to_dict(), "prefill": "yes"}}, "prefill"),
    ],
)
def test_bad_metadata_is_refused_in_one_line(tmp_path, tiny_checkpoint, changes, words):
    path = _release_with_info(tmp_path, tiny_checkpoint, **changes)
    with pytest.raises(CheckpointError, match=words) as caught:
        _load(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_metadata_asking_for_a_huge_network_fails_before_building_it(tmp_path, tiny_checkpoint):
    import resource
    import time

    huge = {**TINY_CONFIG.to_dict(), "channels": [4096, 4096, 4096, 4096]}
    path = _release_with_info(tmp_path, tiny_checkpoint, model_config=huge)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match="parameters") as caught:
        _load(path)
    assert time.perf_counter() - start < 2.0
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, f"peak memory grew {grown_mb:.0f} MB"  # the network would take 11 GB
    assert "\n" not in str(caught.value)


def test_integer_tensors_are_refused(tmp_path, tiny_checkpoint):
    from safetensors.torch import load_file

    state = load_file(str(tiny_checkpoint))
    key = sorted(state)[0]
    state[key] = torch.ones_like(state[key], dtype=torch.int32)
    with pytest.raises(CheckpointError, match=f"{key}.*int32"):
        _load(_release_with(tmp_path, state))


def test_a_pickle_file_is_called_unsafe_in_our_words(tmp_path):
    bad = tmp_path / "model.pt"
    torch.save({"weights": torch.zeros(2)}, bad)
    with pytest.raises(CheckpointError, match="not a safe checkpoint") as caught:
        _load(bad)
    assert "weights_only" not in str(caught.value)
