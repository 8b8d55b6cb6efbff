"""Release checkpoints: inference weights and a metadata block in one safetensors file.

safetensors stores raw tensors and a JSON header, so loading never runs pickled code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inpaint_gui.core.files import atomic_write

if TYPE_CHECKING:  # torch is imported lazily: menus list checkpoints before torch has loaded
    import torch
    from torch import nn

RELEASE_FORMAT = "inpaint-gui-release"
FORMAT_VERSION = "1"
SCENES_NAME = "pluralistic_scenes.safetensors"
FACES_NAME = "pluralistic_faces.safetensors"
LATENT_FACES_NAME = "latent_faces.safetensors"  # the latent-search engine's default
DEFECTS_NAME = "defects_synthetic.safetensors"  # the trained defect detector (engine/defects.py)
CHECKPOINT_DIR_ENV = "INPAINT_CHECKPOINT_DIR"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class ReleaseInfo:
    """What a release checkpoint says about itself."""

    engine: str
    model_config: dict[str, Any]
    resolution: int  # training crop size in pixels
    dataset: str
    steps: int
    evaluation: dict[str, Any] = field(default_factory=dict)
    notes: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ReleaseInfo:
        """Parse and check the metadata: ValueError names the first entry of a wrong type or range."""
        d = json.loads(text)
        if not isinstance(d, dict):
            raise ValueError("metadata is not a JSON object")
        info = cls(**d)
        info.check()
        return info

    def check(self) -> None:
        """Types and ranges of every entry, so nothing downstream meets a string for a number."""
        for name, kind in (
            ("engine", str),
            ("model_config", dict),
            ("dataset", str),
            ("evaluation", dict),
            ("notes", str),
        ):
            value = getattr(self, name)
            if not isinstance(value, kind):
                raise ValueError(f"{name} must be a {_KIND_WORDS[kind]}, got {value!r:.60}")
        if not self.engine:
            raise ValueError("engine is empty")
        _check_int("resolution", self.resolution, MIN_RESOLUTION, MAX_RESOLUTION)
        _check_int("steps", self.steps, 0, 10**12)


#: Training crop sizes a release may name (the pluralistic engine fills regions at most this size).
MIN_RESOLUTION, MAX_RESOLUTION = 8, 8192
_KIND_WORDS = {str: "string", dict: "JSON object"}


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r:.60}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")


def checkpoint_dir() -> Path:
    """Where shipped checkpoints live: $INPAINT_CHECKPOINT_DIR, else the project's checkpoints/."""
    env = os.environ.get(CHECKPOINT_DIR_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "checkpoints"


def default_checkpoint() -> Path | None:
    """The default (natural scenes) checkpoint, or None when it is not installed."""
    path = checkpoint_dir() / SCENES_NAME
    return path if path.is_file() else None


def missing_checkpoint_message() -> str:
    return (
        f"no pluralistic checkpoint found ({checkpoint_dir() / SCENES_NAME} is missing): "
        "train one with `inpaint train` and `inpaint export`, or pass --checkpoint PATH"
    )


def list_checkpoints(folder: Path | None = None) -> list[tuple[Path, ReleaseInfo]]:
    """Readable release checkpoints in folder (default: checkpoint_dir()), sorted by name."""
    folder = checkpoint_dir() if folder is None else folder
    out = []
    for path in sorted(folder.glob("*.safetensors")):
        try:
            out.append((path, read_release_info(path)))
        except CheckpointError:
            continue
    return out


def save_release(
    path: str | Path, state_dict: dict[str, torch.Tensor], info: ReleaseInfo, half: bool = True
) -> None:
    """Write weights (float16 when half) and info atomically: a temp file, then os.replace."""
    from safetensors.torch import save

    path = Path(path)
    tensors = {}
    for key, value in state_dict.items():
        t = value.detach().to("cpu")
        if half and t.is_floating_point():
            t = t.half()
        tensors[key] = t.contiguous().clone()
    meta = {"format": RELEASE_FORMAT, "format_version": FORMAT_VERSION, "info": info.to_json()}
    path.parent.mkdir(parents=True, exist_ok=True)
    # safetensors' save_file creates its file owner-only (0600); bytes through atomic_write get the
    # permissions of any file the user writes.
    with atomic_write(path) as file:
        file.write(save(tensors, metadata=meta))


def read_release_info(path: str | Path) -> ReleaseInfo:
    """The metadata block alone, without reading the weights (and without importing torch)."""
    from safetensors import safe_open

    path = _existing(path)
    _refuse_pickle(path)
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
    except Exception as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({_short(exc)})") from None
    return _parse_meta(path, meta)


def load_release(
    path: str | Path, device: str | torch.device = "cpu", engine: str | None = None
) -> tuple[dict[str, torch.Tensor], ReleaseInfo]:
    """Weights as float32 tensors on device, and the checkpoint's info. With engine, a checkpoint
    made for another engine is refused before its weights are read."""
    import torch
    from safetensors.torch import load_file

    info = read_release_info(path)
    path = Path(path)
    if engine is not None and info.engine != engine:
        raise CheckpointError(f"{path}: checkpoint is for engine {info.engine!r}, not {engine!r}")
    try:
        tensors = load_file(str(path), device="cpu")
    except Exception as exc:
        raise CheckpointError(f"{path}: truncated or corrupt weights ({_short(exc)})") from None
    out = {}
    for key, t in tensors.items():
        if not t.is_floating_point():  # release weights are all floating point; this is not one
            dtype = str(t.dtype).removeprefix("torch.")
            raise CheckpointError(f"{path}: tensor {key!r} holds {dtype} values, not floating-point weights")
        t = t.float()
        if not torch.isfinite(t).all():
            raise CheckpointError(f"{path}: tensor {key!r} holds NaN or infinite values")
        out[key] = t.to(device)
    return out, info


#: The largest network a checkpoint may ask for: 200 M parameters, 800 MB as float32 (the shipped
#: networks have 0.03-2.2 M).
MAX_PARAMETERS = 200_000_000
#: The most working memory one forward pass at the size the engine runs at may ask for, counted as the
#: sum of every layer's output (an upper bound: inference frees most of them on the way). The shipped
#: networks need 0.01-0.19 GB by this count; a pluralistic network trained at 512 px, filling at
#: 1024 px, 1.4 GB.
MAX_ACTIVATION_BYTES = 4 * 10**9


def build_within_budget(
    path: str | Path,
    build: Callable[[], nn.Module],
    probe: Callable[[nn.Module], object],
    work: str,
    scale: float = 1.0,
    pixels: int | Callable[[nn.Module], int] | None = None,
) -> nn.Module:
    """The network that build() makes, checked against the parameter and activation budgets first.

    build() runs on PyTorch's meta device, which allocates nothing, and probe(network) runs one
    forward pass there as the engine will (its batch, at the size it fills at: `work` says which,
    for the message); every layer's output is counted. A fully convolutional network's outputs grow
    with the pixels, so probe may run at 1/scale of the real pixels and the count is multiplied by
    scale (meta tensors cost no memory, but a chunked layer still loops over its chunks). A
    checkpoint whose metadata asks for too much, or for a network that cannot be built, raises
    CheckpointError naming the file.
    pixels: the most pixels, times the batch, that any layer's output holds at the real size (the
    input's, for a network that never makes its maps larger than its input), or a function of the
    meta-device network that gives them. A bound from the layers' widths alone (output_bound) then
    stands in for the pass when it is within the budget: even a meta pass loads PyTorch's compiler
    stack for its elementwise operations, 2 s and 75 MB of the engine's load here.
    Returns the meta-device network (its state_dict gives the names and shapes the weights must
    have); the caller builds the real one.
    """
    import torch

    path = Path(path)
    try:
        with torch.device("meta"):
            network = build()
    except (TypeError, ValueError, KeyError, RuntimeError, OverflowError) as exc:
        raise CheckpointError(f"{path}: bad architecture settings in metadata ({_short(exc)})") from None
    count = sum(p.numel() for p in network.parameters())
    if count > MAX_PARAMETERS:
        raise CheckpointError(
            f"{path}: its metadata asks for a network of {count:,} parameters "
            f"({count * 4 / 1e9:.1f} GB); the limit is {MAX_PARAMETERS:,}"
        )
    if pixels is not None:
        most = pixels(network) if callable(pixels) else pixels
        if output_bound(network, most) <= MAX_ACTIVATION_BYTES:
            return network
    try:
        total = output_bytes(network, probe)
    except (TypeError, ValueError, RuntimeError, IndexError, OverflowError) as exc:
        raise CheckpointError(f"{path}: bad architecture settings in metadata ({_short(exc)})") from None
    total = int(total * scale)
    if total > MAX_ACTIVATION_BYTES:
        raise CheckpointError(
            f"{path}: its metadata asks for a network that needs about {total / 1e9:.1f} GB of working "
            f"memory {work}; the limit is {MAX_ACTIVATION_BYTES / 1e9:.0f} GB"
        )
    return network


def output_bytes(network: nn.Module, probe: Callable[[nn.Module], object]) -> int:
    """Bytes of every leaf layer's float32 output in probe(network), run on the meta device
    (network must live there)."""
    import torch

    total = 0

    def count_output(module: nn.Module, inputs: object, output: object) -> None:
        nonlocal total
        for t in output if isinstance(output, (tuple, list)) else (output,):
            if isinstance(t, torch.Tensor):
                total += t.numel() * 4  # float32

    leaves = [m for m in network.modules() if not any(True for _ in m.children())]
    hooks = [m.register_forward_hook(count_output) for m in leaves]
    try:
        with torch.device("meta"), torch.no_grad():
            probe(network)
    finally:
        for hook in hooks:
            hook.remove()
    return total


def output_bound(network: nn.Module, pixels: int) -> int:
    """Bytes of every leaf layer's float32 output at most (output_bytes), when none holds more
    than `pixels` pixels (times the batch): each leaf counted at its widest side (channels or
    features, in or out, and its weights' first two sides, for a layer of its own making), and a
    leaf without one (an activation, a resampling) at the network's widest."""
    widths, bare = [], 0
    for module in network.modules():
        if any(True for _ in module.children()):
            continue
        sides = [
            v
            for v in (getattr(module, a, None) for a in _WIDTHS)
            if isinstance(v, int) and not isinstance(v, bool)
        ]
        sides += [n for p in module.parameters(recurse=False) for n in p.shape[:2]]
        if sides:
            widths.append(max(sides))
        else:
            bare += 1
    widest = max(widths, default=1)
    return (sum(widths) + bare * widest) * pixels * 4


_WIDTHS = ("in_channels", "out_channels", "in_features", "out_features", "num_features", "num_channels")


def check_weights(
    path: str | Path, expected: dict[str, torch.Tensor], state: dict[str, torch.Tensor]
) -> None:
    """CheckpointError unless state has exactly expected's names, shapes and kinds of tensor
    (expected may live on the meta device)."""
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    common = set(expected) & set(state)
    wrong = sorted(k for k in common if expected[k].shape != state[k].shape)
    kind = sorted(k for k in common if expected[k].is_floating_point() != state[k].is_floating_point())
    parts = []
    labels = ("missing", "unexpected", "wrong shape", "wrong type")
    for label, keys in zip(labels, (missing, unexpected, wrong, kind), strict=True):
        if keys:
            more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
            parts.append(f"{label}: {', '.join(keys[:3])}{more}")
    if parts:
        raise CheckpointError(
            f"{path}: weights do not match the architecture in its metadata ({'; '.join(parts)})"
        )


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: checkpoint file not found")
    if not path.is_file():
        raise CheckpointError(f"{path}: not a file")
    return path


#: How pickle files start: protocol 2-5 pickles, and the zip archives torch.save writes.
_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"PK\x03\x04")


def _refuse_pickle(path: Path) -> None:
    """A pickle can run code when loaded; say so in our words, before any library gives advice."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({_short(exc)})") from None
    # A safetensors file starts with its header's length (8 bytes, any values), then "{".
    if head[8:9] != b"{" and head.startswith(_PICKLE_MAGIC):
        raise CheckpointError(
            f"{path}: not a safe checkpoint: it is a pickle (e.g. a torch .pt file), which can run code "
            "when loaded, so it is never opened; use a .safetensors release written by `inpaint export`"
        )


def _parse_meta(path: Path, meta: dict[str, str]) -> ReleaseInfo:
    if meta.get("format") != RELEASE_FORMAT:
        raise CheckpointError(f"{path}: not an inpaint-gui release checkpoint (no '{RELEASE_FORMAT}' header)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {meta.get('format_version')!r} is not supported "
            f"(this program reads version {FORMAT_VERSION})"
        )
    try:
        return ReleaseInfo.from_json(meta["info"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: bad metadata ({_short(exc)})") from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
