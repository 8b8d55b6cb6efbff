"""The `inpaint` command line: `inpaint fill` here; train, pack, export and eval come from training.

inpaint fill IMAGE MASK -o OUTDIR [-n 6] [--seed 0] [--engine NAME] [--checkpoint PATH]
inpaint fill --manifest pairs.csv -o OUTDIR [...]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import logging
import math
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.files import atomic_write
from inpaint_gui.core.image_io import (
    DEFAULT_MAX_PIXELS,
    ImageError,
    load_image,
    load_mask,
    parse_max_pixels,
    raise_pillow_limit,
    same_file,
    save_image,
)
from inpaint_gui.engine import Engine, available_engines, load_engine
from inpaint_gui.runtime import prefer_sleeping_threads

log = logging.getLogger(__name__)

PROG = "inpaint"
MAX_PIXELS_ENV = "INPAINT_MAX_PIXELS"
MANIFEST_COLUMNS = ("image", "mask", "stem")
RESULTS_NAME = "candidates.json"
#: Candidates are named candidate_00.png .. candidate_99.png, and each is a full image held in memory.
MAX_CANDIDATES = 100
_CANDIDATE_NAME = re.compile(r"candidate_\d{2}\.png")
_TRAINING_COMMANDS = "inpaint_gui.training.commands"
#: Errors of one fill (bad file, bad input for the engine, out of memory) that leave the others fine.
_JOB_ERRORS = (ValueError, OSError, RuntimeError, MemoryError)


class UsageError(Exception):
    """The command line or manifest is wrong as a whole: reported in one line, exit code 2."""


@dataclass(frozen=True)
class FillJob:
    """One image + mask pair and the folder its candidates go to."""

    image: Path
    mask: Path
    outdir: Path
    where: str = ""  # "pairs.csv:3" for a manifest row, for messages


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `inpaint`; returns the exit code (0 fine, 1 some work failed, 2 usage error)."""
    prefer_sleeping_threads()  # before any command imports torch
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse has printed its message (or the help)
        return e.code if isinstance(e.code, int) else 2
    _configure_logging(getattr(args, "verbose", 0))
    try:
        return args.func(args)
    except UsageError as e:
        _error(str(e))
        return 2
    except KeyboardInterrupt:
        _error("interrupted")
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
    _add_fill(commands, verbosity)
    _register_training(commands)
    from inpaint_gui import restore_cli  # imports this module: only once it has loaded
    from inpaint_gui.training import augment, detector

    restore_cli.register(commands, verbosity)
    augment.register(commands, verbosity)
    detector.register(commands, verbosity)
    return parser


def _add_fill(commands: argparse._SubParsersAction, verbosity: argparse.ArgumentParser) -> None:
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


def _register_training(commands: argparse._SubParsersAction) -> None:
    """Add train, pack, export and eval when the training commands exist; their import errors show."""
    if importlib.util.find_spec(_TRAINING_COMMANDS) is None:
        log.debug("%s not found; training commands unavailable", _TRAINING_COMMANDS)
        return
    importlib.import_module(_TRAINING_COMMANDS).register(commands)


# --- fill ----------------------------------------------------------------------------------------


