"""Exemplar-based completion: the hole rebuilt from the photo's own patches, coarse to fine.

Wexler, Shechtman, Irani, "Space-Time Completion of Video" (PAMI 2007): alternate nearest-neighbour
search (PatchMatch) and voting at every level of a pyramid. The structure is settled at the coarsest
level; the field is carried up level by level, and at the finest level each hole pixel copies a real
pixel of the photo at full resolution, so grain, noise and JPEG texture match the surroundings.
The seed picks the random initial field and the random search: different seeds settle on different
arrangements of the same material.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core import patchmatch as pm
from inpaint_gui.core.blend import RING, membrane
from inpaint_gui.core.compose import InputError, mask_bbox
from inpaint_gui.core.poisson import LAMBDA, divergence, hole_system, solve

log = logging.getLogger(__name__)

#: (EM rounds, PatchMatch iterations per round, random-search radius) at the coarsest level, the middle
#: levels, the one below the finest and the finest. The fine levels refine the carried-up field; three
#: rounds there (not one) let the sharp copy re-match against itself: on 30 eval/scenes images at 128 px
#: LPIPS fell from 0.166 to 0.157 (most of the time goes to the finest level: four times the pixels).
_SCHEDULE = {"coarsest": (5, 3, 0), "middle": (3, 2, 4), "second": (3, 2, 4), "finest": (3, 2, 2)}
#: At most this many patch searches (targets x rounds x iterations) at each of the two finest levels:
#: a large photo's region gets fewer rounds there (down to one of one iteration), and a 640x480 photo
#: gets all three. 300 000 rather than 600 000: the object-removal benchmark (2 MP, guided, six
#: candidates, two sets of 10) gave LPIPS 0.1510 -> 0.1514 and 0.1538 -> 0.1523, diversity 0.110 ->
#: 0.110 and 0.118 -> 0.116, and one fill of a 6000x4000 photo's 2% hole about a tenth less CPU (its
#: level below the finest searched in one round instead of two). 4 000 000, with finest levels carried
#: only above 2 000 000 targets, gave 0.1516 on the first set at 1.5 times the time (before lines).
FINE_BUDGET = 300_000
#: A finest level with more targets than this keeps the matches carried up from the level below (each
#: target takes twice its parent's source plus its own offset) and searches only where that source was
#: not usable; the meld then rebuilds the copy. Even one search there was a fifth of a large hole's
#: time: a 10% hole in a 6000x4000 photo has 2.3 million targets (docs/speed.md). The object-removal
#: benchmark (10 photos at 2 MP, guided, 6 candidates) with every finest level carried: LPIPS 0.1587 ->
#: 0.1586, seam 1.24 -> 1.20. A carried level's meld counts every vote the same (MELD_WEIGHTED does not
#: apply), so only the searched targets' distances are taken: a tenth of a large hole's time, and the
#: object-removal benchmark at native size (10 photos) gave LPIPS 0.1455 and seam 0.989 weighted,
#: 0.1455 and 0.985 not.
FINE_CARRY_ABOVE = 300_000
#: At most this many patch searches at each middle level (those above the two finest). Only a large
#: hole in a large photo reaches it: a 10% hole in a 6000x4000 photo searches its 1000x1500 level in
#: two rounds instead of three, a fill about 0.4 s less CPU. Object-removal benchmark at native size, 20
#: photos, six candidates: the three cases it changes went 0.0838 -> 0.0839, 0.0867 -> 0.0868 and
#: 0.1623 -> 0.1625 (the means 0.1455 and 0.1527 either way).
MIDDLE_BUDGET = 600_000
#: The finest level's last step: "copy" (each hole pixel copies its own match's centre pixel: full
#: grain, but a hard seam wherever neighbouring pixels copy from different places), "vote" (the mean
#: of all the votes: no seams, blurred) or "meld" (the copy's gradients voted and the hole rebuilt by a
#: screened Poisson solve that meets the photo at the border: see _meld).
FINALS = ("copy", "vote", "meld")
#: "meld" weighs each patch's gradient vote by exp(-d / 2 sigma^2) as the mean vote does (True) or
#: counts every vote the same (False).
MELD_WEIGHTED = True
#: "meld" counts the gradient votes of the patches whose centre lies within this many pixels of the
#: pair (None: every patch covering it, the patch radius).
MELD_RADIUS: int | None = 1
#: The EM step below the finest level: "best" (each hole pixel copies what the lowest-distance patch
#: covering it puts there: real pixels, no blur) or "mean" (the weighted mean of all the votes, weight
#: exp(-d / 2 sigma^2), sigma^2 the SIGMA_PCT percentile of the distances). VOTE_FROM: levels from the
#: coarsest that still use "mean".
VOTE = "best"
VOTE_FROM = 0
SIGMA_PCT = 75.0
#: A level's hole starts as the centre copy of its carried-up matches (True) or their mean vote (False).
INIT_COPY = True
#: Weight of the texture-level term of a match's cost (patchmatch._cost): 0 is plain squared error,
#: which prefers flat sources. The term charges only a source flatter than the level expected at the
#: target (one-sided); on 60 eval/scenes images at 128 px, against the two-sided term at weight 1:
#: one-sided weight 2 LPIPS 0.141 -> 0.141, KID x10^3 5.5 -> 4.9, sharpness 0.52 -> 0.64, LPIPS
#: diversity 0.044 -> 0.049; weight 1: 0.139, 4.9, 0.57; weight 4: 0.143, 5.6, 0.71; weight 8:
#: 0.147, 6.5, 0.78.
TEXTURE = 2.0
#: The seed noise at the coarsest level is scaled by the texture level expected there over CALM (grey
#: levels, at most 1): in a flat sky the noise only made the fill copy lighter or darker sky, which showed
#: as pale or dark blotches at 100% (a bird removed from a 6000x4000 photo); LPIPS, KID and LPIPS
#: diversity on 60 eval/scenes images unchanged (0.135, 4.9, 0.049). 0 turns it off.
CALM = 8.0
#: A guide (Completion.fill) sets a level's start where the texture expected there is at least twice
#: this (grey levels), none of it where it is this or less, and a share in between: a network's guess
#: of a flat sky brings pale and dark patches that patchmatch copies faithfully, and even half of
#: it pulls the matches to the paler sky. 0: the guide everywhere.
GUIDE_CALM = 2.0
#: The coarser levels measure a patch's texture with the finest level's map, pooled (True), not their own
#: pixels. At a coarse scale a sharp fine grain averages out flat while blurred shading does not, so the
#: texture term on each level's own map steered coarse levels to out-of-focus areas and stray stems when
#: a cherry was removed from a linen cloth (eval/photos-full, 1800x2700): mushy patches at 100%. With
#: the pooled map the cloth's weave is copied. 60 eval/scenes images at 128 px: LPIPS 0.135 -> 0.137,
#: KID x10^3 4.9 -> 5.2, sharpness 0.65 either way; object holes LPIPS 0.140 -> 0.145, KID 3.3 -> 3.2.
FINE_TEXTURE = True
#: The coarsest level keeps the hole at least this many patch radii thick. 3 rather than 1.5 (one level
#: fewer for thin holes; large holes are bounded by the image's size instead): on 60 eval/scenes
#: images at 128 px LPIPS 0.147 -> 0.141 (b2 0.109 -> 0.094), KID x10^3 5.9 -> 5.5, sharpness
#: 0.56 -> 0.52; 6: no better LPIPS, less variety.
_COARSE_THICKNESS = 3.0
MAX_LEVELS = 8
#: With a coarse_patch (Completion), the levels above this many finest ones match that larger patch.
SMALL_LEVELS = 2
#: Occurrence cost (_occurrence): a source whose pixels are already copied more than OCC_FREE times as
#: often as an even use of every source would copy them costs OCCURRENCE x the round's median match
#: cost per time above that. Without it the texture term drew fills to a few bright specks and copied
#: each over and over (the coffee spoon's saucer: a lattice of droplets in five of six candidates).
#: Object-removal benchmark at 2 MP, guided, two sets of 10 photos: LPIPS 0.159 -> 0.152 and 0.177 ->
#: 0.158, diversity 0.111 -> 0.112 and 0.128 -> 0.123, seam 1.24 -> 1.12 and 1.31 -> 1.00 (the photos'
#: own 0.96 and 1.10). A free share of 4 instead of 8: LPIPS 0.151, diversity 0.105 (first set).
OCCURRENCE = 1.0
OCC_FREE = 8.0
#: ... with a radius of at most 1/COARSE_SHARE of the level's short side: a 15 px patch on a 50 px level
#: left only the far edges of a flat sky gradient as sources, and the fill copied lighter or darker sky.
COARSE_SHARE = 10
#: Levels, from the finest, that see a completion's fixed pixels (Completion); the coarser ones fill
#: them with the rest of the hole.
FIXED_LEVELS = 2
#: A coarser level is used only if at least this share of its pixels can be copied from.
_MIN_SOURCE_SHARE = 0.1
#: texture_maps spreads the expected level at a quarter of the size on levels of at least this many pixels.
_SPREAD_SMALL_ABOVE = 1 << 20


class NoSourceError(InputError):
    """Nothing outside the hole (and the exclusion area) is large enough to copy patches from."""


@dataclass
class _Level:
    image: NDArray  # [h, w, 3]: uint8 at the finest level (the photo itself), float32 below
    hole: NDArray[np.bool_]  # [h, w]
    valid: NDArray[np.bool_]  # [h, w] centres of patches wholly inside the image and the sampling area
    has_source: bool  # valid has a True pixel
    targets: NDArray[np.int64]  # [K] flat indices of the centres of patches that overlap the hole
    is_target: NDArray[np.bool_]  # [h, w]
    r: int  # patch radius
    tex_src: NDArray[np.float32]  # [h, w] texture level (grey std) of the patch centred here
    tex_tgt: NDArray[np.float32]  # [h, w] texture level expected here, spread from the known pixels
    tex_w: NDArray[np.float32]  # [h, w] weight of the texture term: TEXTURE x the patch's hole share


class Completion:
    """Everything about one image and hole that does not depend on the seed: pyramid, sources, targets.

    image: uint8 [h, w, 3]. hole: bool [h, w], True = fill. exclude: bool [h, w], True = never copy
    from here (None: copy from anywhere outside the hole). patch: patch side in pixels (odd, >= 1).
    coarse_patch: a larger side for the levels above the SMALL_LEVELS finest, where the layout is
    settled (None: patch everywhere); the pyramid then stops a level or two sooner, as it keeps the
    hole a few patch radii thick at its coarsest.
    fixed: bool [h, w], pixels of the hole already decided (lines drawn across it, core.lines): hole is
    then what is left to fill. They are kept and never copied from; the FIXED_LEVELS finest levels see
    them, the coarser ones, where they would be thinner than a pixel, take them as hole (their colours
    would leak into the coarse averages and their cuts would make the pyramid shallow).
    Raises NoSourceError when no patch (not even a single pixel) can be copied.
    fill only reads the object, so several seeds may be filled in threads at once (the kernels
    release the GIL).
    """

    def __init__(
        self,
        image: NDArray[np.uint8],
        hole: NDArray[np.bool_],
        exclude: NDArray[np.bool_] | None = None,
        patch: int = 7,
        final: str = "copy",
        jitter: float = 24.0,
        coarse_patch: int | None = None,
        fixed: NDArray[np.bool_] | None = None,
    ) -> None:
        for what, side in (("patch", patch), ("coarse patch", coarse_patch)):
            if side is not None and (side < 1 or side % 2 == 0):
                raise InputError(f"{what} size must be an odd number of pixels >= 1, got {side}")
        if final not in FINALS:
            raise InputError(f"final must be one of {', '.join(FINALS)}, got {final!r}")
        self.final = final
        # The kernels are compiled for writeable arrays: a read-only one (the app shares a frozen photo)
        # would compile a second set, which takes minutes on a busy 2-core machine.
        image = image if image.flags.writeable else image.copy()
        hole = hole if hole.flags.writeable else hole.copy()
        exclude = exclude if exclude is None or exclude.flags.writeable else exclude.copy()
        if fixed is not None and fixed.any():
            exclude = fixed if exclude is None else exclude | fixed
            full = hole | fixed  # the hole as the coarse levels see it
        else:
            fixed, full = None, hole
        #: Grey levels of seeded noise added to the coarsest start (more: bolder variety between seeds).
        self.jitter = jitter
        bad = hole if exclude is None else hole | exclude
        if bad.all():
            what = (
                "the mask covers"
                if exclude is None or not exclude.any()
                else "the mask and the exclusion area cover"
            )
            raise NoSourceError(f"nothing left to copy from: {what} the whole working area")
        finest = None
        for r in range(patch // 2, -1, -1):  # a smaller patch where the full one finds no source
            finest = _level(np.ascontiguousarray(image), hole, bad, r)
            if finest.has_source:
                break
            log.info("no %dx%d source patch; trying a smaller patch", 2 * r + 1, 2 * r + 1)
        assert finest is not None
        if not finest.has_source:  # pragma: no cover - r = 0 always finds a known pixel
            raise NoSourceError("nothing left to copy from")
        self.levels = [finest]
        thickness = _thickness(full)
        img: NDArray = finest.image
        known = (~full).astype(np.float32)
        # The finer levels that see the fixed pixels pool their own chain (img_f, known_f).
        img_f, known_f = img, None if fixed is None else (~hole).astype(np.float32)
        ex = np.zeros_like(hole) if exclude is None else exclude
        while len(self.levels) < MAX_LEVELS:
            r = finest.r
            scale = 2 ** len(self.levels)
            h, w = -(-img.shape[0] // 2), -(-img.shape[1] // 2)
            if coarse_patch is not None and len(self.levels) >= SMALL_LEVELS:
                r = max(r, min(coarse_patch // 2, min(h, w) // COARSE_SHARE))
            if min(h, w) < 4 * (2 * r + 1) or thickness / scale < _COARSE_THICKNESS * max(r, 1):
                break
            # Averages of the known pixels only, so the removed object's colours never leak into
            # the coarse levels; a coarse pixel is hole where less than half of it is known.
            half, share = np.zeros((h, w, 3), np.float32), np.empty((h, w), np.float32)
            pm.half_known(img, known, half, share)
            img = half
            hl = share < 0.5
            known = (~hl).astype(np.float32)
            seen, seen_hole = half, hl
            if known_f is not None and len(self.levels) < FIXED_LEVELS:
                seen, share = np.zeros((h, w, 3), np.float32), np.empty((h, w), np.float32)
                pm.half_known(img_f, known_f, seen, share)
                seen_hole = share < 0.5
                img_f, known_f = seen, (~seen_hole).astype(np.float32)
            ex = _pool_or(ex)  # never copy from any part of an excluded pixel
            # The coarse levels measure texture with the finest level's map, pooled: at a coarse scale
            # a sharp fine weave averages out flat while blurred shading does not, and a texture term
            # on the coarse level's own map chose out-of-focus sources (and stems) for a linen fill.
            fine_tex = cv2.resize(self.levels[-1].tex_src, (w, h), interpolation=cv2.INTER_AREA)
            level = _level(seen, seen_hole, seen_hole | ex, r, fine_tex if FINE_TEXTURE else None)
            if level.valid.mean() < _MIN_SOURCE_SHARE:
                break
            self.levels.append(level)
        log.debug(
            "completion of %s: %d levels, patch %d", image.shape[:2], len(self.levels), 2 * finest.r + 1
        )
        # Made here, not on first use: fill may run in several threads at once (it only reads self).
        self._start = self._coarse_start()

    def fill(
        self,
        seed: int,
        near: int | None = None,
        spread: float = 0.0,
        between_levels: Callable[[], None] | None = None,
        ring: bool = False,
        guide: NDArray[np.uint8] | None = None,
        guide_scale: float = 1.0,
    ) -> NDArray[np.uint8]:
        """One completion, uint8 [h, w, 3]; the same seed gives the same bytes.

        guide: uint8 [h, w, 3], a fill of the hole (a network's, say) whose structure this completion
        renders with the photo's patches, at the image's size or at a coarser level's (one no finer
        than the levels it sets needs no more): the hole of each level at guide_scale or coarser (the
        guide's own detail: 0.25 for a network's fill made at a quarter of the size and scaled up;
        level k, 0 the finest, has scale 2^-k; the coarsest level always) starts as the guide at that
        level's size, instead of a diffusion (coarsest) or the copies carried up from the level below.
        The finer levels refine what is carried up, so the guide's blur never reaches them.

        ring (with final "copy"): also write the known pixels within a patch radius of the hole with
        the centres of their matches, i.e. the fill as its sources continue past the hole's edge, so
        a membrane blend (core.blend) can match the fill's colour to the photo's across the edge.
        Otherwise every pixel outside the hole is the image's.

        near: seed of a fill to vary; the coarsest round((1 - spread) * levels) levels use its seed, so
        spread 0 gives it back and 1 is the fill of `seed` itself. between_levels() may raise to stop.
        """
        if not self.levels[0].hole.any():
            return self.levels[0].image.copy()
        n = len(self.levels)
        keep = 0 if near is None else int(round((1.0 - spread) * n))
        if guide is not None and all(guide.shape != lv.image.shape for lv in self.levels):
            want = self.levels[0].image.shape
            raise InputError(f"guide shape {guide.shape} is neither the image's {want} nor a level's")
        guided = 0 if guide is None else self.guided_levels(guide_scale)
        cur = None
        coarse_nnf = None
        for i, level in enumerate(reversed(self.levels)):  # coarsest first
            s = near if i < keep else seed
            state = np.random.SeedSequence([int(s) & (2**63 - 1), n - 1 - i]).generate_state(2)
            stage = "coarsest" if i == 0 else "finest" if i == n - 1 else "second" if i == n - 2 else "middle"
            rounds, iters, radius = _SCHEDULE[stage]
            budget = {"middle": MIDDLE_BUDGET, "second": FINE_BUDGET, "finest": FINE_BUDGET}.get(stage)
            if budget is not None:
                rounds, iters = _within_budget(rounds, iters, len(level.targets), budget)
            radius = radius or max(level.hole.shape)
            nnf = np.zeros((*level.hole.shape, 2), np.int32)
            search = level.targets
            carried = False  # a finest level that keeps its carried-up matches
            if coarse_nnf is None:
                pm.random_init(level.targets, level.valid, nnf, int(state[0]))
            else:
                pm.upsample_nnf(coarse_nnf, level.targets, level.valid, nnf, int(state[0]))
                if stage == "finest" and len(level.targets) > FINE_CARRY_ABOVE:
                    search = _astray(coarse_nnf, level.targets, nnf)
                    rounds, iters, carried = 1, 2, True
            dist = np.zeros(level.hole.shape, np.float32)
            if i == 0:  # the coarsest hole starts as a diffusion of its border: colours stay in place
                cur = self._jitter(self._start.copy(), level, state, n)
            elif stage == "finest" and self.final == "copy":
                cur = level.image.copy()
                pm.copy_centres(level.image, nnf, level.hole, cur)
            elif INIT_COPY:
                cur = level.image.copy()
                pm.copy_centres(level.image, nnf, level.hole, cur)
            else:
                cur = level.image.copy()
                pm.vote(level.image, level.targets, nnf, dist, level.hole, level.r, 0.0, cur, _rounding(cur))
            if guide is not None and i < guided:  # cur is this level's own array: changed in place
                cur = _guided_start(cur, level, guide)
            for k in range(rounds):
                occ = np.zeros(level.hole.shape, np.float32)
                # The round's distances first, to scale the occurrence cost; a carried finest level
                # keeps its matches, so it is left out there (a 10% hole in a 6000x4000 photo: one
                # fill 6.1-7.1 -> 8.5 s and 1.25 -> 1.50 GB with it).
                pm.match_distances(
                    cur, search if carried else level.targets, nnf, dist, level.r,
                    level.tex_src, level.tex_tgt, level.tex_w, occ,
                )  # fmt: skip
                if OCCURRENCE > 0 and not carried:  # the cost is additive: no second pass over patches
                    occ = _occurrence(level, nnf, dist)
                    pm.add_source_costs(level.targets, nnf, dist, occ)
                if search.size:
                    pm.improve(
                        cur, search, level.is_target, level.valid, nnf, dist,
                        level.r, iters, radius, 2 if i == 0 else 0, int(state[1]) + k,
                        level.tex_src, level.tex_tgt, level.tex_w, occ,
                    )  # fmt: skip
                last = i == n - 1 and k == rounds - 1
                if last and self.final == "meld":
                    _meld(level, nnf, dist, cur, weighted=not carried)
                elif last and self.final == "copy":
                    pm.copy_centres(level.image, nnf, level.is_target if ring else level.hole, cur)
                else:  # a final "vote" is the mean of all the votes, as documented
                    _vote(level, nnf, dist, cur, "mean" if last else VOTE if i >= VOTE_FROM else "mean")
            coarse_nnf = nnf
            if between_levels is not None and i < n - 1:
                between_levels()
        assert cur is not None and cur.dtype == np.uint8
        return cur

    def _jitter(self, cur: NDArray[np.float32], level: _Level, state: NDArray, n: int) -> NDArray:
        """The coarsest start plus seeded low-frequency colour noise, so each seed settles elsewhere.
        Shallow pyramids (thin holes, where the border decides the fill) get less: half with two
        levels, none with one."""
        jitter = self.jitter * min(1.0, (n - 1) / 2)
        if jitter > 0:
            rng = np.random.default_rng(state)
            noise = rng.normal(0.0, 1.0, cur.shape).astype(np.float32)
            noise = cv2.GaussianBlur(noise, (0, 0), 1.5)
            noise *= jitter / (noise.std() + 1e-6)
            if CALM > 0:  # flat surroundings get less noise (see CALM)
                noise *= np.clip(level.tex_tgt / CALM, 0.0, 1.0)[..., None]
            cur[level.hole] += noise[level.hole]
        return cur if level.image.dtype == np.float32 else np.clip(cur + 0.5, 0, 255).astype(np.uint8)

    def guided_levels(self, guide_scale: float) -> int:
        """How many levels, from the coarsest, a guide of this scale sets (see fill): at least one."""
        n = len(self.levels)
        return max(1, sum(2.0**-k <= guide_scale * (1 + 1e-6) for k in range(n)))

    def _coarse_start(self) -> NDArray[np.float32]:
        """The coarsest level with its hole diffused in from the border (Telea)."""
        level = self.levels[-1]
        if not level.hole.any():
            return level.image.astype(np.float32)
        img8 = np.clip(level.image + 0.5, 0, 255).astype(np.uint8)
        smooth = cv2.inpaint(img8, level.hole.astype(np.uint8), 3, cv2.INPAINT_TELEA)
        return np.where(level.hole[..., None], smooth, level.image).astype(np.float32)


def _guided_start(cur: NDArray, level: _Level, guide: NDArray[np.uint8]) -> NDArray:
    """The level's hole moved from its own start (cur, changed in place) towards the guide at the
    level's size: all the way where the surroundings are textured, less where they are flat
    (GUIDE_CALM)."""
    size = level.hole.shape[::-1]
    g = guide if size == guide.shape[1::-1] else cv2.resize(guide, size, interpolation=cv2.INTER_AREA)
    hole = level.hole
    base = cur[hole].astype(np.float32)
    want = g[hole].astype(np.float32)
    if GUIDE_CALM > 0:
        weight = np.clip(level.tex_tgt[hole] / GUIDE_CALM - 1.0, 0.0, 1.0)[:, None]
        want = base + weight * (want - base)
    cur[hole] = want if cur.dtype == np.float32 else np.clip(want + 0.5, 0, 255).astype(np.uint8)
    return cur


def _level(
    image: NDArray,
    hole: NDArray[np.bool_],
    bad: NDArray[np.bool_],
    r: int,
    tex: NDArray[np.float32] | None = None,
) -> _Level:
    h, w = hole.shape
    k = 2 * r + 1
    kernel = np.ones((k, k), np.uint8)
    valid = ~cv2.dilate(bad.astype(np.uint8), kernel).astype(bool) if r else ~bad
    if r:
        valid[:r], valid[h - r :], valid[:, :r], valid[:, w - r :] = False, False, False, False
    is_target = cv2.dilate(hole.astype(np.uint8), kernel).astype(bool) if r else hole.copy()
    # The texture expected in the hole is spread from where patches may come from, not from patches
    # over an exclusion area (lines drawn across the hole by engine.exemplar are one: their steep
    # profile made the flat facade around them look too plain to copy).
    excluded = bad & ~hole
    ignore = cv2.dilate(excluded.astype(np.uint8), kernel).astype(bool) if excluded.any() else None
    tex_src, tex_tgt, share = texture_maps(image, hole, is_target, r, tex, ignore)
    if TEXTURE != 1.0:
        share *= np.float32(TEXTURE)
    return _Level(
        np.ascontiguousarray(image),
        np.ascontiguousarray(hole),
        valid,
        bool(valid.any()),
        pm.coords(is_target),
        is_target,
        r,
        tex_src,
        tex_tgt,
        share,
    )


def texture_maps(
    image: NDArray,
    hole: NDArray[np.bool_],
    is_target: NDArray[np.bool_],
    r: int,
    level: NDArray[np.float32] | None = None,
    ignore: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """(level of each patch, level expected at each pixel, share of each patch in the hole): the
    standard deviation of grey in the (2r+1)^2 patch (3x3 at least; or `level` when given), its
    Gaussian spread from the patches clear of the hole (the mean over those deep inside a large hole),
    and the hole's share, which weighs the texture term: a patch that is mostly known is held by its
    known pixels already (with the full weight on thin holes, b0's LPIPS rose from 0.019 to 0.023).
    The last two are zero away from the targets (is_target), where nothing reads them. Patches
    centred in `ignore` are not spread from."""
    k = max(2 * r + 1, 3)
    if level is None:
        grey = np.empty(image.shape[:2], np.float32)
        pm.grey(image, grey)
        mean = cv2.blur(grey, (k, k), borderType=cv2.BORDER_REFLECT)
        # float32 out (ddepth -1 would give float64: twice the memory, 92 MB more at 24 MP, in every
        # level's map, as the coarser levels pool this one).
        sq = cv2.sqrBoxFilter(grey, cv2.CV_32F, (k, k), borderType=cv2.BORDER_REFLECT)
        np.subtract(sq, np.square(mean, out=mean), out=sq)
        level = np.sqrt(np.maximum(sq, 0.0, out=sq), out=sq)
    # The other two maps are read at targets only: computed on the targets' box (plus the spread's
    # reach), zero elsewhere (np.zeros pages that are never written cost no memory).
    share, expected = np.zeros(level.shape, np.float32), np.zeros(level.shape, np.float32)
    found = mask_bbox(is_target)
    if found is None:
        return level, expected, share
    top, left, bottom, right = found
    sigma = 2.0 * k
    reach = int(3 * sigma) + 1
    h, w = hole.shape
    box = (
        slice(max(top - reach, 0), min(bottom + reach, h)),
        slice(max(left - reach, 0), min(right + reach, w)),
    )
    share[box] = cv2.blur(
        hole[box].astype(np.float32), (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_CONSTANT
    )
    known = (~is_target if ignore is None else ~(is_target | ignore)).astype(np.uint8)
    if not known.any():
        return level, expected, share
    overall = cv2.mean(level, mask=known)[0]
    num, den = level[box] * known[box], known[box].astype(np.float32)
    # The spread is smooth (sigma 14 px for 7x7 patches): on a large level it is computed at a quarter
    # of the size, which changes it by a fraction of a grey level and saves most of the setup time.
    step = 4 if num.size >= _SPREAD_SMALL_ABOVE else 1
    if step > 1:
        small = (-(-num.shape[1] // step), -(-num.shape[0] // step))
        num = cv2.resize(num, small, interpolation=cv2.INTER_AREA)
        den = cv2.resize(den, small, interpolation=cv2.INTER_AREA)
    num = cv2.GaussianBlur(num, (0, 0), sigma / step)
    den = cv2.GaussianBlur(den, (0, 0), sigma / step)
    eps = 0.05
    spread = ((num + eps * overall) / (den + eps)).astype(np.float32)
    if step > 1:
        spread = cv2.resize(spread, known[box].shape[::-1], interpolation=cv2.INTER_LINEAR)
    expected[box] = spread
    return level, expected, share


def _occurrence(level: _Level, nnf: NDArray[np.int32], dist: NDArray[np.float32]) -> NDArray[np.float32]:
    """The occurrence cost of each source centre (after Kaspar et al., "Self Tuning Texture
    Optimization", 2015): how often the pixels of its patch are already copied, over how often they
    would be if every source were used alike, above OCC_FREE, times OCCURRENCE and the round's median
    match cost. A source copied into many places costs more, so a few specks are not copied into a
    lattice; the free share leaves a hole that only part of the context suits to copy from it."""
    h, w = level.hole.shape
    ty, tx = np.divmod(level.targets, w)
    src = nnf[ty, tx]
    count = np.bincount(src[:, 0] * w + src[:, 1], minlength=h * w).reshape(h, w).astype(np.float32)
    k = 2 * level.r + 1
    covered = cv2.boxFilter(count, -1, (k, k), normalize=False, borderType=cv2.BORDER_CONSTANT)
    per_patch = cv2.boxFilter(covered, -1, (k, k), normalize=True, borderType=cv2.BORDER_CONSTANT)
    expected = len(level.targets) * k * k / max(1, int(level.valid.sum()))
    scale = float(np.median(dist[ty, tx])) if len(ty) else 0.0
    over = np.maximum(per_patch / max(expected, 1e-6) - OCC_FREE, 0.0)
    return (OCCURRENCE * scale) * over


def _thickness(hole: NDArray[np.bool_]) -> float:
    """Twice the largest distance from a hole pixel to the nearest known one (or the border)."""
    found = mask_bbox(hole)
    if found is None:
        return 0.0
    top, left, bottom, right = found
    box = np.pad(hole[top:bottom, left:right], 1)
    return 2.0 * float(cv2.distanceTransform(box.astype(np.uint8), cv2.DIST_L2, 3).max())


def _astray(
    coarse: NDArray[np.int32], targets: NDArray[np.int64], nnf: NDArray[np.int32]
) -> NDArray[np.int64]:
    """The targets whose carried-up match (patchmatch.upsample_nnf) was not usable and was replaced
    by a random source (patchmatch.astray: one compiled pass; numpy's took 0.2 s and some 180 MB of
    index arrays for the 2.9 million targets of a 24 MP photo's 10% hole)."""
    out = np.empty_like(targets)
    return out[: pm.astray(coarse, targets, nnf, out)]


def _within_budget(rounds: int, iters: int, targets: int, budget: int) -> tuple[int, int]:
    """Fewer rounds, then fewer iterations, until rounds x iters x targets is within budget, never
    below one of one."""
    while rounds * iters * targets > budget and (rounds > 1 or iters > 1):
        if rounds > 1:
            rounds -= 1
        else:
            iters -= 1
    return rounds, iters


def _vote(level: _Level, nnf: NDArray, dist: NDArray, cur: NDArray, mode: str) -> None:
    """The EM step: the hole rebuilt from the current matches (see VOTE)."""
    if mode == "best":
        pm.vote_best(level.image, level.targets, nnf, dist, level.hole, level.r, cur)
        return
    sigma2 = float(np.percentile(dist[level.is_target], SIGMA_PCT)) + 1e-6
    pm.vote(level.image, level.targets, nnf, dist, level.hole, level.r, sigma2, cur, _rounding(cur))


def _meld(level: _Level, nnf: NDArray, dist: NDArray, cur: NDArray[np.uint8], weighted: bool = True) -> None:
    """The hole of cur (the finest level, changed in place) rebuilt in the gradient domain: each
    patch votes its source's gradients (patchmatch.vote_gradients), and a screened Poisson solve
    (core.poisson) finds the colours whose gradients fit the votes, near the copy far from the border
    and equal to the photo outside the hole. The copy's colour is matched to the photo's along the
    hole's edge first (core.blend.membrane), so the screening pulls towards the matched colours.
    weighted False: every vote counts the same, and dist is not read (a carried level, whose carried
    targets have no distances)."""
    found = mask_bbox(level.is_target)
    if found is None:
        return
    h, w = level.hole.shape
    t, lft, b, r = found
    t, lft, b, r = max(t - 1, 0), max(lft - 1, 0), min(b + 1, h), min(r + 1, w)
    box = (slice(t, b), slice(lft, r))
    image = level.image[box]
    hole, target = level.hole[box], level.is_target[box]
    # The copy over the hole and the ring its matches continue into (the membrane reads the ring),
    # then the photo back on the ring: one box-sized float array, no index arrays.
    data = image.astype(np.float32)
    pm.copy_centres(level.image, nnf[box], target, data)
    offset = membrane(image, data, hole, RING)
    pm.place_copy(data, image, target, hole, offset)
    del offset
    gx, gy = np.zeros_like(data), np.zeros_like(data)
    wx, wy = np.zeros(hole.shape, np.float32), np.zeros(hole.shape, np.float32)
    weighted = MELD_WEIGHTED and weighted
    sigma2 = float(np.percentile(dist.ravel()[level.targets], SIGMA_PCT)) + 1e-6 if weighted else 0.0
    reach = level.r if MELD_RADIUS is None else min(level.r, MELD_RADIUS)
    pm.vote_gradients(
        level.image, level.targets, nnf, dist, level.hole, reach, sigma2, t, lft, gx, gy, wx, wy
    )
    # Pairs with a hole pixel that no patch covers (at the image's border) keep the matched copy's
    # own gradient.
    pm.mean_gradients(gx, wx, hole, data, 0, 1)
    pm.mean_gradients(gy, wy, hole, data, 1, 0)
    del wx, wy
    div = divergence(gx, gy, out=gx)  # in gx's place: the system is built with two box arrays alive
    del gx, gy
    system = hole_system(data, hole, div, LAMBDA)
    del data, div  # the solve needs none of the box-sized arrays
    solved = solve(system)  # [n, 3], in the order of region[hole]
    del system
    np.clip(np.rint(solved, out=solved), 0, 255, out=solved)
    pm.put_hole(cur[box], hole, solved)  # whole numbers in 0..255 by now: the cast to uint8 is exact


def _rounding(out: NDArray) -> float:
    return 0.5 if out.dtype == np.uint8 else 0.0


def _pool_or(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Half size; a cell is True where any of its (up to) four pixels is."""
    h, w = mask.shape
    padded = np.zeros((h + h % 2, w + w % 2), bool)
    padded[:h, :w] = mask
    return padded[0::2, 0::2] | padded[1::2, 0::2] | padded[0::2, 1::2] | padded[1::2, 1::2]
