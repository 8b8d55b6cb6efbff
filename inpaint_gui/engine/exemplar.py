"""The patchmatch engine: several sharp fills for photos, copied from the photo itself at full resolution."""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core import arcs, lines
from inpaint_gui.core.compose import InputError, describe
from inpaint_gui.core.exemplar import Completion
from inpaint_gui.core.region import Region
from inpaint_gui.engine.base import Cancelled, Engine

log = logging.getLogger(__name__)

#: Patch sides offered as the "detail" setting: small patches follow fine grain, large ones keep
#: longer structures (planks, tiles) together.
PATCH_SIZES = (5, 7, 9, 11, 15)
DEFAULT_PATCH = 7


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class PatchMatchEngine(Engine):
    """Exemplar-based completion (PatchMatch inside a coarse-to-fine EM loop, Wexler et al. 2007).

    Works on each hole's context region at the photo's own resolution; the region is also the
    sampling area (patches are copied only from there), minus what `exclude` marks. Seed k gives
    fill k; the same seed gives the same bytes.
    """

    name = "patchmatch"
    label = "PatchMatch (from the photo)"
    pluralistic = True
    deterministic = True
    max_side = None  # native resolution
    #: The sampling area: this multiple of the hole's size on every side (and at least min_context px).
    context = 0.75
    min_context = 24
    options = (*Engine.options, "patch_size", "exclude", "continue_lines")
    request_options = ("exclude",)  # inpaint(..., exclude=mask): where not to copy from, this request
    #: Copied patches keep their source's colour; the membrane shifts each fill's colour smoothly to
    #: meet the photo at the hole's edge (fills come with the ring their matches continue into).
    #: On 60 eval/scenes images at 128 px LPIPS 0.141 -> 0.135, every hole-size band lower; object
    #: holes 0.142 -> 0.140, KID x10^3 3.7 -> 3.3.
    blend = "membrane"
    #: The finest level's last step (core.exemplar.FINALS): "meld" rebuilds the copied patches from
    #: their voted gradients with a screened Poisson solve, so neighbouring copies from different places
    #: meet without a seam (docs/object-removal.md: coffee spoon + 6 full-size photos at 2 MP, guided,
    #: 6 candidates: hole LPIPS 0.1232 -> 0.1202, border Laplacian excess 6.8 -> 2.0 grey levels).
    #: "copy" keeps each pixel's own match's centre pixel.
    #: Candidates filled at once, each in its own thread (the matcher is single-threaded and releases
    #: the GIL): one per core the process may use.
    workers = max(1, _usable_cores())
    #: Patch side of the coarser levels, where what continues across the hole is decided (the two
    #: finest keep patch_size, for the grain); None: patch_size everywhere. Off: 15 px made the
    #: guided engine's fills closer to the photo but less varied, and slower (object holes of 3-15% in
    #: 2 MP photos, two sets of 10: LPIPS -4% / -1%, diversity -4% / -11%, about 1.5-2x the time per
    #: candidate; docs/object-removal.md).
    coarse_patch: int | None = None
    #: Straight lines seen on two opposite sides of a hole are drawn across it before the fill
    #: (core.lines), so a facade's joints or a horizon come back whole rather than as dashes
    #: (an option).
    continue_lines = True

    def __init__(self, patch_size: int = DEFAULT_PATCH, final: str = "meld", jitter: float = 24.0) -> None:
        self.patch_size = _check_patch(patch_size)
        self.final = final
        self.jitter = jitter
        self._exclude: NDArray[np.bool_] | None = None
        self._pool: ThreadPoolExecutor | None = None
        #: The exclusion area set by configure (a front end's setting), used when inpaint gets none.
        self.exclude: NDArray[np.bool_] | None = None

    def _set_option(self, key: str, value: object) -> None:
        if key == "exclude":
            if value is not None and (not isinstance(value, np.ndarray) or value.dtype != np.bool_):
                raise InputError(f"exclusion area must be a bool numpy array, got {describe(value)}")
            self.exclude = value
        elif key == "patch_size":
            self.patch_size = _check_patch(value)
        elif key == "continue_lines":
            if not isinstance(value, bool):
                raise InputError(f"continue_lines must be true or false, got {describe(value)}")
            self.continue_lines = value
        else:
            super()._set_option(key, value)

    def warm_up(self) -> None:
        """Compile (first run after install, some seconds) or load the matcher from numba's cache."""
        img = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        hole = np.zeros((64, 64), bool)
        hole[20:40, 20:40] = True  # big enough for a pyramid: both the uint8 and float32 kernels
        for final in ("copy", "vote", "meld"):
            Completion(img, hole, patch=3, final=final).fill(0)

    def _begin_request(self, image: NDArray[np.uint8], count: int, extras: Mapping[str, Any]) -> None:
        """exclude: bool (H, W), True where no patch may be copied from (default: the one set by
        configure, if any)."""
        exclude = extras.get("exclude")
        exclude = exclude if exclude is not None else self.exclude
        if exclude is not None:
            if not isinstance(exclude, np.ndarray) or exclude.dtype != np.bool_:
                raise InputError(f"exclusion area must be a bool numpy array, got {describe(exclude)}")
            if exclude.shape != image.shape[:2]:
                raise InputError(
                    f"exclusion area size {exclude.shape} differs from the image's {image.shape[:2]}"
                )
        self._exclude = exclude if exclude is not None and exclude.any() else None
        workers = min(self.workers, count)
        self._pool = ThreadPoolExecutor(workers, "patchmatch") if workers > 1 else None

    def _end_request(self) -> None:
        self._exclude = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)  # no fill outlives the call
            self._pool = None

    def _fill_region(
        self,
        region: Region,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        seeds: Sequence[int],
        near: int | None,
        spread: float,
    ) -> Iterator[NDArray[np.uint8]]:
        return self._complete(image, mask, self._region_exclude(region), seeds, near, spread)

    def _lines(
        self, image: NDArray[np.uint8], mask: NDArray[np.bool_]
    ) -> tuple[NDArray[np.uint8], NDArray[np.bool_], NDArray[np.bool_] | None]:
        """The region with the straight lines that cross its hole drawn in, its hole less them and
        the drawn pixels (core.lines.continue_lines; None: none), which the completion keeps
        (Completion's fixed). As they are when continue_lines is off or no line crosses. The drawn
        pixels stay in the user's mask, so they are pasted with the fill."""
        if not self.continue_lines:
            return image, mask, None
        drawn, rest, count = lines.continue_lines(image, mask)
        drawn, rest, curves = arcs.continue_arcs(drawn, rest)
        if not count and not curves:
            return image, mask, None
        log.debug("%d straight lines and %d ellipse arcs drawn across the hole", count, curves)
        return drawn, rest, mask & ~rest

    def _region_exclude(self, region: Region) -> NDArray[np.bool_] | None:
        """This request's exclusion area within region, or None."""
        if self._exclude is None:
            return None
        return self._exclude[region.top : region.bottom, region.left : region.right].copy()

    def _fill(
        self,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        seeds: Sequence[int],
        near: int | None,
        spread: float,
    ) -> Iterator[NDArray[np.uint8]]:
        return self._complete(image, mask, None, seeds, near, spread)

    def _complete(
        self,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        exclude: NDArray[np.bool_] | None,
        seeds: Sequence[int],
        near: int | None,
        spread: float,
    ) -> Iterator[NDArray[np.uint8]]:
        """The fills of one region, the straight lines across its hole drawn first."""
        image, mask, fixed = self._lines(image, mask)
        return self._fills(self._completion(image, mask, exclude, fixed), seeds, near, spread)

    def _completion(
        self,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        exclude: NDArray[np.bool_] | None,
        fixed: NDArray[np.bool_] | None = None,
    ) -> Completion:
        coarse = None if self.coarse_patch is None else max(self.coarse_patch, self.patch_size)
        return Completion(image, mask, exclude, self.patch_size, self.final, self.jitter, coarse, fixed)

    def _fills(
        self,
        completion: Completion,
        seeds: Sequence[int],
        near: int | None,
        spread: float,
        guides: Sequence[NDArray[np.uint8]] | None = None,
        guide_scale: float = 1.0,
    ) -> Iterator[NDArray[np.uint8]]:
        """One fill per seed, `workers` at a time; guides (one per seed) and guide_scale as in
        Completion.fill."""
        guide_of = dict(zip(seeds, guides, strict=True)) if guides is not None else {}

        def fill(s: int, poll: Callable[[], None]) -> NDArray[np.uint8]:
            guide = guide_of.get(s)
            return completion.fill(
                s, near, spread, between_levels=poll, ring=True, guide=guide, guide_scale=guide_scale
            )

        pool = self._pool
        if pool is None or len(seeds) == 1:
            for s in seeds:
                yield fill(s, self._poll)
            return
        # Keep `workers` fills running ahead of the one being handed out, in seed order.
        stop = threading.Event()

        def poll() -> None:
            if stop.is_set():
                raise Cancelled()
            self._poll()

        queue = iter(seeds)
        running: deque[Future[NDArray[np.uint8]]] = deque()
        try:
            for s in queue:
                running.append(pool.submit(fill, s, poll))
                if len(running) == self.workers:
                    break
            while running:
                result = running.popleft().result()
                nxt = next(queue, None)
                if nxt is not None:
                    running.append(pool.submit(fill, nxt, poll))
                yield result
        finally:  # cancelled, failed or closed early: the fills still running stop at their next level
            stop.set()
            for future in running:
                future.cancel()

    def _paste_blend(self) -> str:
        """A melded fill is the photo's own outside the hole and meets it at the edge (the Poisson
        solve's fixed border): the membrane would measure a zero offset, so it is pasted as is (a
        6000x4000 photo's 10% hole: some megapixels of membrane per candidate saved)."""
        return "hard" if self.final == "meld" else self.blend

    def _poll(self) -> None:
        if self._cancel_requested():
            raise Cancelled()


def _check_patch(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 3 or value % 2 == 0:
        raise ValueError(f"patch size must be an odd number of pixels, at least 3; got {value!r}")
    return int(value)
