"""Run by test_ddp.py under torchrun: a tiny DDP training run that records what each rank saw."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from training_helpers import tiny_config  # noqa: E402

from inpaint_gui.training import loop  # noqa: E402
from inpaint_gui.training.pluralistic_task import PluralisticTask  # noqa: E402


def main() -> None:
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    rank = int(os.environ["RANK"])
    seen: list[list[int]] = []
    step_fn = PluralisticTask.train_step

    def recording_step(self, batch, step):
        seen.append(batch["position"].tolist())
        result = step_fn(self, batch, step)
        digest = hashlib.sha256()
        for t in self.generator.state_dict().values():
            digest.update(t.detach().contiguous().numpy().tobytes())
        for t in self.disc.state_dict().values():
            digest.update(t.detach().contiguous().numpy().tobytes())
        (out.parent / f"rank{rank}.json").write_text(
            json.dumps({"positions": seen, "weights": digest.hexdigest()})
        )
        return result

    PluralisticTask.train_step = recording_step
    cfg = tiny_config(data, "steps=3", "batch_size=2")
    loop.train(cfg, out, progress_bar=False)


if __name__ == "__main__":
    main()