def run_fill(args: argparse.Namespace) -> int:
    """`inpaint fill`: one pair, or every row of a manifest with the model loaded once."""
    max_pixels = _max_pixels_from_env()
    raise_pillow_limit(max_pixels)
    jobs, failed = _plan(args)
    engine = _load_engine(args)
    batch = args.manifest is not None
    done = 0
    for job in tqdm(jobs, desc="fill", unit="image", disable=None if batch else True, file=sys.stderr):
        try:
            count = fill_one(engine, job, args.n, args.seed, max_pixels, args.overwrite, batch)
        except _JOB_ERRORS as e:
            log.debug("%s failed", job.where or job.image, exc_info=True)
            text = "not enough memory for this image" if isinstance(e, MemoryError) else str(e)
            _error(f"{job.where}: {text}" if job.where else text, progress=batch)
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
        _error(
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
        _error(message)
    if not manifest.jobs and not manifest.errors:
        raise UsageError(f"{args.manifest}: no rows")
    return manifest.jobs, len(manifest.errors)


def _load_engine(args: argparse.Namespace) -> Engine:
    start = time.perf_counter()
    try:
        engine = load_engine(args.engine, checkpoint=args.checkpoint, device=args.device)
    except _JOB_ERRORS as e:  # unknown name (the message lists valid ones), bad checkpoint, bad device
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


# --- manifest ------------------------------------------------------------------------------------


@dataclass
class Manifest:
    jobs: list[FillJob]
    errors: list[str]  # one per rejected row
    notices: list[str]  # rows whose stem had to be made unique


def read_manifest(path: Path, outdir: Path) -> Manifest:
    """Jobs from a CSV with columns image, mask and optionally stem, and one error per bad row.

    Paths are relative to the CSV's folder. The output folder is OUTDIR/<stem>, the
    stem defaulting to the image's; repeated stems get _2, _3, ... (with a message).
    Raises UsageError when the file or its header is unusable.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            header = [h.strip().lower() for h in next(reader, [])]
            _check_header(path, header)
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UsageError(f"{path}: cannot read manifest: {getattr(e, 'strerror', None) or e}") from None

    base = path.parent
    parsed: list[tuple[str, Path, Path, str]] = []
    errors: list[str] = []
    for line, row in rows:
        where = f"{path}:{line}"
        if len(row) > len(header):
            errors.append(f"{where}: has {len(row)} fields, the header has {len(header)}")
            continue
        # A short row just leaves out the optional stem.
        cells = {column: cell.strip() for column, cell in zip(header, row, strict=False)}
        if not cells.get("image") or not cells.get("mask"):
            errors.append(f"{where}: image and mask must both be given")
            continue
        image, mask = base / Path(cells["image"]).expanduser(), base / Path(cells["mask"]).expanduser()
        stem = cells.get("stem") or image.stem
        if not _is_plain_name(stem):
            errors.append(f"{where}: stem {stem!r} is not a plain folder name")
            continue
        parsed.append((where, image, mask, stem))

    jobs, notices = [], []
    taken = {stem.casefold() for *_, stem in parsed}  # folder names compare case-blind on macOS and Windows
    used: set[str] = set()
    for where, image, mask, stem in parsed:
        unique = stem
        if stem.casefold() in used:
            unique = _unused(stem, used | taken)
            notices.append(f"{where}: stem {stem!r} is already used; writing to {unique}/ instead")
        used.add(unique.casefold())
        jobs.append(FillJob(image, mask, outdir / unique, where))
    return Manifest(jobs, errors, notices)


def _check_header(path: Path, header: list[str]) -> None:
    if not header:
        raise UsageError(f"{path}: empty manifest; expected a header line: image,mask[,stem]")
    unknown = [h for h in header if h not in MANIFEST_COLUMNS]
    missing = [c for c in ("image", "mask") if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise UsageError(
            f"{path}: header is {','.join(header)!r}; expected columns image,mask and optionally stem"
        )


def _is_plain_name(name: str) -> bool:
    return name not in ("", ".", "..") and not any(c in name for c in "/\\\0:")


def _unused(stem: str, taken: set[str]) -> str:
    k = 2
    while f"{stem}_{k}".casefold() in taken:
        k += 1
    return f"{stem}_{k}"


# --- small helpers -------------------------------------------------------------------------------


def _max_pixels_from_env() -> int:
    text = os.environ.get(MAX_PIXELS_ENV)
    if not text:
        return DEFAULT_MAX_PIXELS
    try:
        return parse_max_pixels(text)
    except ValueError as e:
        raise UsageError(f"{MAX_PIXELS_ENV}: {e}") from None


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


def _error(message: str, progress: bool = False) -> None:
    line = f"{PROG}: {message}"
    if progress:
        tqdm.write(line, file=sys.stderr)  # keeps the progress bar intact
    else:
        print(line, file=sys.stderr)


def _configure_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


if __name__ == "__main__":
    raise SystemExit(main())
