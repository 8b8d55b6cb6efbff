"""The toolbar's engine box entries: every engine, and one entry per installed checkpoint of the
engines that need one. Plain data, no widgets: listing them imports no torch."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from inpaint_gui.engine import EngineInfo, checkpoint_engine
from inpaint_gui.engine.checkpoint import (
    FACES_NAME,
    LATENT_FACES_NAME,
    SCENES_NAME,
    CheckpointError,
    ReleaseInfo,
    checkpoint_dir,
    list_checkpoints,
    read_release_info,
)
from inpaint_gui.ui.settings import list_engines

log = logging.getLogger(__name__)

FALLBACK_ENGINE = "patchmatch"
LAST_RESORT_ENGINE = "telea"  # when PatchMatch itself cannot load
_KINDS = {SCENES_NAME: "scenes", FACES_NAME: "faces", LATENT_FACES_NAME: "faces"}
_DEFAULTS = (SCENES_NAME, LATENT_FACES_NAME)  # the file an engine loads with no checkpoint given


@dataclass(frozen=True)
class EngineChoice:
    """One entry of the toolbar's engine box: an engine and the checkpoint it loads (None = default)."""

    name: str
    checkpoint: str | None
    label: str
    enabled: bool = True
    tooltip: str = ""


def missing_network_note(engines: Sequence[EngineInfo], active: str) -> str:
    """What the user should know when the photo network is not installed; "" when it is."""
    if any(e.name == "pluralistic" and e.available for e in engines):
        return ""
    if active == FALLBACK_ENGINE:
        what = "PatchMatch, which copies texture from the rest of the photo"
    else:
        what = f"{active}, which blurs the hole and gives one fill"
    return f"No photo network is installed, so holes are filled with {what}."


def engine_choices(engines: Sequence[EngineInfo], extra: str | None = None) -> list[EngineChoice]:
    """The engine box's entries: an engine that needs a checkpoint gets one per installed release
    (its default, the scenes one, first), plus extra (a file chosen in Settings) when that is not
    among them; every other engine gets one entry."""
    out: list[EngineChoice] = []
    for info in engines:
        if info.needs_checkpoint:
            out.extend(_checkpoint_choices(info, extra))
        else:
            out.append(EngineChoice(info.name, None, info.label, info.available, info.reason))
    return out


def same_checkpoint(a: str | None, b: str | None) -> bool:
    """Whether two checkpoint settings load the same file (None and the default file's path do)."""
    return _normalised(a) == _normalised(b)


def _checkpoint_choices(info: EngineInfo, extra: str | None) -> list[EngineChoice]:
    try:
        releases = [(p, r) for p, r in list_checkpoints() if r.engine == checkpoint_engine(info.name)]
    except OSError as exc:  # an unreadable folder leaves the default entry, with its reason
        log.warning("cannot list checkpoints in %s: %s", checkpoint_dir(), exc)
        releases = []
    default = next((pr for pr in releases if pr[0].name in _DEFAULTS), None)
    # describe_engines decides whether the default loads; its entry keeps following the default (None).
    if default is None or not info.available:
        label = _label(info, default[0]) if default is not None else info.label
        out = [EngineChoice(info.name, None, label, info.available, info.reason)]
    else:
        out = [EngineChoice(info.name, None, _label(info, default[0]), True, _describe(*default))]
    others = [pr for pr in releases if pr is not default]
    others.sort(key=lambda pr: (pr[0].name != FACES_NAME, pr[0].name))  # faces, then the rest by name
    out += [EngineChoice(info.name, str(p), _label(info, p), True, _describe(p, r)) for p, r in others]
    if extra and not any(same_checkpoint(extra, c.checkpoint) for c in out):
        try:
            tip, ok = _describe(Path(extra), read_release_info(extra)), True
        except CheckpointError as exc:
            tip, ok = str(exc), False
        out.append(EngineChoice(info.name, extra, _label(info, Path(extra)), ok, tip))
    return out


def needs_checkpoint(name: str) -> bool:
    return any(info.name == name and info.needs_checkpoint for info in list_engines())


def _label(info: EngineInfo, path: Path) -> str:
    return f"{info.name.capitalize()}: {_KINDS.get(path.name, path.stem)}"


def _describe(path: Path, info: ReleaseInfo) -> str:
    return f"{info.dataset} · {info.resolution}×{info.resolution} px · {info.steps:,} steps\n{path}"


def _normalised(checkpoint: str | None) -> str | None:
    if not checkpoint:
        return None
    try:
        path = Path(checkpoint).expanduser().resolve()
        default = (checkpoint_dir() / SCENES_NAME).resolve()
    except (OSError, RuntimeError, ValueError):  # a hand-edited setting; compare it as written
        return str(checkpoint)
    return None if path == default else str(path)
