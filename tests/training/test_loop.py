from __future__ import annotations

import json

import pytest
import torch
from training_helpers import tiny_config

from inpaint_gui.training import runs
from inpaint_gui.training.loop import Progress, train
from inpaint_gui.training.runs import RunError


def _app_rec(run) -> list[float]:
    return [r["app_rec"] for r in runs.read_stats(run)]


@pytest.mark.parametrize("lr, learns", [("2e-3", True), ("0", False)])
def test_a_few_steps_reduce_the_reconstruction_loss(image_dir, tmp_path, lr, learns):
    # lr=0 is the control: the same measurement must not show a drop when nothing is learnt
    cfg = tiny_config(image_dir, "steps=30", f"optim.lr_g={lr}", f"optim.lr_d={lr}")
    train(cfg, tmp_path / "run", progress_bar=False)
    loss = _app_rec(tmp_path / "run")
    assert len(loss) == 30
    ratio = (sum(loss[-6:]) / 6) / (sum(loss[:6]) / 6)
    assert (ratio < 0.8) if learns else (ratio > 0.9)


def _tensors(state, prefix=""):
    if isinstance(state, torch.Tensor):
        yield prefix, state
    elif isinstance(state, dict):
        for k, v in state.items():
            yield from _tensors(v, f"{prefix}/{k}")
    elif isinstance(state, (list, tuple)):
        for i, v in enumerate(state):
            yield from _tensors(v, f"{prefix}/{i}")


def test_resume_is_bit_exact(image_dir, tmp_path):
    straight = tiny_config(image_dir, "steps=4")
    train(straight, tmp_path / "a", progress_bar=False)
    half = tiny_config(image_dir, "steps=2")
    train(half, tmp_path / "b", progress_bar=False)
    assert runs.latest_checkpoint(tmp_path / "b").name == "step_00000002.pt"
    train(straight, tmp_path / "b", resume=True, progress_bar=False)

    a = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "a"))
    b = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "b"))
    assert a["step"] == b["step"] == 4
    ta, tb = dict(_tensors(a["task"])), dict(_tensors(b["task"]))
    assert ta.keys() == tb.keys() and len(ta) > 50
    different = [k for k in ta if not torch.equal(ta[k], tb[k])]
    assert not different, different[:5]
    assert torch.equal(a["rng"][0]["torch"], b["rng"][0]["torch"])
    # the log reads as one run, and says the same thing
    sa, sb = runs.read_stats(tmp_path / "a"), runs.read_stats(tmp_path / "b")
    assert [r["step"] for r in sb] == [1, 2, 3, 4]
    assert [r["g_total"] for r in sa] == [r["g_total"] for r in sb]


def test_run_folder_rules_progress_and_stop(image_dir, tmp_path):
    cfg = tiny_config(
        image_dir, "steps=5", "run.sample_every=2", "run.checkpoint_every=2", "run.keep_checkpoints=1"
    )
    seen: list[Progress] = []
    step = train(
        cfg, tmp_path / "r", on_progress=seen.append, should_stop=lambda: len(seen) >= 3, progress_bar=False
    )
    assert step == 3 and [p.step for p in seen] == [1, 2, 3] and seen[-1].images_per_s > 0
    assert [p.name for _, p in runs.list_checkpoints(tmp_path / "r")] == ["step_00000003.pt"]  # keep=1
    assert (tmp_path / "r" / "samples" / "step_00000002.png").is_file()
    assert json.loads((tmp_path / "r" / "config.json").read_text())["steps"] == 5
    with pytest.raises(RunError, match="--resume"):
        train(cfg, tmp_path / "r", progress_bar=False)
    with pytest.raises(ValueError, match="batch_size"):
        train(
            tiny_config(image_dir, "steps=5", "batch_size=2"), tmp_path / "r", resume=True, progress_bar=False
        )
    assert train(cfg, tmp_path / "r", resume=True, progress_bar=False) == 5


def test_optional_switches_run_together(image_dir, tmp_path):
    switches = [
        "disc.gan_loss=lsgan",
        "disc.local=false",
        "run.amp=bf16",
        "model.prefill=true",
        "loss.texture=1",
        "loss.anchor=5",
        "loss.anchor_pool=4",
        "loss.diversity=1",
    ]
    cfg = tiny_config(image_dir, "steps=2", *switches)
    assert train(cfg, tmp_path / "run", progress_bar=False) == 2
    stats = runs.read_stats(tmp_path / "run")
    assert stats[-1]["texture"] > 0 and stats[-1]["anchor"] > 0 and stats[-1]["spread"] > 0
    assert "d_local" not in stats[-1]  # no local discriminator, no local loss
    assert all(v == v for r in stats for v in r.values())  # no NaN
    state = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "run"))
    assert not any("local_d" in k for k in state["task"]["networks"]["discriminator"])


