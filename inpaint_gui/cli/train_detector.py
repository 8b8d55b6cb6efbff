"""`inpaint train-detector`: train the defect detector on synthetic damage (training/detector.py)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from inpaint_gui.training.data import list_images
from inpaint_gui.training.detector import CROP, train

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction, verbosity: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "train-detector",
        parents=[verbosity],
        help="train the defect detector on synthetic dust and scratches",
        description="Train the detector behind Restore > Detect defects and `inpaint restore` on "
        "synthetic damage drawn on the photos under DIR; write a release checkpoint.",
    )
    p.add_argument("--data", type=Path, required=True, metavar="DIR", help="folder of training photos")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="checkpoint to write")
    p.add_argument("--steps", type=int, default=3000, help="optimiser steps (default 3000)")
    p.add_argument("--batch", type=int, default=16, help="crops per step (default 16)")
    p.add_argument("--init", type=Path, metavar="FILE", help="start from this detector checkpoint")
    p.add_argument("--lr", type=float, default=2e-3, help="learning rate (default 2e-3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--rims",
        type=float,
        default=0.0,
        help="share of crops given a rimmed object under the damage, as clean (default 0; tried: 0.3)",
    )
    p.add_argument(
        "--long-scratches",
        action="store_true",
        help="scratches as long as the whole photo's, crossing the crop (default: as long as the crop's)",
    )
    p.add_argument("--channels", type=int, default=24, help="network width for a new detector (default 24)")
    p.add_argument(
        "--dilations",
        default="1,2,4,8,1",
        help="dilations of the residual convolutions for a new detector (default 1,2,4,8,1)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from inpaint_gui.engine.checkpoint import ReleaseInfo, save_release
    from inpaint_gui.engine.defects import ENGINE, DefectDetector
    from inpaint_gui.models.defect_net import DefectNet

    files = [args.data / f for f in list_images(args.data)]
    if not files:
        log.error("no images under %s", args.data)
        return 1
    try:
        net = DefectNet(args.channels, [int(d) for d in args.dilations.split(",")])
    except ValueError as e:
        log.error("--channels / --dilations: %s", e)
        return 2
    if args.init is not None:
        net = DefectDetector.from_checkpoint(args.init).net.train()
    train(net, files, args.steps, args.batch, args.seed, args.lr, args.rims, args.long_scratches)
    info = ReleaseInfo(
        engine=ENGINE,
        model_config={"channels": net.inp.out_channels, "dilations": [c.dilation[0] for c in net.body]},
        resolution=CROP,
        dataset=args.data.name,
        steps=args.steps,
        notes="synthetic damage (core/defect_synth.py) on the training photos",
    )
    save_release(args.output, net.state_dict(), info, half=False)
    print(f"wrote {args.output}")
    return 0
