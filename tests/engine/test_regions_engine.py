"""The engine template fills each region with the same seeds and pastes each hole pixel once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from inpaint_gui.engine import Cancelled
from inpaint_gui.engine.base import Engine


class _Recorder(Engine):
    """Fills each region with a grey level drawn from the seed, and records what it was given."""

    name = "recorder"
    label = "Recorder"
    pluralistic = True
    deterministic = True

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[int, int], list[int]]] = []

    def _fill(
        self, image: np.ndarray, mask: np.ndarray, seeds: Sequence[int], near: int | None, spread: float
    ) -> Iterator[np.ndarray]:
        self.calls.append((mask.shape, list(seeds)))
        for s in seeds:
            yield np.full_like(image, int(np.random.default_rng(s).integers(0, 256)))


def _two_holes() -> tuple[np.ndarray, np.ndarray]:
    img = np.random.default_rng(3).integers(0, 256, (400, 600, 3), dtype=np.uint8)
    mask = np.zeros((400, 600), bool)
    mask[0:10, 0:30] = True  # a corner
    mask[300:330, 500:520] = True
    return img, mask


def test_same_draw_in_every_region_and_known_pixels_kept():
    img, mask = _two_holes()
    eng = _Recorder()
    cands = eng.inpaint(img, mask, n=3, seed=40)
    assert len(eng.calls) == 2
    assert all(seeds == [40, 41, 42] for _, seeds in eng.calls)
    assert sum(h * w for (h, w), _ in eng.calls) < 0.06 * mask.size  # two small crops (70x90 + 90x80 px)
    for c in cands:
        assert np.array_equal(c.image[~mask], img[~mask])
        assert len(np.unique(c.image[mask])) == 1  # both regions got the same seed's draw


def test_candidates_stream_and_cancel_between_them():
    img, mask = _two_holes()
    eng = _Recorder()
    seen = []
    with pytest.raises(Cancelled):
        eng.inpaint(
            img,
            mask,
            n=4,
            seed=0,
            should_cancel=lambda: len(seen) >= 2,
            on_candidate=lambda c, i, t: seen.append(i),
        )
    assert seen == [0, 1]
    assert eng._cancel_requested() is False  # the poll does not outlive the request
