"""What every subcommand of `inpaint` shares: the usage error, engine loading, the pixel limit, messages."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from tqdm import tqdm

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.image_io import DEFAULT_MAX_PIXELS, parse_max_pixels
from inpaint_gui.engine import Engine, load_engine

log = logging.getLogger(__name__)

PROG = "inpaint"
MAX_PIXELS_ENV = "INPAINT_MAX_PIXELS"
#: Errors of one fill (bad file, bad input for the engine, out of memory) that leave the others fine.
JOB_ERRORS = (ValueError, OSError, RuntimeError, MemoryError)


class UsageError(Exception):
    """The command line or manifest is wrong as a whole: reported in one line, exit code 2."""


def engine_from_args(args: argparse.Namespace) -> Engine:
    """The engine named by --engine (with --checkpoint, --device and, if given, --variety)."""
    start = time.perf_counter()
    try:
        engine = load_engine(args.engine, checkpoint=args.checkpoint, device=args.device)
    except JOB_ERRORS as e:  # unknown name (the message lists valid ones), bad checkpoint, bad device
        log.debug("loading engine %r failed", args.engine, exc_info=True)
        raise UsageError(str(e)) from None
    log.info("engine %s ready in %.2f s", args.engine, time.perf_counter() - start)
    variety = getattr(args, "variety", None)  # commands without --variety (restore) leave it alone
    if variety is not None:
        if "variety" not in engine.options:
            raise UsageError(
                f"--variety: engine {engine.name!r} has no such setting (pluralistic and guided have)"
            )
        try:
            engine.configure(variety=variety)
        except InputError as e:
            raise UsageError(f"--variety: {e}") from None
    return engine


def max_pixels_from_env() -> int:
    """The largest image the commands open: DEFAULT_MAX_PIXELS, or INPAINT_MAX_PIXELS when set."""
    text = os.environ.get(MAX_PIXELS_ENV)
    if not text:
        return DEFAULT_MAX_PIXELS
    try:
        return parse_max_pixels(text)
    except ValueError as e:
        raise UsageError(f"{MAX_PIXELS_ENV}: {e}") from None


def error(message: str, progress: bool = False) -> None:
    """Print `inpaint: message` to stderr (above the progress bar when one is shown)."""
    line = f"{PROG}: {message}"
    if progress:
        tqdm.write(line, file=sys.stderr)  # keeps the progress bar intact
    else:
        print(line, file=sys.stderr)


def fail(message: str) -> int:
    """The training commands' way to refuse: `error: message` on stderr, exit code 2."""
    print(f"error: {message}", file=sys.stderr)
    return 2
