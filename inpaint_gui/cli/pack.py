"""`inpaint pack`: pack image folders into one shard file for training (training/shard.py)."""

from __future__ import annotations

import argparse

from inpaint_gui.cli.common import fail


def register(commands: argparse._SubParsersAction, verbosity: argparse.ArgumentParser) -> None:
    """Add `inpaint pack`."""
    p = commands.add_parser("pack", help="pack image folders into one shard file for training")
    p.add_argument("--data", action="append", required=True, metavar="DIR")
    p.add_argument("--resolution", type=int, required=True, help="the resolution you will train at")
    p.add_argument(
        "--max-scale",
        type=float,
        default=4.0,
        help="keep short sides up to this times the resolution (as data.max_scale)",
    )
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.set_defaults(func=_pack)


def _pack(args: argparse.Namespace) -> int:
    from inpaint_gui.training.shard import pack

    if args.resolution < 16 or args.max_scale < 1:
        return fail("--resolution must be >= 16 and --max-scale >= 1")
    cap = int(round(args.max_scale * args.resolution))
    try:
        from tqdm import tqdm

        bar = tqdm(unit="img", dynamic_ncols=True)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        summary = pack(args.data, args.output, cap, on_progress=progress)
        bar.close()
    except (ValueError, OSError) as exc:
        return fail(str(exc))
    print(
        f"{args.output}: {summary['images']} images, {summary['bytes'] / 2**20:.1f} MiB "
        f"({summary['capped']} shrunk to a short side of {cap} px, "
        f"{summary['corrupt']} unreadable kept as is)"
    )
    return 0
