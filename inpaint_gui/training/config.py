"""Training settings: one frozen config object, validated on construction, saved as runs/NAME/config.json.

Sections mirror what they control (data, masks, model, disc, loss, optim, run); `--set section.key=value`
changes one value, `--config FILE` merges a (partial) JSON file over the defaults.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inpaint_gui.models.config import PluralisticConfig
from inpaint_gui.training.restore_config import RestoreConfig

GAN_LOSSES = ("hinge", "lsgan")
LR_SCHEDULES = ("constant", "cosine", "linear")
AMP_MODES = ("auto", "bf16", "off")  # engine.device.AMP_MODES; repeated so configs load without torch
MEMORY_FORMATS = ("auto", "channels_last", "contiguous")
SMALL_IMAGE_MODES = ("resize", "pad")
GAN_OBJECTIVES = ("dcgan", "wgan-gp")  # models.gan.GAN_OBJECTIVES, repeated for the same reason

#: Keys that may change when a run is resumed; anything else would break the run's continuity.
RESUMABLE_KEYS = frozenset(
    {
        "steps",
        "data.paths",
        "data.workers",
        "run.device",
        "run.amp",
        "run.memory_format",
        "run.compile",
        "run.log_every",
        "run.sample_every",
        "run.checkpoint_every",
        "run.keep_checkpoints",
        "run.tensorboard",
        "run.threads",
    }
)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


@dataclass(frozen=True)
class DataConfig:
    """Where images come from and how a training crop is cut from them."""

    paths: tuple[str, ...] = ()  # image folders (recursive) and/or shards made by `inpaint pack`
    resolution: int = 128  # square training crop, pixels
    # Images are first shrunk so their short side is at most max_scale * resolution; the crop's
    # scale is then drawn log-uniformly between that and the crop size (never upscaling).
    max_scale: float = 4.0
    small_images: str = "resize"  # short side < resolution: "resize" up to it, or "pad" (reflect)
    hflip: bool = True
    workers: int = 2  # DataLoader worker processes per training process (0 = in process)

    def __post_init__(self) -> None:
        object.__setattr__(self, "paths", tuple(str(p) for p in self.paths))
        _check(self.resolution >= 16, f"data.resolution must be >= 16, got {self.resolution}")
        _check(self.max_scale >= 1.0, f"data.max_scale must be >= 1, got {self.max_scale}")
        _check(
            self.small_images in SMALL_IMAGE_MODES,
            f"data.small_images must be one of {SMALL_IMAGE_MODES}, got {self.small_images!r}",
        )
        _check(self.workers >= 0, f"data.workers must be >= 0, got {self.workers}")

    @property
    def max_short_side(self) -> int:
        return int(round(self.max_scale * self.resolution))


@dataclass(frozen=True)
class MaskConfig:
    """Holes generated on the fly; the kind of each is drawn with these weights."""

    hole_min: float = 0.05  # fraction of the image, generated masks only
    hole_max: float = 0.6
    strokes: float = 0.5  # free-form brush strokes
    rects: float = 0.2  # rectangles
    mixed: float = 0.3  # strokes and rectangles together
    folder: str | None = None  # optional folder of mask images, white = hole
    folder_prob: float = 0.0  # chance of taking a mask from the folder instead

    def __post_init__(self) -> None:
        _check(
            0.0 < self.hole_min < self.hole_max < 1.0,
            f"need 0 < masks.hole_min < masks.hole_max < 1, got {self.hole_min}, {self.hole_max}",
        )
        weights = (self.strokes, self.rects, self.mixed)
        _check(min(weights) >= 0 and sum(weights) > 0, "masks.strokes/rects/mixed must be >= 0, not all 0")
        _check(0.0 <= self.folder_prob <= 1.0, f"masks.folder_prob must be in [0, 1], got {self.folder_prob}")
        _check(
            self.folder_prob == 0.0 or self.folder is not None,
            "masks.folder_prob > 0 needs masks.folder",
        )


@dataclass(frozen=True)
class DiscConfig:
    """Spectral-norm discriminators: a global one and, switchable, a local one on the hole (GLCIC)."""

    channels: tuple[int, ...] = (64, 128, 256, 256)  # one downsampling residual block each
    local: bool = True
    local_size: float = 0.5  # side of the local crop around the hole, as a fraction of the resolution
    gan_loss: str = "hinge"  # or "lsgan"

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        _check(len(self.channels) >= 2 and min(self.channels) >= 4, "disc.channels: >= 2 levels, each >= 4")
        _check(0.1 <= self.local_size <= 1.0, f"disc.local_size must be in [0.1, 1], got {self.local_size}")
        _check(self.gan_loss in GAN_LOSSES, f"disc.gan_loss must be one of {GAN_LOSSES}")


@dataclass(frozen=True)
class LossConfig:
    """Weights of the paper's objective (Zheng et al. 2019 use 20 / 20 / 1)."""

    app_rec: float = 20.0  # reconstructive path: L1 on the whole image, every output scale
    app_gen: float = 20.0  # generative path: L1 on visible pixels only
    kl_rec: float = 20.0  # KL(q(z|I_c) || N(0, sigma(hole)^2)), mean per latent element
    kl_gen: float = 20.0  # KL(p(z|I_m) || stop_grad q(z|I_c))
    adv_rec: float = 1.0  # adversarial loss of the reconstructive path's output
    adv_gen: float = 1.0  # adversarial loss of the generative path's output
    adv_local: float = 1.0  # local discriminator's share, relative to the global one
    coarse_weight: float = 0.5  # appearance loss weight of each coarser output scale
    # Not in the paper: losses.texture_loss on both paths' composites (the fill's detail per
    # pyramid band, matched to the photo's in the same hole; needs no pretrained network). 0 = off.
    texture: float = 0.0
    # Not in the paper: L1 between the generative path's fill and the photo after both are
    # average-pooled by anchor_pool (losses.lowpass_l1), in the hole only: it ties a candidate's
    # coarse layout and colour to the photo and leaves finer detail free to differ. 0 = off.
    anchor: float = 0.0
    anchor_pool: int = 8
    # Not in the paper: a second generative sample per image, and a hinge on how much the two
    # fills differ inside the hole after diversity_pool x diversity_pool average pooling
    # (losses.spread_hinge: mean |a - b| in [-1, 1] units, pushed up to diversity_target and no
    # further). Counters candidates that all look alike; the pooling makes it ask for different
    # layout and colour, not pixel noise. 0 = off; costs a third decoder pass per step.
    diversity: float = 0.0
    diversity_target: float = 0.1
    diversity_pool: int = 4
    # Not in the paper: LPIPS-Alex (frozen, the `inpaint metric-weights` weights) between the
    # reconstructive path's output and the photo, and between the generative path's composite and
    # the photo after perceptual_pool x perceptual_pool average pooling (losses.perceptual_loss): the
    # hole's layout and look at a coarser scale, finer detail left free to differ. 0 = off.
    perceptual: float = 0.0
    perceptual_pool: int = 2
    # Fixed prior of the reconstructive path: std grows linearly with the hole's share of the image.
    prior_std_min: float = 0.5
    prior_std_max: float = 1.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check(getattr(self, f.name) >= 0, f"loss.{f.name} must be >= 0")
        _check(0 < self.prior_std_min <= self.prior_std_max, "need 0 < loss.prior_std_min <= prior_std_max")
        _check(self.anchor_pool >= 1, "loss.anchor_pool must be >= 1")
        _check(self.diversity_pool >= 1, "loss.diversity_pool must be >= 1")
        _check(self.perceptual_pool >= 1, "loss.perceptual_pool must be >= 1")


