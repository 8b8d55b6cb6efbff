"""PluralisticConfig.skips: the decoder also sees the encoder's features below the latent level."""

from __future__ import annotations

import torch

from inpaint_gui.engine.pluralistic import open_outputs
from inpaint_gui.models import PluralisticGenerator
from inpaint_gui.models.config import PluralisticConfig
from tests.models.release_check import assert_release_fills

CONFIG = dict(channels=(8, 8, 16, 16, 16), z_channels=4, attention_level=2, output_levels=2, prefill=True)


def _decode(
    g: PluralisticGenerator, image: torch.Tensor, mask: torch.Tensor, level: int, bump: float
) -> torch.Tensor:
    enc = g.encode(image, mask)
    enc.features[level] = enc.features[level] + bump
    return g.decode(enc.prior_mu.expand(3, -1, -1, -1), enc, mask)[-1]


def test_skips_feed_every_level_but_the_latent_and_attention_ones():
    torch.manual_seed(0)
    g = open_outputs(PluralisticGenerator(PluralisticConfig(**CONFIG, skips=True)))
    assert sorted(g.decoder.skips) == ["1", "3"]
    image, mask = torch.rand(1, 3, 32, 32) * 2 - 1, torch.zeros(1, 1, 32, 32)
    mask[..., 8:24, 8:24] = 1
    with torch.no_grad():
        base = _decode(g, image, mask, 1, 0.0)
        assert base.shape == (3, 3, 32, 32)  # one image's features serve three candidates
        assert not torch.allclose(base, _decode(g, image, mask, 1, 0.5))  # a skip level
        assert not torch.allclose(base, _decode(g, image, mask, 3, 0.5))

    plain = open_outputs(PluralisticGenerator(PluralisticConfig(**CONFIG)))
    assert len(plain.decoder.skips) == 0
    with torch.no_grad():  # the paper's decoder does not read level 1's features
        assert torch.equal(_decode(plain, image, mask, 1, 0.0), _decode(plain, image, mask, 1, 0.5))


def test_a_release_with_skips_loads_and_fills(tmp_path):
    assert_release_fills(tmp_path / "skips.safetensors", PluralisticConfig(**CONFIG, skips=True))
