"""`inpaint eval --objects`: removing one object from a full-size photo, judged at 100%.

Each photo gets one object-shaped hole (training/object_masks.py: a blob or a silhouette with limbs,
half of them cut by the photo's edge) covering 3-15% of it, deterministic for the photo's file name
and the seed. The shape is drawn at WORK px, scaled to the photo with a smooth (not stair-stepped)
outline and grown by GROW px, as a brush overshoots an object's outline. Scales: `native` (the
photo as it is) or `2mp` (scaled down with area averaging to about 2 megapixels).

Every figure is taken on the hole's neighbourhood at 100%: the hole's bounding box grown by a
quarter of its size (at least 16 px) each side, never scaled. Per case: LPIPS-Alex of each candidate
to the photo there (mean and best of n), LPIPS diversity (mean over candidate pairs), the seam ratio
of core/seams.py (mean over candidates; 1.0 = the photo's own level, and the photo itself is scored
too, as `photo`, since the object under the hole has edges of its own), and the engine's seconds
per candidate. Per engine: means over cases and KID of the first candidates' neighbourhoods against
the photos' (EfficientNet-Lite0 features, paired: training/perceptual.py).
"""

from __future__ import annotations

import logging
import math
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.image_io import ImageError, load_image
from inpaint_gui.core.seams import seam_score
from inpaint_gui.training import perceptual as pc
from inpaint_gui.training.object_masks import object_mask
from inpaint_gui.training.sources import every_image

log = logging.getLogger(__name__)

SCALES = ("native", "2mp")
TWO_MP = 2_000_000
BANDS = ((0.03, 0.07), (0.07, 0.11), (0.11, 0.15))  # hole shares; each photo draws one
WORK = 512  # side the shape is drawn at before scaling to the photo
GROW = 3  # px the hole is grown at the photo's size
MARGIN = 0.25  # neighbourhood: the hole's box grown by this share of its size each side
MIN_MARGIN = 16
_TRIES = 20

# An engine for the benchmark: (photo, mask, n, seed) -> the candidates, uint8 (H, W, 3) each.
Fill = Callable[[NDArray[np.uint8], NDArray[np.bool_], int, int], list[NDArray[np.uint8]]]


@dataclass(frozen=True)
class Case:
    name: str  # the photo's file name
    image: NDArray[np.uint8]  # (H, W, 3) RGB at the case's scale
    mask: NDArray[np.bool_]  # (H, W), True = hole
    band: str  # e.g. "07-11% border"


def case_rng(name: str, seed: int) -> np.random.Generator:
    """One generator per photo name and seed: the same hole on every machine and every run."""
    return np.random.default_rng([zlib.crc32(name.encode()), seed])


def bench_mask(name: str, shape: tuple[int, int], seed: int = 0) -> tuple[NDArray[np.bool_], str]:
    """The object hole of photo `name` at size `shape` (H, W), and its band label.

    The band (3-7, 7-11 or 11-15%) and whether it touches the border are drawn from the name and
    seed, so every scale of a photo has the same shape.
    """
    h, w = shape
    rng = case_rng(name, seed)
    low, high = BANDS[int(rng.integers(len(BANDS)))]
    border = bool(rng.integers(2))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * GROW + 1, 2 * GROW + 1))
    for _ in range(_TRIES):
        # drawn a little small: growing the outline by GROW px adds to the share
        small = object_mask(rng, low, low + 0.8 * (high - low), border, size=WORK)
        up = cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) >= 0.5
        grown = cv2.dilate(up.astype(np.uint8), kernel).astype(bool)
        if low <= grown.mean() <= high:
            band = f"{round(low * 100):02d}-{round(high * 100):02d}% {'border' if border else 'interior'}"
            return grown, band
    raise RuntimeError(f"no hole of {low:.0%}-{high:.0%} found for {name} at {w}x{h}")


def at_scale(image: NDArray[np.uint8], scale: str) -> NDArray[np.uint8]:
    """The photo at `scale`: `native` as it is; `2mp` scaled down (area averaging) to about 2 MP."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; valid scales: {', '.join(SCALES)}")
    h, w = image.shape[:2]
    if scale == "native" or h * w <= TWO_MP:
        return image
    f = math.sqrt(TWO_MP / (h * w))
    return cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def list_photos(folder: str | Path, limit: int | None = None, every: int = 1) -> list[Path]:
    photos = every_image(folder, every, kind="photo")
    return photos[:limit] if limit is not None else photos


def cases(photos: Sequence[Path], scale: str, seed: int = 0) -> Iterator[Case]:
    """One case per photo, read when needed (a 24 MP photo is 72 MB): unreadable ones are skipped."""
    for path in photos:
        try:
            image = at_scale(load_image(path).rgb, scale)
        except ImageError as exc:
            log.warning("skipping %s: %s", path.name, exc)
            continue
        mask, band = bench_mask(path.name, image.shape[:2], seed)
        yield Case(path.name, image, mask, band)


def neighbourhood(mask: NDArray[np.bool_]) -> tuple[slice, slice]:
    """The hole's bounding box grown by MARGIN of its size (at least MIN_MARGIN px) each side."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    my = max(MIN_MARGIN, round((ys.max() - ys.min() + 1) * MARGIN))
    mx = max(MIN_MARGIN, round((xs.max() - xs.min() + 1) * MARGIN))
    return (
        slice(max(int(ys.min()) - my, 0), min(int(ys.max()) + my + 1, h)),
        slice(max(int(xs.min()) - mx, 0), min(int(xs.max()) + mx + 1, w)),
    )


