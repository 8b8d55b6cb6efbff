"""`inpaint restore`: find dust, specks and scratches, then fill them through the normal engine path.

inpaint restore IMAGE -o OUT [--mask-only] [--sensitivity S] [--engine NAME] [--mask-out MASK.png]
"""

from __future__ import annotations

import argparse
import logging

import numpy as np

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.defects import detect_defects
from inpaint_gui.core.image_io import ImageError, load_image, raise_pillow_limit, same_file, save_image

log = logging.getLogger(__name__)

#: Thin defects need no invention: a classical fill is clean and instant, and needs no checkpoint.
DEFAULT_ENGINE = "telea"


def register(commands: argparse._SubParsersAction, verbosity: argparse.ArgumentParser) -> None:
    from pathlib import Path

    from inpaint_gui.engine import available_engines

    p = commands.add_parser(
        "restore",
        parents=[verbosity],
        help="find dust, specks and scratches in a photo and fill them",
        description="Propose a mask of thin defects (scratches, dust, spots) and fill it with an engine. "
        "With --mask-only, OUT is the mask (white = defect) and nothing is filled.",
    )
    p.add_argument("image", type=Path, metavar="IMAGE")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="restored image (or mask)")
    p.add_argument("--mask-only", action="store_true", help="write the proposed mask instead of filling")
    p.add_argument("--mask-out", type=Path, metavar="MASK", help="also write the proposed mask here")
    p.add_argument(
        "--sensitivity",
        type=_unit,
        default=0.5,
        metavar="S",
        help="0 = only obvious defects ... 1 = anything that may be one (default 0.5)",
    )
    p.add_argument(
        "--engine",
        default=DEFAULT_ENGINE,
        metavar="NAME",
        help=f"fill engine, one of {', '.join(available_engines())} (default {DEFAULT_ENGINE})",
    )
    p.add_argument("--checkpoint", type=Path, metavar="PATH", help="release checkpoint of the engine")
    p.add_argument("--device", default="auto", metavar="NAME")
    p.add_argument("--seed", type=int, default=0, help="seed of the fill (pluralistic engine)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=run_restore)


def run_restore(args: argparse.Namespace) -> int:
    from inpaint_gui import cli

    max_pixels = cli._max_pixels_from_env()
    raise_pillow_limit(max_pixels)
    protect = [args.image]
    outputs = [args.output] + ([args.mask_out] if args.mask_out else [])
    for out in outputs:  # before any work: an existing output is refused now, not after the fill
        if out.exists() and same_file(out, args.image):
            raise cli.UsageError(f"{out}: is the input image; refusing to overwrite it")
        if out.exists() and not args.overwrite:
            raise cli.UsageError(f"{out}: already exists; pass --overwrite to replace it")
    engine = None if args.mask_only else cli._load_engine(args)  # a bad name fails before the work
    try:
        image = load_image(args.image, max_pixels)
        mask = detect_defects(image.rgb, args.sensitivity)
    except (ImageError, InputError, OSError) as e:
        cli._error(str(e))
        return 1
    share = float(mask.mean())
    white = np.repeat(mask[..., None].astype(np.uint8) * 255, 3, axis=2)
    try:
        if args.mask_only or args.mask_out:
            target = args.output if args.mask_only else args.mask_out
            save_image(target, white, overwrite=args.overwrite, protect=protect)
        if args.mask_only:
            print(f"proposed {share:.2%} of the image as defects; mask written to {args.output}")
            return 0
        assert engine is not None
        [candidate] = engine.inpaint(image.rgb, mask, n=1, seed=args.seed)
        save_image(
            args.output,
            candidate.image,
            alpha=image.alpha,
            icc_profile=image.icc_profile,
            exif=image.exif,
            overwrite=args.overwrite,
            protect=protect,
        )
    except (ImageError, InputError, OSError) as e:
        cli._error(str(e))
        return 1
    print(f"filled {share:.2%} of the image ({engine.name}); wrote {args.output}")
    return 0


def _unit(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value
