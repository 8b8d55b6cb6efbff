"""Writing dataset shards: many encoded images in one file with an index (`inpaint pack`).

Layout: a 32-byte header (magic, version, index offset, index length), the encoded images back to
back, then a JSON index (keys, offsets, lengths, the short-side cap used). training/sources.py reads
them through a memory map, so a sample costs one decode, as from a folder, without a file open per image.

The shard stores each file's original bytes unless the image is larger than the training pipeline
would use: those are shrunk with the pipeline's own `cap_short_side` and stored as lossless WebP.
Decoding either gives the pixels the folder pipeline sees, so a shard and its folders yield the
same samples for the same seed. Files that do not decode are stored as they are (and skipped by
the trainer exactly as in the folder).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2

from inpaint_gui.core.files import atomic_write
from inpaint_gui.training.sources import (
    HEADER,
    MAGIC,
    VERSION,
    CorruptImage,
    cap_short_side,
    decode_image,
    open_source,
)

log = logging.getLogger(__name__)


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
        f.write(b"\0" * HEADER.size)
        pos = HEADER.size
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
        f.write(HEADER.pack(MAGIC, VERSION, 0, pos, len(raw)))
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
