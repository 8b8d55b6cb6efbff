"""The GUI-thread side of background generation.

GenerationController owns one long-lived QThread with a GenerationWorker moved
into it. Requests cross to the worker by queued signals, stamped with increasing
ids; results come back as queued signals and only those of the latest request
are passed on. Cancellation is a threading.Event per request that the engine
polls between candidates (a busy worker runs no slots, so a slot could not stop it).

    controller = GenerationController(parent)
    controller.candidate_ready.connect(gallery_add)
    controller.start()
    controller.load_engine("telea", None, "auto")
    rid = controller.generate(image, mask, n=6, seed=1234)
    ...
    controller.shutdown()   # cancel, quit, wait: before the app exits
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from inpaint_gui.ui.worker import GenerationRequest, GenerationWorker, PackedMask

log = logging.getLogger(__name__)


class GenerationController(QObject):
    """Runs engine requests on a worker thread and forwards results of the current request.

    Signals of a request that a newer generate() superseded are dropped, its
    terminal signal included. After cancel(), the current request ends with
    request_cancelled once the worker has stopped, even if the engine managed
    to finish; candidates arriving after cancel() are dropped.
    """

    candidate_ready = Signal(int, object, int, int)  # request_id, Candidate, index, total
    search_progress = Signal(int, int, int)  # request_id, step, steps (a searching engine's progress)
    search_preview = Signal(int, int, int, object)  # request_id, step, steps, list of small RGB fills
    request_finished = Signal(int)  # request_id: all candidates delivered
    request_failed = Signal(int, str)  # request_id, readable message
    request_cancelled = Signal(int)
    engine_ready = Signal(str)  # engine name, after background load
    engine_failed = Signal(str, str)  # engine name, message
    busy_changed = Signal(bool)

    # Queued into the worker thread.
    _generate_requested = Signal(object)
    _load_requested = Signal(str, object, str)
    _release_requested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: GenerationWorker | None = None
        self._next_id = 1
        self._current: GenerationRequest | None = None  # the latest request, until it ends
        self._cancelled_id = 0  # current request cancel() was called on
        self._busy = False
        self._engine_name = ""
        self._shut_down = False
        self._stopping = False  # release and quit have been sent to the worker

    # ---- lifecycle -------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread (once); requests made before start() wait in the queue."""
        if self._thread is not None:
            return
        if self._shut_down:
            raise RuntimeError("GenerationController was shut down; make a new one")
        thread = QThread()
        thread.setObjectName("inpaint-generation")
        worker = GenerationWorker()
        worker.moveToThread(thread)
        self._generate_requested.connect(worker.generate)
        self._load_requested.connect(worker.load_engine)
        self._release_requested.connect(worker.release)
        worker.candidate_ready.connect(self._on_worker_candidate_ready)
        worker.request_finished.connect(self._on_worker_request_finished)
        worker.search_progress.connect(self._on_worker_search_progress)
        worker.search_preview.connect(self._on_worker_search_preview)
        worker.request_failed.connect(self._on_worker_request_failed)
        worker.request_cancelled.connect(self._on_worker_request_cancelled)
        worker.engine_ready.connect(self._on_worker_engine_ready)
        worker.engine_failed.connect(self._on_worker_engine_failed)
        thread.finished.connect(worker.deleteLater)
        self._thread, self._worker = thread, worker
        app = QCoreApplication.instance()
        if app is not None:
            # A QThread destroyed while running aborts the process: stop it before the app goes.
            app.aboutToQuit.connect(self.shutdown)
        thread.start()

    def stop(self, wait_ms: int = 0) -> bool:
        """Start shutting down without blocking for long: cancel, then ask the worker to drop its
        engine and its thread to end once the work in hand is done (an engine load cannot be
        interrupted). Waits at most wait_ms; True when the thread has stopped (or never ran).
        shutdown() finishes the job."""
        self._shut_down = True
        self.cancel()
        thread = self._thread
        if thread is None:
            return True
        if thread.isRunning() and not self._stopping:
            self._stopping = True
            self._release_requested.emit()
            thread.quit()
        if wait_ms <= 0 or not thread.isRunning():
            return not thread.isRunning()
        return thread.wait(wait_ms)

    def shutdown(self) -> None:
        """Cancel the current request, stop the thread and wait for it. Safe to call twice."""
        self.stop()
        thread = self._thread
        if thread is None:
            return
        # Always: a thread that has just stopped running may still be exiting, and deleting its
        # QThread then crashes. Blocks until the engine reaches its next cancel check.
        thread.wait()
        self._thread = None
        self._worker = None
        self._current = None
        self._set_busy(False)
        log.debug("generation thread stopped")

    def worker_thread(self) -> QThread | None:
        """The worker thread (None before start()/after shutdown()); for tests and diagnostics."""
        return self._thread

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def engine_name(self) -> str:
        """Name of the last engine that loaded successfully ("" before any)."""
        return self._engine_name

    @property
    def current_request(self) -> int | None:
        """Id of the request whose results are being forwarded, None when idle."""
        return None if self._current is None else self._current.request_id

    # ---- requests --------------------------------------------------------

    def load_engine(self, name: str, checkpoint: str | None, device: str) -> None:
        """Load an engine in the background; engine_ready or engine_failed follows.

        Requests made afterwards use it; a request already running finishes first.
        """
        if self._shut_down:
            return
        self._load_requested.emit(name, checkpoint, device)

    def generate(
        self,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        n: int,
        seed: int,
        near: int | None = None,
        spread: float = 0.25,
        options: dict[str, Any] | None = None,
    ) -> int:
        """Queue a request and return its id; it supersedes any older one.

        options: engine settings for this request (Engine.configure keywords; the engine's own
        defaults for the rest).

        The request keeps its own snapshot, so the caller may keep editing both:
        the mask is packed to the crop around its True pixels, and the image is
        copied unless it is frozen (read-only, and not a view of a writeable
        array), in which case it is shared: copying a 6000x4000 photo costs the
        GUI thread tens of milliseconds. Bad input is reported by
        request_failed (the engine checks it), never raised.
        """
        if self._current is not None:
            # Superseded: the engine stops at its next check and the results are dropped.
            self._current.cancel_event.set()
        rid = self._next_id
        self._next_id += 1
        request = GenerationRequest(
            request_id=rid,
            image=image if _frozen(image) else _copy(image),
            mask=PackedMask.pack(mask) if _is_mask(mask) else _copy(mask),
            n=n,
            seed=seed,
            near=near,
            spread=spread,
            options=dict(options or {}),
        )
        self._current = request
        self._cancelled_id = 0
        if self._shut_down:
            # Keep the promise that every id ends with one terminal signal.
            self._current = None
            self.request_failed.emit(rid, "Generation has been shut down")
            return rid
        self._set_busy(True)
        self._generate_requested.emit(request)
        return rid

    def cancel(self) -> None:
        """Ask the current request to stop; request_cancelled follows when the worker has stopped."""
        if self._current is None:
            return
        self._current.cancel_event.set()
        self._cancelled_id = self._current.request_id

    # ---- worker results (GUI thread) -------------------------------------

    def _is_current(self, rid: int) -> bool:
        return self._current is not None and self._current.request_id == rid

    def _end(self) -> None:
        self._current = None
        self._cancelled_id = 0
        self._set_busy(False)

    @Slot(int, object, int, int)
    def _on_worker_candidate_ready(self, rid: int, candidate: object, index: int, total: int) -> None:
        if not self._is_current(rid) or self._cancelled_id == rid:
            log.debug("dropping candidate %d of stale request %d", index, rid)
            return
        self.candidate_ready.emit(rid, candidate, index, total)

    @Slot(int, int, int)
    def _on_worker_search_progress(self, rid: int, step: int, total: int) -> None:
        if self._is_current(rid) and self._cancelled_id != rid:
            self.search_progress.emit(rid, step, total)

    @Slot(int, int, int, object)
    def _on_worker_search_preview(self, rid: int, step: int, total: int, fills: object) -> None:
        if self._is_current(rid) and self._cancelled_id != rid:
            self.search_preview.emit(rid, step, total, fills)

    @Slot(int)
    def _on_worker_request_finished(self, rid: int) -> None:
        if not self._is_current(rid):
            return
        cancelled = self._cancelled_id == rid
        self._end()
        if cancelled:
            self.request_cancelled.emit(rid)
        else:
            self.request_finished.emit(rid)

    @Slot(int, str)
    def _on_worker_request_failed(self, rid: int, message: str) -> None:
        if not self._is_current(rid):
            log.debug("dropping failure of stale request %d: %s", rid, message)
            return
        cancelled = self._cancelled_id == rid
        self._end()
        if cancelled:
            self.request_cancelled.emit(rid)
        else:
            self.request_failed.emit(rid, message)

    @Slot(int)
    def _on_worker_request_cancelled(self, rid: int) -> None:
        if not self._is_current(rid):
            return
        self._end()
        self.request_cancelled.emit(rid)

    @Slot(str)
    def _on_worker_engine_ready(self, name: str) -> None:
        if self._shut_down:  # a load that finished while the window was closing
            return
        self._engine_name = name
        self.engine_ready.emit(name)

    @Slot(str, str)
    def _on_worker_engine_failed(self, name: str, message: str) -> None:
        if self._shut_down:  # nobody to tell, and no fallback to load
            return
        self.engine_failed.emit(name, message)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)


def _frozen(array: object) -> bool:
    """True for an array nobody can write to: it and every array it views are read-only.

    A read-only view of a writeable array (MaskDoc.mask, say) is not frozen: its
    owner can still change it while the worker reads it.
    """
    base = array
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            return False
        base = base.base
    return base is None or isinstance(base, bytes)


def _copy(array: object) -> object:
    """A private copy of an array; anything else as it is, for the engine to reject."""
    return np.array(array, copy=True) if isinstance(array, np.ndarray) else array


def _is_mask(mask: object) -> bool:
    return isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.ndim == 2
