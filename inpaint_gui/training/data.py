"""Training samples: images from folders or shards, cut into square crops with a hole mask each.

A sample is a pure function of (seed, position): position p of the endless stream reads image
perm_epoch[p % N] with epoch = p // N, and draws its crop, flip and mask from a numpy Generator
seeded with (seed, p). Worker count, process count and resuming therefore never change the data,
and the data position of a run is just its step.

Crops (`random_crop`):
- every image is first shrunk (INTER_AREA) so its short side is at most max_short_side;
- an image whose short side is at least the resolution is shrunk by a random factor, its new
  short side drawn log-uniformly between the resolution and its own (never upscaled), then cropped;
- a smaller image is either upscaled just enough for its short side to reach the resolution
  ("resize", bicubic) or reflect-padded to the resolution ("pad"), then cropped.
"""

from __future__ import annotations

import abc
import logging
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from numpy.typing import NDArray
from torch.utils.data import Dataset, Sampler

from inpaint_gui.training.config import DataConfig
from inpaint_gui.training.masks import MaskGenerator

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
_PERM_SALT = 0x5EED_DA7A
_MASK_SALT = 0x3A5C


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
    from inpaint_gui.training.shard import ShardSource, is_shard

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


def random_crop(image: NDArray[np.uint8], cfg: DataConfig, rng: np.random.Generator) -> NDArray[np.uint8]:
    """A (R, R, 3) crop at a random scale and place, maybe mirrored (see the module docstring)."""
    res = cfg.resolution
    image = cap_short_side(image, cfg.max_short_side)
    h, w = image.shape[:2]
    short = min(h, w)
    # Always draw the same numbers, so one sample's randomness never depends on another's size.
    u_scale, u_top, u_left, u_flip = rng.random(4)
    if short >= res:
        target = math.exp(math.log(res) + u_scale * (math.log(short) - math.log(res)))
        scale = target / short
        if scale < 1.0:
            nh, nw = max(res, round(h * scale)), max(res, round(w * scale))
            image = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    elif cfg.small_images == "resize":
        scale = res / short
        nh, nw = max(res, math.ceil(h * scale)), max(res, math.ceil(w * scale))
        image = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_CUBIC)
    else:
        ph, pw = max(0, res - h), max(0, res - w)
        border = cv2.BORDER_REFLECT_101 if short > 1 else cv2.BORDER_REPLICATE
        image = cv2.copyMakeBorder(image, ph // 2, ph - ph // 2, pw // 2, pw - pw // 2, border)
    h, w = image.shape[:2]
    top = min(int(u_top * (h - res + 1)), h - res)
    left = min(int(u_left * (w - res + 1)), w - res)
    crop = image[top : top + res, left : left + res]
    if cfg.hflip and u_flip < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop)


def epoch_permutation(seed: int, epoch: int, n: int) -> NDArray[np.int64]:
    return np.random.default_rng([seed, epoch, _PERM_SALT]).permutation(n)


class TrainDataset(Dataset):
    """Map-style dataset over stream positions (see the module docstring).

    Item: {"image": uint8 [3, R, R], "mask": uint8 [1, R, R] (1 = hole), "position": int64}.
    A corrupt image is logged once and replaced by the next image of the same epoch's order.
    """

    def __init__(self, source: ImageSource, cfg: DataConfig, masks: MaskGenerator, seed: int) -> None:
        if len(source) == 0:
            raise ValueError("the training data holds no images")
        self.source = source
        self.cfg = cfg
        self.masks = masks
        self.seed = int(seed)
        self._perm: tuple[int, NDArray[np.int64]] | None = None
        self._bad: set[int] = set()

    def __len__(self) -> int:
        return len(self.source)

    def index_at(self, position: int) -> int:
        n = len(self.source)
        epoch, slot = divmod(int(position), n)
        if self._perm is None or self._perm[0] != epoch:
            self._perm = (epoch, epoch_permutation(self.seed, epoch, n))
        return int(self._perm[1][slot])

    def load(self, position: int) -> NDArray[np.uint8]:
        """The decoded image at a stream position, skipping corrupt files."""
        n = len(self.source)
        epoch, slot = divmod(int(position), n)
        for k in range(n):
            index = self.index_at(epoch * n + (slot + k) % n)
            if index in self._bad:
                continue
            try:
                return decode_image(self.source.read(index))
            except (CorruptImage, OSError) as exc:
                self._bad.add(index)
                log.warning("skipping corrupt image %s (%s)", self.source.key(index), exc)
        raise ValueError("no training image could be decoded")

    def sample(self, position: int) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
        """(image (R, R, 3) uint8 RGB, mask (R, R) bool) for a stream position."""
        image = random_crop(self.load(position), self.cfg, np.random.default_rng([self.seed, position]))
        mask = self.masks(np.random.default_rng([self.seed, position, _MASK_SALT]))
        return image, mask

    def __getitem__(self, position: int) -> dict[str, torch.Tensor]:
        image, mask = self.sample(position)
        return {
            "image": torch.from_numpy(image).permute(2, 0, 1).contiguous(),
            "mask": torch.from_numpy(mask.astype(np.uint8))[None],
            "position": torch.tensor(int(position), dtype=torch.int64),
        }


class StreamSampler(Sampler[int]):
    """Endless stream positions for one rank, starting at a step.

    Step s of a run with global batch G = batch_size * world reads positions s*G .. s*G + G - 1;
    rank r takes the slice [r * batch_size, (r + 1) * batch_size) of them.
    """

    def __init__(self, batch_size: int, rank: int = 0, world: int = 1, start_step: int = 0) -> None:
        self.batch_size, self.rank, self.world, self.start_step = batch_size, rank, world, start_step

    def __iter__(self) -> Iterator[int]:
        step = self.start_step
        g = self.batch_size * self.world
        while True:
            base = step * g + self.rank * self.batch_size
            yield from range(base, base + self.batch_size)
            step += 1

    def __len__(self) -> int:  # endless; DataLoader only needs this for its length, which we never ask
        return 2**62


def worker_init(_: int) -> None:
    """DataLoader workers: one OpenCV thread each, so workers do not fight over the cores."""
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def make_loader(
    dataset: TrainDataset,
    batch_size: int,
    rank: int,
    world: int,
    start_step: int,
    workers: int,
    pin_memory: bool,
) -> torch.utils.data.DataLoader:
    """An endless DataLoader whose k-th batch is the batch of step start_step + k."""
    kwargs = {}
    if workers > 0:
        kwargs = {
            "persistent_workers": True,
            "prefetch_factor": 4,
            "worker_init_fn": worker_init,
            # Not fork: a child forked after OpenCV or OpenMP started their thread pools can deadlock
            # in its first cv2.resize (seen here); spawned workers start clean.
            "multiprocessing_context": "spawn",
        }
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=StreamSampler(batch_size, rank, world, start_step),
        num_workers=workers,
        pin_memory=pin_memory,
        # Its own generator: creating the loader must not consume the training RNG (exact resume).
        generator=torch.Generator().manual_seed(0),
        **kwargs,
    )