@dataclass(frozen=True)
class OptimConfig:
    lr_g: float = 1e-4
    lr_d: float = 4e-4
    beta1: float = 0.0
    beta2: float = 0.99
    schedule: str = "constant"  # or "cosine" / "linear" decay to 0 at the last step
    warmup_steps: int = 0
    ema_decay: float = 0.999  # ramped up as min(decay, (1 + step) / (10 + step))
    grad_clip: float = 0.0  # 0 = off

    def __post_init__(self) -> None:
        _check(self.lr_g >= 0 and self.lr_d >= 0, "learning rates must be >= 0")
        _check(0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, "betas must be in [0, 1)")
        _check(self.schedule in LR_SCHEDULES, f"optim.schedule must be one of {LR_SCHEDULES}")
        _check(self.warmup_steps >= 0, "optim.warmup_steps must be >= 0")
        _check(0 <= self.ema_decay < 1, "optim.ema_decay must be in [0, 1)")
        _check(self.grad_clip >= 0, "optim.grad_clip must be >= 0")


@dataclass(frozen=True)
class RunConfig:
    """Hardware, logging and checkpoints."""

    device: str = "auto"  # auto / cpu / cuda (under torchrun: the local rank's GPU)
    # bf16 autocast: "auto" = on CUDA and on CPUs with bf16 matrix units (AMX); "off" = float32
    amp: str = "auto"
    # Layout of the networks' tensors: "auto" = channels_last on a CPU (oneDNN skips reorders), else as
    # PyTorch makes them.
    memory_format: str = "auto"
    compile: bool = False  # torch.compile the networks
    threads: int = 0  # torch CPU threads per process, 0 = torch's default
    log_every: int = 50
    sample_every: int = 1000
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    tensorboard: bool = True  # when the tensorboard package is installed
    sample_images: int = 6  # fixed validation images in the sample grid
    sample_candidates: int = 4
    val_data: str | None = None  # folder of validation images for the grid; default: training images
    # A training checkpoint (or run folder: its newest) whose network weights a new run starts from;
    # tensors whose name and shape match are taken, the rest keep their fresh initialisation, and
    # the optimisers start fresh. For fine-tuning (another resolution, data set or model option).
    # A release file (.safetensors, e.g. checkpoints/pluralistic_faces.safetensors) gives the
    # generator's inference weights only: the posterior, discriminators and optimisers start fresh.
    init: str | None = None
    init_skip: tuple[str, ...] = ()  # networks run.init leaves fresh, e.g. discriminator

    def __post_init__(self) -> None:
        _check(self.amp in AMP_MODES, f"run.amp must be one of {AMP_MODES}")
        _check(self.memory_format in MEMORY_FORMATS, f"run.memory_format must be one of {MEMORY_FORMATS}")
        for name in ("log_every", "sample_every", "checkpoint_every", "keep_checkpoints"):
            _check(getattr(self, name) >= 1, f"run.{name} must be >= 1")
        _check(self.threads >= 0, "run.threads must be >= 0")
        _check(self.sample_images >= 1 and self.sample_candidates >= 1, "run.sample_* must be >= 1")


