"""`inpaint export`: a training run -> a release checkpoint (EMA generator, inference weights only).

The release holds what inference needs and nothing else: the EMA generator with spectral norm
folded into plain weights, without the posterior head, the discriminators or optimiser state
(as LaMa strips its releases), float16 by default, and a metadata block (engine, architecture,
resolution, data, steps, evaluation figures).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch

from inpaint_gui.engine.checkpoint import ReleaseInfo, save_release
from inpaint_gui.training import runs
from inpaint_gui.training.config import TrainConfig
from inpaint_gui.training.task import make_task

log = logging.getLogger(__name__)


def export_run(
    run_or_checkpoint: str | Path,
    out: str | Path,
    half: bool = True,
    evaluation: dict[str, Any] | None = None,
    dataset: str | None = None,
    notes: str = "",
) -> ReleaseInfo:
    """Write the release checkpoint of a run folder (its newest checkpoint) or of one .pt file."""
    ckpt = runs.resolve_checkpoint(run_or_checkpoint)
    state = runs.load_checkpoint(ckpt)
    try:
        cfg = TrainConfig.from_dict(state["config"])
        task = make_task(cfg, torch.device("cpu"))
        task.load_state_dict(state["task"], optimizers=False)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        lines = str(exc).strip().splitlines()
        why = next((line.strip() for line in lines if "size mismatch" in line), lines[0] if lines else "")
        raise runs.RunError(f"{ckpt}: cannot export it ({why[:200] or type(exc).__name__})") from None
    weights, model_config = task.release()
    info = ReleaseInfo(
        engine=cfg.engine,
        model_config=model_config,
        resolution=cfg.data.resolution,
        dataset=dataset if dataset is not None else " + ".join(cfg.data.paths),
        steps=int(state["step"]),
        evaluation=evaluation or {},
        notes=notes,
    )
    save_release(out, weights, info, half=half)
    log.info("exported %s (step %d) to %s", ckpt, info.steps, out)
    return info


def load_evaluation(report: str | Path, engine: str = "pluralistic") -> dict[str, Any]:
    """The figures of an `inpaint eval` report that go into a checkpoint's metadata."""
    try:
        data = json.loads(Path(report).read_text())
        engines = data["engines"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{report}: not a report written by `inpaint eval` ({exc})") from None
    if engine not in engines:
        raise ValueError(f"{report} has no figures for engine {engine!r} (it has {', '.join(engines)})")
    return summarize_report(data, engine)


def summarize_report(report: dict[str, Any], engine: str = "pluralistic") -> dict[str, Any]:
    """The evaluated engine's figures per band and overall, plus the baselines' PSNR and sharpness."""
    own = report["engines"][engine]
    out: dict[str, Any] = {
        "settings": report.get("settings", {}),
        "bands": own["bands"],
        "overall": own["overall"],
    }
    baselines = {}
    for name, res in report["engines"].items():
        if name == engine:
            continue
        baselines[name] = {
            band: {
                "psnr": v["mean"]["psnr"],
                "psnr_hole": v["mean"]["psnr_hole"],
                "sharpness": v["sharpness"],
                "sharpness_magnitude": v.get("sharpness_magnitude"),
            }
            for band, v in {**res["bands"], "overall": res["overall"]}.items()
        }
    if baselines:
        out["baselines"] = baselines
    return out
