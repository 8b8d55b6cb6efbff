from __future__ import annotations

import pytest

from inpaint_gui.training.config import TrainConfig, apply_overrides, check_resume_changes


def test_round_trip_and_overrides(tmp_path):
    cfg = TrainConfig.from_dict(
        apply_overrides(
            TrainConfig().to_dict(),
            [
                "model.channels=8,8,16,16",
                "model.attention_level=1",
                "model.output_levels=2",
                "loss.kl_rec=3.5",
                "disc.local=false",
                "data.resolution=32",
                "masks.folder=none",
            ],
        )
    )
    assert cfg.model.channels == (8, 8, 16, 16)
    assert cfg.model.spectral_norm  # a partial section keeps the training defaults
    assert cfg.loss.kl_rec == 3.5 and cfg.disc.local is False and cfg.masks.folder is None
    cfg.save(tmp_path / "config.json")
    assert TrainConfig.load(tmp_path / "config.json") == cfg


@pytest.mark.parametrize(
    "assignment, words",
    [
        ("loss.kl_rc=1", "unknown setting"),
        ("batch_size=two", "integer"),
        ("data.resolution=100", "multiple of 16"),
        ("disc.gan_loss=wgan", "gan_loss"),
        ("masks.hole_min=0.7", "hole_min"),
        ("model.channels=8,8", "3 levels"),
    ],
)
def test_bad_values_are_reported(assignment, words):
    with pytest.raises(ValueError, match=words):
        TrainConfig.from_dict(apply_overrides(TrainConfig().to_dict(), [assignment]))


def test_resume_allows_only_safe_changes():
    saved = TrainConfig()
    assert check_resume_changes(saved, TrainConfig(steps=7)) == ["steps"]
    with pytest.raises(ValueError, match="batch_size"):
        check_resume_changes(saved, TrainConfig(batch_size=3))


def test_presets_are_valid_configs():
    from inpaint_gui.training.presets import PRESETS

    for name, sets in PRESETS.items():
        cfg = TrainConfig.from_dict(apply_overrides(TrainConfig().to_dict(), list(sets)))
        assert cfg.model.stride <= 16, name


def test_precision_and_layout_can_change_on_resume():
    saved = TrainConfig()
    changed = TrainConfig.from_dict(
        apply_overrides(saved.to_dict(), ["run.amp=off", "run.memory_format=contiguous"])
    )
    assert sorted(check_resume_changes(saved, changed)) == ["run.amp", "run.memory_format"]
    with pytest.raises(ValueError, match="memory_format"):
        TrainConfig.from_dict(apply_overrides(saved.to_dict(), ["run.memory_format=nhwc"]))