@dataclass(frozen=True)
class GanConfig:
    """The unconditional GAN of the latent-search engine (engine = "latent"); other engines ignore it.

    The generator maps z, uniform in [-1, 1]^z_dim, to a data.resolution image (a power of two).
    """

    objective: str = "dcgan"  # "dcgan" (non-saturating BCE, BN critic) or "wgan-gp" (critic w/o BN)
    z_dim: int = 100
    g_channels: int = 48  # the generator's last hidden width, doubling per level upwards
    d_channels: int = 48  # the discriminator's first width, doubling per level downwards
    critic_steps: int = 0  # discriminator updates per generator update; 0 = 1 for dcgan, 5 for wgan-gp
    gp_weight: float = 10.0  # wgan-gp: gradient penalty weight (Gulrajani et al. 2017)
    drift: float = 0.001  # wgan-gp: drift * D(real)^2 keeps critic values near 0 (Karras et al. 2018)
    sample_steps: int = 100  # latent-search steps behind each sample grid's fills

    def __post_init__(self) -> None:
        _check(self.objective in GAN_OBJECTIVES, f"gan.objective must be one of {GAN_OBJECTIVES}")
        _check(self.z_dim >= 1, "gan.z_dim must be >= 1")
        _check(min(self.g_channels, self.d_channels) >= 4, "gan.g_channels / d_channels must be >= 4")
        _check(self.critic_steps >= 0, "gan.critic_steps must be >= 0")
        _check(self.gp_weight >= 0 and self.drift >= 0, "gan.gp_weight / drift must be >= 0")
        _check(self.sample_steps >= 0, "gan.sample_steps must be >= 0")

    @property
    def critic_updates(self) -> int:
        if self.critic_steps:
            return self.critic_steps
        return 5 if self.objective == "wgan-gp" else 1


