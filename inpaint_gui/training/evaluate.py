"""`inpaint eval`: full-reference figures per hole-size band for any registered engine.

Images and masks are paired deterministically: both lists sorted by name, masks grouped by band
(file names `bK_...`, as in the NVIDIA irregular mask set; otherwise by measured hole share), and
image i takes band i mod B, the (i div B)-th mask of that band (cycling). Masks are resized to the
image with nearest neighbour; with --resolution R images are first resized to R x R.

Per image and candidate: PSNR, SSIM and L1 on the whole image and on the hole only. Per image:
the mean over candidates and the best of n (highest PSNR / SSIM, lowest L1, each on its own),
diversity (mean pairwise L1 in the hole) and gradient figures for the sharpness ratios. Per band
and overall: means over images; sharpness = summed candidate gradient energy (mean squared Sobel
gradient in the hole's interior) / the ground truth's, summed over images; sharpness_magnitude the
same with the mean gradient magnitude (diffusion fills score about 0.15-0.2 on the first and
0.35-0.45 on the second on eval/scenes, holes of 20% and more).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core import quality as q
from inpaint_gui.engine import load_engine
from inpaint_gui.training.data import list_images
from inpaint_gui.training.masks import list_mask_files, read_mask
from inpaint_gui.training.runs import grey_hole, tile_rows, write_png

log = logging.getLogger(__name__)

BASELINES = ("telea", "navier-stokes")
METRICS = ("psnr", "ssim", "l1", "psnr_hole", "ssim_hole", "l1_hole")
_TABLE_ORDER = ("psnr", "psnr_hole", "ssim", "ssim_hole", "l1", "l1_hole")  # the table's columns
_HIGHER_IS_BETTER = {
    "psnr": True,
    "ssim": True,
    "l1": False,
    "psnr_hole": True,
    "ssim_hole": True,
    "l1_hole": False,
}
_BAND_NAME = re.compile(r"^b(\d+)_")
GRID_MIN_HOLE = 0.2  # the grid shows the holes the bars are about


@dataclass(frozen=True)
class Pair:
    image: Path
    mask: Path
    band: str


def pair_images_and_masks(
    images_dir: str | Path, masks_dir: str | Path, limit: int | None = None
) -> list[Pair]:
    """Deterministic image/mask pairs (see the module docstring)."""
    root = Path(images_dir)
    if not root.is_dir():
        raise ValueError(f"image folder {images_dir} does not exist")
    images = [root / p for p in list_images(root)]
    if not images:
        raise ValueError(f"image folder {images_dir} holds no images")
    masks = list_mask_files(masks_dir)
    if not masks:
        raise ValueError(f"mask folder {masks_dir} holds no mask images")
    groups: dict[str, list[Path]] = defaultdict(list)
    for m in masks:
        groups[_band_of(m)].append(m)
    bands = sorted(groups)
    count = len(images) if limit is None else min(limit, len(images))
    out = []
    for i in range(count):
        band = bands[i % len(bands)]
        members = groups[band]
        out.append(Pair(images[i], members[(i // len(bands)) % len(members)], band))
    return out


def _band_of(path: Path) -> str:
    m = _BAND_NAME.match(path.name)
    if m:
        return f"b{m.group(1)}"
    mask = read_mask(path)
    share = 0.0 if mask is None else float(mask.mean())
    low = min(int(share * 10), 9) * 10
    return f"{low:02d}-{low + 10}%"


def load_pair(pair: Pair, resolution: int | None) -> tuple[NDArray[np.uint8], NDArray[np.bool_]] | None:
    bgr = cv2.imread(str(pair.image), cv2.IMREAD_COLOR)
    if bgr is None:
        log.warning("skipping unreadable image %s", pair.image)
        return None
    image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if resolution is not None and image.shape[:2] != (resolution, resolution):
        shrink = min(image.shape[:2]) > resolution
        image = cv2.resize(
            image, (resolution, resolution), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
        )
    gray = cv2.imread(str(pair.mask), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        log.warning("skipping unreadable mask %s", pair.mask)
        return None
    h, w = image.shape[:2]
    mask = cv2.resize(gray, (w, h), interpolation=cv2.INTER_NEAREST) > 127
    if not mask.any():
        log.warning("skipping %s: mask %s is empty at %dx%d", pair.image.name, pair.mask.name, w, h)
        return None
    return image, mask


def score_image(
    truth: NDArray[np.uint8], mask: NDArray[np.bool_], fills: Sequence[NDArray[np.uint8]]
) -> dict[str, Any]:
    """Figures of one image's candidates (see the module docstring)."""
    per = {k: [] for k in METRICS}
    for f in fills:
        per["psnr"].append(q.psnr(f, truth))
        per["ssim"].append(q.ssim(f, truth))
        per["l1"].append(q.l1(f, truth))
        per["psnr_hole"].append(q.psnr(f, truth, mask))
        per["ssim_hole"].append(q.ssim(f, truth, mask))
        per["l1_hole"].append(q.l1(f, truth, mask))
    inner = q.interior(mask)
    return {
        "hole_ratio": float(mask.mean()),
        "mean": {k: float(np.mean(v)) for k, v in per.items()},
        "best": {k: float(max(v) if _HIGHER_IS_BETTER[k] else min(v)) for k, v in per.items()},
        "diversity": q.diversity(fills, mask),
        "energy": float(np.mean([q.gradient_energy(f, inner) for f in fills])),
        "energy_truth": q.gradient_energy(truth, inner),
        "magnitude": float(np.mean([q.gradient_magnitude(f, inner) for f in fills])),
        "magnitude_truth": q.gradient_magnitude(truth, inner),
    }


