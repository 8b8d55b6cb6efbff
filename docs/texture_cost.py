"""What a sharpness bar of 0.8 costs in PSNR when the added detail is not where the photo's is.

    .venv/bin/python docs/texture_cost.py [--images DIR] [--masks DIR] [--limit 120]

For each eval pair (the pairing `inpaint eval` uses), fill the hole with navier-stokes, then add
the photo's own fine detail (photo minus its Gaussian blur, sigma 1.5) taken from elsewhere in the
same photo (the image rolled by a third of its height and half its width), scaled by a. That is an
optimistic stand-in for a plausible texture: the right kind and amount of detail for this photo,
but not aligned with the hidden one. With a = 1 the fill is as detailed as the photo; the printed
table gives, per band, mean PSNR (whole image, as `inpaint eval` reports it) and the sharpness ratio
(`sharpness_magnitude`). "truth" adds the hidden detail itself, in place: the ceiling.

Nothing here is trained: it measures how much better than navier-stokes a fill's coarse content must
be before detail of a given sharpness can be afforded (docs/decisions.md, "What the scenes bar asks").
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import cv2
import numpy as np

from inpaint_gui.core import quality as q
from inpaint_gui.engine import load_engine
from inpaint_gui.training.evaluate import load_pair, pair_images_and_masks

SCALES = (0.0, 0.5, 0.75, 1.0)
BANDS = ("b2", "b3", "b4", "b5")


def detail(image: np.ndarray) -> np.ndarray:
    f = image.astype(np.float64)
    return f - cv2.GaussianBlur(f, (0, 0), 1.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default="../shared/datasets/eval/scenes")
    parser.add_argument("--masks", default="../shared/datasets/eval/masks")
    parser.add_argument("--limit", type=int, default=120)
    args = parser.parse_args()
    ns = load_engine("navier-stokes")
    sums: dict[tuple[str, str, float], np.ndarray] = defaultdict(lambda: np.zeros(4))
    for pair in pair_images_and_masks(args.images, args.masks, args.limit):
        loaded = load_pair(pair, None) if pair.band in BANDS else None
        if loaded is None:
            continue
        image, mask = loaded
        base = ns.inpaint(image, mask, n=1)[0].image.astype(np.float64)
        inner = q.interior(mask)
        truth_mag = q.gradient_magnitude(image, inner)
        own = detail(image)
        moved = np.roll(own, (image.shape[0] // 3, image.shape[1] // 2), axis=(0, 1))
        for kind, tex in (("moved", moved), ("truth", own)):
            for a in SCALES:
                fill = base.copy()
                fill[mask] += a * tex[mask]
                fill = np.clip(fill.round(), 0, 255).astype(np.uint8)
                sums[pair.band, kind, a] += (
                    q.psnr(fill, image),
                    q.gradient_magnitude(fill, inner),
                    truth_mag,
                    1,
                )
    print("| detail | a | " + " | ".join(f"{b} PSNR / sharpness" for b in BANDS) + " |")
    print("|---|---|" + "---|" * len(BANDS))
    for kind in ("moved", "truth"):
        for a in SCALES:
            cells = []
            for band in BANDS:
                psnr, mag, truth, n = sums[band, kind, a]
                cells.append(f"{psnr / n:.2f} / {mag / truth:.2f}" if n else "-")
            label = "none (navier-stokes)" if a == 0 else kind
            print(f"| {label} | {a:g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
