"""The `inpaint` command line: one module per subcommand, the shared pieces in cli/common.py.

inpaint fill IMAGE MASK -o OUTDIR [-n 6] [--seed 0] [--engine NAME] [--checkpoint PATH]
inpaint fill --manifest pairs.csv -o OUTDIR [...]
inpaint train | pack | export | eval | metric-weights | restore | augment | train-detector ...
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from inpaint_gui.cli import (
    augment,
    evaluate,
    export,
    fill,
    metric_weights,
    pack,
    restore,
    train,
    train_detector,
)
from inpaint_gui.cli.common import PROG, UsageError, error

#: In the order `inpaint --help` lists them.
COMMANDS = (fill, train, pack, export, evaluate, metric_weights, restore, augment, train_detector)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `inpaint`; returns the exit code (0 fine, 1 some work failed, 2 usage error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse has printed its message (or the help)
        return e.code if isinstance(e.code, int) else 2
    _configure_logging(getattr(args, "verbose", 0))
    try:
        return args.func(args)
    except UsageError as e:
        error(str(e))
        return 2
    except KeyboardInterrupt:
        error("interrupted")
        return 130


def build_parser() -> argparse.ArgumentParser:
    verbosity = argparse.ArgumentParser(add_help=False)
    verbosity.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log output (-vv: debug)"
    )
    parser = argparse.ArgumentParser(
        prog=PROG, description="Pluralistic image inpainting from the command line.", parents=[verbosity]
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands, verbosity)
    return parser


def _configure_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
