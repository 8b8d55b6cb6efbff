"""Named groups of training settings (`inpaint train --preset NAME`); imports nothing heavy."""

from __future__ import annotations

#: Named groups of settings for `inpaint train --preset NAME`, applied before --config/options/--set.
PRESETS: dict[str, tuple[str, ...]] = {
    # The paper-sized network (TrainConfig's defaults), for GPUs.
    "paper": (),
    # A 4-level network for CPUs: about 2-2.5x the images/s of "paper" at 128 px; 1.6M inference
    # weights (paper: 6.0M). Its attention works at 1/4 scale, which gets slow at 256 px.
    "cpu-small": (
        "model.channels=16,32,64,128",
        "model.attention_level=2",
        "model.output_levels=3",
        "disc.channels=32,64,128,256",
    ),
}
