"""Numbers and arguments of the Python API are checked where they enter, in one line, before any work."""

from __future__ import annotations

import pytest

from inpaint_gui.core.compose import InputError
from inpaint_gui.engine import load_engine
from inpaint_gui.engine.base import MAX_CANDIDATES


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from inpaint_gui.engine.pluralistic import save_random_release

    path = save_random_release(tmp_path_factory.mktemp("bounds") / "tiny.safetensors")
    return load_engine("pluralistic", checkpoint=path, device="cpu")


def test_candidate_count_is_bounded_in_the_api(engine, photo, hole):
    with pytest.raises(InputError, match=f"from 1 to {MAX_CANDIDATES}"):
        engine.inpaint(photo, hole, n=10**9)  # once reached 23 GB before failing
    assert len(engine.inpaint(photo, hole, n=2)) == 2


def test_near_outside_the_seed_range_is_refused(engine, photo, hole):
    with pytest.raises(InputError, match="near must be a seed"):
        engine.inpaint(photo, hole, n=1, near=2**70)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [({"device": None}, "device must be a name"), ({"checkpoint": 5}, "checkpoint must be a path")],
)
def test_load_engine_checks_its_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        load_engine("pluralistic", **kwargs)


def test_configure_refuses_a_setting_no_engine_has(engine):
    before = engine.context
    with pytest.raises(InputError, match="unknown engine setting.*bogus"):
        engine.configure(bogus=1, context=2.0)
    assert engine.context == before  # nothing applied
    engine.configure(patch_size=7)  # another engine's setting: skipped, as the app relies on
    load_engine("telea").configure(variety=1.0)
