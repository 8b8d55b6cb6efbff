"""The inference worker: a QObject that lives in the generation thread and owns the engine.

Nothing here touches a widget or a QPixmap. The engine, and torch with it, is
imported inside the slots, so importing this module stays cheap; the slots run
in the worker thread, so that is where torch gets imported.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, Signal, Slot

if TYPE_CHECKING:
    from inpaint_gui.engine import Candidate, Engine

log = logging.getLogger(__name__)

#: Engine settings that the Settings dialog may leave at "Engine default": each request starts from
#: the loaded engine's own values of these, then applies the request's options.
DEFAULTED = ("context", "blend", "detail", "variety")


@dataclass(frozen=True)
class PackedMask:
    """A snapshot of a bool mask kept as the crop around its True pixels: cheap to take in the GUI thread."""

    shape: tuple[int, int]
    top: int
    left: int
    crop: NDArray[np.bool_]  # a copy, never a view of the caller's mask

    @classmethod
    def pack(cls, mask: NDArray[np.bool_]) -> PackedMask:
        # Scanning for the box reads the mask once; a full copy would also fault in a new buffer.
        rows = np.flatnonzero(mask.any(axis=1))
        if rows.size == 0:
            return cls((mask.shape[0], mask.shape[1]), 0, 0, np.zeros((0, 0), np.bool_))
        cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
        top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        return cls((mask.shape[0], mask.shape[1]), top, left, mask[top:bottom, left:right].copy())

    def unpack(self) -> NDArray[np.bool_]:
        full = np.zeros(self.shape, np.bool_)
        h, w = self.crop.shape
        full[self.top : self.top + h, self.left : self.left + w] = self.crop
        return full


@dataclass
class GenerationRequest:
    """Everything the worker needs for one request; crosses the thread boundary by a queued signal."""

    request_id: int
    image: NDArray[np.uint8]  # (H, W, 3) RGB: a copy, or the caller's frozen (read-only) array
    # (H, W), True = fill: packed when it is a valid mask (unpacked in the worker), else as given
    # so the engine reports what is wrong with it.
    mask: NDArray[np.bool_] | PackedMask
    n: int
    seed: int
    near: int | None = None
    spread: float = 0.25
    # Engine settings (Engine.configure's options; each engine takes those it has), e.g. patch_size,
    # and context / blend / detail where they differ from the engine's defaults.
    options: dict[str, Any] = field(default_factory=dict)
    # Set from the GUI thread to stop this request between candidates.
    cancel_event: threading.Event = field(default_factory=threading.Event)


def readable_error(exc: BaseException) -> str:
    """A one-line message for the user: the text of expected errors, the type too for unexpected ones."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    # ValueError covers InputError and the registry's "unknown engine ..." messages.
    if isinstance(exc, (ValueError, FileNotFoundError, PermissionError)) and text:
        return text
    if isinstance(exc, MemoryError):
        return "Out of memory: try fewer candidates or a smaller image"
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


