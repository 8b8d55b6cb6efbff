"""Process-wide settings the entry points apply before anything loads torch (no imports of ours here)."""

from __future__ import annotations

import ctypes
import ctypes.util
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


#: Allocations from this size up get pages of their own, given back to the system when freed (glibc's
#: M_MMAP_THRESHOLD). glibc's own threshold rises to the size of the last such block freed, up to
#: 32 MB, so the exemplar fills' arrays of a few MB to 32 MB (a large photo's coarser pyramid levels)
#: came from the worker threads' heaps, which kept what was freed. A 6000x4000 photo's 10% hole, six
#: guided candidates: peak RSS 2.89-3.01 GB with glibc's default, 2.40-2.63 GB with 4 MB (1 MB:
#: 2.55-2.60 GB), at about 2 s more system time (docs/speed.md).
LARGE_ALLOCATION = 4 << 20
#: glibc's mallopt parameter number of M_MMAP_THRESHOLD (malloc.h).
_M_MMAP_THRESHOLD = -3


def return_large_frees() -> bool:
    """Give large freed blocks back to the system at once (glibc only), unless the user set
    MALLOC_MMAP_THRESHOLD_ themselves. Returns whether the setting was made."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, LARGE_ALLOCATION))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False


def cli_main(argv: list[str] | None = None) -> int:
    """The `inpaint` command: the process settings first, then the command line, whose modules load torch."""
    prefer_sleeping_threads()
    return_large_frees()
    from inpaint_gui.cli import main

    return main(argv)
