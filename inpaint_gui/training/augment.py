"""`inpaint augment`: k inpainted variants of every image of a folder, plus a manifest to rebuild them.

Variant j of image SOURCE gets a hole mask and a fill seed drawn from (seed, crc32(SOURCE), j), so
adding or removing other images changes nothing, and the run can stop and resume anywhere. Every
finished variant appends one JSON line to OUT/manifest.jsonl:

    {"source": "a/b.jpg", "variant": 0, "mask": "masks/a/b.jpg__v0.png", "mask_kind": "mixed",
     "mask_seed": 123, "hole_min": 0.05, "hole_max": 0.25, "seed": 456, "engine": "telea",
     "checkpoint": null, "output": "images/a/b.jpg__v0.png"}

`rebuild(row, data, out_dir)` makes the same output again from the source, the mask file (or the
mask spec) and the seed: engine.inpaint(image, mask, n=1, seed) reproduces candidate `seed`.
Images are read one at a time, so memory does not grow with the folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.image_io import ImageError, load_image, load_mask, raise_pillow_limit, save_image
from inpaint_gui.engine import Engine
from inpaint_gui.training.config import MaskConfig
from inpaint_gui.training.data import list_images
from inpaint_gui.training.masks import MaskGenerator

log = logging.getLogger(__name__)

MANIFEST = "manifest.jsonl"
MASK_KINDS = ("strokes", "rects", "mixed")
#: Masks are drawn on a square of this side, then resized (nearest) to the image.
_MASK_SIDE = 256
#: Settings a resumed run must share with the rows already written.
_SAME = ("engine", "checkpoint", "mask_kind", "hole_min", "hole_max")


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
    p.add_argument("-k", type=_positive, default=4, help="variants per image (default 4)")
    p.add_argument("--engine", default=available_engines()[0], metavar="NAME")
    p.add_argument("--checkpoint", type=Path, metavar="PATH")
    p.add_argument("--device", default="auto", metavar="NAME")
    p.add_argument("--masks", choices=MASK_KINDS, default="mixed", help="hole shapes (default mixed)")
    p.add_argument("--hole-min", type=float, default=0.05, help="smallest hole share (default 0.05)")
    p.add_argument("--hole-max", type=float, default=0.25, help="largest hole share (default 0.25)")
    p.add_argument("--seed", type=int, default=0, help="seed of the whole set (default 0)")
    p.set_defaults(func=run_augment)


def run_augment(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from inpaint_gui import cli

    try:
        mask_cfg = _mask_config(args.masks, args.hole_min, args.hole_max)
    except ValueError as e:
        raise cli.UsageError(str(e)) from None
    if not args.data.is_dir():
        raise cli.UsageError(f"{args.data}: not a folder")
    if args.outdir.exists() and not args.outdir.is_dir():
        raise cli.UsageError(f"{args.outdir}: exists and is not a folder")
    sources = list_images(args.data)
    if not sources:
        raise cli.UsageError(f"{args.data}: holds no images")
    max_pixels = cli._max_pixels_from_env()
    raise_pillow_limit(max_pixels)
    manifest = args.outdir / MANIFEST
    settings = {
        "engine": args.engine,
        "checkpoint": None if args.checkpoint is None else str(args.checkpoint),
        "mask_kind": args.masks,
        "hole_min": args.hole_min,
        "hole_max": args.hole_max,
    }
    try:
        done = done_variants(manifest, args.outdir, settings)
    except ValueError as e:
        raise cli.UsageError(str(e)) from None
    engine = cli._load_engine(args)
    args.outdir.mkdir(parents=True, exist_ok=True)
    generator = MaskGenerator(_MASK_SIDE, mask_cfg)
    todo = [(s, j) for s in sources for j in range(args.k) if (s, j) not in done]
    failed: set[str] = set()
    written = 0
    with open(manifest, "a", encoding="utf-8") as log_file:
        bar = tqdm(todo, desc="augment", unit="variant", file=sys.stderr, disable=None)
        for source, image, j in _images(args.data, todo, max_pixels, failed, bar):
            row = plan_row(source, j, args.seed, settings)
            try:
                make_variant(engine, image, row, args.outdir, generator)
            except (ImageError, InputError, OSError, RuntimeError, MemoryError) as e:
                tqdm.write(f"{cli.PROG}: {source}: {e}", file=sys.stderr)
                failed.add(source)
                continue
            log_file.write(json.dumps(row) + "\n")
            log_file.flush()
            written += 1
        bar.close()
    skipped = len(sources) * args.k - len(todo)
    print(
        f"wrote {written} variants to {args.outdir}"
        + (f", {skipped} already done" if skipped else "")
        + (f"; {len(failed)} images failed" if failed else "")
    )
    return 1 if failed else 0


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


def plan_row(source: str, variant: int, seed: int, settings: dict[str, Any]) -> dict[str, Any]:
    """The manifest row of one variant: where it goes and every number that makes it."""
    rng = np.random.default_rng([seed, zlib.crc32(source.encode()), variant])
    mask_seed, fill_seed = (int(x) for x in rng.integers(0, 2**31, 2))
    stem = source  # with its extension: a.jpg and a.png are different sources
    return {
        "source": source,
        "variant": variant,
        "mask": f"masks/{stem}__v{variant}.png",
        "mask_kind": settings["mask_kind"],
        "mask_seed": mask_seed,
        "hole_min": settings["hole_min"],
        "hole_max": settings["hole_max"],
        "seed": fill_seed,
        "engine": settings["engine"],
        "checkpoint": settings["checkpoint"],
        "output": f"images/{stem}__v{variant}.png",
    }


def make_mask(row: dict[str, Any], height: int, width: int) -> NDArray[np.bool_]:
    """The hole of a manifest row, from its spec alone."""
    generator = MaskGenerator(_MASK_SIDE, _mask_config(row["mask_kind"], row["hole_min"], row["hole_max"]))
    return _sized(generator(np.random.default_rng(row["mask_seed"])), height, width)


def make_variant(
    engine: Engine, image: NDArray[np.uint8], row: dict[str, Any], out: Path, generator: MaskGenerator
) -> NDArray[np.uint8]:
    """Fill one variant and write its mask and output (atomically) under out."""
    h, w = image.shape[:2]
    mask = _sized(generator(np.random.default_rng(row["mask_seed"])), h, w)
    [candidate] = engine.inpaint(image, mask, n=1, seed=row["seed"])
    for rel, pixels in (
        (row["mask"], np.repeat(mask[..., None], 3, axis=2).astype(np.uint8) * 255),
        (row["output"], candidate.image),
    ):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        save_image(out / rel, pixels, overwrite=True)  # a file left by a run stopped before its row
    return candidate.image


def rebuild(row: dict[str, Any], data: Path, out: Path, engine: Engine) -> NDArray[np.uint8]:
    """The output of a manifest row made again from its source, mask file and seed."""
    image = load_image(data / row["source"]).rgb
    mask = load_mask(out / row["mask"], size=(image.shape[1], image.shape[0]))
    return engine.inpaint(image, mask, n=1, seed=row["seed"])[0].image


def done_variants(manifest: Path, out: Path, settings: dict[str, Any]) -> set[tuple[str, int]]:
    """(source, variant) of the manifest rows whose output exists; raises ValueError when the rows
    were made with other settings (one folder holds one consistent set)."""
    done: set[tuple[str, int]] = set()
    if not manifest.exists():
        return done
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            key = (str(row["source"]), int(row["variant"]))
        except (ValueError, KeyError, TypeError):
            log.warning("%s:%d: unreadable row; its variant will be made again", manifest, number)
            continue
        differ = [k for k in _SAME if row.get(k) != settings[k]]
        if differ:
            raise ValueError(
                f"{manifest}:{number} was made with other settings ("
                + ", ".join(f"{k} {row.get(k)!r}, now {settings[k]!r}" for k in differ)
                + "); use another output folder"
            )
        if (out / row["output"]).is_file():
            done.add(key)
    return done


def _mask_config(kind: str, hole_min: float, hole_max: float) -> MaskConfig:
    if kind not in MASK_KINDS:
        raise ValueError(f"unknown mask kind {kind!r}; kinds: {', '.join(MASK_KINDS)}")
    weights = {k: float(k == kind) for k in MASK_KINDS}
    return MaskConfig(hole_min=hole_min, hole_max=hole_max, **weights)


def _sized(mask: NDArray[np.bool_], height: int, width: int) -> NDArray[np.bool_]:
    return cv2.resize(mask.view(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST).astype(bool)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