class GenerationWorker(QObject):
    """Loads an engine and runs requests, one at a time, in the thread it was moved to."""

    engine_ready = Signal(str)
    engine_failed = Signal(str, str)
    candidate_ready = Signal(int, object, int, int)  # request_id, Candidate, index, total
    search_progress = Signal(int, int, int)  # request_id, step, steps: engines that search (latent)
    search_preview = Signal(int, int, int, object)  # request_id, step, steps, list of small RGB fills
    request_finished = Signal(int)
    request_failed = Signal(int, str)
    request_cancelled = Signal(int)

    def __init__(self, torch_threads: int | None = None) -> None:
        """torch_threads: intra-op threads for torch engines; None = one per CPU core but one,
        so the GUI thread keeps a core (on 2 cores this was also the faster setting, see
        bench/gui_heartbeat.py). An OMP_NUM_THREADS set by the user is left alone."""
        super().__init__()
        self._engine: Engine | None = None
        self._engine_name = ""
        self._engine_error = ""
        self._defaults: dict[str, Any] = {}
        self._torch_threads = torch_threads

    @Slot(str, object, str)
    def load_engine(self, name: str, checkpoint: Any, device: str) -> None:
        """Build the named engine, replacing the current one; report by engine_ready / engine_failed."""
        start = time.perf_counter()
        try:
            from inpaint_gui.engine import load_engine

            engine = load_engine(name, checkpoint, device)
        except Exception as exc:
            log.exception("loading engine %r failed", name)
            self._engine, self._engine_name = None, name
            self._engine_error = readable_error(exc)
            self.engine_failed.emit(name, self._engine_error)
            return
        self._engine, self._engine_name, self._engine_error = engine, name, ""
        self._defaults = {k: getattr(engine, k) for k in DEFAULTED if k in engine.options}
        self._limit_torch_threads()
        log.info("engine %r ready in %.2f s", name, time.perf_counter() - start)
        self.engine_ready.emit(name)

    @Slot(object)
    def generate(self, request: GenerationRequest) -> None:
        """Run one request, streaming candidates; always ends with exactly one terminal signal."""
        rid = request.request_id
        if request.cancel_event.is_set():
            # Superseded or cancelled while waiting in the queue: do no work at all.
            self.request_cancelled.emit(rid)
            return
        if self._engine is None:
            if self._engine_error:
                msg = f"Engine {self._engine_name!r} could not be loaded: {self._engine_error}"
            else:
                msg = "No engine is loaded yet"
            self.request_failed.emit(rid, msg)
            return

        from inpaint_gui.engine import Cancelled

        def on_candidate(candidate: Candidate, index: int, total: int) -> None:
            self.candidate_ready.emit(rid, candidate, index, total)

        extra: dict[str, Any] = {}
        offered = self._engine.request_options
        if "on_step" in offered:
            extra["on_step"] = lambda step, total, _loss: self.search_progress.emit(rid, step, total)
        if "on_preview" in offered:
            extra["on_preview"] = lambda step, total, fills: self.search_preview.emit(rid, step, total, fills)
        start = time.perf_counter()
        try:
            self._configure(request.options)
            self._engine.inpaint(
                request.image,
                request.mask.unpack() if isinstance(request.mask, PackedMask) else request.mask,
                n=request.n,
                seed=request.seed,
                should_cancel=request.cancel_event.is_set,
                on_candidate=on_candidate,
                near=request.near,
                spread=request.spread,
                **extra,
            )
        except Cancelled:
            log.info("request %d cancelled after %.2f s", rid, time.perf_counter() - start)
            self.request_cancelled.emit(rid)
            return
        except Exception as exc:
            log.exception("request %d failed", rid)
            self.request_failed.emit(rid, readable_error(exc))
            return
        finally:
            # The request's arrays are copies owned by it; drop them now, not whenever the
            # queued signal's argument is collected.
            request.image = request.mask = None  # type: ignore[assignment]
        log.info("request %d done in %.2f s", rid, time.perf_counter() - start)
        self.request_finished.emit(rid)

    def _configure(self, options: dict[str, Any]) -> None:
        """The engine's defaults, then the request's options; a detail mode the engine lacks is skipped."""
        assert self._engine is not None
        engine = self._engine
        engine.configure(self._defaults)
        chosen = dict(options)
        if chosen.get("detail") not in (None, *engine.detail_modes):
            del chosen["detail"]
        engine.configure(chosen)

    def _limit_torch_threads(self) -> None:
        """Leave the GUI thread a core; only if the engine brought torch in (classical ones do not)."""
        torch = sys.modules.get("torch")
        if torch is None:
            return
        if self._torch_threads is None and "OMP_NUM_THREADS" in os.environ:
            return
        threads = self._torch_threads or max(1, (os.cpu_count() or 2) - 1)
        # Called here, in the worker thread: OpenMP's thread count is a per-thread setting.
        torch.set_num_threads(threads)
        log.debug("torch uses %d intra-op threads", threads)

    @Slot()
    def release(self) -> None:
        """Drop the engine (and its model memory); called in the worker thread before it stops."""
        self._engine = None
