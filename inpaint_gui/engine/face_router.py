"""The default engine with faces: holes on a face go to the faces network, framed as it was trained.

A hole that touches a frontal face (core.faces) is split: its pixels inside the face's training
frame are filled by the faces network, the rest by the photo engine, both with the candidate's own
seed. The face's frame is cut upright at the photo's own scale, scaled to the network's size, filled
there, and put back with the full-resolution pipeline (core.detail.paste_region: detail from the
photo, membrane blend), then turned back into the photo: only the user's mask changes. A photo with
no face near its holes goes through the photo engine alone, byte for byte as without this module.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core import haar
from inpaint_gui.core.compose import InputError, mask_bbox
from inpaint_gui.core.detail import DetailMap, paste_region
from inpaint_gui.core.faces import FRAMING, MIN_FACE, Face, Framing, detect_faces
from inpaint_gui.core.metrics import seam_score
from inpaint_gui.core.region import Region
from inpaint_gui.engine.base import Candidate, CandidateCallback, Engine
from inpaint_gui.engine.checkpoint import FACES_NAME, checkpoint_dir
from inpaint_gui.engine.guided import GuidedEngine
from inpaint_gui.engine.latent import LatentEngine
from inpaint_gui.engine.pluralistic import PluralisticEngine

log = logging.getLogger(__name__)

#: Faces are looked for up to this many times the hole's longer side: a spot on a large face is
#: better filled from the photo's own skin, at full resolution, than by a 128 px network.
FACE_PER_HOLE = 8.0
#: Faces smaller than this share of the photo's long side are left to the photo engine too (in a
#: 24 MP photo, faces under 94 px): the search then costs no more than on a copy 1,536 px long,
#: where the detector's 24 px window is the smallest face.
FACE_SHARE = 1 / 64
#: A hole that covers more than this share of a face's box removes the face: the photo engine fills
#: it. The network was trained on holes of up to 60% of its crop, about 85% of the face's box.
MAX_COVER = 0.85
#: Rolls smaller than this (degrees) are taken as upright, so the frame is an exact crop.
SNAP_DEGREES = 1.0
FACE_MODES = ("auto", "off")
FACE_BLEND = "membrane"


@dataclass(frozen=True)
class FacePart:
    """The hole pixels one face's network fills: the face, its frame at the photo's scale (2x3,
    photo -> side x side square) and the part of the mask inside it."""

    face: Face
    frame: NDArray[np.float64]
    side: int
    box: tuple[int, int, int, int]  # (top, left, bottom, right) of part, photo pixels
    part: NDArray[np.bool_]  # the box's hole pixels this face fills


def plan_face_parts(
    image: NDArray[np.uint8], mask: NDArray[np.bool_], framing: Framing = FRAMING
) -> list[FacePart]:
    """The faces that holes of mask touch and the hole pixels each fills; [] when none.

    Faces under MIN_FACE pixels or FACE_SHARE of the photo's long side, faces mostly covered by
    the hole (more than MAX_COVER of the box) and profiles (which the frontal detector does not
    find) are left to the photo engine; where frames overlap, the more certain face takes the pixels.
    """
    box = mask_bbox(mask)
    if box is None:
        return []
    side = max(box[2] - box[0], box[3] - box[1])
    h, w = mask.shape
    smallest = max(MIN_FACE, round(FACE_SHARE * max(h, w)))
    faces = detect_faces(image, box, smallest, FACE_PER_HOLE * side, hole=mask)
    taken = np.zeros(mask.shape, bool)
    parts = []
    for face in faces:
        half = face.size / 2
        t, lft = max(0, int(face.y - half)), max(0, int(face.x - half))
        b, r = min(h, int(math.ceil(face.y + half))), min(w, int(math.ceil(face.x + half)))
        cover = np.count_nonzero(mask[t:b, lft:r]) / (face.size * face.size)
        if cover > MAX_COVER:
            log.info(
                "hole covers %.0f%% of the face at (%.0f, %.0f): left to the photo engine",
                100 * cover,
                face.x,
                face.y,
            )
            continue
        angle = 0.0 if abs(face.angle) < SNAP_DEGREES else face.angle
        face = dataclasses.replace(face, angle=angle)
        n = face.native_side(framing)
        frame = face.frame(n, framing)
        if angle == 0.0:  # whole-pixel shift: the upright frame is an exact crop of the photo
            frame[:, 2] = np.round(frame[:, 2])
        corners = np.array([[0, 0], [n, 0], [n, n], [0, n]], np.float64)
        poly = (corners - frame[:, 2]) @ np.linalg.inv(frame[:, :2]).T
        ft, fl = max(0, int(poly[:, 1].min())), max(0, int(poly[:, 0].min()))
        fb, fr = min(h, int(math.ceil(poly[:, 1].max())) + 1), min(w, int(math.ceil(poly[:, 0].max())) + 1)
        if fb <= ft or fr <= fl:
            continue
        inside = np.zeros((fb - ft, fr - fl), np.uint8)
        cv2.fillConvexPoly(inside, np.round(poly - [fl, ft]).astype(np.int32), 1)
        part = mask[ft:fb, fl:fr] & inside.astype(bool) & ~taken[ft:fb, fl:fr]
        if not part.any():
            continue
        taken[ft:fb, fl:fr] |= part
        parts.append(FacePart(face, frame, n, (ft, fl, fb, fr), part))
    return parts


def face_fills(
    network: PluralisticEngine,
    image: NDArray[np.uint8],
    fp: FacePart,
    seeds: Sequence[int],
    near: int | None,
    spread: float,
) -> Iterator[NDArray[np.uint8]]:
    """One fill of fp's box per seed: uint8 (h, w, 3), meaningful on fp.part."""
    res = network.info.resolution
    n = fp.side
    flags = cv2.INTER_CUBIC
    upright = cv2.warpAffine(image, fp.frame, (n, n), flags=flags, borderMode=cv2.BORDER_REFLECT_101)
    t, lft, b, r = fp.box
    full = np.zeros(image.shape[:2], np.float32)
    full[t:b, lft:r] = fp.part
    hole = cv2.warpAffine(full, fp.frame, (n, n), flags=cv2.INTER_LINEAR) > 0.01
    work = cv2.resize(upright, (res, res), interpolation=cv2.INTER_AREA if n > res else cv2.INTER_CUBIC)
    work_hole = cv2.resize(hole.astype(np.float32), (res, res), interpolation=cv2.INTER_AREA) > 0.0
    work_region = Region(0, 0, res, res, res, res, 0, 0)
    region = Region(0, 0, n, n, res, res, 0, 0)
    back = fp.frame.copy()
    back[:, 2] += back[:, :2] @ np.array([lft, t], np.float64)  # box pixels -> upright frame
    cache: dict = {}
    fills = network._fill_region(work_region, work, work_hole, seeds, near, spread)
    try:
        for prediction in fills:
            detail: DetailMap | None = None
            if isinstance(prediction, tuple):
                prediction, detail = prediction
            canvas = upright.copy()
            paste_region(region, prediction, canvas, hole, detail, FACE_BLEND, 3, cache)
            yield cv2.warpAffine(
                canvas,
                back,
                (r - lft, b - t),
                flags=flags | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REPLICATE,
            )
    finally:
        if hasattr(fills, "close"):
            fills.close()