def score_case(
    photo: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    fills: Sequence[NDArray[np.uint8]],
    meter: pc.Perceptual | None = None,
) -> dict[str, Any]:
    """Figures of one case's candidates on the hole's neighbourhood (see the module docstring)."""
    box = neighbourhood(mask)
    seams = [seam_score(photo, f, mask) for f in fills]
    out: dict[str, Any] = {
        "hole": float(mask.mean()),
        "seam": float(np.mean(seams)),
        "seam_photo": seam_score(photo, photo, mask),
        "lpips": None,
        "lpips_best": None,
        "lpips_diversity": None,
    }
    if meter is not None and meter.lpips is not None:
        to_photo, spread = meter.lpips_scores(photo[box], [f[box] for f in fills])
        out.update(lpips=float(to_photo.mean()), lpips_best=float(to_photo.min()), lpips_diversity=spread)
    return out


def _mean(records: Sequence[Mapping[str, Any]], key: str) -> float | None:
    values = [r[key] for r in records if r.get(key) is not None]
    return float(np.mean(values)) if values else None


def summarize(
    records: Sequence[Mapping[str, Any]], features: tuple[NDArray, NDArray] | None
) -> dict[str, Any]:
    """Means over cases; KID of paired (fill, photo) neighbourhood features when there are four or more."""
    kid = None
    if features is not None and len(features[0]) >= 4:
        mean, std = pc.kid(features[0], features[1], paired=True)
        kid = {"mean": mean, "std": std}
    out = {k: _mean(records, k) for k in ("lpips", "lpips_best", "lpips_diversity", "seam", "seam_photo")}
    seams = [r["seam"] for r in records]
    out.update(
        count=len(records),
        kid=kid,
        seam_median=float(np.median(seams)) if seams else None,
        seconds_per_candidate=_mean(records, "seconds_per_candidate"),
        candidates=_mean(records, "candidates"),
    )
    return out


