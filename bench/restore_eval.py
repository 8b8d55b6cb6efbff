"""The restoration network against classical denoisers on a held-out degraded set.

Held-out set: eval/scenes (never trained on), every 6th of 600 images, each degraded once with
core.degrade (the training distribution: blur, noise, grain, JPEG) from a Generator seeded by its
position. Baselines: the degraded input itself, a 3x3 and a 5x5 median filter, and OpenCV's
fastNlMeansDenoisingColored at h = hColor = 5, 10 and 15 (all three reported; the best is the one
to beat, which favours the baselines). PSNR and SSIM against the clean image, and LPIPS (Alex, lower is
better) when `inpaint metric-weights` has cached its weights.

    python bench/restore_eval.py --checkpoint checkpoints/restore_scenes.safetensors [-o report.json]
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

from inpaint_gui.core.degrade import degrade  # noqa: E402
from inpaint_gui.core.quality import psnr, ssim  # noqa: E402

_SALT = 0xE7A1


def held_out(root: Path, every: int = 6) -> list[tuple[np.ndarray, np.ndarray]]:
    """(clean, degraded) pairs, the same on every run."""
    out = []
    for i, path in enumerate(sorted((root / "eval/scenes").glob("*.jpg"))[::every]):
        clean = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        out.append((clean, degrade(clean, np.random.default_rng([_SALT, i]))))
    return out


def _nlm(h: float):
    def run(img: np.ndarray) -> np.ndarray:
        bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        return cv2.cvtColor(cv2.fastNlMeansDenoisingColored(bgr, None, h, h, 7, 21), cv2.COLOR_BGR2RGB)

    return run


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path, default=Path("/work/shared/datasets"))
    ap.add_argument("--checkpoint", type=Path, action="append", default=[], help="restore_*.safetensors")
    ap.add_argument("--every", type=int, default=6, help="take every Nth eval/scenes image (default 6)")
    ap.add_argument("-o", "--output", type=Path)
    args = ap.parse_args()
    pairs = held_out(args.root, args.every)
    methods = {
        "degraded input": lambda x: x,
        "median 3x3": lambda x: cv2.medianBlur(x, 3),
        "median 5x5": lambda x: cv2.medianBlur(x, 5),
        **{f"fastNlMeansDenoisingColored h={h}": _nlm(h) for h in (5, 10, 15)},
    }
    if args.checkpoint:
        import torch

        from inpaint_gui.engine.restore import Restorer

        torch.set_num_threads(1)
        for ckpt in args.checkpoint:
            restorer = Restorer.from_checkpoint(ckpt, device="cpu")
            methods[f"network {ckpt.name}"] = lambda x, r=restorer: r.restore(x, tile=256)
    from inpaint_gui.training.perceptual import Perceptual

    perceptual = Perceptual("cpu")
    if perceptual.lpips is None:
        print("LPIPS weights not installed (`inpaint metric-weights`); PSNR and SSIM only", flush=True)
    report = {"images": len(pairs), "set": f"eval/scenes every {args.every}th, degraded", "methods": {}}
    for name, fn in methods.items():
        t0 = time.perf_counter()
        outs = [fn(bad) for _, bad in pairs]
        secs = (time.perf_counter() - t0) / len(pairs)
        row = {
            "psnr": float(np.mean([psnr(o, c) for o, (c, _) in zip(outs, pairs, strict=True)])),
            "ssim": float(np.mean([ssim(o, c) for o, (c, _) in zip(outs, pairs, strict=True)])),
            "seconds_per_image": secs,
        }
        if perceptual.lpips is not None:
            scores = [perceptual.lpips_scores(c, [o])[0][0] for o, (c, _) in zip(outs, pairs, strict=True)]
            row["lpips"] = float(np.mean(scores))
        report["methods"][name] = row
        lp = f"  LPIPS {row['lpips']:.4f}" if "lpips" in row else ""
        print(f"{name:45s} PSNR {row['psnr']:.2f} dB  SSIM {row['ssim']:.4f}{lp}  {secs * 1000:.0f} ms/image")
    if args.output:
        args.output.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