def latent_fills(
    engine: LatentEngine,
    image: NDArray[np.uint8],
    fp: FacePart,
    seeds: Sequence[int],
    near: int | None,
    spread: float,
) -> Iterator[NDArray[np.uint8]]:
    """One latent-search fill of fp's box per seed, the search run on the face's upright frame."""
    n = fp.side
    upright = cv2.warpAffine(
        image, fp.frame, (n, n), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101
    )
    t, lft, b, r = fp.box
    full = np.zeros(image.shape[:2], np.float32)
    full[t:b, lft:r] = fp.part
    hole = cv2.warpAffine(full, fp.frame, (n, n), flags=cv2.INTER_LINEAR) > 0.01
    back = fp.frame.copy()
    back[:, 2] += back[:, :2] @ np.array([lft, t], np.float64)
    for filled in LatentEngine._fill(engine, upright, hole, seeds, near, spread):
        yield cv2.warpAffine(
            filled,
            back,
            (r - lft, b - t),
            flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )


class _FaceRouting(Engine):
    """Holes on faces filled at the training framing by _face_fills; the rest by the engine itself.

    faces: "auto" routes holes on faces; "off" is the engine alone. Each candidate's `filled_by`
    says which engine filled which part.
    """

    faces = "auto"
    #: What the status bar calls the filler of the faces.
    face_filler = "faces network"

    def _face_framing(self) -> Framing | None:
        """The training framing at the face filler's size; None: no filler, no routing."""
        raise NotImplementedError

    def _face_fills(
        self, image: NDArray[np.uint8], fp: FacePart, seeds: Sequence[int], near: int | None, spread: float
    ) -> Iterator[NDArray[np.uint8]]:
        raise NotImplementedError

    def _set_option(self, key: str, value: Any) -> None:
        if key != "faces":
            super()._set_option(key, value)
        elif value not in FACE_MODES:
            raise InputError(f"faces must be one of {', '.join(FACE_MODES)}, got {value!r}")
        else:
            self.faces = value

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
        framing = self._face_framing() if self.faces == "auto" else None
        parts = plan_face_parts(image, mask, framing) if framing is not None else []
        if not parts:
            return super()._run(image, mask, seeds, near, spread, should_cancel, on_candidate, closed_gaps)
        self._check_cancel(should_cancel)
        start_time = time.perf_counter()
        fills = [list(self._face_fills(image, fp, seeds, near, spread)) for fp in parts]
        rest = mask.copy()
        for fp in parts:
            t, lft, b, r = fp.box
            rest[t:b, lft:r] &= ~fp.part
        count = len(parts)
        said = f"{self.face_filler}: {count} face{'s' if count > 1 else ''}"
        filled_by = f"{said}; {self.name}: the rest" if rest.any() else said

        box = mask_bbox(mask)
        assert box is not None

        def with_faces(candidate: Candidate, index: int) -> Candidate:
            """The candidate with seed index's faces, over the user's photo (the photo engine's
            candidates are made over the first seed's faces)."""
            # The mask's box and the candidate's own (a feathered fill reaches past the mask).
            ct, cl, cb, cr = candidate.box
            top, left, bottom, right = min(box[0], ct), min(box[1], cl), max(box[2], cb), max(box[3], cr)
            out = candidate.region(top, left, bottom, right)
            for fp, per_seed in zip(parts, fills, strict=True):
                # The part lies in the mask, so in box; its frame's box may reach past it.
                t, lft, b, r = fp.box
                y0, x0, y1, x1 = max(t, top), max(lft, left), min(b, bottom), min(r, right)
                np.copyto(
                    out[y0 - top : y1 - top, x0 - left : x1 - left],
                    per_seed[index][y0 - t : y1 - t, x0 - lft : x1 - lft],
                    where=fp.part[y0 - t : y1 - t, x0 - lft : x1 - lft, None],
                )
            return dataclasses.replace(
                candidate,
                patch=out,
                photo=image,
                top=top,
                left=left,
                filled_by=filled_by,
                closed_gaps=closed_gaps,
            )

        if not rest.any():
            out = []
            share = (time.perf_counter() - start_time) / len(seeds)
            for index, s in enumerate(seeds):
                spread_of = spread if near is not None else 0.0
                alone = Candidate.in_box(image, image, box, s, 0.0, share, near=near, spread=spread_of)
                candidate = with_faces(alone, index)
                hole = mask[box[0] : box[2], box[1] : box[3]]
                candidate = dataclasses.replace(candidate, score=seam_score(candidate.patch, hole))
                out.append(candidate)
                if on_candidate is not None:
                    on_candidate(candidate, index, len(seeds))
                if index + 1 < len(seeds):
                    self._check_cancel(should_cancel)
            return out
        # The photo engine sees the faces filled (the first seed's), not what the user masked.
        start = with_faces(Candidate.in_box(image, image, box, seeds[0], 0.0, 0.0), 0).image
        done: list[Candidate] = []

        def routed(candidate: Candidate, index: int, total: int) -> None:
            done.append(with_faces(candidate, index))
            if on_candidate is not None:
                on_candidate(done[-1], index, total)

        super()._run(start, rest, seeds, near, spread, should_cancel, routed, closed_gaps)
        return done


