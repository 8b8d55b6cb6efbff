"""The short+long term attention layer computes its rows in blocks: the same result as in one go."""

from __future__ import annotations

import torch

from inpaint_gui.models.layers import ShortLongAttention


def _layer() -> ShortLongAttention:
    torch.manual_seed(0)
    layer = ShortLongAttention(16, 8).eval()
    with torch.no_grad():
        layer.gamma.fill_(0.7)  # the short-term branch counts too (it starts at 0 in training)
    return layer


def test_blocks_of_queries_give_the_whole_maps_result():
    layer = _layer()
    x, enc = torch.randn(2, 16, 20, 23), torch.randn(1, 8, 20, 23)
    hole = (torch.rand(1, 1, 20, 23) > 0.6).float()
    with torch.inference_mode():
        layer.query_block = 20 * 23
        whole = layer(x, enc, hole)
        layer.query_block = 37  # blocks that do not divide the 460 rows
        blocks = layer(x, enc, hole)
    assert torch.allclose(blocks, whole, atol=1e-6)


def test_the_kept_map_is_whole_and_matches():
    layer = _layer()
    layer.query_block = 16
    x, enc, hole = torch.randn(1, 16, 8, 8), torch.randn(1, 8, 8, 8), torch.ones(1, 1, 8, 8)
    with torch.inference_mode():
        plain = layer(x, enc, hole)
        layer.keep_map = True
        kept = layer(x, enc, hole)
    assert layer.last_map is not None and layer.last_map.shape == (1, 64, 64)
    assert torch.allclose(layer.last_map.sum(-1), torch.ones(1, 64))
    assert torch.allclose(kept, plain, atol=1e-6)


def test_gradients_flow_through_the_blocks():
    layer = _layer().train()
    layer.query_block = 10
    x = torch.randn(1, 16, 6, 7, requires_grad=True)
    layer(x, torch.randn(1, 8, 6, 7), torch.ones(1, 1, 6, 7)).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
