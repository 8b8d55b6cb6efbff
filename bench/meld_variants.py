"""Object removal on a fixed set: the coffee spoon and six full-size photos at about 2 MP, one 5-10%
object mask each (training.object_masks, seed [7, i]); 6 candidates per variant, seed 0.

    python bench/meld_variants.py [--photos DIR] [--out DIR] VARIANT [VARIANT ...]

A variant is an engine name with settings: `guided`, `guided+final=copy`, or a core constant,
`guided+final=meld+exemplar.LAMBDA=0.1`. Prints, per case and variant, LPIPS (LPIPS-Alex of each
candidate against the photo on the hole's box plus 50% each side: mean and best of six), LPIPS
diversity (mean pairwise on that box), the border's Laplacian excess (core.metrics.seam_score, grey
levels) and the seam ratio (core.seams.seam_score, 1.0 = the photo's level); writes 100% crops of
the first three candidates and results_<variant>.json under --out.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs"))
from before_after import _strokes  # noqa: E402  - the spoon's mask, as in the README picture

from inpaint_gui.core import seams  # noqa: E402
from inpaint_gui.core.image_io import load_image  # noqa: E402
from inpaint_gui.core.metrics import seam_score  # noqa: E402
from inpaint_gui.engine import load_engine  # noqa: E402
from inpaint_gui.training.object_masks import object_mask  # noqa: E402
from inpaint_gui.training.perceptual import Perceptual  # noqa: E402

NAMES = [
    "elem_julia-craice",
    "elem_snow-capped-mountain",
    "kde_coldripple",
    "kde_fallenleaf",
    "sqz_janice-gill_0PueFmKKF28",
    "sqz_jon-tyson_FKkK1hnTe-Q",
]
SPOON = [
    ([(413, 68), (408, 110), (400, 150), (392, 188), (383, 222), (372, 248)], 28),
    ([(360, 262), (368, 300)], 84),
]


def cases(photos: Path, megapixels: float = 2.0):
    coffee = load_image(ROOT / "resources" / "samples" / "coffee.jpg").rgb
    yield "coffee", coffee, _strokes(coffee.shape[:2], SPOON)
    for i, name in enumerate(NAMES):
        img = load_image(photos / f"{name}.jpg").rgb
        h, w = img.shape[:2]
        s = min(1.0, (megapixels * 1e6 / (h * w)) ** 0.5)
        if s < 1:
            img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        m = object_mask(np.random.default_rng([7, i]), 0.05, 0.10, False, 512)
        yield (
            name.split("_")[1][:12],
            img,
            cv2.resize(m.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0,
        )


def crop_box(mask, grow=0.5):
    ys, xs = np.nonzero(mask)
    t, b, lft, r = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    gh, gw = int((b - t) * grow), int((r - lft) * grow)
    h, w = mask.shape
    return max(0, t - gh), min(h, b + gh), max(0, lft - gw), min(w, r + gw)


def configure(engine, variant):
    """Set engine attributes (key=value) and core constants (module.NAME=value); returns the undo."""
    undo = []
    for part in variant.split("+")[1:]:
        key, value = part.split("=")
        try:
            value = float(value) if "." in value else int(value)
        except ValueError:
            pass
        if "." in key:
            module, name = key.split(".")
            target = importlib.import_module(f"inpaint_gui.core.{module}")
        else:
            target, name = engine, key
        undo.append((target, name, getattr(target, name)))
        setattr(target, name, value)
    return undo


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("variants", nargs="+")
    p.add_argument("--photos", type=Path, default=Path("/work/shared/datasets/eval/photos-full"))
    p.add_argument("--out", type=Path, default=Path("object_removal_out"))
    args = p.parse_args()
    meter = Perceptual()
    engines = {}
    results = {v: {} for v in args.variants}
    for case, img, mask in cases(args.photos):
        t, b, lft, r = crop_box(mask)
        for variant in args.variants:
            name = variant.split("+")[0]
            engine = engines.setdefault(name, load_engine(name))
            undo = configure(engine, variant)
            start = time.perf_counter()
            try:
                cands = engine.inpaint(img, mask, n=6, seed=0)
            finally:
                for target, key, value in reversed(undo):
                    setattr(target, key, value)
            secs = time.perf_counter() - start
            crops = [c.image[t:b, lft:r] for c in cands]
            lp, div = meter.lpips_scores(img[t:b, lft:r], crops)
            border = [-seam_score(c.image, mask) for c in cands]
            ratio = [seams.seam_score(img, c.image, mask) for c in cands]
            folder = args.out / variant.replace("=", "-")
            folder.mkdir(parents=True, exist_ok=True)
            for k, crop in enumerate(crops[:3]):
                cv2.imwrite(str(folder / f"{case}_c{k}.png"), crop[..., ::-1])
            results[variant][case] = {
                "lpips": float(lp.mean()), "best": float(lp.min()), "diversity": div,
                "border": float(np.mean(border)), "ratio": float(np.mean(ratio)), "seconds": secs,
                "lpips_each": lp.tolist(), "score_each": [c.score for c in cands], "ratio_each": ratio,
            }  # fmt: skip
            print(
                f"{case:14s} {variant:28s} lpips {lp.mean():.4f} best {lp.min():.4f} div {div:.4f} "
                f"border {np.mean(border):6.2f} ratio {np.mean(ratio):5.2f} {secs:6.1f}s",
                flush=True,
            )
    for variant, rows in results.items():
        mean = {
            k: np.mean([x[k] for x in rows.values()])
            for k in ("lpips", "best", "diversity", "border", "ratio")
        }
        print(f"MEAN {variant:28s} " + " ".join(f"{k} {v:.4f}" for k, v in mean.items()))
        (args.out / f"results_{variant.replace('=', '-')}.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