def _ratio(records: Sequence[dict[str, Any]], key: str) -> float:
    truth = sum(r[f"{key}_truth"] for r in records)
    return float(sum(r[key] for r in records) / truth) if truth > 0 else float("nan")


def aggregate(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "count": len(records),
        "hole_ratio": float(np.mean([r["hole_ratio"] for r in records])),
        "mean": {k: float(np.mean([r["mean"][k] for r in records])) for k in METRICS},
        "best": {k: float(np.mean([r["best"][k] for r in records])) for k in METRICS},
        "diversity": float(np.mean([r["diversity"] for r in records])),
        "sharpness": _ratio(records, "energy"),
        "sharpness_magnitude": _ratio(records, "magnitude"),
    }


def evaluate(
    images_dir: str | Path,
    masks_dir: str | Path,
    engine: str = "pluralistic",
    checkpoint: str | Path | None = None,
    n: int = 6,
    resolution: int | None = None,
    seed: int = 0,
    limit: int | None = None,
    baselines: bool = True,
    device: str = "auto",
    on_progress: Callable[[str, int, int], None] | None = None,
    grid: str | Path | None = None,
    grid_rows: int = 6,
) -> dict[str, Any]:
    """Evaluate `engine` (and telea and navier-stokes) on paired images and masks; returns the report.

    With `grid`, also writes a PNG of the first `grid_rows` pairs whose hole is 20% or more: input
    with the hole greyed, each candidate, navier-stokes (when baselines run) and the original.
    """
    pairs = pair_images_and_masks(images_dir, masks_dir, limit)
    loaded = [(p, load_pair(p, resolution)) for p in pairs]
    data = [(p, x) for p, x in loaded if x is not None]
    if not data:
        raise ValueError("no usable image/mask pair")
    names = [engine] + ([b for b in BASELINES if b != engine] if baselines else [])
    shown = (
        [i for i, (_, (_, mask)) in enumerate(data) if mask.mean() >= GRID_MIN_HOLE][:grid_rows]
        if grid
        else []
    )
    grid_fills: dict[str, dict[int, list[NDArray[np.uint8]]]] = defaultdict(dict)
    report: dict[str, Any] = {
        "settings": {
            "images": str(images_dir),
            "masks": str(masks_dir),
            "engine": engine,
            "checkpoint": None if checkpoint is None else str(checkpoint),
            "n": n,
            "resolution": resolution,
            "seed": seed,
            "count": len(data),
            "pairing": "sorted images; image i -> band i mod B, mask (i div B) of that band, cycling",
        },
        "engines": {},
    }
    for name in names:
        eng = load_engine(
            name,
            checkpoint=checkpoint if name == engine else None,
            device=device if name == engine else "auto",
        )
        by_band: dict[str, list[dict[str, Any]]] = defaultdict(list)
        start = time.perf_counter()
        candidates = 0
        for i, (pair, (image, mask)) in enumerate(data):
            fills = [c.image for c in eng.inpaint(image, mask, n=n, seed=seed)]
            candidates = len(fills)
            if i in shown and name in (engine, "navier-stokes"):
                grid_fills[name][i] = fills
            by_band[pair.band].append(score_image(image, mask, fills))
            if on_progress is not None:
                on_progress(name, i + 1, len(data))
        seconds = time.perf_counter() - start
        everything = [r for recs in by_band.values() for r in recs]
        report["engines"][name] = {
            "candidates": candidates,
            "seconds_per_image": seconds / len(data),
            "bands": {band: aggregate(by_band[band]) for band in sorted(by_band)},
            "overall": aggregate(everything),
        }
        log.info("%s: %.2f s per image", name, seconds / len(data))
    if grid and not shown:
        log.warning("no pair has a hole of %d%% or more: no grid written", round(GRID_MIN_HOLE * 100))
    if grid and shown:
        rows = []
        for i in shown:
            image, mask = data[i][1]
            extra = grid_fills.get("navier-stokes", {}).get(i, []) if engine != "navier-stokes" else []
            rows.append([grey_hole(image, mask), *grid_fills[engine][i], *extra, image])
        size = rows[0][0].shape[1::-1]
        rows = [
            [t if t.shape[1::-1] == size else cv2.resize(t, size, interpolation=cv2.INTER_AREA) for t in r]
            for r in rows
        ]
        write_png(Path(grid), tile_rows(rows))
    return report


