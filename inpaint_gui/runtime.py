"""Process-wide settings the entry points apply before anything loads torch (no imports of ours here)."""

from __future__ import annotations

import os
import sys

#: Variables by which a user chooses how OpenMP threads wait; any of them set leaves the choice theirs.
_WAIT_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")


def prefer_sleeping_threads() -> bool:
    """Make OpenMP's idle threads sleep instead of spinning, unless the user chose otherwise.

    By default GNU OpenMP (torch's on Linux) keeps a thread that waits for work spinning on its core
    for a while. On a machine whose cores are busy with other programs the spinning threads take
    turns with the ones that have work, and a two-thread torch call can take several times as long
    (docs/speed.md). The library reads the variable once, when it loads, so this has to run before
    torch is imported. Returns whether it set the variable.
    """
    if "torch" in sys.modules or any(name in os.environ for name in _WAIT_SETTINGS):
        return False
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return True


def cli_main(argv: list[str] | None = None) -> int:
    """The `inpaint` command: the process settings first, then the command line, whose modules load torch."""
    prefer_sleeping_threads()
    from inpaint_gui.cli import main

    return main(argv)