def test_validation_folder_skips_corrupt_images_and_refuses_an_empty_one(image_dir, tmp_path, caplog):
    from inpaint_gui.training.data import TrainDataset
    from inpaint_gui.training.loop import _validation_set
    from inpaint_gui.training.masks import MaskGenerator
    from inpaint_gui.training.sources import open_source

    val = tmp_path / "val"
    val.mkdir()
    (val / "broken.png").write_bytes(b"not an image")
    cfg = tiny_config(image_dir, f"run.val_data={val}")
    masks = MaskGenerator(cfg.data.resolution, cfg.masks)
    dataset = TrainDataset(open_source(cfg.data.paths), cfg.data, masks, cfg.seed)
    with pytest.raises(ValueError, match="holds no readable images"):
        _validation_set(cfg, dataset, masks)
    (val / "good.png").write_bytes(next(image_dir.rglob("*.png")).read_bytes())
    images, holes = _validation_set(cfg, dataset, masks)
    assert images.shape[0] == 1 and holes.shape[0] == 1
    assert "broken.png" in caplog.text


def test_a_bad_validation_folder_stops_the_run_before_it_exists(image_dir, tmp_path):
    # every rank builds the validation set before the run folder, so under DDP all of them stop
    val = tmp_path / "val"
    val.mkdir()
    with pytest.raises(ValueError, match="holds no readable images"):
        train(tiny_config(image_dir, "steps=1", f"run.val_data={val}"), tmp_path / "run", progress_bar=False)
    assert not (tmp_path / "run").exists()


def test_a_new_run_can_start_from_another_runs_networks(image_dir, tmp_path, caplog):
    train(tiny_config(image_dir, "steps=2"), tmp_path / "base", progress_bar=False)
    base = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "base"))["task"]["networks"]
    # the new run switches prefill on: its output layers are new, every other tensor is taken
    cfg = tiny_config(
        image_dir,
        "steps=1",
        "optim.lr_g=0",
        "optim.lr_d=0",
        f"run.init={tmp_path / 'base'}",
        "model.prefill=true",
    )
    with caplog.at_level("INFO"):
        train(cfg, tmp_path / "tuned", progress_bar=False)
    fresh = caplog.text.split("left as initialised: ")[1].splitlines()[0].split(", ")
    assert len(fresh) == 4 and all(".decoder.to_" in k for k in fresh), fresh  # generator + EMA
    tuned = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "tuned"))["task"]["networks"]
    # lr 0: no weight moved (spectral norm's power-iteration vectors _u/_v do, in every forward)
    weights = [k for k in tuned["generator"] if not k.endswith(("._u", "._v")) and ".to_" not in k]
    moved = [k for k in weights if not torch.equal(base["generator"][k], tuned["generator"][k])]
    assert len(weights) > 20 and not moved, moved[:3]
    assert not tuned["generator"]["decoder.to_full.1.weight"].any()  # the correction starts at 0
    # a fresh discriminator: nothing of it is taken
    caplog.clear()
    skip = tiny_config(
        image_dir, "steps=1", "optim.lr_d=0", f"run.init={tmp_path / 'base'}", "run.init_skip=discriminator"
    )
    with caplog.at_level("INFO"):
        train(skip, tmp_path / "fresh_d", progress_bar=False)
    assert "left as initialised: discriminator (all of it)" in caplog.text
    fresh_d = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "fresh_d"))["task"]["networks"][
        "discriminator"
    ]
    train(tiny_config(image_dir, "steps=1", "optim.lr_d=0"), tmp_path / "new", progress_bar=False)
    new_d = runs.load_checkpoint(runs.latest_checkpoint(tmp_path / "new"))["task"]["networks"][
        "discriminator"
    ]
    d_weights = [k for k in fresh_d if not k.endswith(("._u", "._v"))]
    assert d_weights and all(torch.equal(fresh_d[k], new_d[k]) for k in d_weights)  # as a new run's
    assert not all(torch.equal(fresh_d[k], base["discriminator"][k]) for k in d_weights)
    with pytest.raises(ValueError, match="run.init_skip: no network critic; this task has generator"):
        bad = tiny_config(image_dir, "steps=1", f"run.init={tmp_path / 'base'}", "run.init_skip=critic")
        train(bad, tmp_path / "bad", progress_bar=False)
    with pytest.raises(RunError, match="no such run folder"):
        train(
            tiny_config(image_dir, "steps=1", f"run.init={tmp_path / 'nowhere'}"),
            tmp_path / "c",
            progress_bar=False,
        )


