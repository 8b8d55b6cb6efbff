"""`inpaint restore`: find dust, specks and scratches, then fill them through the normal engine path.

inpaint restore IMAGE -o OUT [--mask-only] [--sensitivity S] [--engine NAME] [--mask-out MASK.png]
inpaint restore IMAGE -o OUT --denoise [--no-defects] [--restore-checkpoint PATH] [--tile 256]
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

import numpy as np

from inpaint_gui.cli.common import UsageError, engine_from_args, error, max_pixels_from_env
from inpaint_gui.core.compose import InputError
from inpaint_gui.core.image_io import (
    ImageError,
    load_image,
    output_format,
    raise_pillow_limit,
    same_file,
    save_image,
)

if TYPE_CHECKING:
    from inpaint_gui.engine.defects import DefectDetector
    from inpaint_gui.engine.restore import Restorer

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
        "--detector",
        choices=("classical", "trained"),
        default="trained",
        help="trained (default: the network in checkpoints/defects_synthetic.safetensors, with the "
        "classical scratches it confirms; the classical one when it is missing) or classical "
        "(top-hat filters: more false alarms, fewer defects found on photos)",
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
    p.add_argument(
        "--denoise",
        action="store_true",
        help="first run the restoration network over the whole image (noise, grain, JPEG blocking)",
    )
    p.add_argument("--no-defects", action="store_true", help="with --denoise: skip the defect fill")
    p.add_argument(
        "--restore-checkpoint",
        type=Path,
        metavar="PATH",
        help="restoration network (default: the newest checkpoints/restore_*.safetensors)",
    )
    p.add_argument("--tile", type=int, default=256, help="tile side for --denoise (default 256)")
    p.set_defaults(func=run_restore)


def run_restore(args: argparse.Namespace) -> int:
    max_pixels = max_pixels_from_env()
    raise_pillow_limit(max_pixels)
    protect = [args.image]
    outputs = [args.output] + ([args.mask_out] if args.mask_out else [])
    if args.mask_out is not None and (
        args.mask_out == args.output or (args.mask_out.exists() and same_file(args.mask_out, args.output))
    ):
        raise UsageError(f"--mask-out {args.mask_out} is the output image too; give the mask its own name")
    for out in outputs:  # before any work: an existing output is refused now, not after the fill
        try:
            output_format(out)
        except ImageError as e:
            raise UsageError(str(e)) from None
        if out.exists() and same_file(out, args.image):
            raise UsageError(f"{out}: is the input image; refusing to overwrite it")
        if out.exists() and not args.overwrite:
            raise UsageError(f"{out}: already exists; pass --overwrite to replace it")
    if args.no_defects and (not args.denoise or args.mask_only):
        raise UsageError("--no-defects goes with --denoise and without --mask-only")
    filling = not args.mask_only and not args.no_defects
    engine = engine_from_args(args) if filling else None  # a bad name fails before the work
    restorer = _load_restorer(args) if args.denoise else None
    detector = _load_detector() if args.detector == "trained" and not args.no_defects else None
    try:
        image = load_image(args.image, max_pixels)
        rgb = image.rgb
        if restorer is not None:
            rgb = _denoise(restorer, rgb, args.tile)
        if args.no_defects:
            mask = np.zeros(rgb.shape[:2], bool)
        else:
            from inpaint_gui.engine.defects import propose_defects  # torch: load on use

            mask = propose_defects(rgb, args.sensitivity, detector)
    except (ImageError, InputError, OSError) as e:
        error(str(e))
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
        if engine is not None:
            rgb = engine.inpaint(rgb, mask, n=1, seed=args.seed)[0].image
        save_image(
            args.output,
            rgb,
            alpha=image.alpha,
            icc_profile=image.icc_profile,
            exif=image.exif,
            overwrite=args.overwrite,
            protect=protect,
        )
    except (ImageError, InputError, OSError) as e:
        error(str(e))
        return 1
    done = ["denoised"] if restorer is not None else []
    if engine is not None:
        done.append(f"filled {share:.2%} of the image ({engine.name})")
    print(f"{' and '.join(done)}; wrote {args.output}")
    return 0


def _load_detector() -> DefectDetector | None:
    """The trained detector; None, said, when none is installed; a broken one refused in one line."""
    from inpaint_gui.engine.defects import load_detector  # torch: load on use

    try:
        detector = load_detector()
    except (ValueError, OSError) as e:  # CheckpointError is a ValueError
        raise UsageError(f"trained defect detector: {e} (--detector classical skips it)") from None
    if detector is None:
        error("no trained defect detector installed; using the classical one")
    return detector


def _load_restorer(args: argparse.Namespace) -> Restorer:
    from inpaint_gui.engine.restore import Restorer

    try:
        return Restorer.from_checkpoint(args.restore_checkpoint, device=args.device)
    except (ValueError, OSError, RuntimeError) as e:
        raise UsageError(str(e)) from None


def _denoise(restorer: Restorer, rgb: np.ndarray, tile: int) -> np.ndarray:
    import sys

    from tqdm import tqdm

    with tqdm(desc="denoise", unit="tile", file=sys.stderr, disable=None) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        return restorer.restore(rgb, tile=tile, on_progress=progress)


def _unit(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value
