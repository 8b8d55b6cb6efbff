"""Faces near a hole: found at every scale and roll, framed as the training crops."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from inpaint_gui.core.faces import FRAMING, MIN_FACE, Face, detect_faces
from inpaint_gui.core.haar import EYE_CASCADE, FACE_CASCADE, detect_grid, detect_windows, load_cascade

ASTRONAUT = Path(__file__).parents[2] / "resources" / "samples" / "astronaut.jpg"
NOSE = (120, 205, 150, 245)  # (top, left, bottom, right) of the nose and mouth in the sample


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(ASTRONAUT)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def reference(astronaut) -> Face:
    faces = detect_faces(astronaut, NOSE)
    assert len(faces) == 1
    return faces[0]


def _moved(image: np.ndarray, scale: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """The image turned by angle (degrees, counter-clockwise) and scaled about the face, on a canvas
    with room around it; and the 2x3 map from the original's pixels to the new one's."""
    h, w = image.shape[:2]
    side = int(max(h, w) * scale * 1.5)
    m = cv2.getRotationMatrix2D((225.0, 130.0), angle, scale)
    m[:, 2] += (side / 2 - 225.0, side / 2 - 130.0)
    out = cv2.warpAffine(
        image,
        m,
        (side, side),
        flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REFLECT_101,
    )
    return out, m


def _box_of(points: np.ndarray) -> tuple[int, int, int, int]:
    return (
        int(points[:, 1].min()),
        int(points[:, 0].min()),
        int(points[:, 1].max()) + 1,
        int(points[:, 0].max()) + 1,
    )


def test_the_sample_face_is_framed_as_the_training_crops(reference):
    # The sample's face: one face, upright within a few degrees, its eyes found.
    assert 85 < reference.size < 115 and abs(reference.angle) < 8 and reference.eyes
    # The eyes set the frame: their midpoint lands where the training crops have it, at their scale.
    frame = reference.frame()
    eyes = frame @ np.array([reference.eye_x, reference.eye_y, 1.0])
    assert eyes == pytest.approx([FRAMING.eye_x, FRAMING.eye_y], abs=1e-6)
    assert np.hypot(*frame[:, 0]) == pytest.approx(FRAMING.eye_distance / reference.eye_distance)
    # ...and the face's box lands within the spread of the training crops' (p10-p90 of y: 50-60).
    centre = frame @ np.array([reference.x, reference.y, 1.0])
    assert centre == pytest.approx([FRAMING.centre_x, FRAMING.centre_y], abs=8)


@pytest.mark.parametrize(("scale", "angle"), [(0.55, 0.0), (1.7, 0.0), (1.0, 15.0), (0.8, -30.0)])
def test_a_face_at_another_scale_and_roll_gets_the_same_frame_within_a_few_pixels(
    astronaut, reference, scale, angle
):
    moved, m = _moved(astronaut, scale, angle)
    corners = (
        np.array(
            [[NOSE[1], NOSE[0], 1], [NOSE[3], NOSE[0], 1], [NOSE[3], NOSE[2], 1], [NOSE[1], NOSE[2], 1]],
            float,
        )
        @ m.T
    )
    faces = detect_faces(moved, _box_of(corners))
    assert len(faces) == 1
    # Its frame, taken back to the original's pixels, against the reference frame: where each
    # training-crop corner lands, in training-crop pixels.
    found = np.vstack([faces[0].frame() @ np.vstack([m, [0, 0, 1]]), [0, 0, 1]])
    ref = np.vstack([reference.frame(), [0, 0, 1]])
    square = np.array([[0, 0, 1], [128, 0, 1], [128, 128, 1], [0, 128, 1]], float)
    apart = (square @ np.linalg.inv(found).T)[:, :2] - (square @ np.linalg.inv(ref).T)[:, :2]
    apart_in_crop = np.hypot(*apart.T) * FRAMING.box / reference.size
    assert apart_in_crop.max() < 6.0, apart_in_crop


def test_only_faces_touching_the_region_and_not_tiny_ones(astronaut):
    assert detect_faces(astronaut, (400, 400, 450, 450)) == []  # the suit, far from the face
    small = cv2.resize(astronaut, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)  # a 30 px face
    assert 0.3 * 100 < MIN_FACE
    assert detect_faces(small, (30, 60, 50, 80)) == []


def test_flat_and_noisy_windows_are_no_face():
    rng = np.random.default_rng(0)
    cascade = load_cascade(FACE_CASCADE)
    for grey in (np.full((48, 48), 128, np.uint8), rng.integers(0, 256, (48, 48)).astype(np.uint8)):
        ys, xs = np.mgrid[0:25, 0:25]
        assert not detect_windows(grey, cascade, ys.ravel(), xs.ravel()).any()


@pytest.mark.parametrize("name", [FACE_CASCADE, EYE_CASCADE])
@pytest.mark.parametrize("step", [1, 2])
def test_the_grid_search_finds_the_windows_the_window_by_window_one_does(astronaut, name, step):
    cascade = load_cascade(name)
    grey = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    scale = 24 / 100 if name == FACE_CASCADE else 20 / 20  # the face, or the eyes, at the window's size
    level = cv2.resize(grey[40:260, 120:340], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = level.shape
    rows, cols = (3, h - cascade.height - 2), (1, w)
    ys, xs = np.mgrid[rows[0] : rows[1] : step, cols[0] : w - cascade.width + 1 : step]
    ys, xs = ys.ravel(), xs.ravel()
    hits = detect_windows(level, cascade, ys, xs)
    assert hits.any()
    found = detect_grid(level, cascade, step, rows, cols)
    assert sorted(zip(*found, strict=True)) == sorted(zip(ys[hits], xs[hits], strict=True))


def _plain_cascade(grey: np.ndarray, cascade, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """OpenCV's stump cascade written out stump by stump in float64, every stage for every window."""
    ii, sq = cv2.integral2(grey, sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)
    ww, wh = cascade.width, cascade.height

    def rect(x, y, w, h, table=ii):
        return (
            table[ys + y + h, xs + x + w]
            - table[ys + y, xs + x + w]
            - table[ys + y + h, xs + x]
            + table[ys + y, xs + x]
        )

    area = (ww - 2) * (wh - 2)
    s, q = rect(1, 1, ww - 2, wh - 2), rect(1, 1, ww - 2, wh - 2, sq)
    nf = np.sqrt(np.maximum(area * q - s * s, 0.0))
    alive = nf > 10.0 * area
    stump = 0
    for s_end, s_thr in zip(cascade.stage_end, cascade.stage_threshold, strict=True):
        votes = np.zeros(len(ys))
        while stump < s_end:
            first = 0 if stump == 0 else cascade.rect_end[stump - 1]
            value = sum(
                cascade.weights[r] * rect(*cascade.rects[r]) for r in range(first, cascade.rect_end[stump])
            )
            below = value / np.maximum(nf, 1e-9) < cascade.stump_threshold[stump]
            votes += np.where(below, *cascade.leaves[stump])
            stump += 1
        alive &= votes >= s_thr
    return alive