def _one_step_run(image_dir, tmp_path):
    cfg = tiny_config(image_dir, "steps=1")
    train(cfg, tmp_path / "r", progress_bar=False)
    return cfg, tmp_path / "r"


@pytest.mark.parametrize("task", [{"nets": {}}, {"networks": {"g": {}}, "optimizers": {}}])
def test_a_malformed_checkpoint_fails_resume_clearly_and_keeps_config(image_dir, tmp_path, task):
    cfg, run = _one_step_run(image_dir, tmp_path)
    ckpt = runs.latest_checkpoint(run)
    state = runs.load_checkpoint(ckpt)
    torch.save({**state, "task": task}, ckpt)
    config_before = (run / "config.json").read_bytes()
    longer = tiny_config(image_dir, "steps=3")  # a changed setting that resume would write
    with pytest.raises(RunError, match="step_00000001.pt") as caught:
        train(longer, run, resume=True, progress_bar=False)
    assert "\n" not in str(caught.value)
    assert (run / "config.json").read_bytes() == config_before


def test_a_pickle_with_code_is_refused_in_our_words(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("ran",))

    path = tmp_path / "step_00000001.pt"
    torch.save({"step": 1, "task": Payload()}, path)
    with pytest.raises(RunError, match="not a safe checkpoint") as caught:
        runs.load_checkpoint(path)
    assert "weights_only" not in str(caught.value)


def _adam_moment(state):
    for opt in state["task"]["optimizers"].values():
        for slot in opt["state"].values():
            if "exp_avg" in slot:
                return slot
    raise AssertionError("no Adam moment in the checkpoint")


@pytest.mark.parametrize("damage", ["shape", "nan-optimizer", "nan-weights"])
def test_damaged_training_state_fails_resume_in_one_line_and_keeps_config(image_dir, tmp_path, damage):
    _, run = _one_step_run(image_dir, tmp_path)
    ckpt = runs.latest_checkpoint(run)
    state = runs.load_checkpoint(ckpt)
    if damage == "shape":
        slot = _adam_moment(state)
        slot["exp_avg"] = torch.zeros(*slot["exp_avg"].shape, 2)
    elif damage == "nan-optimizer":
        _adam_moment(state)["exp_avg_sq"].fill_(float("nan"))
    else:
        net = next(iter(state["task"]["networks"].values()))
        next(v for v in net.values() if v.is_floating_point()).fill_(float("nan"))
    torch.save(state, ckpt)
    config_before = (run / "config.json").read_bytes()
    with pytest.raises(RunError, match="cannot resume") as caught:
        train(tiny_config(image_dir, "steps=3"), run, resume=True, progress_bar=False)
    assert "\n" not in str(caught.value)
    assert (run / "config.json").read_bytes() == config_before
    assert [s for s, _ in runs.list_checkpoints(run)] == [1]


def test_a_run_whose_loss_diverges_stops_and_keeps_its_good_checkpoints(image_dir, tmp_path, monkeypatch):
    from inpaint_gui.training import task as task_module

    run = tmp_path / "r"
    every = ("run.checkpoint_every=2", "run.keep_checkpoints=2", "run.log_every=1")
    cfg = tiny_config(image_dir, "steps=6", *every)
    real = task_module.TrainTask.set_lr_scale

    def poison(self, scale):  # from step 3 on, the weights blow up as a too-high rate would make them
        real(self, scale)
        if runs.latest_checkpoint(run) is not None and runs.list_checkpoints(run)[-1][0] >= 2:
            with torch.no_grad():
                for net in self.networks().values():
                    for p in net.parameters():
                        p.fill_(float("nan"))

    monkeypatch.setattr(task_module.TrainTask, "set_lr_scale", poison)
    with pytest.raises(RunError, match="NaN or infinite") as caught:
        train(cfg, run, progress_bar=False)
    assert "\n" not in str(caught.value)
    assert [s for s, _ in runs.list_checkpoints(run)] == [2]  # the good one stays
    assert not runs.load_checkpoint(runs.latest_checkpoint(run))["task"]["networks"] == {}
