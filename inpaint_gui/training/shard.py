"""Dataset shards: many encoded images in one file with an index (`inpaint pack`).

Layout: a 32-byte header (magic, version, index offset, index length), the encoded images back to
back, then a JSON index (keys, offsets, lengths, the short-side cap used). Readers memory-map the
file, so a sample costs one decode, as from a folder, without a file open per image.

The shard stores each file's original bytes unless the image is larger than the training pipeline
would use: those are shrunk with the pipeline's own `cap_short_side` and stored as lossless WebP.
Decoding either gives the pixels the folder pipeline sees, so a shard and its folders yield the
same samples for the same seed. Files that do not decode are stored as they are (and skipped by
the trainer exactly as in the folder).
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inpaint_gui.core.files import atomic_write
from inpaint_gui.training.data import (
    CorruptImage,
    ImageSource,
    cap_short_side,
    decode_image,
    open_source,
)

log = logging.getLogger(__name__)

MAGIC = b"INPSHARD"
VERSION = 1
_HEADER = struct.Struct("<8sIIQQ")  # magic, version, reserved, index offset, index length


def is_shard(path: str | Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


class ShardSource(ImageSource):
    """An ImageSource reading a shard through a memory map (opened lazily, per process)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as f:
            head = f.read(_HEADER.size)
            if len(head) < _HEADER.size:
                raise ValueError(f"{path}: truncated shard header")
            magic, version, _, offset, length = _HEADER.unpack(head)
            if magic != MAGIC:
                raise ValueError(f"{path}: not a shard made by `inpaint pack`")
            if version != VERSION:
                raise ValueError(f"{path}: shard version {version} is not supported (this reads {VERSION})")
            f.seek(offset)
            raw = f.read(length)
        if len(raw) != length:
            raise ValueError(f"{path}: truncated shard (index missing)")
        try:
            index = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError(f"{path}: corrupt shard index") from None
        lists = ("keys", "offsets", "lengths")
        self.info: dict[str, Any] = {k: v for k, v in index.items() if k not in lists}
        self._keys: list[str] = index["keys"]
        self._offsets = np.asarray(index["offsets"], dtype=np.int64)
        self._lengths = np.asarray(index["lengths"], dtype=np.int64)
        self.max_short_side = index.get("max_short_side")
        self._map: mmap.mmap | None = None
        self._pid = -1

    def __len__(self) -> int:
        return len(self._keys)

    def key(self, index: int) -> str:
        return self._keys[index]

    def read(self, index: int) -> bytes:
        if self._map is None or self._pid != os.getpid():
            with open(self.path, "rb") as f:
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            self._pid = os.getpid()
        start = int(self._offsets[index])
        return self._map[start : start + int(self._lengths[index])]

    def check_cap(self, max_short_side: int) -> None:
        """Warn when the trainer would crop differently from the folders this shard was made of."""
        capped = int(self.info.get("capped", 0))
        if capped and self.max_short_side != max_short_side:
            log.warning(
                "%s was packed with short sides capped at %s px (%d images shrunk) but this run caps at %d: "
                "samples differ slightly from training on the folders; repack with the run's "
                "resolution and max_scale for identical samples",
                self.path,
                self.max_short_side,
                capped,
                max_short_side,
            )

    def __getstate__(self) -> dict[str, Any]:  # DataLoader workers map the file themselves
        state = self.__dict__.copy()
        state["_map"], state["_pid"] = None, -1
        return state


def pack(
    paths: Sequence[str | Path],
    out: str | Path,
    max_short_side: int | None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write the images of folders (and shards) into one shard, atomically. Returns its summary."""
    source = open_source(paths)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    keys, offsets, lengths = [], [], []
    capped = corrupt = 0
    with atomic_write(out) as f:
        f.write(b"\0" * _HEADER.size)
        pos = _HEADER.size
        for i in range(len(source)):
            data = source.read(i)
            stored = _packed_bytes(data, max_short_side, source.key(i))
            if stored is None:
                corrupt += 1
                stored = data
            elif stored is not data:
                capped += 1
            f.write(stored)
            keys.append(source.key(i))
            offsets.append(pos)
            lengths.append(len(stored))
            pos += len(stored)
            if on_progress is not None:
                on_progress(i + 1, len(source))
        index = {
            "version": VERSION,
            "max_short_side": max_short_side,
            "capped": capped,
            "corrupt": corrupt,
            "sources": [str(p) for p in paths],
            "keys": keys,
            "offsets": offsets,
            "lengths": lengths,
        }
        raw = json.dumps(index).encode()
        f.write(raw)
        f.seek(0)
        f.write(_HEADER.pack(MAGIC, VERSION, 0, pos, len(raw)))
    summary = {"images": len(keys), "capped": capped, "corrupt": corrupt, "bytes": out.stat().st_size}
    log.info("packed %s", summary)
    return summary


def _packed_bytes(data: bytes, max_short_side: int | None, key: str) -> bytes | None:
    """data itself when the pipeline would use the image as decoded; a lossless re-encode when it
    would shrink it first; None when it does not decode."""
    try:
        image = decode_image(data)
    except CorruptImage:
        log.warning("%s does not decode; stored as is (the trainer will skip it)", key)
        return None
    small = cap_short_side(image, max_short_side)
    if small is image:
        return data
    ok, buf = cv2.imencode(".webp", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_WEBP_QUALITY, 101])
    if not ok:
        ok, buf = cv2.imencode(".png", cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
    return buf.tobytes()
