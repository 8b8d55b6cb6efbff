"""Inference: the engine interface, the registry and checkpoints.

from inpaint_gui.engine import load_engine
engine = load_engine("guided", checkpoint=None, device="auto")
candidates = engine.inpaint(image, mask, n=6, seed=0)
"""

from inpaint_gui.engine.base import Cancelled, Candidate, Engine
from inpaint_gui.engine.registry import (
    EngineInfo,
    available_engines,
    checkpoint_engine,
    describe_engines,
    load_engine,
)

__all__ = [
    "Cancelled",
    "Candidate",
    "Engine",
    "EngineInfo",
    "available_engines",
    "checkpoint_engine",
    "describe_engines",
    "load_engine",
]
