"""Inference speed and memory of the pluralistic engine.

    python bench/inference.py [--size 256] [-n 6] [--threads 2] [--checkpoint PATH] [--prefill]
                              [--amp auto|bf16|off]

Without --checkpoint it times a randomly initialised network of the default
(paper-sized) architecture: speed does not depend on the weights' values.
Prints the median of --repeats timed runs after one warm-up, and the peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from inpaint_gui.engine.pluralistic import PluralisticEngine, save_random_release
from inpaint_gui.models import PluralisticConfig


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("-n", type=int, default=6)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--checkpoint", type=Path)
    p.add_argument("--hole", type=float, default=0.25, help="fraction of the image to fill")
    p.add_argument(
        "--prefill", action="store_true", help="random network with model.prefill (push-pull start)"
    )
    p.add_argument("--amp", default="auto", help="auto (bf16 on CUDA and AMX CPUs), bf16 or off")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = args.checkpoint or save_random_release(
            Path(tmp) / "bench.safetensors",
            config=PluralisticConfig(prefill=args.prefill),
            resolution=args.size,
        )
        engine = PluralisticEngine.from_checkpoint(ckpt, device="cpu", amp=args.amp)
    params = sum(t.numel() for t in engine.generator.parameters())

    times = time_inpaint(engine, args.size, args.hole, args.n, args.repeats)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.n} candidates at {args.size}x{args.size}, {args.threads} threads, "
        f"{params / 1e6:.2f}M inference parameters, {'bf16' if engine.bf16 else 'float32'}, "
        f"torch {torch.__version__}"
    )
    print(f"median {statistics.median(times):.3f} s  (min {min(times):.3f}, max {max(times):.3f})")
    print(f"peak RSS {peak_mb:.0f} MB (whole process, torch included)")


def time_inpaint(engine, size: int, hole: float, n: int, repeats: int) -> list[float]:
    """Seconds per engine.inpaint of n candidates, `repeats` times after one warm-up, on a random
    size x size image with a centred square hole of `hole` of its area (bench/latent.py uses it too)."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size), bool)
    side = int(size * hole**0.5)
    start = (size - side) // 2
    mask[start : start + side, start : start + side] = True
    engine.inpaint(image, mask, n=n, seed=0)  # warm-up
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        engine.inpaint(image, mask, n=n, seed=i)
        times.append(time.perf_counter() - t)
    return times


if __name__ == "__main__":
    main()
