"""`inpaint export`: a release checkpoint from a training run, optionally evaluated (training/export.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from inpaint_gui.cli.common import fail


def register(commands: argparse._SubParsersAction, verbosity: argparse.ArgumentParser) -> None:
    """Add `inpaint export`."""
    p = commands.add_parser("export", help="write a release checkpoint from a training run")
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


def _export(args: argparse.Namespace) -> int:
    from inpaint_gui.engine.checkpoint import CheckpointError
    from inpaint_gui.training.evaluate import evaluate, write_report
    from inpaint_gui.training.export import export_run, load_evaluation, summarize_report
    from inpaint_gui.training.runs import RunError

    if bool(args.eval_images) != bool(args.eval_masks):
        return fail("--eval-images and --eval-masks go together")
    out = Path(args.output)
    if out.exists() and not args.overwrite:
        return fail(f"{out} exists; pass --overwrite to replace it")
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
        return fail(str(exc))
    print(f"{args.output}: {info.engine}, step {info.steps}, {info.resolution} px, data: {info.dataset}")
    return 0