class FaceRoutedEngine(_FaceRouting, GuidedEngine):
    """The guided engine, with holes on faces filled by the faces network at its training framing
    (when a faces network is loaded)."""

    options = (*GuidedEngine.options, "faces")

    def __init__(
        self, network: PluralisticEngine, faces_network: PluralisticEngine | None = None, **kwargs: Any
    ) -> None:
        super().__init__(network, **kwargs)
        self.faces_network = faces_network
        if faces_network is not None:
            faces_network.configure(detail="similarity")
            # One candidate per pass: the similarity detail of a batch differs from a lone
            # candidate's in the last bit, and a seed must give its candidate's bytes alone too.
            faces_network.batch_size = 1

    @classmethod
    def from_checkpoints(
        cls, checkpoint: str | Path | None = None, faces: str | Path | None = None, device: str = "auto"
    ) -> FaceRoutedEngine:
        """The photo network from checkpoint (None = the default); the faces network from faces
        (None = the shipped faces checkpoint when installed, else none: no routing)."""
        network = PluralisticEngine.from_checkpoint(checkpoint, device=device)
        path = Path(faces) if faces is not None else checkpoint_dir() / FACES_NAME
        faces_network = None
        if faces is not None or path.is_file():
            faces_network = PluralisticEngine.from_checkpoint(path, device=device)
        return cls(network, faces_network)

    def warm_up(self) -> None:
        """The matcher, and the face and eye cascades (parsing them takes about 0.3 s) and their
        compiled evaluator."""
        super().warm_up()
        if self.faces_network is not None:
            haar.warm_up()

    def _face_framing(self) -> Framing | None:
        return None if self.faces_network is None else FRAMING.at(self.faces_network.info.resolution)

    def _face_fills(
        self, image: NDArray[np.uint8], fp: FacePart, seeds: Sequence[int], near: int | None, spread: float
    ) -> Iterator[NDArray[np.uint8]]:
        assert self.faces_network is not None
        return face_fills(self.faces_network, image, fp, seeds, near, spread)


class FramedLatentEngine(_FaceRouting, LatentEngine):
    """The latent search, on a face's training frame when the hole touches a face (the GAN was
    trained on aligned faces filling the frame); elsewhere on the hole's region as before."""

    options = (*LatentEngine.options, "faces")
    face_filler = "latent search on the face's frame"

    def warm_up(self, n: int = 6) -> None:
        super().warm_up(n)
        haar.warm_up()

    def _face_framing(self) -> Framing | None:
        return FRAMING.at(self.generator.config.resolution)

    def _face_fills(
        self, image: NDArray[np.uint8], fp: FacePart, seeds: Sequence[int], near: int | None, spread: float
    ) -> Iterator[NDArray[np.uint8]]:
        return latent_fills(self, image, fp, seeds, near, spread)
