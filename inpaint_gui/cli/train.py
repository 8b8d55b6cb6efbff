"""`inpaint train`: train or continue a run of a photo network (training/loop.py)."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from inpaint_gui.cli.common import fail
from inpaint_gui.training.presets import PRESETS


def register(commands: argparse._SubParsersAction, verbosity: argparse.ArgumentParser) -> None:
    """Add `inpaint train`."""
    p = commands.add_parser(
        "train",
        help="train a model on folders of images (or shards)",
        description="Train or continue a run. "
        "Settings: defaults < --preset < --config FILE < options < --set. "
        "Under torchrun every process runs this same command (see docs/training.md).",
    )
    p.add_argument("--data", action="append", metavar="DIR", help="image folder or shard (repeatable)")
    p.add_argument("--out", required=True, metavar="RUN", help="run folder, e.g. runs/scenes128")
    p.add_argument("--resolution", type=int, help="training crop size (default 128)")
    p.add_argument("--batch-size", type=int, help="images per step and process (default 8)")
    p.add_argument("--steps", type=int, help="total steps of the run (default 100000)")
    p.add_argument("--seed", type=int)
    p.add_argument("--workers", type=int, help="data loader processes per training process")
    p.add_argument("--device", help="auto, cpu or cuda")
    p.add_argument("--compile", action="store_true", help="torch.compile the networks")
    p.add_argument(
        "--preset", choices=sorted(PRESETS), help="a named group of settings (see docs/training.md)"
    )
    p.add_argument("--config", metavar="FILE", help="JSON file with (some) settings")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one setting, e.g. loss.kl_rec=10 or model.channels=16,32,64,128,256",
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--print-config", action="store_true", help="print the resulting settings and exit")
    p.set_defaults(func=_train)


def build_train_config(args: argparse.Namespace) -> Any:
    """TrainConfig from (saved run config or defaults) < --preset < --config < options < --set."""
    from inpaint_gui.training.config import TrainConfig, apply_overrides, set_key

    saved = Path(args.out) / "config.json"
    if args.resume and not saved.exists():
        raise ValueError(f"{args.out} holds no run to resume (no config.json)")
    base = TrainConfig.load(saved).to_dict() if args.resume else TrainConfig().to_dict()
    if args.preset:
        base = apply_overrides(base, list(PRESETS[args.preset]))
    if args.config:
        try:
            extra = json.loads(Path(args.config).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read --config {args.config}: {exc}") from None
        if not isinstance(extra, dict):
            raise ValueError(f"--config {args.config} must hold a JSON object")
        base = TrainConfig.from_dict(_deep_merge(base, extra)).to_dict()
    flags = {
        "data.paths": args.data,
        "data.resolution": args.resolution,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "seed": args.seed,
        "data.workers": args.workers,
        "run.device": args.device,
        "run.compile": True if args.compile else None,
    }
    for key, value in flags.items():
        if value is not None:
            set_key(base, key, value)
    return TrainConfig.from_dict(apply_overrides(base, args.set))


def _deep_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = _deep_merge(a[k], v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
    return out


def _train(args: argparse.Namespace) -> int:
    from inpaint_gui.training.loop import train
    from inpaint_gui.training.runs import RunError

    try:
        cfg = build_train_config(args)
        if args.print_config:
            print(json.dumps(cfg.to_dict(), indent=2))
            return 0
        if not cfg.data.paths:
            return fail("no training data: pass --data DIR (a folder of images or a shard)")
        with _stop_on_sigterm() as stop:
            step = train(
                cfg, args.out, resume=args.resume, progress_bar=not args.no_progress, should_stop=stop
            )
    except (ValueError, RunError) as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print(f"interrupted; continue with: inpaint train --out {args.out} --resume", file=sys.stderr)
        return 130
    print(f"{args.out}: step {step} of {cfg.steps}")
    if step < cfg.steps:
        print(f"stopped; continue with: inpaint train --out {args.out} --resume", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[Callable[[], bool]]:
    """`kill PID` ends training after the current step, with a checkpoint. A shell starts its
    background jobs with Ctrl-C's SIGINT ignored, so this is how a run started with & or nohup
    is stopped without losing the steps since its last checkpoint."""
    requested: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: requested.append(signum))
    try:
        yield lambda: bool(requested)
    finally:
        signal.signal(signal.SIGTERM, previous)
