"""Engine names -> builders. Builders import torch lazily so classical engines start instantly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inpaint_gui.engine.base import Engine

Builder = Callable[..., Engine]


@dataclass(frozen=True)
class EngineInfo:
    name: str
    label: str
    needs_checkpoint: bool
    available: bool
    reason: str  # why it is not available; "" when it is


def _telea(checkpoint: str | Path | None, device: str) -> Engine:
    from inpaint_gui.engine.classical import TeleaEngine

    _no_checkpoint("telea", checkpoint, device)
    return TeleaEngine()


def _navier_stokes(checkpoint: str | Path | None, device: str) -> Engine:
    from inpaint_gui.engine.classical import NavierStokesEngine

    _no_checkpoint("navier-stokes", checkpoint, device)
    return NavierStokesEngine()


def _patchmatch(checkpoint: str | Path | None, device: str) -> Engine:
    from inpaint_gui.engine.exemplar import PatchMatchEngine

    _no_checkpoint("patchmatch", checkpoint, device)
    engine = PatchMatchEngine()
    engine.warm_up()  # so the first fill does not wait for the compiler
    return engine


def _pluralistic(checkpoint: str | Path | None, device: str) -> Engine:
    from inpaint_gui.core import detail
    from inpaint_gui.engine.pluralistic import PluralisticEngine

    engine = PluralisticEngine.from_checkpoint(checkpoint, device=device)
    detail.warm_up()  # the full-resolution detail kernel, so the first fill does not compile it
    return engine


def _guided(checkpoint: str | Path | None, device: str) -> Engine:
    from inpaint_gui.engine.face_router import FaceRoutedEngine

    # Holes on faces go to the faces network, when it is installed (engine/face_router.py).
    engine = FaceRoutedEngine.from_checkpoints(checkpoint, device=device)
    engine.warm_up()  # the matcher, so the first fill does not wait for the compiler
    return engine


def _latent(checkpoint: str | Path | None, device: str) -> Engine:
    from inpaint_gui.engine.face_router import FramedLatentEngine

    # The search runs on the face's training frame when the hole touches a face (face_router.py).
    engine = FramedLatentEngine.from_checkpoint(checkpoint, device=device)
    engine.warm_up()  # so the first search does not pay for creating its kernels
    return engine


_BUILDERS: dict[str, tuple[str, bool, Builder]] = {
    # First: the default for photos (it beats patchmatch alone on eval/scenes: docs/decisions.md).
    "guided": ("Guided (network layout, photo texture)", True, _guided),
    "patchmatch": ("PatchMatch (from the photo)", False, _patchmatch),
    "pluralistic": ("Pluralistic (several fills)", True, _pluralistic),
    "telea": ("Telea (fast marching)", False, _telea),
    "navier-stokes": ("Navier-Stokes", False, _navier_stokes),
    "latent": ("Latent search (GAN)", True, _latent),
}


#: Engines that run another engine's release checkpoints: the guided engine runs a pluralistic network.
_CHECKPOINTS_OF = {"guided": "pluralistic"}


def checkpoint_engine(name: str) -> str:
    """The engine named in the release checkpoints that engine `name` loads (read_release_info)."""
    return _CHECKPOINTS_OF.get(name, name)


def available_engines() -> list[str]:
    """Registered engine names, the default first."""
    return list(_BUILDERS)


def load_engine(
    name: str = "patchmatch", checkpoint: str | Path | None = None, device: str = "auto"
) -> Engine:
    """Build an engine by name. checkpoint=None uses the default shipped checkpoint."""
    if not isinstance(name, str) or name not in _BUILDERS:
        raise ValueError(f"unknown engine {name!r:.60}; valid engines: {', '.join(_BUILDERS)}")
    if checkpoint is not None and not isinstance(checkpoint, (str, Path)):
        raise ValueError(f"checkpoint must be a path or None, got {checkpoint!r:.60}")
    if not isinstance(device, str):
        raise ValueError(f"device must be a name such as 'auto', 'cpu' or 'cuda', got {device!r:.60}")
    return _BUILDERS[name][2](checkpoint, device)


def describe_engines() -> list[EngineInfo]:
    """Every engine with whether it can be loaded now, for menus: cheap, imports no torch."""
    from inpaint_gui.engine.checkpoint import (
        LATENT_FACES_NAME,
        checkpoint_dir,
        default_checkpoint,
        missing_checkpoint_message,
    )

    out = []
    for name, (label, needs, _) in _BUILDERS.items():
        ok, reason = True, ""
        if name == "latent":
            if not (checkpoint_dir() / LATENT_FACES_NAME).is_file():
                ok, reason = (
                    False,
                    f"no latent-search checkpoint ({checkpoint_dir() / LATENT_FACES_NAME} is missing)",
                )
        elif needs and default_checkpoint() is None:
            ok, reason = False, missing_checkpoint_message()
        out.append(EngineInfo(name, label, needs, ok, reason))
    return out


def _no_checkpoint(name: str, checkpoint: str | Path | None, device: str) -> None:
    if checkpoint is not None:
        raise ValueError(f"engine {name!r} uses no checkpoint, but {checkpoint} was given")
    if device not in ("auto", "cpu"):
        raise ValueError(f"engine {name!r} runs on the CPU only, but device {device!r} was asked for")
