"""Every checkpoint kind is held to one parameter and working-memory budget before its network is built."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from inpaint_gui.engine.checkpoint import MAX_ACTIVATION_BYTES, CheckpointError, ReleaseInfo, save_release
from inpaint_gui.engine.defects import DefectDetector
from inpaint_gui.engine.latent import LatentEngine
from inpaint_gui.engine.latent import save_random_release as save_random_latent
from inpaint_gui.engine.pluralistic import TINY_CONFIG, PluralisticEngine, probe_fill
from inpaint_gui.engine.restore import Restorer
from inpaint_gui.models.defect_net import DefectNet
from inpaint_gui.models.restore import RestoreNet

#: Each case: (engine, model_config, resolution, words the refusal must hold).
HUGE = {
    "latent-width": (
        "latent",
        {
            "resolution": 64,
            "z_dim": 100,
            "g_channels": 4096,
            "d_channels": 4096,
            "max_channels": 4096,
            "d_norm": "batch",
            "objective": "dcgan",
        },
        64,
        "parameters",
    ),
    "latent-width-1e9": (
        "latent",
        {
            "resolution": 64,
            "z_dim": 100,
            "g_channels": 10**9,
            "d_channels": 64,
            "max_channels": 10**9,
            "d_norm": "batch",
            "objective": "dcgan",
        },
        64,
        "metadata",
    ),
    "restore-width": ("restore", {"channels": [4096, 4096, 4096], "blocks": 2}, 64, "parameters"),
    "restore-activations": ("restore", {"channels": [3072], "blocks": 1}, 64, "working memory"),
    "defects-width": ("defects", {"channels": 4096, "dilations": [1, 2, 4, 8, 1]}, 64, "parameters"),
    "pluralistic-resolution": (
        "pluralistic",
        {**TINY_CONFIG.to_dict(), "spectral_norm": False},
        8192,
        "working memory",
    ),
}

_LOADERS = {
    "latent": lambda p: LatentEngine.from_checkpoint(p, device="cpu"),
    "restore": lambda p: Restorer.from_checkpoint(p, device="cpu"),
    "defects": DefectDetector.from_checkpoint,
    "pluralistic": lambda p: PluralisticEngine.from_checkpoint(p, device="cpu"),
}

_CHILD = """
import json, resource, sys
from inpaint_gui.engine.checkpoint import CheckpointError
from tests.engine.test_budget import _LOADERS
# A loader that builds before it checks would take gigabytes: fail fast instead of swapping.
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
out = {}
for name, engine, path in json.loads(sys.argv[1]):
    try:
        _LOADERS[engine](path)
        out[name] = "loaded"
    except CheckpointError as e:
        out[name] = "refused: " + str(e)
    except BaseException as e:
        out[name] = f"{type(e).__name__}: {e}"
    out[name + ":peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(out))
"""


def _crafted(folder: Path, name: str) -> Path:
    engine, config, resolution, _ = HUGE[name]
    path = folder / f"{name}.safetensors"
    state = {"x": torch.zeros(2)}  # the metadata alone must be enough to refuse it
    save_release(path, state, ReleaseInfo(engine, config, resolution, "crafted", 0))
    return path


def test_huge_networks_of_every_kind_are_refused_before_they_are_built(tmp_path):
    cases = [(name, HUGE[name][0], str(_crafted(tmp_path, name))) for name in HUGE]
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(cases)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=600,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    for name, _, path in cases:
        words = HUGE[name][3]
        assert out[name].startswith("refused: ") and words in out[name], (name, out[name])
        assert path in out[name] and "\n" not in out[name], (name, out[name])
    assert max(v for k, v in out.items() if k.endswith(":peak_kib")) < 1.5 * 2**20  # KiB: no GBs taken


def test_the_budget_counts_the_size_a_fill_runs_at(tmp_path, tiny_checkpoint):
    from safetensors.torch import load_file

    state = load_file(str(tiny_checkpoint))
    path = tmp_path / "big.safetensors"
    config = {**TINY_CONFIG.to_dict(), "spectral_norm": False}
    save_release(path, state, ReleaseInfo("pluralistic", config, 2048, "crafted", 0))
    with pytest.raises(CheckpointError, match="working memory"):
        PluralisticEngine.from_checkpoint(path, device="cpu")  # fills at up to 4096 px
    engine = PluralisticEngine.from_checkpoint(path, device="cpu", max_side=512)  # asks for less
    assert engine.max_side == 512


def test_small_networks_of_every_kind_load(tmp_path, tiny_checkpoint):
    from inpaint_gui.engine.restore import ENGINE as RESTORE

    PluralisticEngine.from_checkpoint(tiny_checkpoint, device="cpu")
    LatentEngine.from_checkpoint(save_random_latent(tmp_path / "latent.safetensors"), device="cpu")
    net = RestoreNet((8, 8), 1)
    save_release(
        tmp_path / "r.safetensors",
        net.state_dict(),
        ReleaseInfo(RESTORE, {"channels": [8, 8], "blocks": 1}, 64, "x", 0),
    )
    Restorer.from_checkpoint(tmp_path / "r.safetensors", device="cpu")
    net = DefectNet(8, [1, 2])
    save_release(
        tmp_path / "d.safetensors",
        net.state_dict(),
        ReleaseInfo("defects", {"channels": 8, "dilations": [1, 2]}, 64, "x", 0),
    )
    DefectDetector.from_checkpoint(tmp_path / "d.safetensors")
    assert MAX_ACTIVATION_BYTES >= 10**9
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0


@pytest.mark.parametrize("name", ["tiny", "pluralistic_scenes.safetensors", "pluralistic_faces.safetensors"])
def test_the_width_bound_holds_what_a_fill_counts(name):
    """The bound that spares a meta pass never counts less than the pass itself, at any size."""
    from inpaint_gui.engine.checkpoint import checkpoint_dir, load_release, output_bound, output_bytes
    from inpaint_gui.models.pluralistic import PluralisticConfig, PluralisticGenerator

    if name == "tiny":
        config = TINY_CONFIG
    else:
        path = checkpoint_dir() / name
        if not path.is_file():
            pytest.skip(f"{name} is not installed")
        config = PluralisticConfig.from_dict({**load_release(path)[1].model_config, "spectral_norm": False})
    with torch.device("meta"):
        network = PluralisticGenerator(config, with_posterior=False)
    for side, batch in ((64, 1), (128, 2), (256, 2), (320, 6)):
        counted = output_bytes(network, lambda g, side=side, batch=batch: probe_fill(g, side, batch))
        assert 0 < counted <= output_bound(network, batch * side * side), (side, batch)


def test_shipped_networks_load_without_a_meta_pass():
    """The default engine's networks are within the width bound: loading them runs no pass."""
    root = Path(__file__).resolve().parents[2]
    child = (
        "import sys; from inpaint_gui.engine import load_engine; load_engine('guided', device='cpu');"
        "print('torch._dynamo' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, cwd=root, timeout=300,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    if "CheckpointError" in done.stderr:
        pytest.skip("the shipped checkpoints are not installed")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize(
    "build",
    [
        lambda: RestoreNet((8, 16, 24), 2),
        lambda: RestoreNet((32,), 1),
        lambda: DefectNet(24, (1, 2, 4, 8, 1)),
    ],
    ids=["restore", "restore-flat", "defects"],
)
def test_the_width_bound_holds_for_the_tile_networks(build):
    from inpaint_gui.engine.checkpoint import output_bound, output_bytes

    with torch.device("meta"):
        network = build()
    for side in (32, 96, 288):
        counted = output_bytes(network, lambda net, side=side: net(torch.zeros(1, 3, side, side)))
        assert 0 < counted <= output_bound(network, side * side), side
