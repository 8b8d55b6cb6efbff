"""The entry points' process settings (inpaint_gui.runtime)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from inpaint_gui.runtime import prefer_sleeping_threads, return_large_frees

WAIT = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")


@pytest.fixture
def no_wait_settings(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in WAIT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    return monkeypatch


def test_sets_passive_when_nothing_is_chosen(no_wait_settings: pytest.MonkeyPatch) -> None:
    assert prefer_sleeping_threads()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"


@pytest.mark.parametrize("name, value", [("OMP_WAIT_POLICY", "ACTIVE"), ("GOMP_SPINCOUNT", "10000")])
def test_the_users_choice_stays(no_wait_settings: pytest.MonkeyPatch, name: str, value: str) -> None:
    no_wait_settings.setenv(name, value)
    assert not prefer_sleeping_threads()
    assert os.environ[name] == value
    assert name == "OMP_WAIT_POLICY" or "OMP_WAIT_POLICY" not in os.environ


def test_too_late_once_torch_is_loaded(no_wait_settings: pytest.MonkeyPatch) -> None:
    no_wait_settings.setitem(sys.modules, "torch", object())
    assert not prefer_sleeping_threads()
    assert "OMP_WAIT_POLICY" not in os.environ


def test_the_cli_sets_it_before_torch_loads() -> None:
    code = (
        "import os, sys; from inpaint_gui.runtime import cli_main; cli_main(['--help']); "
        "print(os.environ.get('OMP_WAIT_POLICY'))"
    )
    env = {k: v for k, v in os.environ.items() if k not in WAIT}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "PASSIVE", out.stderr


def test_large_frees_setting_leaves_the_users_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert not return_large_frees()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_large_frees_are_given_back_on_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert return_large_frees()
