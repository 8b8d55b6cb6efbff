"""`inpaint eval`: measure an engine against ground truth per hole-size band (training/evaluate.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from inpaint_gui.cli.common import fail


def register(commands: argparse._SubParsersAction, verbosity: argparse.ArgumentParser) -> None:
    """Add `inpaint eval`."""
    p = commands.add_parser("eval", help="measure an engine against ground truth per hole-size band")
    p.add_argument("--images", required=True, metavar="DIR")
    p.add_argument(
        "--masks",
        required=True,
        metavar="DIR|objects",
        help="mask folder, or `objects`: 300 generated object-removal holes (5-50%%, half touching the "
        "border), written beside the report",
    )
    p.add_argument("-n", type=int, default=6, help="candidates per image (default 6)")
    p.add_argument("--engine", default="pluralistic")
    p.add_argument("--checkpoint", metavar="FILE")
    p.add_argument(
        "--variety", type=float, metavar="T", help="pluralistic and guided engines: the spread of the draws"
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument("--resolution", type=int, help="resize images to R x R first (default: native)")
    size.add_argument(
        "--native", action="store_true", help="each photo at its own size, masks scaled to it (the default)"
    )
    p.add_argument("--limit", type=int, help="first N pairs only")
    p.add_argument("--every", type=int, default=1, metavar="K", help="every K-th image only (sorted by name)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--no-baselines", action="store_true", help="skip telea and navier-stokes")
    p.add_argument(
        "--grid",
        metavar="PNG",
        help="also write full-size crops around the hole: input, every engine's candidates, original",
    )
    p.add_argument("--no-perceptual", action="store_true", help="skip LPIPS and KID even with their weights")
    p.add_argument(
        "--grid-rows", type=int, default=6, help="images in the grid, holes of 20%% and more (default 6)"
    )
    p.add_argument("-o", "--output", required=True, metavar="REPORT.json")
    p.set_defaults(func=_eval)


def _eval(args: argparse.Namespace) -> int:
    from inpaint_gui.engine.checkpoint import CheckpointError
    from inpaint_gui.training.evaluate import evaluate, write_report

    if args.n < 1:
        return fail("-n must be >= 1")
    masks = args.masks
    try:
        if masks == "objects" and not Path(masks).is_dir():
            from inpaint_gui.training.object_masks import write_object_masks

            masks = write_object_masks(Path(args.output).parent / "object_masks")
        from tqdm import tqdm

        bars: dict[str, Any] = {}

        def progress(engine: str, done: int, total: int) -> None:
            if engine not in bars:
                bars[engine] = tqdm(total=total, desc=engine, unit="img", dynamic_ncols=True)
            bars[engine].update(1)

        report = evaluate(
            args.images,
            masks,
            engine=args.engine,
            checkpoint=args.checkpoint,
            n=args.n,
            resolution=args.resolution,
            seed=args.seed,
            limit=args.limit,
            baselines=not args.no_baselines,
            device=args.device,
            on_progress=progress,
            grid=args.grid,
            grid_rows=args.grid_rows,
            perceptual=not args.no_perceptual,
            every=args.every,
            options={} if args.variety is None else {"variety": args.variety},
        )
        for bar in bars.values():
            bar.close()
        json_path, md_path = write_report(report, args.output)
    except (ValueError, CheckpointError, OSError) as exc:
        return fail(str(exc))
    print(md_path.read_text())
    grid = f" and {args.grid}" if args.grid and Path(args.grid).exists() else ""
    print(f"wrote {json_path} and {md_path}{grid}")
    return 0
