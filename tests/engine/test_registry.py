from __future__ import annotations

import numpy as np
import pytest

from inpaint_gui.engine import available_engines, describe_engines, load_engine


def test_registry_lists_the_engines():
    assert available_engines()[0] == "guided"  # the default for photos
    assert {"guided", "patchmatch", "pluralistic", "telea", "navier-stokes"} <= set(available_engines())


def test_unknown_engine_lists_valid_names():
    names = "guided, patchmatch, pluralistic, telea, navier-stokes"
    with pytest.raises(ValueError, match=f"valid engines: {names}"):
        load_engine("lama")


def test_classical_engine_refuses_a_checkpoint():
    with pytest.raises(ValueError, match="uses no checkpoint"):
        load_engine("telea", checkpoint="x.safetensors")


def test_unavailable_engine_is_described_with_a_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("INPAINT_CHECKPOINT_DIR", str(tmp_path))
    info = {e.name: e for e in describe_engines()}
    assert not info["pluralistic"].available and "inpaint train" in info["pluralistic"].reason
    assert not info["guided"].available and "inpaint train" in info["guided"].reason
    assert info["telea"].available and info["telea"].reason == ""


def test_unknown_device():
    with pytest.raises(ValueError, match="unknown device"):
        load_engine("pluralistic", device="tpu")


@pytest.mark.parametrize("name", ["telea", "navier-stokes"])
def test_classical_engines_fill_only_the_hole(name, photo, hole):
    cands = load_engine(name).inpaint(photo, hole, n=6, seed=0)
    assert len(cands) == 1  # deterministic: one fill whatever n
    out = cands[0].image
    assert np.array_equal(out[~hole], photo[~hole])
    # A diffusion fill of a smooth gradient stays close to it.
    assert np.abs(out[hole].astype(int) - photo[hole]).mean() < 40
