from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaint_gui.training.config import DataConfig
from inpaint_gui.training.data import TrainDataset, make_loader, random_crop
from inpaint_gui.training.masks import MaskGenerator
from inpaint_gui.training.sources import FolderSource, open_source


def _dataset(path, resolution=32, seed=0, **kw) -> TrainDataset:
    cfg = DataConfig(paths=(str(path),), resolution=resolution, **kw)
    return TrainDataset(open_source(cfg.paths, cfg.max_short_side), cfg, MaskGenerator(resolution), seed)


def test_folder_lists_recursively_and_sorted(image_dir):
    src = FolderSource(image_dir)
    keys = [src.key(i) for i in range(len(src))]
    assert len(keys) == 12 and keys == sorted(keys) and all("/" in k for k in keys)


def test_samples_are_a_function_of_seed_and_position(image_dir):
    a, b, c = _dataset(image_dir), _dataset(image_dir), _dataset(image_dir, seed=1)
    for p in (0, 5, 13, 40):
        ia, ma = a.sample(p)
        ib, mb = b.sample(p)
        assert ia.shape == (32, 32, 3) and ia.dtype == np.uint8 and ma.shape == (32, 32)
        assert np.array_equal(ia, ib) and np.array_equal(ma, mb)
    assert any(not np.array_equal(a.sample(p)[0], c.sample(p)[0]) for p in range(4))
    # every image once per epoch
    n = len(a)
    assert sorted(a.index_at(p) for p in range(n)) == list(range(n))
    assert [a.index_at(p) for p in range(n)] != [a.index_at(p) for p in range(n, 2 * n)]


def test_loader_batches_match_positions_with_and_without_workers(image_dir):
    ds = _dataset(image_dir)
    batches = []
    for workers in (0, 2):
        it = iter(make_loader(ds, 3, rank=1, world=2, start_step=2, workers=workers, pin_memory=False))
        batches.append([next(it) for _ in range(2)])
    for x, y in zip(*batches, strict=True):
        assert torch.equal(x["image"], y["image"]) and torch.equal(x["mask"], y["mask"])
    # step 2 of a 2-rank run with batch 3: global positions 12..17, rank 1 takes 15..17
    assert batches[0][0]["position"].tolist() == [15, 16, 17]
    assert batches[0][1]["position"].tolist() == [21, 22, 23]


def test_corrupt_images_are_skipped(image_dir, caplog):
    (image_dir / "sub0" / "broken.png").write_bytes(b"not an image at all")
    ds = _dataset(image_dir)
    assert len(ds) == 13
    positions = range(0, 3 * len(ds))
    with caplog.at_level("WARNING"):
        images = [ds.sample(p)[0] for p in positions]
    assert all(im.shape == (32, 32, 3) for im in images)
    assert "broken.png" in caplog.text


@pytest.mark.parametrize("mode", ["resize", "pad"])
def test_small_images_still_give_full_crops(mode):
    img = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    crop = random_crop(img, DataConfig(resolution=32, small_images=mode), np.random.default_rng(1))
    assert crop.shape == (32, 32, 3)
    if mode == "pad":  # reflect padding keeps original pixels: the centre row is from the image
        assert np.isin(crop[16], img.reshape(-1, 3)).all()


def test_scale_jitter_never_upscales_and_caps_large_images():
    # horizontal ramp of 0.8 grey levels per pixel: shrinking by a factor k makes the slope 0.8 * k
    ramp = (np.arange(300, dtype=np.float32) * 0.8)[None, :, None].repeat(200, 0).repeat(3, 2)
    ramp = ramp.astype(np.uint8)

    def slopes(max_scale: float) -> np.ndarray:
        cfg = DataConfig(resolution=32, max_scale=max_scale)
        crops = [random_crop(ramp, cfg, np.random.default_rng(i)).astype(float) for i in range(200)]
        return np.array([abs(np.diff(c[..., 0], axis=1).mean()) for c in crops])

    s = slopes(8.0)  # cap 256 > 200: from native size down to a short side of 32 (k = 200/32)
    assert s.min() >= 0.75  # never upscaled
    assert s.min() < 0.9 and s.max() > 3.5
    capped = slopes(2.0)  # short side capped at 64 px first: k >= 200/64
    assert capped.min() > 0.8 * 200 / 64 - 0.2
