"""`inpaint augment`: k inpainted variants of every image of a folder, plus a manifest to rebuild them.

Variant j of image SOURCE gets a hole mask and a fill seed drawn from (seed, crc32(SOURCE), j), so
adding or removing other images changes nothing, and the run can stop and resume anywhere. Every
finished variant appends one JSON line to OUT/manifest.jsonl:

    {"source": "a/b.jpg", "variant": 0, "mask": "masks/a/b.jpg__v0.png", "mask_kind": "mixed",
     "mask_seed": 123, "hole_min": 0.05, "hole_max": 0.25, "seed": 456, "engine": "telea",
     "checkpoint": null, "set_seed": 0, "output": "images/a/b.jpg__v0.png"}

`rebuild(row, data, out_dir)` makes the same output again from the source, the mask file (or the
mask spec) and the seed: engine.inpaint(image, mask, n=1, seed) reproduces candidate `seed`.
Images are read one at a time, so memory does not grow with the folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import InputError
from inpaint_gui.core.image_io import load_image, load_mask, save_image
from inpaint_gui.engine import Engine
from inpaint_gui.training.config import MaskConfig
from inpaint_gui.training.masks import MaskGenerator

log = logging.getLogger(__name__)

MANIFEST = "manifest.jsonl"
MASK_KINDS = ("strokes", "rects", "mixed")
#: Masks are drawn on a square of this side, then resized (nearest) to the image.
MASK_SIDE = 256
#: The most variants per image: the plan of a run is held in memory, one entry per variant.
MAX_VARIANTS = 1000
#: The whole set's seed is stored with every row; numpy's generators take 0..2**63-1.
MAX_SET_SEED = 2**63 - 1
#: Images with a shorter side are skipped and reported: a hole drawn on MASK_SIDE and scaled to a
#: few pixels covers all or none of them.
MIN_SIDE = 8
#: Settings a resumed run must share with the rows already written.
_SAME = ("engine", "checkpoint", "mask_kind", "hole_min", "hole_max", "set_seed")
#: Taken (flock) by the run writing into a folder, so a second one refuses instead of doubling rows.
LOCK = ".augment.lock"


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
        "set_seed": seed,
        "output": f"images/{stem}__v{variant}.png",
    }


def make_mask(row: dict[str, Any], height: int, width: int) -> NDArray[np.bool_]:
    """The hole of a manifest row, from its spec alone."""
    generator = MaskGenerator(MASK_SIDE, mask_config(row["mask_kind"], row["hole_min"], row["hole_max"]))
    return _sized(generator(np.random.default_rng(row["mask_seed"])), height, width)


def make_variant(
    engine: Engine, image: NDArray[np.uint8], row: dict[str, Any], out: Path, generator: MaskGenerator
) -> NDArray[np.uint8]:
    """Fill one variant and write its mask and output (atomically) under out."""
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise InputError(f"too small to augment ({w} x {h} pixels; the shorter side needs {MIN_SIDE})")
    mask = _sized(generator(np.random.default_rng(row["mask_seed"])), h, w)
    [candidate] = _exact(engine).inpaint(image, mask, n=1, seed=row["seed"])
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
    return _exact(engine).inpaint(image, mask, n=1, seed=row["seed"])[0].image


def _exact(engine: Engine) -> Engine:
    """The engine set to fill the mask exactly: the manifest's mask file is the filled area, so no
    gap inside it may be closed behind its back."""
    engine.configure(close_gaps=False, grow=0)
    return engine


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
        # Rows written before the set's seed was recorded cannot be checked for it.
        differ = [k for k in _SAME if row.get(k) != settings[k] and (k in row or k != "set_seed")]
        if differ:
            raise ValueError(
                f"{manifest}:{number} was made with other settings ("
                + ", ".join(f"{k} {row.get(k)!r}, now {settings[k]!r}" for k in differ)
                + "); use another output folder"
            )
        if (out / row["output"]).is_file():
            done.add(key)
    return done


@contextlib.contextmanager
def open_manifest(out: Path) -> Iterator[Any]:
    """OUT/manifest.jsonl for appending rows, with the folder locked for this run.

    A second run into the same folder raises ValueError instead of making every variant again.
    A last line torn by a crash (no newline at its end) is cut off first, so the next row starts
    on a line of its own; its variant is made again.
    """
    out.mkdir(parents=True, exist_ok=True)
    lock = open(out / LOCK, "a")  # noqa: SIM115 - held for the whole run
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"{out}: another `inpaint augment` is writing to this folder") from None
        path = out / MANIFEST
        with open(path, "a+b") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size:
                f.seek(max(0, size - 65536))
                tail = f.read()
                if not tail.endswith(b"\n"):
                    cut = tail.rfind(b"\n")
                    keep = size - len(tail) + cut + 1 if cut >= 0 else (0 if size <= 65536 else None)
                    if keep is None:  # one torn line longer than the tail read: end it instead
                        f.write(b"\n")
                    else:
                        log.warning("%s: dropped a torn last line; its variant will be made again", path)
                        f.truncate(keep)
        with open(path, "a", encoding="utf-8") as manifest:
            yield manifest
    finally:
        lock.close()  # releases the lock


def mask_config(kind: str, hole_min: float, hole_max: float) -> MaskConfig:
    """The training mask settings that draw only holes of this kind, of this share of the image."""
    if kind not in MASK_KINDS:
        raise ValueError(f"unknown mask kind {kind!r}; kinds: {', '.join(MASK_KINDS)}")
    weights = {k: float(k == kind) for k in MASK_KINDS}
    return MaskConfig(hole_min=hole_min, hole_max=hole_max, **weights)


def _sized(mask: NDArray[np.bool_], height: int, width: int) -> NDArray[np.bool_]:
    return cv2.resize(mask.view(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST).astype(bool)
