"""The engine interface: one template method does checks, cropping, scaling and compositing."""

from __future__ import annotations

import abc
import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.blend import BLEND_MODES
from inpaint_gui.core.compose import InputError, check_image_and_mask, grow_box, mask_bbox
from inpaint_gui.core.detail import DetailMap, paste_region
from inpaint_gui.core.mask_prep import MAX_GROW, close_gaps, grow_mask
from inpaint_gui.core.metrics import seam_score
from inpaint_gui.core.region import Region, cut, plan_regions

log = logging.getLogger(__name__)

MAX_SEED = 2**63 - 1
#: The most candidates one request may ask for: each holds a copy of the hole's box, so a
#: mistyped n must not reach the allocator (the app offers up to 32, the command line 100).
MAX_CANDIDATES = 100


@dataclass(frozen=True, eq=False)
class Candidate:
    """One proposed fill: the input image with `patch` in place of its pixels at (top, left).

    `inpaint(image, mask, n=1, seed=c.seed, near=c.near, spread=c.spread)` reproduces it.
    Only the patch (the hole's box) is the candidate's own: `photo` is the request's input, shared by
    its candidates and never written to, so six candidates of a 24 MP photo hold six crops of the
    hole instead of six copies of the photo. Without a photo the patch is the whole image.
    """

    patch: NDArray[np.uint8]  # (h, w, 3) RGB: the candidate's pixels in its box
    seed: int
    score: float  # higher = blends better with its surroundings
    seconds: float  # time spent on this candidate, its share of batched work included
    near: int | None = None  # seed of the candidate this is a variation of, if any
    spread: float = 0.0  # how far from `near` it was sampled (0..1)
    closed_gaps: int = 0  # small unpainted islands inside the mask that were filled too (close_gaps)
    filled_by: str = ""  # which engine filled which part, when several did ("" = this engine alone)
    photo: NDArray[np.uint8] | None = None  # (H, W, 3): the input, the same outside the box
    top: int = 0
    left: int = 0

    def __post_init__(self) -> None:
        if self.photo is not None and self.photo.flags.writeable:
            view = self.photo.view()
            view.flags.writeable = False  # shared by a request's candidates
            object.__setattr__(self, "photo", view)

    @classmethod
    def in_box(
        cls,
        filled: NDArray[np.uint8],
        photo: NDArray[np.uint8],
        box: tuple[int, int, int, int],
        seed: int,
        score: float,
        seconds: float,
        **fields: Any,
    ) -> Candidate:
        """The candidate whose whole picture is `filled`, which equals `photo` outside box =
        (top, left, bottom, right)."""
        top, left, bottom, right = box
        patch = np.array(filled[top:bottom, left:right], dtype=np.uint8, copy=True)
        return cls(patch, seed, score, seconds, photo=photo, top=top, left=left, **fields)

    @property
    def shape(self) -> tuple[int, ...]:
        """The whole picture's shape, (H, W, 3)."""
        return self.patch.shape if self.photo is None else self.photo.shape

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of the patch in the picture."""
        h, w = self.patch.shape[:2]
        return self.top, self.left, self.top + h, self.left + w

    @property
    def image(self) -> NDArray[np.uint8]:
        """The whole picture, (H, W, 3) RGB: a new array at every call when the candidate has a
        photo (use region for a part of it); the patch itself when it has none."""
        if self.photo is None:
            return self.patch
        return self.region(0, 0, *self.photo.shape[:2])

    def region(self, top: int, left: int, bottom: int, right: int) -> NDArray[np.uint8]:
        """A new array of the picture's pixels in (top, left, bottom, right), clipped to it."""
        h, w = self.shape[:2]
        top, left, bottom, right = max(0, top), max(0, left), min(h, bottom), min(w, right)
        if self.photo is None:
            return np.array(self.patch[top:bottom, left:right], copy=True)
        out = np.array(self.photo[top:bottom, left:right], copy=True)
        pt, pl, pb, pr = self.box
        t, lft, b, r = max(top, pt), max(left, pl), min(bottom, pb), min(right, pr)
        if t < b and lft < r:
            out[t - top : b - top, lft - left : r - left] = self.patch[t - pt : b - pt, lft - pl : r - pl]
        return out


class Cancelled(Exception):
    """Raised by Engine.inpaint when should_cancel() returned True."""


CandidateCallback = Callable[[Candidate, int, int], None]  # (candidate, index, total)

