"""The document's history of generation rounds: every round's mask, engine, settings and candidates.

Applying a candidate ends its round in the gallery but not here, so undoing an
Apply brings its candidates back, and any earlier round can be reopened to pick
another. Plain data (no Qt): a round keeps only the crop of each candidate
inside the round's box, so a long session on a large photo stays small, and the
session autosave writes each finished round once, to its own file.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.compose import feather_alpha
from inpaint_gui.core.mask_doc import Box
from inpaint_gui.engine.base import Candidate

log = logging.getLogger(__name__)

#: Candidate pixels the history keeps before it forgets its oldest rounds.
MAX_BYTES = 256 * 1024 * 1024


@dataclass
class KeptCandidate:
    """One candidate of a round: its pixels inside the round's box and how to reproduce it."""

    crop: NDArray[np.uint8]  # (h, w, 3) of the round's box
    seed: int
    score: float
    seconds: float = 0.0
    near: int | None = None
    spread: float = 0.0


@dataclass
class RoundRecord:
    """A generation round as the history keeps it."""

    number: int  # 1, 2, ... in the order the rounds were started
    box: Box  # top, left, bottom, right of the mask's bounding box
    mask_crop: NDArray[np.bool_]  # the mask the user painted, inside box
    image_shape: tuple[int, int]  # (height, width) of the image it was made for
    engine: str
    checkpoint: str | None = None
    title: str = ""  # the engine box's label
    n: int = 0  # candidates asked for per request
    candidates: list[KeptCandidate] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)  # indices of candidates applied, in order
    created: float = field(default_factory=time.time)
    token: str = field(default_factory=lambda: secrets.token_hex(4))  # changes with every change
    feather: int = 0  # soft edge: the candidates were made for the painted mask grown by this

    @property
    def nbytes(self) -> int:
        return self.mask_crop.nbytes + sum(c.crop.nbytes for c in self.candidates)

    def full_mask(self) -> NDArray[np.bool_]:
        """The mask the user painted for this round."""
        mask = np.zeros(self.image_shape, bool)
        top, left, bottom, right = self.box
        mask[top:bottom, left:right] = self.mask_crop
        return mask

    def fill_crop(self) -> NDArray[np.bool_]:
        """Inside box, the pixels the candidates fill: the painted mask grown by the soft edge."""
        return feather_alpha(self.mask_crop, self.feather)[1] if self.feather > 0 else self.mask_crop

    def same_mask(self, mask: NDArray[np.bool_]) -> bool:
        """Whether mask is the mask this round was made for."""
        if mask.shape != self.image_shape:
            return False
        top, left, bottom, right = self.box
        if not np.array_equal(mask[top:bottom, left:right], self.mask_crop):
            return False
        return int(np.count_nonzero(mask)) == int(np.count_nonzero(self.mask_crop))

    def add(self, candidate: Candidate) -> None:
        top, left, bottom, right = self.box
        crop = candidate.region(top, left, bottom, right)
        self.candidates.append(
            KeptCandidate(
                crop,
                int(candidate.seed),
                float(candidate.score),
                float(candidate.seconds),
                candidate.near,
                float(candidate.spread),
            )
        )
        self.token = secrets.token_hex(4)

    def mark_applied(self, index: int) -> None:
        self.applied.append(index)
        self.token = secrets.token_hex(4)

    def unmark_applied(self, index: int) -> None:
        """The last Apply of candidate index was undone."""
        if self.applied and self.applied[-1] == index:
            self.applied.pop()
            self.token = secrets.token_hex(4)

    def rebuild(self, image: NDArray[np.uint8]) -> list[Candidate]:
        """The candidates over image (the document as it is now): each one's masked pixels over
        image's, as the gallery, previews and Apply expect."""
        if image.shape[:2] != self.image_shape:
            raise ValueError(
                f"round {self.number} was made for a {self.image_shape} image, not {image.shape[:2]}"
            )
        top, left, bottom, right = self.box
        fill = self.fill_crop()
        out = []
        for c in self.candidates:
            patch = np.array(image[top:bottom, left:right], copy=True)
            patch[fill] = c.crop[fill]
            out.append(
                Candidate(
                    patch, c.seed, c.score, c.seconds, c.near, c.spread, photo=image, top=top, left=left
                )
            )
        return out

    def describe(self) -> str:
        n = len(self.candidates)
        who = self.title or self.engine
        text = f"Round {self.number} · {who} · {n} candidate{'s' if n != 1 else ''}"
        if self.applied:
            text += " · applied " + ", ".join(f"#{i + 1}" for i in self.applied)
        return text

    def details(self) -> str:
        """A longer description, for a tooltip: seeds and settings."""
        seeds = ", ".join(str(c.seed) for c in self.candidates[:8]) + (
            " …" if len(self.candidates) > 8 else ""
        )
        when = time.strftime("%H:%M:%S", time.localtime(self.created))
        lines = [self.describe(), f"made at {when}; {self.n} asked per request", f"seeds: {seeds or 'none'}"]
        if self.checkpoint:
            lines.append(f"checkpoint: {self.checkpoint}")
        return "\n".join(lines)


