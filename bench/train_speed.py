"""Training speed: optimisation steps (images/s) and the data pipeline (decoded images/s), apart.

    python bench/train_speed.py [--resolutions 128 256] [--batch-size 8] [--steps 5] [--threads 2]
                                [--device cpu|cuda] [--set model.channels=...] [--data DIR ...]
                                [--workers 0 2] [--skip-model] [--skip-data]

Model: the real training step (both paths, both discriminators, EMA) on in-memory batches, so the
figure is the network's alone; one warm-up step, then the median (and best) of --steps timed steps.
Data: samples per second of TrainDataset (decode + scale-jitter crop + flip + mask) through a
DataLoader with each --workers count, from the folders and from a shard packed from them; without
--data, 300 synthetic 288x384 WebP photos are written to a temp folder.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from inpaint_gui.training.config import TrainConfig, apply_overrides
from inpaint_gui.training.data import TrainDataset, make_loader
from inpaint_gui.training.masks import MaskGenerator
from inpaint_gui.training.shard import pack
from inpaint_gui.training.sources import open_source
from inpaint_gui.training.task import make_task


def bench_model(cfg: TrainConfig, steps: int, device: torch.device) -> dict[str, float]:
    torch.manual_seed(0)
    task = make_task(cfg, device)
    r, b = cfg.data.resolution, cfg.batch_size
    gen = MaskGenerator(r, cfg.masks)
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 256, (b, 3, r, r), dtype=np.uint8))
    masks = torch.from_numpy(np.stack([gen(np.random.default_rng(i)) for i in range(b)]).astype(np.uint8))
    batch = {"image": images, "mask": masks[:, None]}
    task.train_step(batch, 0)  # warm-up (allocations, kernel choice, compilation)
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for s in range(steps):
        t = time.perf_counter()
        task.train_step(batch, s + 1)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    # The median is what a run gets; the best step shows the machine without other load.
    dt, best = float(np.median(times)), min(times)
    out = {
        "s_per_step": dt,
        "images_per_s": b / dt,
        "steps_per_hour": 3600 / dt,
        "best_images_per_s": b / best,
    }
    if device.type == "cuda":
        out["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return out


def bench_data(paths: list[str], cfg: TrainConfig, workers: int, count: int) -> float:
    ds = TrainDataset(
        open_source(paths, cfg.data.max_short_side), cfg.data, MaskGenerator(cfg.data.resolution), 0
    )
    loader = make_loader(ds, 16, 0, 1, 0, workers, pin_memory=False)
    it = iter(loader)
    next(it)  # start the workers
    t = time.perf_counter()
    n = 0
    while n < count:
        n += next(it)["image"].shape[0]
    rate = n / (time.perf_counter() - t)
    del it
    return rate


def synthetic_photos(folder: Path, count: int = 300) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        small = rng.integers(0, 256, (18, 24, 3), dtype=np.uint8)
        img = cv2.resize(small, (384, 288), interpolation=cv2.INTER_CUBIC)
        img = cv2.add(img, rng.integers(0, 30, img.shape, dtype=np.uint8))
        cv2.imwrite(str(folder / f"p{i:04d}.webp"), img, [cv2.IMWRITE_WEBP_QUALITY, 88])
    return folder


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--resolutions", type=int, nargs="+", default=[128, 256])
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--data", action="append", help="image folders for the data benchmark")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--data-images", type=int, default=600, help="samples timed per data setting")
    p.add_argument("--skip-model", action="store_true")
    p.add_argument("--skip-data", action="store_true")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}", end="")
    if device.type == "cuda":
        print(f" ({torch.cuda.get_device_name(device)})", end="")
    print()

    if not args.skip_model:
        for r in args.resolutions:
            d = apply_overrides(
                TrainConfig().to_dict(), [f"data.resolution={r}", f"batch_size={args.batch_size}"]
            )
            cfg = TrainConfig.from_dict(apply_overrides(d, args.set))
            res = bench_model(cfg, args.steps, device)
            extra = f", peak {res['peak_gib']:.1f} GiB" if "peak_gib" in res else ""
            print(
                f"train {r}x{r} batch {cfg.batch_size}: {res['images_per_s']:.2f} images/s, "
                f"{res['s_per_step']:.2f} s/step, {res['steps_per_hour']:.0f} steps/hour "
                f"(median of {args.steps} steps; best step {res['best_images_per_s']:.2f} images/s){extra}"
            )

    if not args.skip_data:
        with tempfile.TemporaryDirectory() as tmp:
            paths = args.data or [str(synthetic_photos(Path(tmp) / "photos"))]
            for r in args.resolutions:
                cfg = TrainConfig.from_dict(
                    apply_overrides(TrainConfig().to_dict(), [f"data.resolution={r}"])
                )
                shard = Path(tmp) / f"bench_{r}.bin"
                pack(paths, shard, cfg.data.max_short_side)
                for w in args.workers:
                    folder = bench_data(paths, cfg, w, args.data_images)
                    packed = bench_data([str(shard)], cfg, w, args.data_images)
                    print(f"data {r}x{r}, {w} workers: folder {folder:.0f} samples/s, ", end="")
                    print(f"shard {packed:.0f} samples/s")


if __name__ == "__main__":
    main()
