"""PluralisticConfig.fusion: DFNet-style learned blends of each output with the network's input."""

from __future__ import annotations

import torch

from inpaint_gui.engine.pluralistic import open_outputs
from inpaint_gui.models import PluralisticGenerator
from inpaint_gui.models.config import PluralisticConfig
from tests.models.release_check import assert_release_fills

CONFIG = dict(channels=(8, 8, 16, 16), z_channels=4, attention_level=2, output_levels=3, prefill=True)


def _pair() -> tuple[PluralisticGenerator, PluralisticGenerator]:
    """The same network without and with fusion blocks (every other weight equal)."""
    torch.manual_seed(0)
    plain = open_outputs(PluralisticGenerator(PluralisticConfig(**CONFIG)))
    fused = PluralisticGenerator(PluralisticConfig(**CONFIG, fusion=True))
    missing = fused.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert missing and all(k.startswith("decoder.fuse.") for k in missing)
    return plain.eval(), fused.eval()


def _inputs() -> tuple[torch.Tensor, torch.Tensor]:
    image, mask = torch.rand(2, 3, 32, 32) * 2 - 1, torch.zeros(2, 1, 32, 32)
    mask[..., 8:24, 4:20] = 1
    return image, mask


def test_new_fusion_blocks_start_almost_closed():
    plain, fused = _pair()
    assert sorted(fused.decoder.fuse) == ["0", "1", "2"]  # full size and every training output
    image, mask = _inputs()
    with torch.no_grad():
        e1, e2 = plain.encode(image, mask), fused.encode(image, mask)
        z = torch.randn_like(e1.prior_mu)
        a = plain.decode(z, e1, mask, all_levels=True)
        b = fused.decode(z, e2, mask, all_levels=True)
    for x, y in zip(a, b, strict=True):
        assert x.shape == y.shape and not torch.equal(x, y)
        assert (x - y).abs().max() < 0.02 * 2  # alpha 0.018 of at most 2 in [-1, 1] units


def test_an_open_fusion_block_hands_back_the_input():
    _, fused = _pair()
    image, mask = _inputs()
    with torch.no_grad():
        for block in fused.decoder.fuse.values():
            block.body[2].bias.fill_(30.0)  # alpha = 1: the input at that scale
        enc = fused.encode(image, mask)
        out = fused.decode(enc.prior_mu, enc, mask)[-1]
    known = (1 - mask).bool().expand_as(image)
    assert torch.allclose(out[known], image[known], atol=1e-5)  # the visible pixels
    assert torch.allclose(out[~known], enc.prefill[~known], atol=1e-5)  # the prefill in the hole


def test_a_release_with_fusion_loads_and_fills(tmp_path):
    assert_release_fills(tmp_path / "fusion.safetensors", PluralisticConfig(**CONFIG, fusion=True))
