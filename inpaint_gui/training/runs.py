"""A run's folder: config.json, stats.jsonl, checkpoints/, samples/.

runs/NAME/
  config.json              the TrainConfig (written at the start, updated when a resume changes it)
  stats.jsonl              one JSON object per logging interval
  checkpoints/step_XXXXXXXX.pt   full training state for an exact resume (written atomically)
  samples/step_XXXXXXXX.png      sample grids
"""

from __future__ import annotations

import json
import logging
import pickle
import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from inpaint_gui.core.files import atomic_path

log = logging.getLogger(__name__)

_CKPT = re.compile(r"^step_(\d+)\.pt$")


class RunError(ValueError):
    """A run folder that cannot be used as asked (exists already, has no checkpoint, ...)."""


def checkpoint_path(run: Path, step: int) -> Path:
    return run / "checkpoints" / f"step_{step:08d}.pt"


def list_checkpoints(run: Path) -> list[tuple[int, Path]]:
    folder = run / "checkpoints"
    if not folder.is_dir():
        return []
    out = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _CKPT.match(p.name))]
    return sorted(out)


def latest_checkpoint(run: Path) -> Path | None:
    found = list_checkpoints(run)
    return found[-1][1] if found else None


def save_checkpoint(run: Path, step: int, state: dict[str, Any], keep: int) -> Path:
    """Write atomically (temp file, then os.replace) and delete all but the newest `keep`."""
    path = checkpoint_path(run, step)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    for _, old in list_checkpoints(run)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def load_checkpoint(path: Path, device: str | torch.device = "cpu") -> dict[str, Any]:
    """A training checkpoint; plain tensors and containers only (no pickled code is run).

    Its layout is checked here, so a malformed file fails with one line naming it, not with a
    KeyError deep in a resume.
    """
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError:  # torch's own message ends by advising weights_only=False: never
        raise RunError(
            f"{path}: not a safe checkpoint: it holds pickled objects other than tensors, which can run "
            "code when loaded, so it is refused"
        ) from None
    except Exception as exc:
        lines = str(exc).strip().splitlines()  # an empty file gives an exception without a message
        why = lines[0][:200] if lines else type(exc).__name__
        raise RunError(f"{path}: unreadable training checkpoint ({why})") from None
    if not isinstance(state, dict) or "step" not in state or "task" not in state:
        raise RunError(f"{path}: not a training checkpoint of `inpaint train`")
    problem = _layout_problem(state)
    if problem:
        raise RunError(f"{path}: malformed training checkpoint ({problem})")
    return state


def _layout_problem(state: dict[str, Any]) -> str:
    """What is wrong with a training checkpoint's layout, or "" when nothing is."""
    step, task = state["step"], state["task"]
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        return f"step is {step!r:.40}, not a step number"
    if not isinstance(task, dict):
        return f"task is a {type(task).__name__}, not a dictionary"
    for part in ("networks", "optimizers"):
        entry = task.get(part)
        if not isinstance(entry, dict):
            return f"task has no {part} dictionary"
        for name, value in entry.items():
            if not isinstance(value, dict):
                return f"task.{part}.{name} is a {type(value).__name__}, not a state dictionary"
    return ""


def resolve_checkpoint(run_or_file: str | Path) -> Path:
    """A run folder -> its newest checkpoint; a .pt file -> itself."""
    p = Path(run_or_file)
    if p.is_file():
        return p
    if not p.is_dir():
        raise RunError(f"{p}: no such run folder or checkpoint file")
    latest = latest_checkpoint(p)
    if latest is None:
        raise RunError(f"{p}: the run has no checkpoint yet")
    return latest


def append_stats(run: Path, record: dict[str, Any]) -> None:
    with open(run / "stats.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")


def truncate_stats(run: Path, step: int) -> None:
    """Drop records written after the checkpoint a run resumes from, so stats.jsonl reads as one run."""
    path = run / "stats.jsonl"
    if not path.is_file():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                kept.append(line)
        except json.JSONDecodeError:
            continue
    path.write_text("".join(k + "\n" for k in kept))


def read_stats(run: Path) -> list[dict[str, Any]]:
    path = run / "stats.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def sample_grid(images: torch.Tensor, masks: torch.Tensor, fills: torch.Tensor, pad: int = 2) -> np.ndarray:
    """One row per image: the input with its hole greyed out, each candidate, the original.

    images uint8 [N, 3, H, W], masks [N, 1, H, W], fills uint8 [N, C, 3, H, W] -> uint8 RGB grid.
    """
    imgs = images.permute(0, 2, 3, 1).numpy()
    holes = masks[:, 0].numpy().astype(bool)
    cands = fills.permute(0, 1, 3, 4, 2).numpy()
    return tile_rows(
        [[grey_hole(img, hole), *c, img] for img, hole, c in zip(imgs, holes, cands, strict=True)], pad
    )


def grey_hole(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The image with its hole pixels washed out to light grey (how a grid shows the input)."""
    shown = image.copy()
    shown[hole] = (shown[hole] // 4 + 128).astype(np.uint8)
    return shown


def tile_rows(rows: list[list[np.ndarray]], pad: int = 2) -> np.ndarray:
    """Equal-sized uint8 RGB tiles laid out row by row on white, `pad` pixels apart."""
    h, w = rows[0][0].shape[:2]
    cols = max(len(r) for r in rows)
    grid = np.full((len(rows) * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, tile in enumerate(row):
            y, x = pad + i * (h + pad), pad + j * (w + pad)
            grid[y : y + h, x : x + w] = tile
    return grid


def write_png(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")
