"""Precision and recall of the defect detector on SYNTHETIC defects drawn on clean photos.

No marked scans of damaged photos are at hand, so scratches, specks and spots are drawn at run time
(inpaint_gui.core.defect_synth, seeded by the image's position) on:
  - eval/scenes (150x150, every 6th of 600 = 100 images), defects scaled to the image;
  - eval/photos-full, each shrunk so its long side is 1600 px (11 images).
`--split tune` draws them on scenes/wide (training photos) instead: thresholds were tuned there,
not on eval. Figures: pixel precision/recall with a 2 px tolerance, and per defect (a defect is
found when half its pixels are), per sensitivity.

    python bench/defects_eval.py --root /work/shared/datasets [--split eval|tune] [--sensitivity 0.3 0.5 0.7]
        [--detector classical|trained] [--checkpoint PATH]

--detector trained uses checkpoints/defects_synthetic.safetensors, or --checkpoint (trained on other
photos with the same synthesiser: it has seen this kind of damage, never these photos). "clean" is
the share of each undamaged photo proposed (mean over the set): what a user would have to erase.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inpaint_gui.core.defect_synth import add_defects, score_mask  # noqa: E402
from inpaint_gui.core.defects import detect_defects  # noqa: E402
from inpaint_gui.engine.defects import DefectDetector  # noqa: E402


def _load(path: Path, long_side: int | None) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if long_side is not None and max(bgr.shape[:2]) > long_side:
        f = long_side / max(bgr.shape[:2])
        bgr = cv2.resize(bgr, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def sets(root: Path, split: str) -> dict[str, list[tuple[Path, int | None]]]:
    if split == "eval":
        small = sorted((root / "eval/scenes").glob("*.jpg"))[::6]
        big = sorted((root / "eval/photos-full").glob("*.jpg"))
        return {
            "eval/scenes 150px": [(p, None) for p in small],
            "eval/photos-full 1600px": [(p, 1600) for p in big],
        }
    wide = sorted((root / "scenes/wide").glob("*.webp"))
    return {"scenes/wide (tuning)": [(p, None) for p in wide[::40]]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path, default=Path("/work/shared/datasets"))
    ap.add_argument("--split", choices=("eval", "tune"), default="eval")
    ap.add_argument("--sensitivity", type=float, nargs="+", default=[0.3, 0.5, 0.7])
    ap.add_argument("--detector", choices=("classical", "trained"), default="classical")
    ap.add_argument("--checkpoint", type=Path, help="detector checkpoint for --detector trained")
    ap.add_argument("-o", "--output", type=Path, help="write the figures as JSON")
    args = ap.parse_args()
    if args.detector == "classical":
        detect = detect_defects
    else:
        detect = DefectDetector.from_checkpoint(args.checkpoint).detect
    report: dict[str, dict[str, dict[str, float]]] = {}
    for name, items in sets(args.root, args.split).items():
        images = [_load(p, side) for p, side in items]
        damaged = [add_defects(img, seed=i) for i, img in enumerate(images)]
        report[name] = {}
        for s in args.sensitivity:
            t0 = time.perf_counter()
            scores = [score_mask(detect(d.image, s), d) for d in damaged]
            secs = (time.perf_counter() - t0) / len(damaged)
            clean = float(np.mean([detect(img, s).mean() for img in images]))
            n_def = sum(x.defects for x in scores)
            n_comp = sum(x.components for x in scores)
            row = {
                "pixel_precision": float(np.mean([x.pixel_precision for x in scores])),
                "pixel_recall": float(np.mean([x.pixel_recall for x in scores])),
                # pooled over images: every defect / proposed component counts once
                "defect_recall": sum(x.defect_recall * x.defects for x in scores) / max(n_def, 1),
                "defect_precision": sum(x.defect_precision * x.components for x in scores) / max(n_comp, 1),
                "defects": n_def,
                "components": n_comp,
                "seconds_per_image": secs,
                "clean_proposed": clean,
            }
            report[name][str(s)] = row
            print(
                f"{name:28s} s={s:.1f}  pixel P {row['pixel_precision']:.3f} R {row['pixel_recall']:.3f}  "
                f"defect P {row['defect_precision']:.3f} R {row['defect_recall']:.3f}  "
                f"clean {100 * clean:.2f}%  ({n_def} defects, {n_comp} proposed, {secs:.2f} s/image)",
                flush=True,
            )
    if args.output:
        args.output.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
