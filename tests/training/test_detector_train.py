"""`inpaint train-detector` writes a checkpoint the app can load."""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_gui.cli import main
from inpaint_gui.engine.defects import DefectDetector


def test_train_detector_writes_a_loadable_checkpoint(tmp_path):
    data = tmp_path / "photos"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(data / f"p{i}.png"), rng.integers(0, 256, (160, 200, 3), dtype=np.uint8))
    (data / "broken.jpg").write_bytes(b"not an image")  # skipped with a warning, not a crash
    out = tmp_path / "det.safetensors"
    assert main(["train-detector", "--data", str(data), "-o", str(out), "--steps", "2", "--batch", "2"]) == 0
    detector = DefectDetector.from_checkpoint(out)
    mask = detector.detect(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8))
    assert mask.shape == (40, 50) and mask.dtype == bool


def test_train_detector_takes_the_rims_and_long_scratches_recipe(tmp_path):
    data = tmp_path / "photos"
    data.mkdir()
    rng = np.random.default_rng(1)
    cv2.imwrite(str(data / "p.png"), rng.integers(0, 256, (200, 240, 3), dtype=np.uint8))
    out = tmp_path / "det.safetensors"
    args = ["train-detector", "--data", str(data), "-o", str(out), "--steps", "2", "--batch", "2"]
    assert main([*args, "--rims", "0.5", "--long-scratches", "--channels", "8", "--dilations", "1,2,1"]) == 0
    assert DefectDetector.from_checkpoint(out).net.reach == 5
    assert main([*args, "--dilations", "1,0"]) == 2  # a bad shape is refused before any training
