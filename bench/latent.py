"""Speed of the latent-search engine: n candidates searched as one batch with the default settings.

    python bench/latent.py [--size 64] [-n 6] [--steps N] [--threads 2] [--checkpoint PATH]
                           [--amp auto|bf16|off]

Without --checkpoint it times randomly initialised networks of the trained architecture (64 px,
48 channels): speed does not depend on the weights' values. Prints the median of --repeats timed
runs after one warm-up, the time per search step, and the peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
from pathlib import Path

import torch
from inference import time_inpaint  # bench/inference.py: the same timing loop

from inpaint_gui.engine.latent import LatentEngine, SearchSettings, save_random_release
from inpaint_gui.models.gan import GanConfig


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=64, help="photo side (the search itself runs at 64 px)")
    p.add_argument("-n", type=int, default=6)
    p.add_argument("--steps", type=int, help="search steps (default: the engine's)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--checkpoint", type=Path)
    p.add_argument("--hole", type=float, default=0.25, help="fraction of the image to fill")
    p.add_argument("--amp", default="auto", help="auto (bf16 on CUDA and AMX CPUs), bf16 or off")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        config = GanConfig(resolution=64, z_dim=100, g_channels=48, d_channels=48)
        ckpt = args.checkpoint or save_random_release(Path(tmp) / "bench.safetensors", config=config)
        engine = LatentEngine.from_checkpoint(ckpt, device="cpu", amp=args.amp)
    if args.steps is not None:
        engine.settings = SearchSettings(**{**engine.settings.__dict__, "steps": args.steps})

    times = time_inpaint(engine, args.size, args.hole, args.n, args.repeats)
    med = statistics.median(times)
    steps = engine.settings.steps
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"latent: {args.n} candidates, {args.size} px, {steps} steps, {args.threads} threads, "
        f"bf16={engine.bf16}: median {med:.2f} s (min {min(times):.2f}, max {max(times):.2f}), "
        f"{1000 * med / max(steps, 1):.1f} ms/step, peak RSS {rss:.0f} MiB"
    )


if __name__ == "__main__":
    main()