def run_object_bench(
    photos: Sequence[Path],
    engines: Mapping[str, Fill],
    scale: str = "2mp",
    n: int | Mapping[str, int] = 6,
    seed: int = 0,
    perceptual: bool = True,
    on_case: Callable[[Case, dict[str, list[NDArray[np.uint8]]], dict[str, dict[str, Any]]], None]
    | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Run every engine on every photo's case; returns the report (settings, per-engine figures
    overall and per band, per-case records).

    n: candidates asked of each engine (a mapping gives each its own). on_case gets each case with
    every engine's candidates (for contact sheets) before they are dropped, and its records.
    """
    meter = pc.Perceptual("cpu") if perceptual else None
    counts = {name: (n[name] if isinstance(n, Mapping) else n) for name in engines}
    records: dict[str, list[dict[str, Any]]] = {name: [] for name in engines}
    feats: dict[str, list[NDArray]] = {name: [] for name in engines}
    photo_feats: list[NDArray] = []
    bands: list[str] = []
    names: list[str] = []
    use_kid = meter is not None and meter.effnet is not None
    for i, case in enumerate(cases(photos, scale, seed)):
        box = neighbourhood(case.mask)
        if use_kid:
            photo_feats.append(meter.features([case.image[box]])[0])  # type: ignore[union-attr]
        shown: dict[str, list[NDArray[np.uint8]]] = {}
        recs: dict[str, dict[str, Any]] = {}
        for name, fill in engines.items():
            start = time.perf_counter()
            fills = fill(case.image, case.mask, counts[name], seed)
            seconds = time.perf_counter() - start
            _check_fills(name, fills, case)
            rec = score_case(case.image, case.mask, fills, meter)
            rec.update(
                case=case.name,
                band=case.band,
                candidates=len(fills),
                seconds_per_candidate=seconds / len(fills),
            )
            records[name].append(rec)
            if use_kid:
                feats[name].append(meter.features([fills[0][box]])[0])  # type: ignore[union-attr]
            shown[name] = fills
            recs[name] = rec
            log.info(
                "%s %s: LPIPS %s seam %.2f (photo %.2f), %.1f s per candidate",
                case.name,
                name,
                rec["lpips"],
                rec["seam"],
                rec["seam_photo"],
                rec["seconds_per_candidate"],
            )
        bands.append(case.band)
        names.append(case.name)
        if on_case is not None:
            on_case(case, shown, recs)
        if on_progress is not None:
            on_progress(case.name, i + 1, len(photos))
    if not names:
        raise ValueError("no readable photo")
    report: dict[str, Any] = {
        "settings": {
            "photos": sorted({str(p.parent) for p in photos}),
            "count": len(names),
            "scale": scale,
            "seed": seed,
            "candidates": counts,
            "holes": "one object hole per photo, 3-15%, training/object_masks.py shapes grown by "
            f"{GROW} px; band and border drawn from the file name and seed",
            "neighbourhood": f"hole's box grown by {MARGIN:.0%} of its size (>= {MIN_MARGIN} px) "
            "each side, at 100%",
            "lpips": "LPIPS-Alex v0.1 on the neighbourhood" if meter and meter.lpips is not None else None,
            "kid": pc.KID_LABEL + "; first candidate's neighbourhood vs the photo's, paired"
            if use_kid
            else None,
            "seam": "core/seams.py seam_score, mean over candidates (1.0 = the photo's own ring)",
        },
        "engines": {},
        "cases": {name: records[name] for name in engines},
    }
    for name in engines:
        rows = records[name]
        pf = np.stack(photo_feats) if use_kid else None
        overall = summarize(rows, (np.stack(feats[name]), pf) if pf is not None else None)
        per_band = {}
        for band in sorted(set(bands)):
            idx = [k for k, b in enumerate(bands) if b == band]
            sub = (np.stack(feats[name])[idx], pf[idx]) if pf is not None else None
            per_band[band] = summarize([rows[k] for k in idx], sub)
        report["engines"][name] = {"overall": overall, "bands": per_band}
    return report


def _check_fills(name: str, fills: Sequence[NDArray[np.uint8]], case: Case) -> None:
    if not fills:
        raise ValueError(f"engine {name} gave no candidate for {case.name}")
    for f in fills:
        if f.shape != case.image.shape or f.dtype != np.uint8:
            raise ValueError(
                f"engine {name} gave a {f.dtype} {f.shape} candidate for a {case.image.shape} photo"
            )


def registry_fill(
    name: str, device: str = "auto", checkpoint: str | Path | None = None, **options: Any
) -> Fill:
    """A Fill for a registered engine, loaded once (its load time is not counted) and configured
    with options."""
    from inpaint_gui.engine import load_engine

    engine = load_engine(name, checkpoint=checkpoint, device=device)
    if options:
        engine.configure(options)

    def fill(image: NDArray[np.uint8], mask: NDArray[np.bool_], n: int, seed: int) -> list[NDArray[np.uint8]]:
        return [c.image for c in engine.inpaint(image, mask, n=n, seed=seed)]

    return fill


def _cell(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def markdown_table(report: Mapping[str, Any]) -> str:
    """One row per engine (overall), then per band; the photo's own seam level in its own column."""
    head = [
        "cases",
        "engine",
        "n",
        "LPIPS mean",
        "LPIPS best",
        "LPIPS diversity",
        "KID ×10³",
        "seam",
        "seam median",
        "photo's seam",
        "s / candidate",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    engines = report["engines"]
    bands = sorted({b for e in engines.values() for b in e["bands"]})
    for label, pick in [("all", lambda e: e["overall"])] + [
        (b, lambda e, b=b: e["bands"].get(b)) for b in bands
    ]:
        for name, res in engines.items():
            v = pick(res)
            if v is None:
                continue
            kid = v.get("kid")
            lines.append(
                "| "
                + " | ".join(
                    [
                        f"{label} ({v['count']})",
                        name,
                        _cell(v["candidates"], 0),
                        _cell(v["lpips"]),
                        _cell(v["lpips_best"]),
                        _cell(v["lpips_diversity"]),
                        "–" if kid is None else f"{1e3 * kid['mean']:.2f} ± {1e3 * kid['std']:.2f}",
                        _cell(v["seam"], 2),
                        _cell(v["seam_median"], 2),
                        _cell(v["seam_photo"], 2),
                        _cell(v["seconds_per_candidate"], 1),
                    ]
                )
                + " |"
            )
    s = report["settings"]
    lines.append(
        f"\n{s['count']} photos from {', '.join(s['photos'])} at scale {s['scale']}, seed {s['seed']}; "
        f"{s['holes']}. Measured on the {s['neighbourhood']}. LPIPS lower = closer to the photo; "
        "diversity = mean LPIPS between candidates; KID lower = closer to photos; seam 1.0 = the photo's "
        "own ring, `photo's seam` = the photo itself scored the same way (the object under the hole)."
    )
    return "\n".join(lines) + "\n"
