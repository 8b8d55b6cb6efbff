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

Perceptual figures (training/perceptual.py), when `inpaint metric-weights` has cached their weights:
LPIPS-Alex of each candidate to the photo (mean and best of n), LPIPS diversity (mean over candidate
pairs) and KID of the filled images (each image's first candidate, so every engine contributes one
fill per photo) against the photos, mean and std over subsets. Bands named `<size> border` /
`<size> interior` (the object masks of training/object_masks.py) are also summed into groups.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core import quality as q
from inpaint_gui.core.image_io import ImageError, load_image
from inpaint_gui.engine import load_engine
from inpaint_gui.training import perceptual as pc
from inpaint_gui.training.masks import list_mask_files, read_mask
from inpaint_gui.training.object_masks import band_of_name
from inpaint_gui.training.runs import grey_hole, tile_rows, write_png
from inpaint_gui.training.sources import every_image

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
    images_dir: str | Path, masks_dir: str | Path, limit: int | None = None, every: int = 1
) -> list[Pair]:
    """Deterministic image/mask pairs (see the module docstring); every > 1 keeps every k-th image
    (sorted), a subset that spans a folder whose names are grouped by class."""
    images = every_image(images_dir, every)
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
    named = band_of_name(path.name)
    if named is not None:
        return named
    m = _BAND_NAME.match(path.name)
    if m:
        return f"b{m.group(1)}"
    mask = read_mask(path)
    share = 0.0 if mask is None else float(mask.mean())
    low = min(int(share * 10), 9) * 10
    return f"{low:02d}-{low + 10}%"


#: The sizes --resolution may ask for: 16 px holds a hole and its context; 8192 px, 67 MP, a photo.
MIN_RESOLUTION, MAX_RESOLUTION = 16, 8192


