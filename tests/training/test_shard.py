from __future__ import annotations

import numpy as np
import pytest
from training_helpers import write_images

from inpaint_gui.training.config import DataConfig
from inpaint_gui.training.data import TrainDataset
from inpaint_gui.training.masks import MaskGenerator
from inpaint_gui.training.shard import pack
from inpaint_gui.training.sources import ShardSource, is_shard, open_source


def _dataset(paths, cfg: DataConfig) -> TrainDataset:
    return TrainDataset(open_source(paths, cfg.max_short_side), cfg, MaskGenerator(cfg.resolution), seed=7)


def test_shard_gives_the_same_samples_as_its_folders(tmp_path):
    a = write_images(tmp_path / "a", 7, sizes=[(40, 56), (200, 260), (33, 70)])  # 200x260 gets capped
    b = write_images(tmp_path / "b", 4, seed=1)
    (a / "sub0" / "zz_broken.jpg").write_bytes(b"\xff\xd8 truncated")
    cfg = DataConfig(resolution=32, max_scale=3.0)  # short sides capped at 96 px
    out = tmp_path / "s" / "train.bin"
    summary = pack([a, b], out, cfg.max_short_side)
    assert summary == {"images": 12, "capped": 2, "corrupt": 1, "bytes": out.stat().st_size}
    assert is_shard(out) and not is_shard(a / "sub0" / "zz_broken.jpg")

    shard = ShardSource(out)
    folder = open_source([a, b])
    assert [shard.key(i) for i in range(len(shard))] == [folder.key(i) for i in range(len(folder))]
    from_folder, from_shard = _dataset([a, b], cfg), _dataset([out], cfg)
    for p in range(3 * 12):
        fi, fm = from_folder.sample(p)
        si, sm = from_shard.sample(p)
        assert np.array_equal(fi, si) and np.array_equal(fm, sm), p


def test_bad_shards_are_reported(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"INPSHARD" + b"\0" * 10)
    with pytest.raises(ValueError, match="truncated"):
        ShardSource(bad)
    with pytest.raises(ValueError, match="neither a folder nor a shard"):
        open_source([tmp_path / "missing"])
