"""`inpaint select`: the object inside a box as a mask PNG (the GUI's Select object tool)."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from inpaint_gui.cli.common import UsageError, error, max_pixels_from_env
from inpaint_gui.core.image_io import ImageError, load_image
from inpaint_gui.core.mask_file import save_mask
from inpaint_gui.core.selection import DEFAULT_GROW, MAX_GROW, SelectionError, Stroke, select_object

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction, verbosity: argparse.ArgumentParser) -> None:
    """Add `inpaint select`."""
    p = commands.add_parser(
        "select",
        parents=[verbosity],
        help="select the object inside a box and write its mask (white = fill)",
        description="Find the outline of the object inside --box (GrabCut at a working size, the "
        "edge refined at full size), grow it by --grow pixels and write it as an 8-bit PNG mask "
        "that `inpaint fill` and the app's Load mask read. Strokes mark pixels that surely are "
        "(--fg-stroke) or are not (--bg-stroke) part of the object, as the app's correcting strokes do.",
        epilog="Example: inpaint select coffee.jpg --box 312,58,118,277 -o spoon.png && "
        "inpaint fill coffee.jpg spoon.png -o fills/",
    )
    p.add_argument("image", type=Path, help="image file")
    p.add_argument("--box", required=True, type=_box, metavar="X,Y,W,H", help="box around the object, pixels")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="MASK.png", help="mask to write")
    p.add_argument(
        "--grow",
        type=_grow,
        default=DEFAULT_GROW,
        metavar="N",
        help=f"pixels added around the outline for the halo and soft shadow "
        f"(0..{MAX_GROW}, default {DEFAULT_GROW})",
    )
    p.add_argument(
        "--fg-stroke",
        action="append",
        type=_points,
        default=[],
        metavar="X,Y[,X,Y...]",
        help="a polyline that is part of the object (repeatable)",
    )
    p.add_argument(
        "--bg-stroke",
        action="append",
        type=_points,
        default=[],
        metavar="X,Y[,X,Y...]",
        help="a polyline that is not part of the object (repeatable)",
    )
    p.add_argument(
        "--stroke-radius", type=float, default=3.0, metavar="R", help="strokes' radius in pixels (default 3)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.output.suffix.lower() != ".png":
        raise UsageError(f"{args.output}: the mask is written as PNG; use a .png name")
    if args.output.exists() and not args.overwrite:
        raise UsageError(f"{args.output}: already exists; use --overwrite to replace it")
    if not args.stroke_radius > 0:
        raise UsageError(f"--stroke-radius must be positive, got {args.stroke_radius}")
    try:
        loaded = load_image(args.image, max_pixels=max_pixels_from_env())
        if args.output.resolve() == args.image.resolve():
            raise UsageError(f"{args.output}: is the input image; choose another name")
        fg = [Stroke(pts, args.stroke_radius) for pts in args.fg_stroke]
        bg = [Stroke(pts, args.stroke_radius) for pts in args.bg_stroke]
        start = time.perf_counter()
        mask = select_object(loaded.rgb, args.box, fg, bg, grow=args.grow)
        seconds = time.perf_counter() - start
        if not mask.any():
            error(f"{args.image}: nothing was found inside the box {','.join(map(str, args.box))}")
            return 1
        save_mask(args.output, mask)
    except (ImageError, SelectionError) as exc:
        error(str(exc))
        return 1
    h, w = mask.shape
    print(f"{args.output}: {int(mask.sum()):,} of {w}x{h} pixels selected in {seconds:.2f} s")
    return 0


def _numbers(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None
    if not all(v == v and abs(v) != float("inf") for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


def _box(text: str) -> tuple[int, int, int, int]:
    values = _numbers(text)
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0:
        raise argparse.ArgumentTypeError(f"expected X,Y,W,H with a positive width and height, got {text!r}")
    return tuple(round(v) for v in values)  # type: ignore[return-value]


def _points(text: str) -> tuple[tuple[float, float], ...]:
    values = _numbers(text)
    if not values or len(values) % 2:
        raise argparse.ArgumentTypeError(f"expected X,Y pairs (X1,Y1,X2,Y2,...), got {text!r}")
    return tuple(zip(values[::2], values[1::2], strict=True))


def _grow(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of pixels, got {text!r}") from None
    if not 0 <= value <= MAX_GROW:
        raise argparse.ArgumentTypeError(f"must be 0..{MAX_GROW}, got {value}")
    return value