def load_pair(pair: Pair, resolution: int | None) -> tuple[NDArray[np.uint8], NDArray[np.bool_]] | None:
    try:  # the checked reader: a truncated file is refused, not half-grey ground truth
        image = load_image(pair.image).rgb
    except (ImageError, OSError) as e:
        log.warning("skipping unreadable image (%s)", e)
        return None
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
    truth: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    fills: Sequence[NDArray[np.uint8]],
    perceptual: pc.Perceptual | None = None,
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
    extra: dict[str, Any] = {}
    if perceptual is not None and perceptual.lpips is not None:
        to_photo, spread = perceptual.lpips_scores(truth, fills)
        extra = {
            "lpips": float(to_photo.mean()),
            "lpips_best": float(to_photo.min()),
            "lpips_diversity": spread,
        }
    return {
        **extra,
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


def _mean_or_none(records: Sequence[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in records if r.get(key) is not None]
    return float(np.mean(values)) if values else None


def aggregate(
    records: Sequence[dict[str, Any]], features: tuple[NDArray, NDArray] | None = None
) -> dict[str, Any]:
    """Means over images; `features` = (fills', photos') EfficientNet features, paired, for KID."""
    kid = None
    if features is not None and len(features[0]) >= 4:
        mean, std = pc.kid(features[0], features[1], paired=True)
        kid = {"mean": mean, "std": std}
    return {
        "lpips": _mean_or_none(records, "lpips"),
        "lpips_best": _mean_or_none(records, "lpips_best"),
        "lpips_diversity": _mean_or_none(records, "lpips_diversity"),
        "kid": kid,
        "count": len(records),
        "hole_ratio": float(np.mean([r["hole_ratio"] for r in records])),
        "mean": {k: float(np.mean([r["mean"][k] for r in records])) for k in METRICS},
        "best": {k: float(np.mean([r["best"][k] for r in records])) for k in METRICS},
        "diversity": float(np.mean([r["diversity"] for r in records])),
        "sharpness": _ratio(records, "energy"),
        "sharpness_magnitude": _ratio(records, "magnitude"),
    }


def summarize(
    records: Sequence[dict[str, Any]], bands: Sequence[str], features: tuple[NDArray, NDArray] | None
) -> dict[str, Any]:
    """Aggregates per band, per group (the word after the size in `<size> border` band names) and
    overall; features = (fills', photos') EfficientNet features, one row per record, for KID."""
    members: dict[str, dict[str, list[int]]] = {"bands": defaultdict(list), "groups": defaultdict(list)}
    for i, band in enumerate(bands):
        members["bands"][band].append(i)
        if " " in band:
            members["groups"][band.rsplit(" ", 1)[1]].append(i)

    def agg(rows: list[int]) -> dict[str, Any]:
        picked = None if features is None else (features[0][rows], features[1][rows])
        return aggregate([records[i] for i in rows], picked)

    out: dict[str, Any] = {kind: {k: agg(v) for k, v in sorted(m.items())} for kind, m in members.items()}
    out["overall"] = agg(list(range(len(records))))
    return out


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
    perceptual: bool = True,
    every: int = 1,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Evaluate `engine` (and telea and navier-stokes) on paired images and masks; returns the report.

    options: settings for `engine` (Engine.configure: variety=2, say), recorded in the report.

    With `grid`, also writes a PNG of the first `grid_rows` pairs whose hole is 20% or more, each row
    a full-size crop around the hole: input with the hole greyed, every engine's candidates, the photo.
    perceptual=False skips LPIPS and KID even when their weights are installed.
    """
    if resolution is not None and (
        isinstance(resolution, bool)
        or not isinstance(resolution, int)
        or not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION
    ):
        raise ValueError(
            f"resolution must be from {MIN_RESOLUTION} to {MAX_RESOLUTION}, got {resolution!r:.30}"
        )
    pairs = pair_images_and_masks(images_dir, masks_dir, limit, every)
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
    meter = pc.Perceptual("cuda" if str(device).startswith("cuda") else "cpu") if perceptual else None
    skipped = meter.missing if meter is not None else ["LPIPS", "LPIPS diversity", "KID"]
    photo_features = None
    if meter is not None and meter.effnet is not None:
        photo_features = meter.features([image for _, (image, _) in data])  # [N, 1280]
    report: dict[str, Any] = {
        "settings": {
            "images": str(images_dir),
            "masks": str(masks_dir),
            "engine": engine,
            "checkpoint": None if checkpoint is None else str(checkpoint),
            "options": dict(options or {}),
            "n": n,
            "resolution": resolution,
            "seed": seed,
            "count": len(data),
            "every": every,
            "pairing": "sorted images; image i -> band i mod B, mask (i div B) of that band, cycling",
            "perceptual": {
                "lpips": "LPIPS-Alex v0.1 (Zhang et al. 2018), whole image",
                "kid": pc.KID_LABEL + "; first candidate per image vs the photos, paired",
                "skipped": skipped,
                "enable": pc.ENABLE_HINT if skipped and perceptual else None,
            },
        },
        "engines": {},
    }
    for name in names:
        eng = load_engine(
            name,
            checkpoint=checkpoint if name == engine else None,
            device=device if name == engine else "auto",
        )
        if name == engine and options:
            unknown = sorted(set(options) - set(eng.options))
            if unknown:
                raise ValueError(f"engine {engine!r} has no setting {', '.join(unknown)}")
            eng.configure(options)
        records: list[dict[str, Any]] = []
        firsts: list[NDArray[np.uint8]] = []
        seconds = 0.0  # the engine's own time, not the scoring's
        candidates = 0
        for i, (_, (image, mask)) in enumerate(data):
            start = time.perf_counter()
            fills = [c.image for c in eng.inpaint(image, mask, n=n, seed=seed)]
            seconds += time.perf_counter() - start
            candidates = len(fills)
            if i in shown:
                grid_fills[name][i] = fills
            records.append(score_image(image, mask, fills, meter))
            firsts.append(fills[0])
            if on_progress is not None:
                on_progress(name, i + 1, len(data))
        features = None
        if meter is not None and photo_features is not None:
            features = (meter.features(firsts), photo_features)
        report["engines"][name] = {
            "candidates": candidates,
            "seconds_per_image": seconds / len(data),
            **summarize(records, [p.band for p, _ in data], features),
        }
        log.info("%s: %.2f s per image", name, seconds / len(data))
    if grid and not shown:
        log.warning("no pair has a hole of %d%% or more: no grid written", round(GRID_MIN_HOLE * 100))
    if grid and shown:
        rows = []
        for i in shown:
            image, mask = data[i][1]
            crop = _crop_box(mask)
            tiles = [grey_hole(image, mask), *(f for n in names for f in grid_fills[n][i]), image]
            rows.append([t[crop] for t in tiles])
        write_png(Path(grid), tile_rows(_pad_tiles(rows)))
    return report


def _crop_box(mask: NDArray[np.bool_], margin: float = 0.25) -> tuple[slice, slice]:
    """The hole's bounding box grown by `margin` of its size (at least 8 px) each side, in the image."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    my = max(8, round((ys.max() - ys.min() + 1) * margin))
    mx = max(8, round((xs.max() - xs.min() + 1) * margin))
    return slice(max(ys.min() - my, 0), min(ys.max() + my + 1, h)), slice(
        max(xs.min() - mx, 0), min(xs.max() + mx + 1, w)
    )


def _pad_tiles(rows: list[list[NDArray[np.uint8]]]) -> list[list[NDArray[np.uint8]]]:
    """Pad every tile with white to the largest tile's size (crops differ from row to row)."""
    h = max(t.shape[0] for r in rows for t in r)
    w = max(t.shape[1] for r in rows for t in r)
    return [
        [np.pad(t, ((0, h - t.shape[0]), (0, w - t.shape[1]), (0, 0)), constant_values=255) for t in r]
        for r in rows
    ]


def _cell(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown_table(report: dict[str, Any]) -> str:
    """One row per engine and band (then border / interior groups, then overall); metric cells read
    `mean / best of n`. LPIPS and its diversity come first: they are what the field reports."""
    head = [
        "band",
        "hole",
        "engine",
        "LPIPS",
        "LPIPS diversity",
        "KID ×10³",
        "PSNR",
        "PSNR hole",
        "SSIM",
        "SSIM hole",
        "L1",
        "L1 hole",
        "diversity (L1)",
        "sharpness",
        "sharpness (magnitude)",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    engines = report["engines"]
    bands = sorted({b for e in engines.values() for b in e["bands"]})
    groups = sorted({g for e in engines.values() for g in e.get("groups", {})})
    rows = [(b, "bands", b) for b in bands] + [(f"all {g}", "groups", g) for g in groups]
    for label, where, key in [*rows, ("overall", "overall", "")]:
        for name, res in engines.items():
            v = res["overall"] if where == "overall" else res.get(where, {}).get(key)
            if v is None:
                continue
            cells = [label, f"{100 * v['hole_ratio']:.0f}%", name]
            lp, kid = v.get("lpips"), v.get("kid")
            cells.append("–" if lp is None else f"{lp:.3f} / {v['lpips_best']:.3f}")
            cells.append(_cell(v.get("lpips_diversity")))
            cells.append("–" if kid is None else f"{1e3 * kid['mean']:.2f} ± {1e3 * kid['std']:.2f}")
            for k in _TABLE_ORDER:
                digits = 2 if k.startswith("psnr") else 3
                cells.append(f"{v['mean'][k]:.{digits}f} / {v['best'][k]:.{digits}f}")
            cells += [f"{v['diversity']:.3f}", f"{v['sharpness']:.2f}", f"{v['sharpness_magnitude']:.2f}"]
            lines.append("| " + " | ".join(cells) + " |")
    s = report["settings"]
    pc_settings = s.get("perceptual", {})
    note = (
        f"\n{s['count']} images from {s['images']}"
        + (f" (every {s['every']}th)" if s.get("every", 1) > 1 else "")
        + f", masks from {s['masks']}, n = {s['n']} candidates "
        f"(mean / best of n; classical engines give one), resolution {s['resolution'] or 'native'}, "
        f"seed {s['seed']}. LPIPS: {pc_settings.get('lpips', 'LPIPS-Alex')} to the photo (lower = closer); "
        "LPIPS diversity = mean LPIPS over pairs of candidates (higher = more varied); "
        f"{pc_settings.get('kid', pc.KID_LABEL)}, mean ± std over subsets, lower = closer to photos. "
        "L1 in [0, 1]; diversity (L1) = mean pairwise L1 in the hole; sharpness = "
        "gradient energy (mean squared Sobel gradient) in the hole's interior relative to the ground "
        "truth's; sharpness (magnitude) the same with the mean gradient magnitude.\n"
    )
    skipped = pc_settings.get("skipped")
    if skipped:
        how = pc_settings.get("enable")
        note += (
            f"\nSkipped: {', '.join(skipped)}" + (f" (weights not installed: {how})" if how else "") + ".\n"
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