class RoundHistory:
    """The rounds of one document, oldest first, within a memory budget."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.records: list[RoundRecord] = []
        self._max_bytes = max_bytes
        self._next = 1

    def start(
        self,
        mask: NDArray[np.bool_],
        box: Box,
        engine: str,
        checkpoint: str | None,
        title: str,
        n: int,
        feather: int = 0,
    ) -> RoundRecord:
        """A new round; mask is what the user painted, box covers it grown by feather."""
        top, left, bottom, right = box
        record = RoundRecord(
            self._next,
            box,
            np.array(mask[top:bottom, left:right], copy=True),
            (int(mask.shape[0]), int(mask.shape[1])),
            engine,
            checkpoint,
            title,
            n,
            feather=int(feather),
        )
        self._next += 1
        self.records.append(record)
        return record

    def trim(self) -> None:
        """Forget the oldest rounds while the kept candidates exceed the budget (never the newest)."""
        while len(self.records) > 1 and sum(r.nbytes for r in self.records) > self._max_bytes:
            dropped = self.records.pop(0)
            log.info("history: forgot round %d to stay within %d MB", dropped.number, self._max_bytes >> 20)

    def clear(self) -> None:
        self.records = []
        self._next = 1

    def replace(self, records: list[RoundRecord]) -> None:
        """Take over recovered rounds."""
        self.records = sorted(records, key=lambda r: r.number)
        self._next = max((r.number for r in self.records), default=0) + 1

    def find(self, number: int) -> RoundRecord | None:
        return next((r for r in self.records if r.number == number), None)


# -- files (the session autosave stores each round in its own file, written once) ----------------


def round_file_name(record: RoundRecord) -> str:
    return f"round_{record.number:04d}_{record.token}.npz"


def write_round(file, record: RoundRecord) -> None:
    """Write record as one .npz: its meta as JSON bytes, its mask and candidate crops as arrays."""
    meta = {
        "number": record.number,
        "box": [int(v) for v in record.box],
        "image_shape": list(record.image_shape),
        "engine": record.engine,
        "checkpoint": record.checkpoint,
        "title": record.title,
        "n": record.n,
        "applied": record.applied,
        "created": record.created,
        "feather": record.feather,
        "candidates": [
            {"seed": c.seed, "score": c.score, "seconds": c.seconds, "near": c.near, "spread": c.spread}
            for c in record.candidates
        ],
    }
    arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), np.uint8), "mask": record.mask_crop}
    for i, c in enumerate(record.candidates):
        arrays[f"crop{i}"] = c.crop
    np.savez(file, **arrays)


def read_round(path: Path, lost: list[str] | None = None) -> RoundRecord:
    """A round written by write_round; ValueError (one line) when it cannot be read.

    With lost given, a file that is only partly readable (cut short, or with candidates of
    another round's size) still gives the round with the candidates that can be read, and
    lost gets one line saying what could not be.
    """
    try:
        arrays, broken = _npz_arrays(path, salvage=lost is not None)
        meta = json.loads(bytes(arrays["meta"]).decode())
        top, left, bottom, right = (int(v) for v in meta["box"])
        mask = np.asarray(arrays["mask"], dtype=bool)
        if mask.shape != (bottom - top, right - left):
            raise ValueError(f"mask is {mask.shape}, box {meta['box']}")
        kept, missing = [], []
        for i, c in enumerate(meta["candidates"]):
            crop = arrays.get(f"crop{i}")
            if crop is None or crop.shape != (*mask.shape, 3):
                why = "cut off" if crop is None else f"{crop.shape}, not {(*mask.shape, 3)}"
                if lost is None:
                    raise ValueError(f"candidate {i + 1} is {why}")
                missing.append(i + 1)
                continue
            near = c["near"]
            kept.append(
                KeptCandidate(
                    np.asarray(crop, dtype=np.uint8),
                    int(c["seed"]),
                    float(c["score"]),
                    float(c["seconds"]),
                    None if near is None else int(near),
                    float(c["spread"]),
                )
            )
        h, w = (int(v) for v in meta["image_shape"])
        record = RoundRecord(
            int(meta["number"]),
            (top, left, bottom, right),
            mask,
            (h, w),
            str(meta["engine"]),
            None if meta["checkpoint"] is None else str(meta["checkpoint"]),
            str(meta["title"]),
            int(meta["n"]),
            kept,
            [int(i) for i in meta["applied"]],
            float(meta["created"]),
            feather=int(meta.get("feather", 0)),
        )
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"cannot read {path.name}: {e}") from None
    if lost is not None and missing:
        lost.append(
            f"round {record.number}: {len(missing)} of {len(meta['candidates'])} candidates unreadable"
        )
    elif broken:
        log.info("%s is cut short, but all its candidates were read", path.name)
    return record


def _npz_arrays(path: Path, salvage: bool) -> tuple[dict[str, NDArray], bool]:
    """The arrays of an .npz by name, and whether the file was damaged. With salvage, a file
    cut short (its zip directory gone with its end) is read member by member from the start."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}, False
    except (zipfile.BadZipFile, ValueError, EOFError) as e:
        if not salvage:
            raise
        arrays = _stored_members(path.read_bytes())
        if "meta" not in arrays:
            raise ValueError(str(e)) from None
        return arrays, True


_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")


def _stored_members(buf: bytes) -> dict[str, NDArray]:
    """The whole .npy members at the start of a zip written by np.savez (stored, sizes in the
    local headers, zip64 extra fields), up to the first one cut short or damaged."""
    arrays: dict[str, NDArray] = {}
    pos = 0
    while pos + _LOCAL_HEADER.size <= len(buf):
        sig, _v, flags, method, _t, _d, crc, size, usize, nlen, xlen = _LOCAL_HEADER.unpack_from(buf, pos)
        if sig != 0x04034B50 or method != 0 or flags & 0x8:
            break
        name_at = pos + _LOCAL_HEADER.size
        name = buf[name_at : name_at + nlen].decode("utf-8", "replace")
        extra = buf[name_at + nlen : name_at + nlen + xlen]
        if size == 0xFFFFFFFF:  # zip64: the sizes are in the extra field (uncompressed first)
            at = 0
            while at + 4 <= len(extra):
                kind, length = struct.unpack_from("<HH", extra, at)
                if kind == 1:
                    fields = struct.unpack_from(f"<{length // 8}Q", extra, at + 4)
                    size = fields[1] if usize == 0xFFFFFFFF else fields[0]
                    break
                at += 4 + length
        start = name_at + nlen + xlen
        data = buf[start : start + size]
        if len(data) < size or zlib.crc32(data) != crc:
            break
        try:
            arrays[name.removesuffix(".npy")] = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, EOFError):
            break
        pos = start + size
    return arrays