@pytest.mark.parametrize("name", [FACE_CASCADE, EYE_CASCADE])
def test_the_compiled_cascade_passes_the_windows_a_plain_evaluation_does(astronaut, name):
    cascade = load_cascade(name)
    grey = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    scale = 24 / 100 if name == FACE_CASCADE else 1.0  # the face, or the eyes, at the window's size
    level = cv2.resize(grey[40:260, 120:340], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = level.shape
    ys, xs = np.mgrid[0 : h - cascade.height + 1, 0 : w - cascade.width + 1]
    ys, xs = ys.ravel(), xs.ravel()
    expected = _plain_cascade(level, cascade, ys, xs)
    assert expected.any() and not expected.all()
    assert np.array_equal(detect_windows(level, cascade, ys, xs), expected)


def test_a_grid_search_with_keep_searches_only_the_kept_windows(astronaut):
    cascade = load_cascade(FACE_CASCADE)
    grey = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    level = cv2.resize(grey[40:260, 120:340], None, fx=0.24, fy=0.24, interpolation=cv2.INTER_AREA)
    ys, xs = detect_grid(level, cascade, 2)
    assert len(ys) > 2
    rows, cols = len(range(0, level.shape[0] - 23, 2)), len(range(0, level.shape[1] - 23, 2))
    keep = np.zeros((rows, cols), bool)
    keep[ys[0] // 2, xs[0] // 2] = keep[0, 0] = True
    kept = detect_grid(level, cascade, 2, keep=keep)
    assert sorted(zip(*kept, strict=True)) == [(ys[0], xs[0])]
    with pytest.raises(ValueError, match="one flag per window"):
        detect_grid(level, cascade, 2, keep=keep[1:])


def test_given_the_hole_only_faces_it_could_use_are_searched(astronaut, reference):
    h, w = astronaut.shape[:2]
    hole = np.zeros((h, w), bool)
    hole[NOSE[0] : NOSE[2], NOSE[1] : NOSE[3]] = True
    # A hole on the nose: the same face as without the hole.
    assert detect_faces(astronaut, NOSE, hole=hole) == [reference]
    # A hole over the whole face: no window there is searched, as its fill would not use a face.
    whole = np.zeros((h, w), bool)
    whole[40:200, 150:300] = True
    assert detect_faces(astronaut, (40, 150, 200, 300)) != []
    assert detect_faces(astronaut, (40, 150, 200, 300), hole=whole) == []
    with pytest.raises(ValueError, match="hole must be"):
        detect_faces(astronaut, NOSE, hole=hole[1:])