def markdown_table(report: dict[str, Any]) -> str:
    """One row per engine and band; metric cells read `mean / best of n`."""
    head = [
        "band",
        "hole",
        "engine",
        "PSNR",
        "PSNR hole",
        "SSIM",
        "SSIM hole",
        "L1",
        "L1 hole",
        "diversity",
        "sharpness",
        "sharpness (magnitude)",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    engines = report["engines"]
    bands = sorted({b for e in engines.values() for b in e["bands"]}) + ["overall"]
    for band in bands:
        for name, res in engines.items():
            v = res["overall"] if band == "overall" else res["bands"].get(band)
            if v is None:
                continue
            cells = [band, f"{100 * v['hole_ratio']:.0f}%", name]
            for k in _TABLE_ORDER:
                digits = 2 if k.startswith("psnr") else 3
                cells.append(f"{v['mean'][k]:.{digits}f} / {v['best'][k]:.{digits}f}")
            cells += [f"{v['diversity']:.3f}", f"{v['sharpness']:.2f}", f"{v['sharpness_magnitude']:.2f}"]
            lines.append("| " + " | ".join(cells) + " |")
    s = report["settings"]
    note = (
        f"\n{s['count']} images from {s['images']}, masks from {s['masks']}, n = {s['n']} candidates "
        f"(mean / best of n; classical engines give one), resolution {s['resolution'] or 'native'}, "
        f"seed {s['seed']}. L1 in [0, 1]; diversity = mean pairwise L1 in the hole; sharpness = "
        "gradient energy (mean squared Sobel gradient) in the hole's interior relative to the ground "
        "truth's; sharpness (magnitude) the same with the mean gradient magnitude.\n"
    )
    return "\n".join(lines) + "\n" + note


def write_report(report: dict[str, Any], out: str | Path) -> tuple[Path, Path]:
    """report.json and report.md side by side."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    md = out.with_suffix(".md")
    md.write_text(markdown_table(report))
    return out, md
