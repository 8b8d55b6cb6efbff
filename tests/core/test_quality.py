from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_gui.core import quality as q


@pytest.fixture
def photo() -> np.ndarray:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:64, 0:64]
    img = np.stack([xx * 4, yy * 4, (xx * yy) % 256], -1) + rng.integers(0, 40, (64, 64, 3))
    return img.clip(0, 255).astype(np.uint8)


@pytest.fixture
def hole() -> np.ndarray:
    m = np.zeros((64, 64), bool)
    m[16:40, 20:50] = True
    return m


def test_identical_images_score_perfectly(photo, hole):
    assert q.psnr(photo, photo) == q.MAX_PSNR
    assert q.ssim(photo, photo) == pytest.approx(1.0)
    assert q.ssim(photo, photo, hole) == pytest.approx(1.0)
    assert q.l1(photo, photo, hole) == 0.0
    assert q.sharpness_ratio(photo, photo, hole) == pytest.approx(1.0)


def test_known_values(photo, hole):
    shifted = (photo.astype(int) + 10).clip(0, 255).astype(np.uint8)
    d = shifted.astype(float) - photo
    assert q.l1(shifted, photo) == pytest.approx(np.abs(d).mean() / 255)
    assert q.psnr(shifted, photo) == pytest.approx(10 * np.log10(255**2 / (d**2).mean()))
    # a change only outside the hole leaves the hole figures perfect
    outside = photo.copy()
    outside[~hole] = 0
    assert q.psnr(outside, photo, hole) == q.MAX_PSNR and q.psnr(outside, photo) < 20


def test_blur_lowers_sharpness_and_ssim(photo, hole):
    blurred = photo.copy()
    blurred[hole] = cv2.GaussianBlur(photo, (9, 9), 3)[hole]
    assert q.sharpness_ratio(blurred, photo, hole) < 0.5
    assert q.ssim(blurred, photo, hole) < q.ssim(blurred, photo) < 1.0
    flat = photo.copy()
    flat[hole] = photo[hole].mean(axis=0).astype(np.uint8)
    assert q.sharpness_ratio(flat, photo, hole) < q.sharpness_ratio(blurred, photo, hole)
    # magnitude: same ordering, milder (square root-like) than energy
    mag = q.gradient_magnitude(blurred, q.interior(hole)) / q.gradient_magnitude(photo, q.interior(hole))
    assert q.sharpness_ratio(blurred, photo, hole) < mag < 1.0


def test_diversity(photo, hole):
    other = photo.copy()
    other[hole] = 255 - photo[hole]
    assert q.diversity([photo], hole) == 0.0
    assert q.diversity([photo, photo.copy()], hole) == 0.0
    d = q.diversity([photo, other], hole)
    assert d == pytest.approx(q.l1(photo, other, hole)) and d > 0.2
    assert q.diversity([photo, other, photo], hole) == pytest.approx(2 * d / 3)


def test_bad_inputs_raise(photo, hole):
    with pytest.raises(ValueError, match="one size"):
        q.psnr(photo, photo[:10])
    with pytest.raises(ValueError, match="empty"):
        q.l1(photo, photo, np.zeros_like(hole))