#: Every setting some engine takes (each engine class adds its own `options` here as it is defined,
#: and those of engines whose modules load lazily are named here, so the app's settings reach any
#: engine): configure() skips those another engine takes, and refuses a name no engine knows.
KNOWN_OPTIONS: set[str] = {"context", "blend", "detail", "variety", "patch_size", "exclude", "continue_lines"}


class Engine(abc.ABC):
    """Base class of all inpainting engines.

    Subclasses implement `_fill`; `inpaint` does everything else once: input
    checks, the working region, padding to `size_multiple`, compositing, scoring,
    progress and cancellation.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    size_multiple: ClassVar[int] = 1
    deterministic: ClassVar[bool] = True
    pluralistic: ClassVar[bool] = False  # False: every seed gives the same fill, so n is 1

    #: Longest side of the working region, None = native resolution.
    max_side: int | None = None
    #: Context kept around each hole, as a multiple of the hole's size...
    context: float = 1.0
    #: ...and at least this many pixels.
    min_context: int = 16
    #: Holes closer than this share of their context margins share one working region.
    merge: float = 0.5
    #: How a fill is put into the photo: core.blend.BLEND_MODES.
    blend: str = "hard"
    #: Pixels outside the mask that the "feather" blend may change.
    blend_band: int = 3
    #: Where a working-resolution fill gets its full-resolution detail: DETAIL_MODES of engines
    #: that scale (learned ones); "off" everywhere else.
    detail: str = "off"
    detail_modes: ClassVar[tuple[str, ...]] = ("off",)
    #: Pixels the mask is grown by before filling (an object's halo or soft shadow edge).
    grow: int = 0
    #: Close small unpainted islands inside the mask before filling (core.mask_prep.close_gaps): left
    #: open, every engine keeps them and they float in the fill as specks of the removed object.
    close_gaps: bool = True
    #: Settings a front end may change between requests (see configure); each is an attribute.
    options: ClassVar[tuple[str, ...]] = ("context", "blend", "detail", "grow", "close_gaps")
    #: Keywords inpaint() takes beyond the common ones, for one request (see _begin_request).
    request_options: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        KNOWN_OPTIONS.update(cls.options)

    def configure(self, options: Mapping[str, Any] | None = None, /, **settings: Any) -> None:
        """Apply the entries of options (and keyword settings) that this engine has: the app sends
        every engine's settings to whichever engine is loaded, so those of other engines are
        skipped. A name no engine knows, or a bad value, raises InputError and changes nothing."""
        given = {**(options or {}), **settings}
        unknown = sorted(str(k) for k in given if k not in KNOWN_OPTIONS)
        if unknown:
            raise InputError(
                f"unknown engine setting(s): {', '.join(unknown)}; "
                f"settings: {', '.join(sorted(KNOWN_OPTIONS))}"
            )
        chosen = {k: v for k, v in given.items() if k in self.options}
        before = {k: getattr(self, k) for k in chosen}
        try:
            for key, value in chosen.items():
                self._set_option(key, value)
        except Exception:
            for key, value in before.items():
                setattr(self, key, value)
            raise

    def _set_option(self, key: str, value: Any) -> None:
        """Check and set one option; engines with options of their own extend this."""
        if key == "context":
            if not number_between(value, 0.0, 4.0):
                raise InputError(f"context margin must be between 0 and 4 times the hole size, got {value!r}")
            self.context = float(value)
        elif key == "blend":
            if value not in BLEND_MODES:
                raise InputError(f"blend mode must be one of {', '.join(BLEND_MODES)}, got {value!r}")
            self.blend = value
        elif key == "detail":
            if value not in self.detail_modes:
                raise InputError(
                    f"detail for {self.name!r} must be one of {', '.join(self.detail_modes)}, got {value!r}"
                )
            self.detail = value
        elif key == "grow":
            whole = not isinstance(value, bool) and isinstance(value, (int, np.integer))
            if not whole or not 0 <= value <= MAX_GROW:
                raise InputError(f"grow must be whole pixels between 0 and {MAX_GROW}, got {value!r}")
            self.grow = int(value)
        elif key == "close_gaps":
            if not isinstance(value, bool):
                raise InputError(f"close_gaps must be True or False, got {value!r}")
            self.close_gaps = value
        else:
            raise NotImplementedError(f"engine {self.name!r} declares option {key!r} but cannot set it")

    def inpaint(
        self,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        n: int = 6,
        seed: int = 0,
        *,
        should_cancel: Callable[[], bool] | None = None,
        on_candidate: CandidateCallback | None = None,
        near: int | None = None,
        spread: float = 0.25,
        **extras: Any,
    ) -> list[Candidate]:
        """Propose fills for the True pixels of mask.

        image: uint8 (H, W, 3) RGB. mask: bool (H, W), True = fill.
        Returns n candidates (1 for engines that are not pluralistic) whose seeds
        are seed, seed + 1, ...; pixels outside the mask equal the input's (the candidates refer to
        `image` there rather than copy it: do not write to it while they are in use). The mask filled is the
        one given with its small enclosed gaps closed (close_gaps; each candidate's closed_gaps
        says how many) and grown by `grow` pixels.
        should_cancel is polled between candidates; when it returns True,
        Cancelled is raised. on_candidate(candidate, index, total) is called as
        each one finishes. near=SEED samples variations of the candidate with
        that seed instead: spread 0 gives it back, 1 is as different as a new seed.
        extras: the engine's own request_options (patchmatch's exclude, latent's on_step).
        """
        unknown = sorted(set(extras) - set(self.request_options))
        if unknown:
            names = ", ".join(unknown)
            raise TypeError(f"{type(self).__name__}.inpaint() got unexpected keyword argument(s): {names}")
        check_image_and_mask(image, mask)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_CANDIDATES:
            raise InputError(f"n must be a whole number from 1 to {MAX_CANDIDATES}, got {n!r:.40}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise InputError(f"seed must be an integer, got {seed!r}")
        count = int(n) if self.pluralistic else 1
        if not 0 <= seed <= MAX_SEED - count:
            raise InputError(f"seed must be between 0 and {MAX_SEED - count}, got {seed}")
        seeds = [int(seed) + i for i in range(count)]
        if near is not None:
            if isinstance(near, bool) or not isinstance(near, (int, np.integer)) or not 0 <= near <= MAX_SEED:
                raise InputError(f"near must be a seed, a whole number 0 to {MAX_SEED}, got {near!r:.30}")
            if not 0.0 <= spread <= 1.0:
                raise InputError(f"spread must be between 0 and 1, got {spread}")
            near, spread = int(near), float(spread)
        else:
            spread = 0.0
        mask, closed = close_gaps(mask) if self.close_gaps else (mask, 0)
        mask = grow_mask(mask, self.grow)
        if closed:
            log.info("closed %d small gap%s in the mask", closed, "" if closed == 1 else "s")
        self._begin_request(image, count, extras)
        self._should_cancel = should_cancel
        try:
            if not mask.any():
                return self._unchanged(image, seeds, near, spread, on_candidate)
            out = self._run(image, mask, seeds, near, spread, should_cancel, on_candidate, closed)
        finally:
            self._should_cancel = None
            self._end_request()
        return out

    def _begin_request(  # noqa: B027 - an optional hook: most engines take no extras
        self, image: NDArray[np.uint8], count: int, extras: Mapping[str, Any]
    ) -> None:
        """Check and take this request's extras (request_options) before any work; may raise InputError.
        Engines with request options override this and _end_request."""

    def _end_request(self) -> None:  # noqa: B027 - the optional hook's other half
        """Drop what _begin_request took; runs however the request ended."""

    def _run(
        self,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        seeds: list[int],
        near: int | None,
        spread: float,
        should_cancel: Callable[[], bool] | None,
        on_candidate: CandidateCallback | None,
        closed_gaps: int = 0,
    ) -> list[Candidate]:
        count = len(seeds)
        start = time.perf_counter()
        self._check_cancel(should_cancel)
        regions = self._plan_regions(mask)
        fills = []
        out: list[Candidate] = []
        try:
            for region in regions:
                work_image, work_mask = cut(region, image, mask)
                fills.append(self._fill_region(region, work_image, work_mask, seeds, near, spread))
            caches: list[dict] = [{} for _ in regions]
            # Outside the mask (and, feathered, its band) every candidate is the input itself.
            changed = mask_bbox(mask)
            assert changed is not None
            if self._paste_blend() == "feather":
                changed = grow_box(changed, self.blend_band, mask.shape)
            for index in range(count):
                filled = image.copy()
                weights, scores = [], []
                for region, fill, cache in zip(regions, fills, caches, strict=True):
                    prediction = next(fill, None)
                    if prediction is None:
                        raise RuntimeError(f"engine {self.name!r} returned fewer fills than {count} seeds")
                    detail = None
                    if isinstance(prediction, tuple):  # (image, DetailMap) from engines that give detail
                        prediction, detail = prediction
                    paste_region(
                        region, prediction, filled, mask, detail, self._paste_blend(), self.blend_band, cache
                    )
                    weights.append(self._hole_pixels(region, mask))
                    scores.append(self._score(region, filled, mask))
                    if len(regions) > 1:
                        self._check_cancel(should_cancel)
                score = float(np.average(scores, weights=weights)) if sum(weights) else 0.0
                candidate = Candidate.in_box(
                    filled, image, changed, seeds[index], score, time.perf_counter() - start,
                    closed_gaps=closed_gaps,
                )  # fmt: skip
                del filled
                if near is not None:
                    candidate = dataclasses.replace(candidate, near=near, spread=spread)
                start = time.perf_counter()
                out.append(candidate)
                if on_candidate is not None:
                    on_candidate(candidate, index, count)
                if index + 1 < count:
                    self._check_cancel(should_cancel)
        finally:
            for fill in fills:
                if hasattr(fill, "close"):
                    fill.close()
        return out

    def _plan_regions(self, mask: NDArray[np.bool_]) -> list[Region]:
        """Where to work: one region per group of nearby holes. Engines may override the policy
        (the class attributes max_side, context, min_context and merge tune the default one)."""
        return plan_regions(
            mask,
            max_side=self.max_side,
            multiple=self.size_multiple,
            margin=self.context,
            min_margin=self.min_context,
            merge=self.merge,
        )

    def _fill_region(
        self,
        region: Region,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        seeds: Sequence[int],
        near: int | None,
        spread: float,
    ) -> Iterator[NDArray[np.uint8]]:
        """_fill for one region; engines that need to know where the crop lies override this."""
        return self._fill(image, mask, seeds, near, spread)

    def _paste_blend(self) -> str:
        """The blend mode fills are pasted with: `blend`, unless an engine's fills already meet the
        photo at the hole's edge (then every mode gives the same pixels and "hard" costs least)."""
        return self.blend

    def _cancel_requested(self) -> bool:
        """For _fill to poll inside long work (between pyramid levels, say); raise Cancelled if True."""
        poll = getattr(self, "_should_cancel", None)
        return bool(poll is not None and poll())

    @abc.abstractmethod
    def _fill(
        self,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        seeds: Sequence[int],
        near: int | None,
        spread: float,
    ) -> Iterator[NDArray[np.uint8] | tuple[NDArray[np.uint8], DetailMap | None]]:
        """Yield one uint8 (h, w, 3) RGB prediction per seed, in order; or (prediction, DetailMap)
        pairs, the map saying where each hole cell takes full-resolution detail from.

        With near set, each prediction is a variation of the one for seed `near`.

        image and mask are already cropped, scaled and padded to `size_multiple`;
        pixels outside the mask are replaced afterwards, so they may be anything.
        """

    @staticmethod
    def _hole_pixels(region: Region, mask: NDArray[np.bool_]) -> int:
        t, lft, b, r = region.hole or (region.top, region.left, region.bottom, region.right)
        return int(np.count_nonzero(mask[t:b, lft:r]))

    @staticmethod
    def _score(region: Region, filled: NDArray[np.uint8], mask: NDArray[np.bool_]) -> float:
        sl = (slice(region.top, region.bottom), slice(region.left, region.right))
        return seam_score(filled[sl], mask[sl])

    @staticmethod
    def _unchanged(
        image: NDArray[np.uint8],
        seeds: list[int],
        near: int | None,
        spread: float,
        on_candidate: CandidateCallback | None,
    ) -> list[Candidate]:
        out = []
        for index, s in enumerate(seeds):
            candidate = Candidate.in_box(image, image, (0, 0, 0, 0), s, 0.0, 0.0, near=near, spread=spread)
            out.append(candidate)
            if on_candidate is not None:
                on_candidate(candidate, index, len(seeds))
        return out

    @staticmethod
    def _check_cancel(should_cancel: Callable[[], bool] | None) -> None:
        if should_cancel is not None and should_cancel():
            raise Cancelled()


def number_between(value: Any, low: float, high: float) -> bool:
    """Whether value is an int or float (not a bool) within [low, high]: a numeric engine option."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and low <= value <= high
