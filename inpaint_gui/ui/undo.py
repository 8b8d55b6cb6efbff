"""Undo commands: mask edits and applied fills share one QUndoStack.

A mask edit holds the MaskDiff its operation returned (the edit is already done
when the command is pushed). An applied fill holds only the masked pixels,
before and after, plus the diff of clearing the mask, so a long session on a
large photo keeps a small history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from PySide6.QtGui import QUndoCommand

from inpaint_gui.core.compose import mask_bbox
from inpaint_gui.core.mask_doc import Box, MaskDiff, MaskDoc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppliedFill:
    """One candidate written into the image: which pixels, their old and new values, and its origin."""

    box: Box  # top, left, bottom, right of the filled region
    mask_bits: NDArray[np.uint8]  # np.packbits of the bool mask inside box
    old: NDArray[np.uint8]  # (k, 3) RGB of the k masked pixels before
    new: NDArray[np.uint8]  # (k, 3) after
    seed: int = 0
    engine: str = ""
    near: int | None = None
    spread: float = 0.0

    @classmethod
    def from_candidate(
        cls,
        current: NDArray[np.uint8],
        candidate: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        *,
        seed: int = 0,
        engine: str = "",
        near: int | None = None,
        spread: float = 0.0,
    ) -> AppliedFill | None:
        """The fill that writes candidate's masked pixels over current; None for an empty mask."""
        if candidate.shape != current.shape or mask.shape != current.shape[:2]:
            raise ValueError(
                f"candidate {candidate.shape} and mask {mask.shape} must match the image {current.shape}"
            )
        box = mask_bbox(mask)
        if box is None:
            return None
        top, left, bottom, right = box
        crop = mask[top:bottom, left:right]
        old = current[top:bottom, left:right][crop]
        new = candidate[top:bottom, left:right][crop]
        return cls(box, np.packbits(crop, axis=None), old, new, int(seed), engine, near, float(spread))

    def mask(self) -> NDArray[np.bool_]:
        """The bool mask inside box."""
        top, left, bottom, right = self.box
        h, w = bottom - top, right - left
        return np.unpackbits(self.mask_bits, count=h * w).reshape(h, w).view(np.bool_)

    def write(self, image: NDArray[np.uint8], applied: bool) -> NDArray[np.uint8]:
        """Write new (applied) or old pixels into image in place; return the changed crop."""
        top, left, bottom, right = self.box
        crop = image[top:bottom, left:right]
        crop[self.mask()] = self.new if applied else self.old
        return crop

    @property
    def nbytes(self) -> int:
        return self.mask_bits.nbytes + self.old.nbytes + self.new.nbytes


class DocumentTarget(Protocol):
    """What the commands change; ImageDocument implements it."""

    @property
    def mask_doc(self) -> MaskDoc: ...

    def mask_updated(self, boxes: list[Box]) -> None: ...

    def write_fill(self, fill: AppliedFill, applied: bool) -> None: ...


class MaskEditCommand(QUndoCommand):
    """A mask operation that has already been done; redo() the first time does nothing."""

    def __init__(self, text: str, target: DocumentTarget, diff: MaskDiff) -> None:
        super().__init__(text)
        self._target = target
        self._diff = diff
        self._done = True

    @property
    def diff(self) -> MaskDiff:
        return self._diff

    def redo(self) -> None:
        if self._done:
            return
        self._target.mask_doc.redo(self._diff)
        self._target.mask_updated(self._diff.boxes)
        self._done = True

    def undo(self) -> None:
        self._target.mask_doc.undo(self._diff)
        self._target.mask_updated(self._diff.boxes)
        self._done = False


class ApplyFillCommand(QUndoCommand):
    """Write a candidate's fill into the image and clear the mask, as one step."""

    def __init__(self, text: str, target: DocumentTarget, fill: AppliedFill) -> None:
        super().__init__(text)
        self._target = target
        self.fill = fill
        self._mask_diff: MaskDiff | None = None
        self._first = True

    def redo(self) -> None:
        self._target.write_fill(self.fill, applied=True)
        mask_doc = self._target.mask_doc
        if self._first:
            self._mask_diff = mask_doc.clear()
            self._first = False
        elif self._mask_diff is not None:
            mask_doc.redo(self._mask_diff)
        if self._mask_diff is not None:
            self._target.mask_updated(self._mask_diff.boxes)

    def undo(self) -> None:
        if self._mask_diff is not None:
            self._target.mask_doc.undo(self._mask_diff)
            self._target.mask_updated(self._mask_diff.boxes)
        self._target.write_fill(self.fill, applied=False)
