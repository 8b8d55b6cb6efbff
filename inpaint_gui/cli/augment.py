"""`inpaint augment`: k inpainted variants of every image of a folder, plus a manifest to rebuild them.

How each variant is drawn and recorded: training/augment.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from inpaint_gui.cli.common import PROG, UsageError, engine_from_args, max_pixels_from_env
from inpaint_gui.core.compose import InputError
from inpaint_gui.core.image_io import ImageError, load_image, raise_pillow_limit
from inpaint_gui.training.augment import (
    MANIFEST,
    MASK_KINDS,
    MASK_SIDE,
    MAX_SET_SEED,
    MAX_VARIANTS,
    done_variants,
    make_variant,
    mask_config,
    open_manifest,
    plan_row,
)
from inpaint_gui.training.masks import MaskGenerator
from inpaint_gui.training.sources import IMAGE_EXTENSIONS, list_images, other_images


def register(commands: argparse._SubParsersAction, verbosity: argparse.ArgumentParser) -> None:
    from inpaint_gui.engine import available_engines

    p = commands.add_parser(
        "augment",
        parents=[verbosity],
        help="write k inpainted variants of every image of a folder, with a manifest",
        description=f"For every image under DIR, K variants with their own hole and seed, written to "
        f"OUT/images/ with their masks in OUT/masks/ and one line each in OUT/{MANIFEST}. "
        "Run it again to resume; done variants are skipped.",
    )
    p.add_argument("--data", type=Path, required=True, metavar="DIR", help="folder of images (recursive)")
    p.add_argument("-o", "--outdir", type=Path, required=True, metavar="OUT")
    p.add_argument("-k", type=_count, default=4, help=f"variants per image, 1 to {MAX_VARIANTS} (default 4)")
    p.add_argument("--engine", default=available_engines()[0], metavar="NAME")
    p.add_argument("--checkpoint", type=Path, metavar="PATH")
    p.add_argument("--device", default="auto", metavar="NAME")
    p.add_argument("--masks", choices=MASK_KINDS, default="mixed", help="hole shapes (default mixed)")
    p.add_argument("--hole-min", type=float, default=0.05, help="smallest hole share (default 0.05)")
    p.add_argument("--hole-max", type=float, default=0.25, help="largest hole share (default 0.25)")
    p.add_argument("--seed", type=_set_seed, default=0, help="seed of the whole set (default 0)")
    p.set_defaults(func=run_augment)


def run_augment(args: argparse.Namespace) -> int:
    try:
        mask_cfg = mask_config(args.masks, args.hole_min, args.hole_max)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if not args.data.is_dir():
        raise UsageError(f"{args.data}: not a folder")
    if args.outdir.exists() and not args.outdir.is_dir():
        raise UsageError(f"{args.outdir}: exists and is not a folder")
    if args.outdir.resolve().is_relative_to(args.data.resolve()):
        raise UsageError(
            f"{args.outdir} is inside {args.data}: its outputs would be augmented again; "
            "choose an output folder outside the data"
        )
    sources = list_images(args.data)
    others = other_images(args.data)
    if others:
        print(
            f"{PROG}: skipping {len(others)} image(s) in formats augment does not read "
            f"(it reads {', '.join(IMAGE_EXTENSIONS)}), e.g. {others[0]}",
            file=sys.stderr,
        )
    if not sources:
        raise UsageError(f"{args.data}: holds no images")
    max_pixels = max_pixels_from_env()
    raise_pillow_limit(max_pixels)
    manifest = args.outdir / MANIFEST
    settings = {
        "engine": args.engine,
        "checkpoint": None if args.checkpoint is None else str(args.checkpoint),
        "mask_kind": args.masks,
        "hole_min": args.hole_min,
        "hole_max": args.hole_max,
        "set_seed": args.seed,
    }
    try:
        done_variants(manifest, args.outdir, settings)  # other settings: refused before the engine loads
    except ValueError as e:
        raise UsageError(str(e)) from None
    engine = engine_from_args(args)
    generator = MaskGenerator(MASK_SIDE, mask_cfg)
    failed: set[str] = set()
    written = 0
    try:
        with open_manifest(args.outdir) as log_file:
            done = done_variants(manifest, args.outdir, settings)  # again, now that the folder is ours
            todo = [(s, j) for s in sources for j in range(args.k) if (s, j) not in done]
            written = _write(args, engine, generator, settings, todo, max_pixels, failed, log_file)
    except ValueError as e:
        raise UsageError(str(e)) from None
    except OSError as e:
        raise UsageError(f"{args.outdir}: cannot write ({e.strerror or e})") from None
    skipped = len(sources) * args.k - len(todo)
    print(
        f"wrote {written} variants to {args.outdir}"
        + (f", {skipped} already done" if skipped else "")
        + (f"; {len(failed)} images failed" if failed else "")
    )
    return 1 if failed else 0


def _write(
    args: argparse.Namespace,
    engine: Any,
    generator: MaskGenerator,
    settings: dict[str, Any],
    todo: list[tuple[str, int]],
    max_pixels: int,
    failed: set[str],
    log_file: Any,
) -> int:
    """Make the variants of todo, appending a manifest row after each; the number written."""
    from tqdm import tqdm

    written = 0
    bar = tqdm(todo, desc="augment", unit="variant", file=sys.stderr, disable=None)
    for source, image, j in _images(args.data, todo, max_pixels, failed, bar):
        row = plan_row(source, j, args.seed, settings)
        try:
            make_variant(engine, image, row, args.outdir, generator)
        except (ImageError, InputError, OSError, RuntimeError, MemoryError) as e:
            tqdm.write(f"{PROG}: {source}: {e}", file=sys.stderr)
            failed.add(source)
            continue
        log_file.write(json.dumps(row) + "\n")
        log_file.flush()
        written += 1
    bar.close()
    return written


def _images(
    root: Path, todo: list[tuple[str, int]], max_pixels: int, failed: set[str], bar: Any
) -> Iterator[tuple[str, NDArray[np.uint8], int]]:
    """(source, image, variant) in order, each image decoded once for its variants; bad files reported."""
    from tqdm import tqdm

    current, image = None, None
    for source, j in todo:
        bar.update(1)
        if source in failed:
            continue
        if source != current:
            current, image = source, None
            try:
                image = load_image(root / source, max_pixels).rgb
            except (ImageError, OSError) as e:
                tqdm.write(f"inpaint: {e}", file=sys.stderr)
                failed.add(source)
                continue
        if image is not None:
            yield source, image, j


def _whole(text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
    return value


def _count(text: str) -> int:
    return _whole(text, 1, MAX_VARIANTS)


def _set_seed(text: str) -> int:
    return _whole(text, 0, MAX_SET_SEED)
