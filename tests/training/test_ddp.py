from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from inpaint_gui.training import runs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_gloo_run_stays_in_sync_and_shards_data(image_dir, tmp_path):
    out = tmp_path / "run"
    worker = Path(__file__).with_name("ddp_worker.py")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--nnodes=1",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
        str(worker),
        str(image_dir),
        str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]

    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["weights"] == r1["weights"]  # gradients were averaged: both ranks hold the same networks
    # step s, global batch 4: rank 0 reads positions 4s, 4s+1; rank 1 reads 4s+2, 4s+3
    assert r0["positions"] == [[0, 1], [4, 5], [8, 9]]
    assert r1["positions"] == [[2, 3], [6, 7], [10, 11]]
    state = runs.load_checkpoint(runs.latest_checkpoint(out))
    assert state["step"] == 3 and state["world"] == 2 and len(state["rng"]) == 2
    assert not (state["rng"][0]["torch"] == state["rng"][1]["torch"]).all()  # per-rank seeds
    stats = runs.read_stats(out)
    assert [r["step"] for r in stats] == [1, 2, 3]  # rank 0 alone writes the log
