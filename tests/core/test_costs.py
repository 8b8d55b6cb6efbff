"""The match cost's occurrence term is added to distances taken without it, not recomputed."""

from __future__ import annotations

import numpy as np

from inpaint_gui.core import patchmatch as pm


def test_source_costs_added_to_plain_distances_equal_the_distances_with_them():
    rng = np.random.default_rng(3)
    h, w, r = 48, 64, 3
    img = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
    targets = np.flatnonzero(rng.random((h, w)) > 0.6).astype(np.int64)
    nnf = np.stack([rng.integers(r, h - r, (h, w)), rng.integers(r, w - r, (h, w))], -1).astype(np.int32)
    # Targets near the border have patches that leave the image: the distance skips those pixels.
    tex_src, tex_tgt = rng.random((h, w), np.float32) * 20, rng.random((h, w), np.float32) * 20
    tex_w = rng.random((h, w), np.float32)
    occ = rng.random((h, w), np.float32) * 500
    with_occ, plain = np.zeros((h, w), np.float32), np.zeros((h, w), np.float32)
    pm.match_distances(img, targets, nnf, with_occ, r, tex_src, tex_tgt, tex_w, occ)
    pm.match_distances(img, targets, nnf, plain, r, tex_src, tex_tgt, tex_w, np.zeros_like(occ))
    pm.add_source_costs(targets, nnf, plain, occ)
    y, x = np.divmod(targets, w)
    assert np.all(with_occ[y, x] > 0)
    np.testing.assert_allclose(plain[y, x], with_occ[y, x], rtol=1e-5)
    untouched = np.ones((h, w), bool)
    untouched[y, x] = False
    assert not plain[untouched].any()  # only the targets' distances change
