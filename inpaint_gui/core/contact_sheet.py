"""A labelled contact sheet of candidates: one image to print, mail or put on a slide."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import InputError, mask_bbox
from inpaint_gui.core.metrics import seam_excess

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # top, left, bottom, right (exclusive end)

_BACKGROUND = (32, 32, 32)
_TEXT = (235, 235, 235)
_BADGE = (20, 20, 20)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


class SheetCandidate(Protocol):
    """What the sheet needs of a candidate (engine.Candidate fits)."""

    image: NDArray[np.uint8]
    seed: int
    score: float


def focus_box(mask: NDArray[np.bool_] | None, shape: tuple[int, ...], context: float = 1.0) -> Box:
    """The mask's bounding box grown by `context` times its size on each side, clamped to the image.

    With no mask or an empty one, the whole image.
    """
    h, w = int(shape[0]), int(shape[1])
    box = mask_bbox(mask) if mask is not None else None
    if box is None:
        return 0, 0, h, w
    top, left, bottom, right = box
    grow_y = int(math.ceil((bottom - top) * context))
    grow_x = int(math.ceil((right - left) * context))
    # Small holes still get some surroundings.
    grow_y, grow_x = max(grow_y, 16), max(grow_x, 16)
    # A thin hole (a wire, a scratch) still gets a readable box: at most 2:1.
    box_h, box_w = bottom - top + 2 * grow_y, right - left + 2 * grow_x
    grow_y = max(grow_y, math.ceil((box_w / 2 - (bottom - top)) / 2))
    grow_x = max(grow_x, math.ceil((box_h / 2 - (right - left)) / 2))
    return max(0, top - grow_y), max(0, left - grow_x), min(h, bottom + grow_y), min(w, right + grow_x)


def fit_image(image: NDArray[np.uint8], box: Box | None, side: int) -> NDArray[np.uint8]:
    """The box of image scaled so its longer side is `side` pixels (never enlarged past 4x)."""
    if box is not None:
        top, left, bottom, right = box
        image = image[top:bottom, left:right]
    h, w = image.shape[:2]
    if h == 0 or w == 0:
        raise InputError("cannot show an empty image")
    scale = min(side / max(h, w), 4.0)
    out_w, out_h = max(1, round(w * scale)), max(1, round(h * scale))
    if scale < 1.0:
        # Cheap subsampling first so a 6000x4000 photo does not cost a full INTER_AREA pass.
        step = int(1.0 / scale) // 2
        if step > 1:
            image = image[::step, ::step]
        return cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_AREA)
    return cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_LINEAR)


def _put_text_fitted(canvas: NDArray[np.uint8], text: str, x: int, y: int, width: int, scale: float) -> None:
    """Draw text with its baseline at y, shrunk until it fits in width pixels."""
    thickness = 1
    while scale > 0.3:
        (tw, _), _ = cv2.getTextSize(text, _FONT, scale, thickness)
        if tw <= width:
            break
        scale *= 0.9
    cv2.putText(canvas, text, (x, y), _FONT, scale, _TEXT, thickness, cv2.LINE_AA)


def _draw_badge(canvas: NDArray[np.uint8], label: str, x: int, y: int, scale: float) -> None:
    """A filled dark box with the candidate's number, top-left at (x, y)."""
    thickness = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(label, _FONT, scale, thickness)
    pad = max(3, round(th * 0.3))
    cv2.rectangle(canvas, (x, y), (x + tw + 2 * pad, y + th + base + 2 * pad), _BADGE, thickness=-1)
    cv2.putText(canvas, label, (x + pad, y + pad + th), _FONT, scale, _TEXT, thickness, cv2.LINE_AA)


def candidate_label(number: int, seed: int, score: float) -> str:
    """The caption under a candidate: the same text the gallery uses."""
    return f"#{number}  seed {seed}  seam {seam_excess(score):+.2f}"


def contact_sheet(
    candidates: Sequence[SheetCandidate],
    *,
    original: NDArray[np.uint8] | None = None,
    box: Box | None = None,
    cell: int = 320,
    columns: int | None = None,
    title: str | None = None,
    numbers: Sequence[int] | None = None,
) -> NDArray[np.uint8]:
    """A uint8 (H, W, 3) RGB grid of candidates, each numbered and captioned with seed and score.

    original: shown first, captioned "original". box: the part of every image to
    show (e.g. focus_box(mask, shape)); None = whole images. cell: longest side of
    each picture in pixels. columns: None = about square. numbers: the label of
    each candidate (default 1, 2, ...), so the sheet matches the gallery's numbering.
    """
    if len(candidates) == 0:
        raise InputError("no candidates to put on a contact sheet")
    if not 64 <= cell <= 4096:
        raise InputError(f"cell size must be between 64 and 4096 pixels, got {cell}")
    if numbers is None:
        numbers = list(range(1, len(candidates) + 1))
    if len(numbers) != len(candidates):
        raise InputError("numbers must have one entry per candidate")
    # Each picture is made as its image is read: a candidate may composite its whole image on
    # demand (engine.Candidate), so no more than one full-size copy is alive at a time.
    tiles: list[tuple[str, str]] = []
    pictures: list[NDArray[np.uint8]] = []
    shape = None
    if original is not None:
        shape = original.shape
        tiles.append(("", "original"))
        pictures.append(fit_image(original, box, cell))
    for number, cand in zip(numbers, candidates, strict=True):
        image = cand.image
        shape = image.shape if shape is None else shape
        if image.shape != shape and original is not None:
            raise InputError("the original and the candidates differ in size")
        if image.shape != shape or image.dtype != np.uint8:
            raise InputError("candidate images must all be uint8 (H, W, 3) of one size")
        tiles.append((str(number), candidate_label(number, cand.seed, cand.score)))
        pictures.append(fit_image(image, box, cell))
        del image

    pic_h = max(p.shape[0] for p in pictures)
    pic_w = max(p.shape[1] for p in pictures)
    count = len(tiles)
    cols = columns if columns is not None else max(1, math.ceil(math.sqrt(count)))
    cols = max(1, min(cols, count))
    rows = math.ceil(count / cols)

    text_scale = max(0.4, pic_w / 640.0)
    (_, text_h), text_base = cv2.getTextSize("Ag", _FONT, text_scale, 1)
    gap = max(8, pic_w // 40)
    caption_h = text_h + text_base + gap
    title_h = 0
    if title:
        (_, th), tb = cv2.getTextSize(title, _FONT, text_scale * 1.3, 1)
        title_h = th + tb + 2 * gap
    tile_w, tile_h = pic_w + gap, pic_h + caption_h + gap
    sheet = np.empty((title_h + rows * tile_h + gap, cols * tile_w + gap, 3), np.uint8)
    sheet[:] = _BACKGROUND
    if title:
        _put_text_fitted(sheet, title, gap, title_h - gap, sheet.shape[1] - 2 * gap, text_scale * 1.3)

    for i, ((badge, caption), picture) in enumerate(zip(tiles, pictures, strict=True)):
        r, c = divmod(i, cols)
        x0 = gap + c * tile_w
        y0 = title_h + gap + r * tile_h
        ph, pw = picture.shape[:2]
        # Centre each picture in its slot (pictures only differ in size if the caller passed odd shapes).
        px, py = x0 + (pic_w - pw) // 2, y0 + (pic_h - ph) // 2
        sheet[py : py + ph, px : px + pw] = picture
        if badge:
            _draw_badge(sheet, badge, px + 4, py + 4, text_scale * 1.4)
        _put_text_fitted(sheet, caption, x0, y0 + pic_h + text_h + gap // 2, pic_w, text_scale)
    return sheet
