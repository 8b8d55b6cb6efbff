"""The pluralistic engine against the paper's own network, in one process, runs alternating.

    python bench/reference.py --reference DIR [--size 256] [-n 6] [--threads 2] [--repeats 5]
                              [--checkpoint PATH] [--hole 0.25] [--amp off] [--score]

DIR is a checkout of the paper's code (github.com/lyndonzheng/Pluralistic-Inpainting; its
`model/` folder is all that is read; it is not part of this project). Its 256 px test network
(the encoder and generator its `Pluralistic` model builds: ngf 32, z 128, 5 layers, 4 output
scales) is built with random weights: speed does not depend on the weights' values. It is run as
its `test()` does, one encoder pass and then one generator pass per candidate, under
`torch.no_grad()` (its script leaves autograd on, which is slower); with --score each candidate is
also scored by its discriminator, as its script does to rank them.

Ours is the engine as the app loads it (the default checkpoint unless --checkpoint), on the same
random size x size image with a centred square hole of --hole of its area (256 px, 0.25: a 128 px
hole). Each repeat times the reference, then ours; prints both medians and the ratio per pair.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import statistics
import sys
import time
import types
from pathlib import Path

import numpy as np
import torch

from inpaint_gui.core import detail
from inpaint_gui.engine.pluralistic import PluralisticEngine


def load_reference(root: Path) -> types.ModuleType:
    """The paper's model/network.py as a module (its package __init__ pulls in training code)."""
    folder = root / "model"
    if not (folder / "network.py").is_file():
        raise SystemExit(f"{root}: no model/network.py (expected a checkout of Pluralistic-Inpainting)")
    package = types.ModuleType("_reference_model")
    package.__path__ = [str(folder)]
    sys.modules["_reference_model"] = package
    for name in ("external_function", "base_function", "network"):
        spec = importlib.util.spec_from_file_location(f"_reference_model.{name}", folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["_reference_model.network"]


class Reference:
    """The reference's test(): encoder once, then generator (and discriminator) per candidate."""

    def __init__(self, network: types.ModuleType, score: bool) -> None:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):  # it prints every network it builds
            self.net_e = network.define_e(
                ngf=32, z_nc=128, img_f=128, layers=5, norm="none", activation="LeakyReLU",
                init_type="orthogonal",
            ).eval()  # fmt: skip
            self.net_g = network.define_g(
                ngf=32, z_nc=128, img_f=128, L=0, layers=5, output_scale=4, norm="instance",
                activation="LeakyReLU", init_type="orthogonal",
            ).eval()  # fmt: skip
            self.net_d = None
            if score:
                self.net_d = network.define_d(
                    ndf=32, img_f=128, layers=5, model_type="ResDis", init_type="orthogonal"
                ).eval()
        self.params = sum(p.numel() for p in (*self.net_e.parameters(), *self.net_g.parameters()))

    @torch.no_grad()
    def inpaint(self, image: np.ndarray, mask: np.ndarray, n: int) -> None:
        import torch.nn.functional as F

        img = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 127.5 - 1  # [1, 3, H, W]
        m = torch.from_numpy(~mask)[None, None].float().expand(1, 3, -1, -1)  # its mask: 1 = visible
        img_m = m * img
        distribution, f = self.net_e(img_m)
        q = torch.distributions.Normal(distribution[-1][0], distribution[-1][1])
        scale_mask = F.interpolate(m, size=list(f[2].shape[2:]), mode="bilinear", align_corners=True)
        for _ in range(n):
            z = q.sample()
            out, _ = self.net_g(z, f_m=f[-1], f_e=f[2], mask=scale_mask.chunk(3, dim=1)[0])
            img_out = (1 - m) * out[-1] + m * img_m
            if self.net_d is not None:
                self.net_d(img_out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", type=Path, required=True, help="checkout of Pluralistic-Inpainting")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("-n", type=int, default=6)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--checkpoint", type=Path, help="ours: a release checkpoint (default: the shipped one)")
    p.add_argument("--hole", type=float, default=0.25, help="fraction of the image to fill")
    p.add_argument("--amp", default="off", help="ours: off (float32), auto or bf16")
    p.add_argument("--score", action="store_true", help="the reference also scores each candidate (its test)")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    ref = Reference(load_reference(args.reference), args.score)
    ours = PluralisticEngine.from_checkpoint(args.checkpoint, device="cpu", amp=args.amp)
    detail.warm_up()  # as the app's loader does

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (args.size, args.size, 3), dtype=np.uint8)
    mask = np.zeros((args.size, args.size), bool)
    side = int(args.size * args.hole**0.5)
    start = (args.size - side) // 2
    mask[start : start + side, start : start + side] = True

    ref.inpaint(image, mask, args.n)  # warm-up: first-call costs
    ours.inpaint(image, mask, n=args.n, seed=0)
    t_ref, t_ours = [], []
    for i in range(args.repeats):
        t = time.perf_counter()
        ref.inpaint(image, mask, args.n)
        t_ref.append(time.perf_counter() - t)
        t = time.perf_counter()
        ours.inpaint(image, mask, n=args.n, seed=i)
        t_ours.append(time.perf_counter() - t)
    ratios = sorted(a / b for a, b in zip(t_ref, t_ours, strict=True))
    ours_params = sum(t.numel() for t in ours.generator.parameters())
    print(
        f"{args.n} candidates at {args.size}x{args.size}, hole {side}x{side}, {args.threads} threads, "
        f"torch {torch.__version__}, {args.repeats} alternating pairs"
    )
    print(
        f"reference ({ref.params / 1e6:.2f}M parameters{', discriminator scores' if args.score else ''}): "
        f"median {statistics.median(t_ref):.3f} s (min {min(t_ref):.3f}, max {max(t_ref):.3f})"
    )
    print(
        f"ours ({ours.path.name if ours.path else '?'}, {ours_params / 1e6:.2f}M parameters, "
        f"{'bf16' if ours.bf16 else 'float32'}): median {statistics.median(t_ours):.3f} s "
        f"(min {min(t_ours):.3f}, max {max(t_ours):.3f})"
    )
    print(
        f"reference / ours: median {statistics.median(ratios):.2f}x "
        f"(pairs {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB (both, whole process)")


if __name__ == "__main__":
    main()
