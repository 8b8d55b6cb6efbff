"""Object-removal masks for `inpaint eval --masks objects`."""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_gui.training.object_masks import (
    MARGIN,
    SIZE_BANDS,
    band_of_name,
    object_mask,
    object_masks,
    write_object_masks,
)


def _touches(mask: np.ndarray, margin: int) -> bool:
    return bool(
        mask[:margin].any() or mask[-margin:].any() or mask[:, :margin].any() or mask[:, -margin:].any()
    )


def test_object_masks_are_deterministic_contiguous_and_in_their_band():
    masks = object_masks(count=12, seed=3)
    again = object_masks(count=12, seed=3)
    assert [n for n, _ in masks] == [n for n, _ in again]
    for (_, a), (_, b) in zip(masks, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(
        np.array_equal(a, b) for (_, a), (_, b) in zip(masks, object_masks(count=12, seed=4), strict=True)
    )
    for name, mask in masks:
        band = band_of_name(name)
        low, high = (int(x) / 100 for x in band.split("%")[0].split("-"))
        assert (low, high) in SIZE_BANDS
        assert low <= mask.mean() <= high, (name, mask.mean())
        assert cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[0] == 2  # one hole
        if band.endswith("border"):
            assert _touches(mask, 1), name
        else:
            assert band.endswith("interior") and not _touches(mask, MARGIN), name
    kinds = [band_of_name(n).split()[1] for n, _ in masks]
    assert kinds.count("border") == kinds.count("interior") == 6


def test_every_size_band_can_touch_the_border_or_not():
    rng = np.random.default_rng(0)
    for low, high in SIZE_BANDS:
        for border in (True, False):
            mask = object_mask(rng, low, high, border)
            assert low <= mask.mean() <= high and _touches(mask, 1) == border


def test_written_masks_read_back_as_white_holes(tmp_path):
    folder = write_object_masks(tmp_path / "m", count=3, seed=0)
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == sorted(n for n, _ in object_masks(count=3, seed=0))
    for f, (_, mask) in zip(files, sorted(object_masks(count=3, seed=0)), strict=True):
        np.testing.assert_array_equal(cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) > 127, mask)
    assert band_of_name("b2_00001.png") is None
