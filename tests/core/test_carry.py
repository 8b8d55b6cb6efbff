"""The finest level's carried field: which targets lost their carried-up source."""

from __future__ import annotations

import numpy as np

from inpaint_gui.core import exemplar as ex
from inpaint_gui.core import patchmatch as pm


def test_astray_lists_exactly_the_targets_whose_carried_source_was_invalid():
    rng = np.random.default_rng(5)
    h, w = 41, 57  # odd: the last row and column have their parent clamped
    ch, cw = -(-h // 2), -(-w // 2)
    coarse = np.stack([rng.integers(0, ch, (ch, cw)), rng.integers(0, cw, (ch, cw))], -1).astype(np.int32)
    valid = rng.random((h, w)) > 0.3
    targets = np.flatnonzero(rng.random((h, w)) > 0.5).astype(np.int64)
    nnf = np.zeros((h, w, 2), np.int32)
    pm.upsample_nnf(coarse, targets, valid, nnf, 7)
    y, x = np.divmod(targets, w)
    py, px = np.minimum(y // 2, ch - 1), np.minimum(x // 2, cw - 1)
    sy, sx = 2 * coarse[py, px, 0] + (y - 2 * py), 2 * coarse[py, px, 1] + (x - 2 * px)
    inside = (sy < h) & (sx < w)
    usable = inside & valid[np.minimum(sy, h - 1), np.minimum(sx, w - 1)]
    got = ex._astray(coarse, targets, nnf)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, targets[~usable])
    assert 0 < got.size < targets.size
