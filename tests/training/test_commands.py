from __future__ import annotations

import json

from training_helpers import TINY, write_images

from inpaint_gui.cli import main
from inpaint_gui.engine.checkpoint import read_release_info


def _sets() -> list[str]:
    return [a for s in TINY for a in ("--set", s)]


def test_train_pack_export_eval_from_the_command_line(tmp_path, capsys):
    data = write_images(tmp_path / "imgs", 6)
    shard = tmp_path / "train.bin"
    assert main(["pack", "--data", str(data), "--resolution", "32", "-o", str(shard)]) == 0
    run = tmp_path / "runs" / "t"
    args = ["train", "--data", str(shard), "--out", str(run), "--steps", "2", "--no-progress", *_sets()]
    assert main(args) == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["data"]["paths"] == [str(shard)] and cfg["model"]["channels"] == [8, 8, 16, 16]
    # resume with more steps; data comes from the saved config
    assert main(["train", "--out", str(run), "--resume", "--steps", "3", "--no-progress"]) == 0
    assert json.loads((run / "config.json").read_text())["steps"] == 3

    masks = tmp_path / "masks"
    masks.mkdir()
    import cv2
    import numpy as np

    m = np.zeros((256, 256), np.uint8)
    m[64:160, 80:200] = 255
    cv2.imwrite(str(masks / "b1_00000.png"), m)
    ckpt = tmp_path / "out.safetensors"
    assert (
        main(
            [
                "export",
                str(run),
                "-o",
                str(ckpt),
                "--eval-images",
                str(data),
                "--eval-masks",
                str(masks),
                "--eval-limit",
                "2",
            ]
        )
        == 0
    )
    info = read_release_info(ckpt)
    assert info.steps == 3 and info.evaluation["overall"]["count"] == 2
    assert "navier-stokes" in info.evaluation["baselines"]
    assert not list(tmp_path.glob(".out.safetensors.draft*"))
    before = ckpt.read_bytes()
    assert main(["export", str(run), "-o", str(ckpt)]) == 2
    assert ckpt.read_bytes() == before
    assert main(["export", str(run), "-o", str(ckpt), "--overwrite"]) == 0
    assert read_release_info(ckpt).evaluation == {}
    report = tmp_path / "r.json"
    assert (
        main(
            [
                "eval",
                "--images",
                str(data),
                "--masks",
                str(masks),
                "--checkpoint",
                str(ckpt),
                "-n",
                "2",
                "--limit",
                "2",
                "--no-baselines",
                "-o",
                str(report),
            ]
        )
        == 0
    )
    assert set(json.loads(report.read_text())["engines"]) == {"pluralistic"}
    assert report.with_suffix(".md").is_file()


def test_bad_input_gives_one_line(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["train", "--data", str(tmp_path / "nope"), "--out", str(run), *_sets()]) == 2
    assert "neither a folder nor a shard" in capsys.readouterr().err
    assert main(["train", "--out", str(run), "--set", "loss.kl=1"]) == 2
    assert "unknown setting" in capsys.readouterr().err
    assert main(["train", "--out", str(run), "--resume"]) == 2
    assert "no run to resume" in capsys.readouterr().err
    assert main(["export", str(run), "-o", str(tmp_path / "x.safetensors")]) == 2
    assert "no such run" in capsys.readouterr().err
    assert main(["eval", "--images", str(tmp_path), "--masks", str(tmp_path), "-o", "r.json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds no images" in err


def test_sigterm_stops_a_background_run_with_a_checkpoint(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    data = write_images(tmp_path / "imgs", 6)
    run = tmp_path / "run"
    code = "import sys; from inpaint_gui.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ["train", "--data", str(data), "--out", str(run), "--steps", "100000", "--no-progress", *_sets()]
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (run / "stats.jsonl").exists() or not (run / "stats.jsonl").read_text().strip():
            assert proc.poll() is None and time.monotonic() < deadline, "training did not start"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "continue with: inpaint train --out" in err
    from inpaint_gui.training import runs

    last = runs.read_stats(run)[-1]["step"]
    assert runs.latest_checkpoint(run).name == f"step_{last:08d}.pt" and 1 <= last < 100000
