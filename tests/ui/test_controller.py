"""GenerationController: the real worker thread, real and fake engines, cancel, supersede, shutdown."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from inpaint_gui.engine import Candidate, Engine, registry
from inpaint_gui.ui.controller import GenerationController

TIMEOUT_MS = 10_000


class FakeEngine(Engine):
    """A pluralistic stand-in: each seed gives a flat colour; optionally gated or slow.

    gate: a semaphore the test releases once per candidate it lets through.
    delay: seconds each candidate takes (for shutdown, where nothing can release a gate).
    """

    name = "test-fake"
    label = "Fake (tests only)"
    pluralistic = True

    def __init__(self, gated: bool = False, delay: float = 0.0, error: str | None = None) -> None:
        self.gate = threading.Semaphore(0) if gated else None
        self.delay = delay
        self.error = error
        self.produced = 0
        self.calls: list[tuple[int | None, float]] = []

    def _fill(
        self,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        seeds: Sequence[int],
        near: int | None,
        spread: float,
    ) -> Iterator[NDArray[np.uint8]]:
        self.calls.append((near, spread))
        for seed in seeds:
            if self.error:
                raise RuntimeError(self.error)
            if self.gate is not None and not self.gate.acquire(timeout=10):
                raise RuntimeError("test gate was never opened")
            if self.delay:
                time.sleep(self.delay)
            self.produced += 1
            yield np.full(image.shape, seed % 256, np.uint8)


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch):
    """register(engine) makes load_engine("test-fake") return that instance, for this test only."""

    def _register(engine: Engine) -> Engine:
        monkeypatch.setitem(registry._BUILDERS, "test-fake", ("Fake", False, lambda ckpt, dev: engine))
        return engine

    return _register


@pytest.fixture
def controller(qtbot) -> Iterator[GenerationController]:
    c = GenerationController()
    c.start()
    thread = c.worker_thread()
    yield c
    c.shutdown()
    assert thread is not None and thread.isFinished(), "a test left the generation thread running"


@pytest.fixture
def image() -> NDArray[np.uint8]:
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)


@pytest.fixture
def mask() -> NDArray[np.bool_]:
    m = np.zeros((48, 64), bool)
    m[10:30, 20:44] = True
    return m


def _load(qtbot, controller: GenerationController, name: str = "test-fake") -> None:
    with qtbot.waitSignal(controller.engine_ready, timeout=TIMEOUT_MS) as blocker:
        controller.load_engine(name, None, "auto")
    assert blocker.args == [name]


class Recorder:
    """Collects every forwarded signal of a controller, in order."""

    def __init__(self, c: GenerationController) -> None:
        self.events: list[tuple] = []
        c.candidate_ready.connect(lambda rid, cand, i, n: self.events.append(("candidate", rid, cand, i, n)))
        c.request_finished.connect(lambda rid: self.events.append(("finished", rid)))
        c.request_failed.connect(lambda rid, msg: self.events.append(("failed", rid, msg)))
        c.request_cancelled.connect(lambda rid: self.events.append(("cancelled", rid)))
        c.busy_changed.connect(lambda busy: self.events.append(("busy", busy)))

    def candidates(self, rid: int | None = None) -> list[Candidate]:
        return [e[2] for e in self.events if e[0] == "candidate" and (rid is None or e[1] == rid)]


def test_gui_side_modules_do_not_import_torch() -> None:
    # The window must come up before torch has imported: none of these may pull it in,
    # nor may listing the engines for the settings dialog.
    code = (
        "import sys; import inpaint_gui.ui.controller, inpaint_gui.ui.worker, inpaint_gui.ui.gallery, "
        "inpaint_gui.ui.settings, inpaint_gui.ui.compare, inpaint_gui.ui.export; "
        "inpaint_gui.ui.settings.list_engines(); "
        "bad = [m for m in ('torch', 'inpaint_gui.engine.pluralistic') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_streams_n_candidates_in_order(qtbot, controller, register, image, mask) -> None:
    register(FakeEngine())
    _load(qtbot, controller)
    rec = Recorder(controller)
    with qtbot.waitSignal(controller.request_finished, timeout=TIMEOUT_MS):
        rid = controller.generate(image, mask, n=6, seed=100)
    assert [e[0] for e in rec.events] == ["busy"] + ["candidate"] * 6 + ["busy", "finished"]
    cands = rec.candidates(rid)
    assert [e[3] for e in rec.events if e[0] == "candidate"] == list(range(6))
    assert all(e[4] == 6 for e in rec.events if e[0] == "candidate")
    assert [c.seed for c in cands] == list(range(100, 106))
    assert not controller.busy and controller.current_request is None


def test_telea_through_real_thread_changes_only_masked_pixels(qtbot, controller, image, mask) -> None:
    _load(qtbot, controller, "telea")
    rec = Recorder(controller)
    original = image.copy()
    with qtbot.waitSignal(controller.request_finished, timeout=TIMEOUT_MS):
        controller.generate(image, mask, n=6, seed=0)
        image[:] = 0  # the caller keeps editing: the request must have its own copy
    (cand,) = rec.candidates()  # telea is not pluralistic: one candidate
    assert np.array_equal(cand.image[~mask], original[~mask])
    assert not np.array_equal(cand.image[mask], original[mask])


def test_real_pluralistic_engine_streams_n(qtbot, controller, image, mask, tmp_path) -> None:
    import torch

    from inpaint_gui.engine.pluralistic import save_random_release

    # The worker lowers torch's thread count for the GUI's sake; put it back for other tests.
    threads = torch.get_num_threads()
    ckpt = save_random_release(tmp_path / "tiny.safetensors")
    try:
        _generate_with_real_engine(qtbot, controller, image, mask, ckpt)
    finally:
        torch.set_num_threads(threads)


def _generate_with_real_engine(qtbot, controller, image, mask, ckpt) -> None:
    rec = Recorder(controller)
    with qtbot.waitSignal(controller.engine_ready, timeout=60_000):
        controller.load_engine("pluralistic", str(ckpt), "cpu")
    with qtbot.waitSignal(controller.request_finished, timeout=60_000):
        rid = controller.generate(image, mask, n=3, seed=7)
    cands = rec.candidates(rid)
    assert [c.seed for c in cands] == [7, 8, 9]
    for c in cands:
        assert np.array_equal(c.image[~mask], image[~mask])


def test_near_and_spread_reach_the_engine(qtbot, controller, register, image, mask) -> None:
    engine = register(FakeEngine())
    _load(qtbot, controller)
    rec = Recorder(controller)
    with qtbot.waitSignal(controller.request_finished, timeout=TIMEOUT_MS):
        controller.generate(image, mask, n=2, seed=5, near=42, spread=0.6)
    assert engine.calls == [(42, 0.6)]
    assert all(c.near == 42 and c.spread == pytest.approx(0.6) for c in rec.candidates())


def test_cancel_stops_the_engine(qtbot, controller, register, image, mask) -> None:
    engine = register(FakeEngine(gated=True))
    _load(qtbot, controller)
    rec = Recorder(controller)
    with qtbot.waitSignal(controller.candidate_ready, timeout=TIMEOUT_MS):
        rid = controller.generate(image, mask, n=6, seed=0)
        engine.gate.release()
    controller.cancel()
    with qtbot.waitSignal(controller.request_cancelled, timeout=TIMEOUT_MS) as blocker:
        engine.gate.release(5)
    assert blocker.args == [rid]
    # The candidate in progress when cancel() came may finish, but it is not forwarded.
    assert engine.produced < 6
    assert len(rec.candidates()) == 1
    assert not any(e[0] in ("finished", "failed") for e in rec.events)
    assert not controller.busy


def test_newer_request_supersedes_and_stale_results_are_dropped(
    qtbot, controller, register, image, mask
) -> None:
    engine = register(FakeEngine(gated=True))
    _load(qtbot, controller)
    rec = Recorder(controller)
    with qtbot.waitSignal(controller.candidate_ready, timeout=TIMEOUT_MS):
        old = controller.generate(image, mask, n=6, seed=0)
        engine.gate.release()
    mark = len(rec.events)
    with qtbot.waitSignal(controller.request_finished, timeout=TIMEOUT_MS) as blocker:
        new = controller.generate(image, mask, n=3, seed=1000)
        engine.gate.release(10)  # lets the old request make its next candidate too
    assert new > old and blocker.args == [new]
    after = rec.events[mark:]
    assert all(e[1] == new for e in after if e[0] != "busy"), after
    assert [c.seed for c in rec.candidates(new)] == [1000, 1001, 1002]
    # Old request: stopped early, and nothing of it was forwarded after the new one.
    assert engine.produced < 6 + 3
    assert not any(e[0] in ("cancelled", "finished", "failed") and e[1] == old for e in rec.events)
    # busy stayed on across the hand-over.
    assert [e for e in rec.events if e[0] == "busy"] == [("busy", True), ("busy", False)]


def test_engine_error_arrives_as_request_failed(qtbot, controller, register, image, mask) -> None:
    register(FakeEngine(error="model exploded"))
    _load(qtbot, controller)
    with qtbot.waitSignal(controller.request_failed, timeout=TIMEOUT_MS) as blocker:
        rid = controller.generate(image, mask, n=2, seed=0)
    assert blocker.args[0] == rid
    assert "model exploded" in blocker.args[1]
    assert not controller.busy
    # The thread survives a failed request.
    with qtbot.waitSignal(controller.request_failed, timeout=TIMEOUT_MS) as blocker:
        controller.generate(image, mask[:10], n=2, seed=0)
    assert "differs from image size" in blocker.args[1]


def test_unknown_engine_and_no_engine_are_readable(qtbot, controller, image, mask) -> None:
    with qtbot.waitSignal(controller.request_failed, timeout=TIMEOUT_MS) as blocker:
        controller.generate(image, mask, n=1, seed=0)
    assert blocker.args[1] == "No engine is loaded yet"
    with qtbot.waitSignal(controller.engine_failed, timeout=TIMEOUT_MS) as blocker:
        controller.load_engine("no-such-engine", None, "auto")
    assert blocker.args[0] == "no-such-engine"
    assert "unknown engine" in blocker.args[1] and "telea" in blocker.args[1]
    with qtbot.waitSignal(controller.request_failed, timeout=TIMEOUT_MS) as blocker:
        controller.generate(image, mask, n=1, seed=0)
    assert "could not be loaded" in blocker.args[1]


def test_shutdown_while_running_leaves_no_thread(qtbot, register, image, mask) -> None:
    engine = register(FakeEngine(delay=0.05))
    c = GenerationController()
    c.start()
    _load(qtbot, c)
    with qtbot.waitSignal(c.candidate_ready, timeout=TIMEOUT_MS):
        c.generate(image, mask, n=100, seed=0)  # the most one request may ask for
    thread = c.worker_thread()
    c.shutdown()
    assert thread.isFinished() and not thread.isRunning()
    assert engine.produced < 100
    assert c.worker_thread() is None and not c.busy
    c.shutdown()  # twice is harmless
    with qtbot.waitSignal(c.request_failed, timeout=TIMEOUT_MS):
        c.generate(image, mask, n=1, seed=0)


def test_candidates_stream_into_the_gallery(qtbot, controller, register, image, mask) -> None:
    from inpaint_gui.ui.gallery import CandidateGallery

    engine = register(FakeEngine(gated=True))
    _load(qtbot, controller)
    gallery = CandidateGallery()
    qtbot.addWidget(gallery)
    progress: list[bool] = []

    def on_candidate(rid: int, cand: Candidate, index: int, total: int) -> None:
        gallery.add_candidate(cand)
        gallery.set_progress(index + 1, total)
        progress.append(gallery._progress.isVisibleTo(gallery))

    controller.candidate_ready.connect(on_candidate)
    with qtbot.waitSignal(controller.candidate_ready, timeout=TIMEOUT_MS):
        controller.generate(image, mask, n=4, seed=3)
        engine.gate.release()
    # One candidate is in the gallery, and previewed, while the others are still being made.
    assert len(gallery.candidates()) == 1 and gallery.previewed_index() == 0
    with qtbot.waitSignal(controller.request_finished, timeout=TIMEOUT_MS):
        engine.gate.release(3)
    assert gallery.seeds() == [3, 4, 5, 6]
    assert progress == [True, True, True, False]  # hidden once all have arrived


def test_request_snapshots_inputs_without_needless_copies(qtbot, controller, register, image, mask) -> None:
    from inpaint_gui.ui.worker import PackedMask

    engine = register(FakeEngine(gated=True))
    _load(qtbot, controller)
    rec = Recorder(controller)
    frozen = image.copy()
    frozen.setflags(write=False)
    original_mask = mask.copy()
    with qtbot.waitSignal(controller.candidate_ready, timeout=TIMEOUT_MS):
        controller.generate(frozen, mask, n=2, seed=9)
        mask[:] = False  # the user goes on painting while the request runs
        engine.gate.release()
    request = controller._current
    assert request.image is frozen  # no 72 MB copy in the GUI thread for a 6000x4000 photo
    assert isinstance(request.mask, PackedMask) and request.mask.crop.shape == (20, 24)
    assert np.array_equal(request.mask.unpack(), original_mask)
    with qtbot.waitSignal(controller.request_finished, timeout=TIMEOUT_MS):
        engine.gate.release()
    for cand in rec.candidates():
        assert np.all(cand.image[original_mask] == cand.seed)  # filled where the mask was
        assert np.array_equal(cand.image[~original_mask], image[~original_mask])

    # A read-only view of a writeable array can still change under the worker: it is copied.
    view = image.view()
    view.setflags(write=False)
    with qtbot.waitSignal(controller.candidate_ready, timeout=TIMEOUT_MS):
        controller.generate(view, original_mask, n=2, seed=0)
        engine.gate.release()
    assert controller._current.image is not view
    with qtbot.waitSignal(controller.request_finished, timeout=TIMEOUT_MS):
        engine.gate.release()


def test_packed_mask_round_trips() -> None:
    from inpaint_gui.ui.worker import PackedMask

    rng = np.random.default_rng(3)
    for density in (0.0, 0.01, 0.5):
        mask = rng.random((37, 53)) < density
        packed = PackedMask.pack(mask)
        assert np.array_equal(packed.unpack(), mask)
        assert packed.crop.size <= mask.size
    assert PackedMask.pack(np.zeros((5, 6), bool)).crop.size == 0


def test_engine_options_apply_to_their_request_only(qtbot, controller, register, image, mask) -> None:
    seen: list[tuple[float, str, str]] = []

    class Recording(FakeEngine):
        def _fill(self, image, mask, seeds, near, spread):
            seen.append((self.context, self.blend, self.detail))
            return super()._fill(image, mask, seeds, near, spread)

    register(Recording())
    _load(qtbot, controller)
    with qtbot.waitSignal(controller.request_finished, timeout=TIMEOUT_MS):
        controller.generate(
            image, mask, n=1, seed=0, options={"context": 2.0, "blend": "membrane", "detail": "x"}
        )
    with qtbot.waitSignal(controller.request_finished, timeout=TIMEOUT_MS):
        controller.generate(image, mask, n=1, seed=0)
    # A detail mode the engine does not have is skipped; the next request gets the defaults back.
    assert seen == [(2.0, "membrane", "off"), (1.0, "hard", "off")]


def test_variety_applies_to_its_request_only(qtbot, controller, register, image, mask) -> None:
    seen: list[float] = []

    class Varied(FakeEngine):
        variety = 1.0
        options = (*FakeEngine.options, "variety")

        def _set_option(self, key, value):
            if key == "variety":
                self.variety = value
            else:
                super()._set_option(key, value)

        def _fill(self, image, mask, seeds, near, spread):
            seen.append(self.variety)
            return super()._fill(image, mask, seeds, near, spread)

    register(Varied())
    _load(qtbot, controller)
    for options in ({"variety": 2.5}, {}):
        with qtbot.waitSignal(controller.request_finished, timeout=TIMEOUT_MS):
            controller.generate(image, mask, n=1, seed=0, options=options)
    assert seen == [2.5, 1.0]


def test_latent_engine_reports_its_search_steps(qtbot, controller, image, mask, tmp_path) -> None:
    import torch

    from inpaint_gui.engine.latent import save_random_release

    threads = torch.get_num_threads()
    ckpt = save_random_release(tmp_path / "latent.safetensors")
    steps: list[tuple[int, int]] = []
    previews: list[tuple[int, int]] = []
    controller.search_progress.connect(lambda _rid, step, total: steps.append((step, total)))
    controller.search_preview.connect(lambda _rid, step, total, fills: previews.append((step, len(fills))))
    try:
        with qtbot.waitSignal(controller.engine_ready, timeout=60_000):
            controller.load_engine("latent", str(ckpt), "cpu")
        rec = Recorder(controller)
        with qtbot.waitSignal(controller.request_finished, timeout=60_000):
            rid = controller.generate(image, mask, n=2, seed=3)
    finally:
        torch.set_num_threads(threads)
    assert [c.seed for c in rec.candidates(rid)] == [3, 4]
    total = steps[-1][1]
    assert total > 1 and steps == [(s, total) for s in range(1, total + 1)]  # every step, in order
    # a live view of both candidates every few steps, the last step included
    assert previews and previews[-1] == (total, 2) and all(n == 2 for _, n in previews)
