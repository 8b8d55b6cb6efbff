"""Speed and memory of the patchmatch engine on a photo resized to a given size.

    python bench/patchmatch.py PHOTO [--size 640x480] [--hole 0.10] [-n 6] [--holes 1] [--out DIR]

PHOTO is resized at run time (e.g. one of ../shared/datasets/eval/photos-full: never commit those or
their fills). The hole is an irregular blob (an "object") of --hole of the image's area, split into
--holes blobs far apart. Prints the time to the first candidate, to all of them, and the peak RSS of
the process (the input and every candidate's full-size image included). Wall times depend on what
else runs; the CPU seconds (the matcher is single-threaded) are what a free core would take.
--out saves the fills.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import cv2
import numpy as np

from inpaint_gui.core.image_io import load_image
from inpaint_gui.engine import load_engine


def blob_mask(h: int, w: int, share: float, holes: int, seed: int = 0) -> np.ndarray:
    """`holes` irregular blobs together covering about `share` of an (h, w) image."""
    scale = 1.0
    for _ in range(3):  # the blobs' area is only roughly their ellipse's: correct it
        mask = _blobs(h, w, scale * share * h * w / holes, holes, seed)
        scale *= share / max(mask.mean(), 1e-9)
    return mask


def _blobs(h: int, w: int, area: float, holes: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.uint8)
    centres = [(0.45, 0.55), (0.2, 0.2), (0.8, 0.8), (0.2, 0.8), (0.8, 0.2)]
    for k in range(holes):
        cy, cx = centres[k % len(centres)]
        a = np.sqrt(area / np.pi / 0.8)
        angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        radius = a * (1 + 0.25 * np.sin(3 * angles + rng.uniform(0, 6)) + 0.1 * rng.normal(size=48))
        pts = np.stack([cx * w + 1.25 * radius * np.cos(angles), cy * h + 0.8 * radius * np.sin(angles)], 1)
        cv2.fillPoly(mask, [pts.astype(np.int32)], 1)
    return mask.astype(bool)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photo", type=Path)
    p.add_argument("--size", default="640x480", help="WIDTHxHEIGHT to resize the photo to")
    p.add_argument("--hole", type=float, default=0.10, help="share of the image to fill")
    p.add_argument("--holes", type=int, default=1, help="number of separate holes")
    p.add_argument("-n", type=int, default=6)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--patch", type=int, default=7)
    p.add_argument("--out", type=Path, help="folder for the fills (PNG)")
    args = p.parse_args()

    w, h = (int(v) for v in args.size.lower().split("x"))
    t0 = time.perf_counter()
    engine = load_engine("patchmatch")
    engine.patch_size = args.patch
    t_load = time.perf_counter() - t0
    photo = load_image(args.photo).rgb
    image = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA if w < photo.shape[1] else cv2.INTER_CUBIC)
    del photo
    mask = blob_mask(h, w, args.hole, args.holes)
    stamps: list[float] = []
    cpu: list[float] = []  # process CPU seconds: what the wall time would be with a free core
    start, cpu0 = time.perf_counter(), time.process_time()

    def on_candidate(cand, index, total) -> None:
        stamps.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu0)
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(args.out / f"fill_{cand.seed}.png"), cv2.cvtColor(cand.image, cv2.COLOR_RGB2BGR))

    cands = engine.inpaint(image, mask, n=args.n, seed=args.seed, on_candidate=on_candidate)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    diffs = [float(np.abs(cands[0].image[mask].astype(np.int16) - c.image[mask]).mean()) for c in cands[1:]]
    print(
        f"patchmatch {w}x{h} hole {mask.mean():.1%} in {args.holes} part(s), patch {args.patch}: "
        f"load+warm-up {t_load:.2f} s, first {stamps[0]:.2f} s (CPU {cpu[0]:.2f} s), "
        f"all {len(stamps)} {stamps[-1]:.2f} s (CPU {cpu[-1]:.2f} s), "
        f"peak RSS {rss:.0f} MiB, mean |fill_k - fill_0| {np.mean(diffs) if diffs else 0:.1f} grey levels"
    )


if __name__ == "__main__":
    main()
