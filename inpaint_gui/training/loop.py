"""The training loop: data, devices, DDP, logging, sample grids, checkpoints and exact resume.

The model-specific part is a TrainTask (task.py). `train` is driven by callbacks (progress, stop)
so the CLI and a GUI can both run it. A run resumed from its checkpoint continues bit for bit as if
it had never stopped (on the CPU; GPU kernels may not be deterministic): the checkpoint holds the
networks, optimisers, EMA, every rank's RNG state and the step, and the data stream is a function
of the step (data.py).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from inpaint_gui.training import distributed as D
from inpaint_gui.training import runs
from inpaint_gui.training.config import TrainConfig, check_resume_changes
from inpaint_gui.training.data import TrainDataset, make_loader, random_crop
from inpaint_gui.training.masks import MaskGenerator
from inpaint_gui.training.sources import FolderSource, open_source
from inpaint_gui.training.task import TrainTask, make_task

log = logging.getLogger(__name__)

_VAL_SALT = 0x7A1


@dataclass(frozen=True)
class Progress:
    """What the loop reports after each step."""

    step: int
    total: int
    losses: dict[str, float] = field(default_factory=dict)  # means over the last logging interval
    images_per_s: float = 0.0  # over the last logging interval, all ranks together
    elapsed: float = 0.0  # seconds since this process started training


ProgressCallback = Callable[[Progress], None]


def lr_scale(cfg: TrainConfig, step: int) -> float:
    o = cfg.optim
    scale = min(1.0, (step + 1) / o.warmup_steps) if o.warmup_steps else 1.0
    t = step / max(cfg.steps, 1)
    if o.schedule == "cosine":
        scale *= 0.5 * (1 + math.cos(math.pi * t))
    elif o.schedule == "linear":
        scale *= 1 - t
    return scale


def prepare_run(cfg: TrainConfig, out: Path, resume: bool) -> tuple[TrainConfig, Path | None]:
    """Check the run folder against the request; returns (config to use, checkpoint to resume from)."""
    config_file = out / "config.json"
    if not resume:
        if runs.latest_checkpoint(out) is not None:
            raise runs.RunError(f"{out} already holds a run: pass --resume to continue it, or another --out")
        if config_file.exists():
            log.warning("%s holds a run that never wrote a checkpoint; starting it afresh", out)
        return cfg, None
    if not config_file.exists():
        raise runs.RunError(f"{out} holds no run to resume (no config.json)")
    ckpt = runs.latest_checkpoint(out)
    if ckpt is None:
        raise runs.RunError(f"{out} has no checkpoint to resume from")
    saved = TrainConfig.load(config_file)
    changed = check_resume_changes(saved, cfg)
    if changed:
        log.info("resuming with changed settings: %s", ", ".join(changed))
    return cfg, ckpt


def train(
    cfg: TrainConfig,
    out: str | Path,
    resume: bool = False,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress_bar: bool = True,
) -> int:
    """Train (or continue training) the run in `out`; returns the step reached.

    should_stop() is polled every step; when it returns True a checkpoint is written and train returns.
    """
    out = Path(out)
    env = D.setup(cfg.run.device)
    threads = torch.get_num_threads()
    try:
        if cfg.run.threads:
            torch.set_num_threads(cfg.run.threads)
        return _train(cfg, out, resume, env, on_progress, should_stop, progress_bar)
    finally:
        torch.set_num_threads(threads)  # leave the caller's process as it was
        D.teardown(env)


def _train(
    cfg: TrainConfig,
    out: Path,
    resume: bool,
    env: D.DistEnv,
    on_progress: ProgressCallback | None,
    should_stop: Callable[[], bool] | None,
    progress_bar: bool,
) -> int:
    cfg, ckpt = prepare_run(cfg, out, resume)
    masks = MaskGenerator(cfg.data.resolution, cfg.masks)
    source = open_source(cfg.data.paths, cfg.data.max_short_side)  # bad data fails before the run exists
    dataset = TrainDataset(source, cfg.data, masks, cfg.seed)
    # on every rank (6 images), so a bad run.val_data stops all of them, before the run exists
    val = _validation_set(cfg, dataset, masks)
    torch.manual_seed(cfg.seed)  # the same initial networks (and EMA) on every rank
    task = make_task(cfg, env.device)
    torch.manual_seed(D.rank_seed(cfg.seed, env.rank))  # then each rank its own noise

    start = 0
    if ckpt is not None:
        state = runs.load_checkpoint(ckpt, env.device)
        try:
            task.load_state_dict(state["task"])
            start = int(state["step"])
            _restore_rng(state, env, cfg)
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
            why = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise runs.RunError(f"{ckpt}: cannot resume from it ({why})") from None
        log.info("resumed %s at step %d", out, start)
    elif cfg.run.init and str(cfg.run.init).endswith(".safetensors"):
        if not hasattr(task, "init_from_release"):
            raise runs.RunError(f"run.init: the {cfg.engine} task cannot start from a release file")
        fresh = task.init_from_release(cfg.run.init)
        log.info("generator starts from release %s; fresh: %s", cfg.run.init, ", ".join(fresh))
    elif cfg.run.init:
        source_ckpt = runs.resolve_checkpoint(cfg.run.init)
        fresh = task.init_networks(runs.load_checkpoint(source_ckpt, env.device)["task"], cfg.run.init_skip)
        log.info("networks start from %s; left as initialised: %s", source_ckpt, ", ".join(fresh) or "none")
    if env.main:  # only once the checkpoint has loaded: a failed resume leaves the run's config as it was
        out.mkdir(parents=True, exist_ok=True)
        cfg.save(out / "config.json")
    if env.main:
        runs.truncate_stats(out, start)  # drop what was logged after the checkpoint
    if env.distributed:
        ids = [env.device.index] if env.device.type == "cuda" else None
        task.distribute(lambda m: DistributedDataParallel(m, device_ids=ids))
    if start >= cfg.steps:
        log.info("run is already at step %d of %d", start, cfg.steps)
        return start

    log.info("%d training images; batch %d x %d processes", len(dataset), cfg.batch_size, env.world)
    loader = make_loader(
        dataset,
        cfg.batch_size,
        env.rank,
        env.world,
        start,
        cfg.data.workers,
        pin_memory=env.device.type == "cuda",
    )
    board = _tensorboard(cfg, out) if env.main else None
    bar = _bar(cfg, start, env.main and progress_bar)

    step = start
    sums: dict[str, torch.Tensor] = {}
    count, tick, t0 = 0, time.perf_counter(), time.perf_counter()
    last_logged: dict[str, float] = {}
    rate = 0.0
    saved_at = start
    it = iter(loader)
    try:
        while step < cfg.steps:
            batch = next(it)
            task.set_lr_scale(lr_scale(cfg, step))
            figures = task.train_step(batch, step)
            step += 1
            for k, v in figures.items():
                sums[k] = sums[k] + v if k in sums else v.clone()
            count += 1
            if step % cfg.run.log_every == 0 or step == cfg.steps:
                keys = sorted(sums)
                means = D.mean_across(env, torch.stack([sums[k] / count for k in keys]).float())
                last_logged = dict(zip(keys, means.tolist(), strict=True))
                _stop_if_diverged(last_logged, out, step)
                now = time.perf_counter()
                rate = count * cfg.batch_size * env.world / max(now - tick, 1e-9)
                if env.main:
                    record = {"step": step, "time": round(now - t0, 3), "images_per_s": round(rate, 3)}
                    record["lr_scale"] = lr_scale(cfg, step - 1)
                    record.update({k: round(v, 6) for k, v in last_logged.items()})
                    runs.append_stats(out, record)
                    if board is not None:
                        for k, v in last_logged.items():
                            board.add_scalar(f"loss/{k}", v, step)
                        board.add_scalar("speed/images_per_s", rate, step)
                    if bar is not None:
                        bar.set_postfix(
                            {k: f"{last_logged[k]:.3f}" for k in ("g_total", "d_total") if k in last_logged}
                            | {"img/s": f"{rate:.1f}"}
                        )
                sums, count, tick = {}, 0, time.perf_counter()
            if bar is not None:
                bar.update(1)
            if env.main and (step % cfg.run.sample_every == 0 or step == cfg.steps):
                _write_samples(task, cfg, out, step, val, board)
            if on_progress is not None:
                on_progress(Progress(step, cfg.steps, dict(last_logged), rate, time.perf_counter() - t0))
            stop = D.any_across(env, should_stop is not None and should_stop())
            if step % cfg.run.checkpoint_every == 0 or step == cfg.steps or stop:
                _checkpoint(task, cfg, out, step, env)
                saved_at = step
            if stop:
                log.info("stopped at step %d (checkpoint written)", step)
                break
    except KeyboardInterrupt:
        if not env.distributed and step > saved_at:
            _checkpoint(task, cfg, out, step, env)
            log.info("interrupted at step %d; checkpoint written, continue with --resume", step)
        raise
    finally:
        del it
        if bar is not None:
            bar.close()
        if board is not None:
            board.close()
    return step


def _stop_if_diverged(losses: dict[str, float], out: Path, step: int) -> None:
    """RunError when a logged loss is NaN or infinite: training on would only overwrite good checkpoints."""
    bad = sorted(k for k, v in losses.items() if not math.isfinite(v))
    if bad:
        raise runs.RunError(
            f"{out}: loss {', '.join(bad)} became NaN or infinite by step {step}; stopped without writing "
            "a checkpoint, the earlier ones are kept (lower the learning rates, or resume from one)"
        )


def _checkpoint(task: TrainTask, cfg: TrainConfig, out: Path, step: int, env: D.DistEnv) -> None:
    bad = task.nonfinite_weights()  # every rank holds the same weights, so every rank stops here
    if bad:
        raise runs.RunError(
            f"{out}: weights {bad} became NaN or infinite by step {step}; no checkpoint written, "
            "the earlier ones are kept"
        )
    rng = D.gather_objects(env, _rng_state(env))
    if env.main:
        state = {
            "step": step,
            "task": task.state_dict(),
            "rng": rng,
            "world": env.world,
            "engine": cfg.engine,
            "config": cfg.to_dict(),
        }
        runs.save_checkpoint(out, step, state, cfg.run.keep_checkpoints)
    D.barrier(env)


def _rng_state(env: D.DistEnv) -> dict[str, torch.Tensor]:
    state = {"torch": torch.get_rng_state()}
    if env.device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(env.device)
    return state


def _restore_rng(state: dict[str, Any], env: D.DistEnv, cfg: TrainConfig) -> None:
    saved = state.get("rng") or []
    if len(saved) == env.world:
        mine = saved[env.rank]
        torch.set_rng_state(mine["torch"].cpu())
        if "cuda" in mine and env.device.type == "cuda":
            torch.cuda.set_rng_state(mine["cuda"].cpu(), env.device)
        return
    log.warning(
        "checkpoint was written by %d processes, this run has %d: random streams are re-seeded, "
        "so it does not continue bit for bit",
        len(saved),
        env.world,
    )
    torch.manual_seed(D.rank_seed(cfg.seed + int(state["step"]), env.rank))


def _validation_set(
    cfg: TrainConfig, dataset: TrainDataset, masks: MaskGenerator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed images and masks for the sample grids: from run.val_data, else spread over the training set."""
    k = cfg.run.sample_images
    images, holes = [], []
    if cfg.run.val_data:
        from inpaint_gui.training.sources import CorruptImage, decode_image

        src = FolderSource(cfg.run.val_data)
        decoded = []
        for i in np.linspace(0, len(src) - 1, min(k, len(src))).round().astype(int):
            try:
                decoded.append(decode_image(src.read(int(i))))
            except CorruptImage:  # skipped, as in training
                log.warning("validation image %s does not decode; skipped", src.root / src.key(int(i)))
        if not decoded:
            raise ValueError(f"validation folder {cfg.run.val_data} holds no readable images")
    else:
        idx = np.linspace(0, len(dataset) - 1, min(k, len(dataset))).round().astype(int)
        decoded = [dataset.load(int(i)) for i in idx]  # position i of epoch 0; fine for a preview
    for j, img in enumerate(decoded):
        rng = np.random.default_rng([cfg.seed, _VAL_SALT, j])
        images.append(random_crop(img, cfg.data, rng))
        holes.append(masks(rng))
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    m = torch.from_numpy(np.stack(holes).astype(np.uint8))[:, None]
    return x, m


def _write_samples(
    task: TrainTask,
    cfg: TrainConfig,
    out: Path,
    step: int,
    val: tuple[torch.Tensor, torch.Tensor],
    board: Any,
) -> None:
    images, holes = val
    fills = task.sample(images, holes, cfg.run.sample_candidates, seed=cfg.seed)
    grid = runs.sample_grid(images, holes, fills)
    path = out / "samples" / f"step_{step:08d}.png"
    runs.write_png(path, grid)
    if board is not None:
        board.add_image("samples", grid, step, dataformats="HWC")


def _tensorboard(cfg: TrainConfig, out: Path) -> Any:
    if not cfg.run.tensorboard:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        log.info("TensorBoard is not installed (pip install tensorboard); logging to stats.jsonl only")
        return None
    return SummaryWriter(str(out / "tensorboard"))


def _bar(cfg: TrainConfig, start: int, show: bool) -> Any:
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=cfg.steps, initial=start, unit="step", dynamic_ncols=True, smoothing=0.1)