def _default_model() -> PluralisticConfig:
    return PluralisticConfig(spectral_norm=True)


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on."""

    engine: str = "pluralistic"
    steps: int = 100_000
    batch_size: int = 8  # per process; the global batch is batch_size * world size
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    masks: MaskConfig = field(default_factory=MaskConfig)
    model: PluralisticConfig = field(default_factory=_default_model)
    disc: DiscConfig = field(default_factory=DiscConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)
    restore: RestoreConfig = field(default_factory=RestoreConfig)  # engine "restore" only
    gan: GanConfig = field(default_factory=GanConfig)

    def __post_init__(self) -> None:
        _check(self.steps >= 1, f"steps must be >= 1, got {self.steps}")
        _check(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}")
        _check(0 <= self.seed < 2**32, "seed must be in [0, 2**32)")
        stride = self.model.stride
        _check(
            self.data.resolution % stride == 0,
            f"data.resolution {self.data.resolution} must be a multiple of {stride} for this model",
        )
        res = self.data.resolution
        _check(
            self.engine != "latent" or res & (res - 1) == 0,
            f"data.resolution {res} must be a power of two for the latent engine's GAN",
        )
        local = int(self.data.resolution * self.disc.local_size)
        _check(
            not self.disc.local or local >= 2 ** len(self.disc.channels),
            f"local crop of {local} px is too small for {len(self.disc.channels)} discriminator levels",
        )

    def to_dict(self) -> dict[str, Any]:
        return _to_jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build from a (partial) dict: missing keys keep TrainConfig()'s defaults."""
        if not isinstance(d, dict):
            raise ValueError("config must be a JSON object")
        return _build(cls, _merge(cls().to_dict(), d), "")

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        try:
            d = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read config {path}: {exc}") from None
        if not isinstance(d, dict):
            raise ValueError(f"config {path} is not a JSON object")
        return cls.from_dict(d)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return out


def _to_jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_to_jsonable(v) for v in x]
    return x


def _build(cls: type, d: dict[str, Any], prefix: str) -> Any:
    if not isinstance(d, dict):
        raise ValueError(f"{prefix or 'config'} must be a JSON object")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - known
    if unknown:
        names = ", ".join(prefix + k for k in sorted(unknown))
        raise ValueError(f"unknown setting(s) {names}; known: {', '.join(sorted(known))}")
    kwargs = {}
    for key, value in d.items():
        kind = hints[key]
        if dataclasses.is_dataclass(kind):
            kwargs[key] = _build(kind, value, f"{prefix}{key}.")
        else:
            kwargs[key] = _coerce(kind, value, prefix + key)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"{prefix or 'config'}: {exc}") from None


def _coerce(kind: Any, value: Any, name: str) -> Any:
    """Check a JSON value against a field type; strings (from --set) are parsed."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, name)
    if origin is tuple:
        if isinstance(value, str):
            value = [v for v in value.replace(" ", "").split(",") if v]
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{name} must be a list, got {value!r}")
        return tuple(_coerce(args[0], v, name) for v in value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on", "false", "no", "0", "off"):
            return value.lower() in ("true", "yes", "1", "on")
        raise ValueError(f"{name} must be true or false, got {value!r}")
    if kind is int:
        if isinstance(value, bool):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        try:
            if isinstance(value, str):
                value = value.replace("_", "")
            f = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an integer, got {value!r}") from None
        if f != int(f):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        return int(f)
    if kind is float:
        if isinstance(value, bool):
            raise ValueError(f"{name} must be a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {value!r}")
        return value
    raise ValueError(f"{name}: unsupported setting type {kind}")


def apply_overrides(base: dict[str, Any], assignments: list[str]) -> dict[str, Any]:
    """Apply `key=value` strings (dotted keys for sections) to a config dict; returns a new dict."""
    out = json.loads(json.dumps(base))
    for text in assignments:
        if "=" not in text:
            raise ValueError(f"--set expects key=value, got {text!r}")
        key, value = text.split("=", 1)
        set_key(out, key.strip(), value.strip())
    return out


def set_key(d: dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted key in a nested config dict; unknown keys are reported by TrainConfig.from_dict."""
    parts = key.split(".")
    node = d
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ValueError(f"{key}: {part} is not a section")
        node = child
    node[parts[-1]] = value


def flat_items(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'loss.kl_rec': 20.0, ...} for comparing two configs."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat_items(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def check_resume_changes(saved: TrainConfig, new: TrainConfig) -> list[str]:
    """Keys that differ between the saved and the new config; raises if one may not change on resume."""
    a, b = flat_items(saved.to_dict()), flat_items(new.to_dict())
    changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    frozen = [k for k in changed if k not in RESUMABLE_KEYS]
    if frozen:
        raise ValueError(
            "a resumed run keeps its settings; these differ from runs config.json: "
            + ", ".join(f"{k} ({a.get(k)!r} -> {b.get(k)!r})" for k in frozen)
        )
    return changed
