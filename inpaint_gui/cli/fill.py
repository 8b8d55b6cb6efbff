"""`inpaint fill`: candidates for the masked part of one image, or of every row of a manifest.

inpaint fill IMAGE MASK -o OUTDIR [-n 6] [--seed 0] [--engine NAME] [--checkpoint PATH]
inpaint fill --manifest pairs.csv -o OUTDIR [...]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
from pathlib import Path

from tqdm import tqdm

from inpaint_gui.cli.common import (
    JOB_ERRORS,
    MAX_PIXELS_ENV,
    UsageError,
    engine_from_args,
    error,
    max_pixels_from_env,
)
from inpaint_gui.cli.manifest import FillJob, read_manifest
from inpaint_gui.core.files import atomic_write
from inpaint_gui.core.image_io import (
    DEFAULT_MAX_PIXELS,
    ImageError,
    load_image,
    load_mask,
    raise_pillow_limit,
    same_file,
    save_image,
)
from inpaint_gui.engine import Engine, available_engines
from inpaint_gui.engine.base import MAX_CANDIDATES

log = logging.getLogger(__name__)

RESULTS_NAME = "candidates.json"
#: Candidates are named candidate_00.png .. candidate_99.png, and each is a full image held in memory.
_CANDIDATE_NAME = re.compile(r"candidate_\d{2}\.png")


def register(commands: argparse._SubParsersAction, verbosity: argparse.ArgumentParser) -> None:
    """Add `inpaint fill`."""
    fill = commands.add_parser(
        "fill",
        parents=[verbosity],
        help="propose fills for the masked part of an image (or of many)",
        description="Write OUTDIR/candidate_00.png ... and OUTDIR/candidates.json (seed, score, "
        "seconds per candidate). With --manifest, one OUTDIR/<stem>/ per row.",
        epilog=f"Masks: white/non-zero pixels are filled. Images over {DEFAULT_MAX_PIXELS:,} pixels "
        f"are refused; set {MAX_PIXELS_ENV} to change the limit.",
    )
    fill.add_argument("image", nargs="?", type=Path, metavar="IMAGE", help="image file")
    fill.add_argument("mask", nargs="?", type=Path, metavar="MASK", help="mask file, same size as the image")
    fill.add_argument(
        "--manifest",
        type=Path,
        metavar="CSV",
        help="CSV with columns image,mask and optionally stem; paths relative to the CSV's folder",
    )
    fill.add_argument("-o", "--outdir", type=Path, required=True, help="output folder")
    fill.add_argument(
        "-n",
        type=_candidate_count,
        default=6,
        help=f"number of candidates, 1 to {MAX_CANDIDATES} (default 6)",
    )
    fill.add_argument("--seed", type=_seed, default=0, help="seed of the first candidate (default 0)")
    fill.add_argument(
        "--engine",
        metavar="NAME",
        default=available_engines()[0],
        help=f"one of {', '.join(available_engines())} (default {available_engines()[0]})",
    )
    fill.add_argument(
        "--checkpoint", type=Path, metavar="PATH", help="release checkpoint (default: the shipped one)"
    )
    fill.add_argument(
        "--device", default="auto", metavar="NAME", help="auto, cpu, cuda or mps (default auto)"
    )
    fill.add_argument(
        "--variety",
        type=float,
        metavar="T",
        help="pluralistic and guided engines: how far from the network prior's mean candidates are drawn "
        "(default: the engine's; more gives candidates that differ more, at some cost in realism)",
    )
    fill.add_argument("--overwrite", action="store_true", help="replace existing output files")
    fill.set_defaults(func=run_fill)


# --- fill ----------------------------------------------------------------------------------------


def run_fill(args: argparse.Namespace) -> int:
    """`inpaint fill`: one pair, or every row of a manifest with the model loaded once."""
    max_pixels = max_pixels_from_env()
    raise_pillow_limit(max_pixels)
    jobs, failed = _plan(args)
    engine = engine_from_args(args)
    batch = args.manifest is not None
    done = 0
    for job in tqdm(jobs, desc="fill", unit="image", disable=None if batch else True, file=sys.stderr):
        try:
            count = fill_one(engine, job, args.n, args.seed, max_pixels, args.overwrite, batch)
        except JOB_ERRORS as e:
            log.debug("%s failed", job.where or job.image, exc_info=True)
            text = "not enough memory for this image" if isinstance(e, MemoryError) else str(e)
            error(f"{job.where}: {text}" if job.where else text, progress=batch)
            failed += 1
            continue
        done += 1
        if not batch:
            print(f"wrote {count} candidate{'s' if count != 1 else ''} to {job.outdir}")
    if batch:
        print(f"{done} of {done + failed} rows filled" + (f", {failed} failed" if failed else ""))
    return 1 if failed else 0


def fill_one(
    engine: Engine,
    job: FillJob,
    n: int,
    seed: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    overwrite: bool = False,
    progress: bool = False,
) -> int:
    """Fill one pair and write its candidates and candidates.json; returns how many were written.

    An empty mask is refused; one that covers the whole image is warned about (nothing is left
    to fill from). With overwrite, candidates of an earlier run that this one does not replace
    (listed in the old candidates.json) are removed, so the folder holds one run's results.
    """
    image = load_image(job.image, max_pixels)
    mask = load_mask(job.mask, size=image.size, max_pixels=max_pixels)
    if not mask.any():
        raise ImageError(f"{job.mask}: the mask is empty (no white pixels), so there is nothing to fill")
    if mask.all():
        where = f"{job.where}: " if job.where else ""
        error(
            f"warning: {where}{job.mask} covers the whole image: no pixel is kept, so every fill is made "
            "up from nothing",
            progress=progress,
        )
    count = n if engine.pluralistic else 1
    names = [f"candidate_{i:02d}.png" for i in range(count)]
    _check_outputs(job, [*names, RESULTS_NAME], overwrite)
    if count < n:
        log.info("engine %r gives a single fill; writing 1 candidate instead of %d", engine.name, n)

    candidates = engine.inpaint(image.rgb, mask, n=n, seed=seed)
    job.outdir.mkdir(parents=True, exist_ok=True)
    for name, candidate in zip(names, candidates, strict=True):
        save_image(
            job.outdir / name,
            candidate.image,
            alpha=image.alpha,
            icc_profile=image.icc_profile,
            exif=image.exif,
            overwrite=overwrite,
        )
    results = {
        "engine": engine.name,
        "checkpoint": _checkpoint_of(engine),
        "image": str(job.image),
        "mask": str(job.mask),
        "n": len(candidates),
        **({"variety": engine.variety} if "variety" in engine.options else {}),
        "candidates": [
            {"file": name, "seed": c.seed, "score": _finite(c.score), "seconds": round(c.seconds, 4)}
            for name, c in zip(names, candidates, strict=True)
        ],
    }
    stale = _earlier_candidates(job.outdir) - set(names) if overwrite else set()
    with atomic_write(job.outdir / RESULTS_NAME) as file:
        file.write(json.dumps(results, indent=2).encode())
    for name in sorted(stale):
        if any(same_file(job.outdir / name, p) for p in (job.image, job.mask)):
            continue  # an input that happens to have a candidate's name
        (job.outdir / name).unlink(missing_ok=True)
        log.info("removed %s of the earlier run", job.outdir / name)
    return len(candidates)


def _earlier_candidates(outdir: Path) -> set[str]:
    """Candidate files an earlier run wrote here, as its candidates.json lists them; only names
    this command gives its files (a hand-edited list cannot make it delete anything else)."""
    try:
        old = json.loads((outdir / RESULTS_NAME).read_text())
        files = {str(c["file"]) for c in old["candidates"]}
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    return {f for f in files if _CANDIDATE_NAME.fullmatch(f)}


def _check_outputs(job: FillJob, names: list[str], overwrite: bool) -> None:
    """Before any inference: never write over the inputs, nor over old results unless asked."""
    if job.outdir.exists() and not job.outdir.is_dir():
        raise ImageError(f"{job.outdir}: exists and is not a folder")
    for name in names:
        target = job.outdir / name
        if not target.exists():
            continue
        if any(same_file(target, p) for p in (job.image, job.mask)):
            raise ImageError(f"{target}: is an input file; refusing to overwrite it")
        if not overwrite:
            raise ImageError(f"{target}: already exists; pass --overwrite to replace it")


def _plan(args: argparse.Namespace) -> tuple[list[FillJob], int]:
    """The jobs to run and how many manifest rows were already rejected (and reported)."""
    if args.manifest is None:
        if args.image is None or args.mask is None:
            raise UsageError("fill needs IMAGE and MASK, or --manifest CSV")
        return [FillJob(args.image, args.mask, args.outdir)], 0
    if args.image is not None:
        raise UsageError("give either IMAGE MASK or --manifest CSV, not both")
    manifest = read_manifest(args.manifest, args.outdir)
    for message in manifest.errors + manifest.notices:
        error(message)
    if not manifest.jobs and not manifest.errors:
        raise UsageError(f"{args.manifest}: no rows")
    return manifest.jobs, len(manifest.errors)


# --- small helpers -------------------------------------------------------------------------------


def _candidate_count(text: str) -> int:
    value = _int(text)
    if not 1 <= value <= MAX_CANDIDATES:
        raise argparse.ArgumentTypeError(f"must be at least 1 and at most {MAX_CANDIDATES}, got {value}")
    return value


def _seed(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _checkpoint_of(engine: Engine) -> str | None:
    # Not part of the Engine interface: checkpoint-based engines keep the file they loaded as .path.
    path = getattr(engine, "path", None)
    return str(path) if path is not None else None


def _finite(x: float) -> float | None:
    return round(float(x), 6) if math.isfinite(x) else None
