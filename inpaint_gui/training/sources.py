"""Where training images come from: folders of image files and shards made by `inpaint pack`.

A source is an indexable list of encoded images with stable keys; `open_source` turns the --data
paths of a run into one. A shard is a 32-byte header (magic, version, index offset, index length),
the encoded images back to back, then a JSON index (keys, offsets, lengths, the short-side cap
used); it is read through a memory map, so a sample costs one decode, as from a folder, without a
file open per image. training/shard.py writes them.
"""

from __future__ import annotations

import abc
import json
import logging
import mmap
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
MAGIC = b"INPSHARD"
VERSION = 1
HEADER = struct.Struct("<8sIIQQ")  # magic, version, reserved, index offset, index length


class CorruptImage(ValueError):
    """Bytes that do not decode to an image."""


class ImageSource(abc.ABC):
    """An indexable list of encoded images."""

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def key(self, index: int) -> str:
        """A stable name for the image (its path relative to its folder)."""

    @abc.abstractmethod
    def read(self, index: int) -> bytes:
        """The encoded image bytes."""

    #: Short-side cap already applied to the stored images (None: originals).
    max_short_side: int | None = None


class FolderSource(ImageSource):
    """Image files under a folder, recursively, sorted by relative path."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ValueError(f"data folder {root} does not exist")
        self._files = list_images(self.root)

    def __len__(self) -> int:
        return len(self._files)

    def key(self, index: int) -> str:
        return self._files[index]

    def read(self, index: int) -> bytes:
        return (self.root / self._files[index]).read_bytes()


class ConcatSource(ImageSource):
    """Several sources one after another; keys are prefixed with the source's number."""

    def __init__(self, sources: Sequence[ImageSource]) -> None:
        self.sources = list(sources)
        self._starts = np.cumsum([0] + [len(s) for s in self.sources])
        caps = {s.max_short_side for s in self.sources}
        self.max_short_side = caps.pop() if len(caps) == 1 else None

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _locate(self, index: int) -> tuple[ImageSource, int]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        i = int(np.searchsorted(self._starts, index, side="right")) - 1
        return self.sources[i], index - int(self._starts[i])

    def key(self, index: int) -> str:
        source, j = self._locate(index)
        return source.key(j)

    def read(self, index: int) -> bytes:
        source, j = self._locate(index)
        return source.read(j)


def list_images(root: Path) -> list[str]:
    """Relative posix paths of the images under root, sorted (the order every run agrees on)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        for name in filenames:
            if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith("."):
                out.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(out)


def every_image(folder: str | Path, every: int = 1, kind: str = "image") -> list[Path]:
    """Paths of every k-th image under folder (list_images' order); a missing or empty folder is a
    ValueError naming it as "<kind> folder"."""
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"{kind} folder {folder} does not exist")
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    images = [root / p for p in list_images(root)][::every]
    if not images:
        raise ValueError(f"{kind} folder {folder} holds no images")
    return images


#: Image formats the folders may hold that training and augment do not read: counted and reported.
OTHER_IMAGE_EXTENSIONS = (".gif", ".bmp", ".tif", ".tiff", ".heic", ".avif")


def other_images(root: Path) -> list[str]:
    """Relative posix paths of the files under root in OTHER_IMAGE_EXTENSIONS, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        for name in filenames:
            if name.lower().endswith(OTHER_IMAGE_EXTENSIONS) and not name.startswith("."):
                out.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(out)


def open_source(paths: Sequence[str | Path], max_short_side: int | None = None) -> ImageSource:
    """Folders and shards, in the order given; raises ValueError when there are no images."""
    if not paths:
        raise ValueError("no training data: pass --data DIR (a folder of images or a shard)")
    sources: list[ImageSource] = []
    for p in paths:
        path = Path(p)
        if path.is_file() and is_shard(path):
            shard = ShardSource(path)
            if max_short_side is not None:
                shard.check_cap(max_short_side)
            sources.append(shard)
        elif path.is_dir():
            sources.append(FolderSource(path))
        else:
            raise ValueError(f"data path {p} is neither a folder nor a shard made by `inpaint pack`")
        if len(sources[-1]) == 0:
            raise ValueError(f"data path {p} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    return sources[0] if len(sources) == 1 else ConcatSource(sources)


def decode_image(data: bytes) -> NDArray[np.uint8]:
    """Encoded bytes -> uint8 (H, W, 3) RGB; raises CorruptImage."""
    buf = np.frombuffer(data, np.uint8)
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
    if bgr is None or bgr.ndim != 3 or min(bgr.shape[:2]) < 1:
        raise CorruptImage("cannot decode image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def cap_short_side(image: NDArray[np.uint8], max_short: int | None) -> NDArray[np.uint8]:
    """Shrink (INTER_AREA) so the short side is at most max_short; smaller images are returned as is."""
    h, w = image.shape[:2]
    short = min(h, w)
    if max_short is None or short <= max_short:
        return image
    scale = max_short / short
    if w <= h:
        size = (max_short, max(max_short, round(h * scale)))  # cv2 sizes are (width, height)
    else:
        size = (max(max_short, round(w * scale)), max_short)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


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
            head = f.read(HEADER.size)
            if len(head) < HEADER.size:
                raise ValueError(f"{path}: truncated shard header")
            magic, version, _, offset, length = HEADER.unpack(head)
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
