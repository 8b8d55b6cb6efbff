"""Learned fills on full-size photos: this pipeline against whole-crop resizing and a native crop.

    python bench/fullres.py [--checkpoint PATH] quality [--photos DIR] [--faces DIR --masks DIR]
                            [--out FILE.json]
    python bench/fullres.py speed PHOTO [--holes 1|2] [-n 6]
    python bench/fullres.py speed-small PHOTO      # the two corners of `speed --holes 2`, one at a time

quality: on each photo a hole of --hole (share of the image) is cut at a fixed place (seeded by the
file name), filled by every pipeline, and measured against the photo: LPIPS (on the hole's box plus
a margin, at 100%; needs `inpaint metric-weights`), sharpness (gradient energy in the hole's
interior, summed over photos, over the photo's there; sharpness_around: over the photo's in the
rest of the measured box, what a fill can see), seam score (core.metrics, minus the photo's own),
diversity (mean pairwise L1 in the hole, and LPIPS between candidates). With --faces, eval faces
at their own size (128 px: the network works at native size there, so only the blend differs).

Pipelines (the shipped faces network unless --checkpoint; guided: the app's scenes network):
  regions   one region per hole group, context 0.5, similarity detail, membrane blend (the default)
  attention the same with detail from the attention map
  nodetail  regions, no detail, membrane blend
  crop      the engine before this change: one crop around all holes (context 1), scaled to at most
            2x the training size, upsampled, hard paste
  native    regions at native resolution (no scaling; photos up to --native-max pixels)
  patchmatch  the exemplar engine alone (no network), as the app loads it
  guided    the network's candidates guiding patchmatch (engine.guided)

speed: one process, one photo, a hole of 2% (or two at opposite corners); prints seconds to the
first candidate and to all, and the peak RSS. Run each in its own process so RSS means something.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np

from inpaint_gui.core import detail
from inpaint_gui.core import quality as q
from inpaint_gui.core.compose import mask_bbox
from inpaint_gui.core.image_io import load_image
from inpaint_gui.core.metrics import seam_score
from inpaint_gui.core.region import plan_region
from inpaint_gui.engine import Engine, load_engine
from inpaint_gui.engine.pluralistic import PluralisticEngine
from inpaint_gui.runtime import return_large_frees

CHECKPOINT = Path(__file__).resolve().parents[1] / "checkpoints" / "pluralistic_faces.safetensors"
PIPELINES = ("regions", "attention", "nodetail", "crop", "native", "patchmatch", "guided")


class _WholeCrop(PluralisticEngine):
    """The planning before per-region crops: one crop around the whole mask."""

    def _plan_regions(self, mask):  # type: ignore[no-untyped-def]
        return [plan_region(mask, max_side=self.max_side, multiple=self.size_multiple, margin=self.context)]


def make_engine(name: str, checkpoint: Path | None) -> Engine:
    if name in ("patchmatch", "guided"):  # as the app loads them (matcher compiled or loaded first)
        # guided: the shipped scenes network as its guide, as in the app, unless --checkpoint.
        return load_engine(name, checkpoint=checkpoint if name == "guided" else None, device="cpu")
    checkpoint = checkpoint or CHECKPOINT
    cls = _WholeCrop if name == "crop" else PluralisticEngine
    eng = cls.from_checkpoint(checkpoint, device="cpu")
    detail.warm_up()  # as the app's loader (engine.registry) does: numba's import and kernel load
    if name == "attention":
        eng.configure(detail="attention")
    elif name == "nodetail":
        eng.configure(detail="off")
    elif name == "crop":
        eng.configure(context=1.0, detail="off", blend="hard")
    elif name == "native":
        eng.max_side = None
        eng.configure(detail="off")
    return eng


def photo_hole(shape: tuple[int, int], share: float, seed: int, where: tuple[float, float] | None = None):
    """An irregular hole (a rotated ellipse and a brush stroke through it) covering about `share`."""
    h, w = shape
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.uint8)
    r = np.sqrt(share * h * w / np.pi)
    cy, cx = where if where is not None else (rng.uniform(0.3, 0.7), rng.uniform(0.25, 0.75))
    cy, cx = int(cy * h), int(cx * w)
    axes = (int(r * 1.15), int(r * 0.75))
    cv2.ellipse(mask, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    a = rng.uniform(0, np.pi)
    d = np.array([np.cos(a), np.sin(a)]) * r * 1.6
    p0, p1 = (int(cx - d[0]), int(cy - d[1])), (int(cx + d[0]), int(cy + d[1]))
    cv2.line(mask, p0, p1, 1, max(3, int(r * 0.12)))
    return mask.astype(bool)


def view_box(mask: np.ndarray, margin: float = 0.25) -> tuple[slice, slice]:
    t, lft, b, r = mask_bbox(mask)
    m = int(margin * max(b - t, r - lft))
    h, w = mask.shape
    return slice(max(0, t - m), min(h, b + m)), slice(max(0, lft - m), min(w, r + m))


def measure(truth, mask, fills, perceptual) -> dict:
    sl = view_box(mask)
    t, m = truth[sl], mask[sl]
    crops = [f[sl] for f in fills]
    inner = q.interior(m)
    around = ~cv2.dilate(m.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)  # the box off the hole
    out = {
        "energy": float(np.mean([q.gradient_energy(c, inner) for c in crops])),
        "energy_truth": q.gradient_energy(t, inner),
        "energy_around": q.gradient_energy(t, around),
        "seam": float(np.mean([seam_score(c, m) for c in crops])),
        "seam_truth": seam_score(t, m),
        "diversity": q.diversity(crops, m),
        "l1_hole": float(np.mean([q.l1(c, t, m) for c in crops])),
    }
    if perceptual is not None and perceptual.lpips is not None:
        # At most 1024 px on the long side: AlexNet on bigger crops costs minutes on this CPU.
        f = min(1.0, 1024 / max(t.shape[:2]))
        size = (max(32, round(t.shape[1] * f)), max(32, round(t.shape[0] * f)))
        rs = (lambda a: cv2.resize(a, size, interpolation=cv2.INTER_AREA)) if f < 1 else (lambda a: a)
        to_ref, div = perceptual.lpips_scores(rs(t), [rs(c) for c in crops])
        out["lpips"] = float(np.mean(to_ref))
        out["lpips_diversity"] = div
        out["lpips_scale"] = f
    return out


def summarise(records: list[dict]) -> dict:
    s = {
        "count": len(records),
        "sharpness": sum(r["energy"] for r in records) / max(1e-12, sum(r["energy_truth"] for r in records)),
        "sharpness_around": sum(r["energy"] for r in records)
        / max(1e-12, sum(r["energy_around"] for r in records)),
        "seam_minus_photo": float(np.mean([r["seam"] - r["seam_truth"] for r in records])),
        "diversity": float(np.mean([r["diversity"] for r in records])),
        "l1_hole": float(np.mean([r["l1_hole"] for r in records])),
        "seconds_first": float(np.mean([r["seconds_first"] for r in records])),
        "seconds_all": float(np.mean([r["seconds_all"] for r in records])),
    }
    if all("lpips" in r for r in records):
        s["lpips"] = float(np.mean([r["lpips"] for r in records]))
        s["lpips_diversity"] = float(np.mean([r["lpips_diversity"] for r in records]))
    return s


def run(eng, image, mask, n, seed=0):
    start = time.perf_counter()
    first: list[float] = []
    cands = eng.inpaint(
        image, mask, n=n, seed=seed, on_candidate=lambda c, i, t: first.append(time.perf_counter() - start)
    )
    return cands, first[0], time.perf_counter() - start


def quality(args) -> int:
    try:
        from inpaint_gui.training.perceptual import Perceptual

        perceptual = Perceptual()
        if perceptual.lpips is None:
            print("LPIPS weights missing: run `inpaint metric-weights`; LPIPS left out", file=sys.stderr)
    except ImportError:
        perceptual = None
    engines = {name: make_engine(name, args.checkpoint) for name in args.pipelines}
    report: dict = {"settings": {k: str(v) for k, v in vars(args).items() if k != "func"}, "photos": {}}
    per: dict[str, list[dict]] = {name: [] for name in engines}
    photos = sorted(Path(args.photos).glob("*.jpg"))[: args.limit] if args.photos else []
    for path in photos:
        image = load_image(path).rgb
        mask = photo_hole(image.shape[:2], args.hole, zlib.crc32(path.name.encode()))
        report["photos"][path.name] = {}
        for name, eng in engines.items():
            if name == "native" and image.shape[0] * image.shape[1] > args.native_max:
                continue
            cands, first, total = run(eng, image, mask, args.n)
            fills = [c.image for c in cands]
            rec = measure(image, mask, fills, perceptual)
            rec.update(seconds_first=first, seconds_all=total)
            per[name].append(rec)
            report["photos"][path.name][name] = rec
            print(
                path.name, name, {k: round(v, 4) for k, v in rec.items() if isinstance(v, float)}, flush=True
            )
            if args.save:
                sl = view_box(mask)
                out = Path(args.save) / f"{path.stem}_{name}.png"
                out.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(
                    str(out), cv2.cvtColor(np.hstack([fills[0][sl], fills[1][sl]]), cv2.COLOR_RGB2BGR)
                )
    report["photos_summary"] = {name: summarise(r) for name, r in per.items() if r}
    if args.faces:
        report["faces_summary"] = faces(args, engines, perceptual)
    print(json.dumps({k: v for k, v in report.items() if k.endswith("summary")}, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1))
    return 0


def faces(args, engines, perceptual) -> dict:
    from inpaint_gui.training.evaluate import load_pair, pair_images_and_masks

    pairs = pair_images_and_masks(args.faces, args.masks)[: args.faces_count]
    per: dict[str, list[dict]] = {}
    blends = {"hard": "hard", "membrane": "membrane", "feather": "feather"}
    eng = engines.get("regions") or make_engine("regions", args.checkpoint)
    for label, mode in blends.items():
        eng.configure(blend=mode)
        recs = []
        for pair in pairs:
            loaded = load_pair(pair, None)
            if loaded is None:
                continue
            image, mask = loaded
            cands, first, total = run(eng, image, mask, args.n)
            fills = [c.image for c in cands]
            rec = measure(image, mask, fills, perceptual)
            rec.update(seconds_first=first, seconds_all=total)
            recs.append(rec)
        per[label] = recs
    eng.configure(blend="membrane")
    return {label: summarise(r) for label, r in per.items()}


def speed(args) -> int:
    image = load_image(args.photo).rgb
    h, w = image.shape[:2]
    if args.holes == 2:
        mask = photo_hole((h, w), args.hole / 2, 1, (0.12, 0.1)) | photo_hole(
            (h, w), args.hole / 2, 2, (0.88, 0.9)
        )
    else:
        mask = photo_hole((h, w), args.hole, 1, (0.5, 0.5))
    eng = make_engine(args.pipeline, args.checkpoint)
    run(eng, image[:512, :512].copy(), np.pad(np.ones((64, 64), bool), 224), 1)  # warm-up: first-call costs
    cands, first, total = run(eng, image, mask, args.n)  # held as the app holds them
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "photo": f"{w}x{h}",
                "hole": round(float(mask.mean()), 4),
                "holes": args.holes,
                "pipeline": args.pipeline,
                "first_s": round(first, 3),
                "all_s": round(total, 3),
                "n": args.n,
                "peak_rss_mb": round(rss),
            }
        )
    )
    return 0


def speed_small(args) -> int:
    """The two corners of `speed --holes 2` as two separate small photos (each a quarter-size crop)."""
    image = load_image(args.photo).rgb
    h, w = image.shape[:2]
    mask = photo_hole((h, w), args.hole / 2, 1, (0.12, 0.1)) | photo_hole(
        (h, w), args.hole / 2, 2, (0.88, 0.9)
    )
    eng = make_engine(args.pipeline, args.checkpoint)
    run(eng, image[:512, :512].copy(), np.pad(np.ones((64, 64), bool), 224), 1)
    total = 0.0
    for sl in ((slice(0, h // 2), slice(0, w // 2)), (slice(h // 2, h), slice(w // 2, w))):
        _, _, seconds = run(eng, np.ascontiguousarray(image[sl]), np.ascontiguousarray(mask[sl]), args.n)
        total += seconds
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"two_small_photos_all_s": round(total, 3), "n": args.n, "peak_rss_mb": round(rss)}))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--checkpoint",
        type=Path,
        help="the network (default: faces for the pluralistic pipelines, scenes for guided)",
    )
    p.add_argument("-n", type=int, default=6)
    p.add_argument("--hole", type=float, default=0.02, help="share of the image to fill")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    sub = p.add_subparsers(required=True)
    qp = sub.add_parser("quality")
    qp.add_argument("--photos", help="full-size photos (*.jpg); leave out to measure faces only")
    qp.add_argument("--faces")
    qp.add_argument("--masks")
    qp.add_argument("--faces-count", type=int, default=60)
    qp.add_argument("--pipelines", nargs="+", default=list(PIPELINES), choices=PIPELINES)
    qp.add_argument(
        "--native-max", type=int, default=4_200_000, help="native only on photos up to this many px"
    )
    qp.add_argument("--limit", type=int, default=None)
    qp.add_argument("--out")
    qp.add_argument("--save", help="folder for side-by-side crops of two candidates (outside git)")
    qp.set_defaults(func=quality)
    for name, fn in (("speed", speed), ("speed-small", speed_small)):
        sp = sub.add_parser(name)
        sp.add_argument("photo")
        sp.add_argument("--holes", type=int, default=1, choices=(1, 2))
        sp.add_argument("--pipeline", default="regions", choices=PIPELINES)
        sp.set_defaults(func=fn)
    args = p.parse_args()
    return_large_frees()  # as the app's entry points do: the peak RSS is the app's
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
