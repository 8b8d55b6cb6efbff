"""The default engine with faces: holes on a face go to the faces network, the rest as before."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from inpaint_gui.engine.face_router import FaceRoutedEngine, plan_face_parts
from inpaint_gui.engine.guided import GuidedEngine
from inpaint_gui.engine.pluralistic import PluralisticEngine, save_random_release

ASTRONAUT = Path(__file__).parents[2] / "resources" / "samples" / "astronaut.jpg"


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    root = tmp_path_factory.mktemp("routed")
    return (
        save_random_release(root / "photo.safetensors"),
        save_random_release(root / "faces.safetensors", seed=1, resolution=64),
    )


@pytest.fixture
def engine(releases) -> FaceRoutedEngine:
    photo, faces = releases
    return FaceRoutedEngine.from_checkpoints(photo, faces, device="cpu")


@pytest.fixture(scope="module")
def astronaut() -> tuple[np.ndarray, np.ndarray]:
    """The sample portrait with its nose and mouth masked, and a patch of the suit far below."""
    image = cv2.cvtColor(cv2.imread(str(ASTRONAUT)), cv2.COLOR_BGR2RGB)
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.ellipse(mask, (226, 136), (24, 22), 0, 0, 360, 1, -1)
    return image, mask.astype(bool)


def test_a_photo_without_faces_gives_the_guided_engines_bytes(engine, releases):
    rng = np.random.default_rng(2)
    img = (np.full((96, 160, 3), 128.0) + rng.normal(0, 6, (96, 160, 3))).clip(0, 255).astype(np.uint8)
    img[:, 50:70] = (200, 40, 40)
    hole = np.zeros((96, 160), bool)
    hole[20:76, 80:140] = True
    plain = GuidedEngine.from_checkpoint(releases[0], device="cpu")
    ours, theirs = engine.inpaint(img, hole, n=3, seed=5), plain.inpaint(img, hole, n=3, seed=5)
    for a, b in zip(ours, theirs, strict=True):
        assert np.array_equal(a.image, b.image) and a.seed == b.seed and a.filled_by == ""


def test_a_hole_on_a_face_is_filled_by_the_faces_network_and_only_the_mask_changes(engine, astronaut):
    image, mask = astronaut
    out = engine.inpaint(image, mask, n=2, seed=3)
    for c in out:
        assert np.array_equal(c.image[~mask], image[~mask])
        assert not np.array_equal(c.image[mask], image[mask])
        assert c.filled_by == "faces network: 1 face"
    assert not np.array_equal(out[0].image, out[1].image)


def test_seeds_reproduce_the_candidates_alone_and_in_a_batch(engine, astronaut):
    image, mask = astronaut
    batch = engine.inpaint(image, mask, n=3, seed=7)
    again = engine.inpaint(image, mask, n=3, seed=7)
    alone = engine.inpaint(image, mask, n=1, seed=8)
    assert all(np.array_equal(a.image, b.image) for a, b in zip(batch, again, strict=True))
    assert np.array_equal(batch[1].image, alone[0].image) and alone[0].seed == 8


def test_a_hole_reaching_past_the_face_is_split_between_the_engines(engine, astronaut):
    image, mask = astronaut
    mask = mask.copy()
    mask[150:260, 150:170] = True  # down the cheek, past the frame's bottom edge onto the suit
    parts = plan_face_parts(image, mask)
    assert len(parts) == 1
    inside = np.zeros_like(mask)
    t, lft, b, r = parts[0].box
    inside[t:b, lft:r] = parts[0].part
    assert inside.any() and (mask & ~inside).any() and not (inside & ~mask).any()
    out = engine.inpaint(image, mask, n=1, seed=0)[0]
    assert out.filled_by == "faces network: 1 face; guided: the rest"
    assert np.array_equal(out.image[~mask], image[~mask])


def test_the_user_can_turn_the_routing_off(engine, releases, astronaut):
    image, mask = astronaut
    engine.configure(faces="off")
    plain = GuidedEngine.from_checkpoint(releases[0], device="cpu")
    a, b = engine.inpaint(image, mask, n=1, seed=1)[0], plain.inpaint(image, mask, n=1, seed=1)[0]
    assert np.array_equal(a.image, b.image) and a.filled_by == ""
    with pytest.raises(ValueError, match="faces must be one of"):
        engine.configure(faces="always")


def test_a_hole_over_most_of_the_face_removes_it_and_goes_to_the_photo_engine(astronaut):
    image, _ = astronaut
    mask = np.zeros(image.shape[:2], bool)
    mask[60:170, 170:280] = True  # the whole face
    assert plan_face_parts(image, mask) == []


def test_a_face_under_a_64th_of_a_large_photos_long_side_goes_to_the_photo_engine(astronaut):
    image, mask = astronaut  # a face about 100 px across
    assert len(plan_face_parts(image, mask)) == 1
    # The same pixels in a photo 7,000 px wide: the face is under 1/64 of it.
    wide = cv2.copyMakeBorder(image, 0, 0, 0, 7000 - image.shape[1], cv2.BORDER_REFLECT_101)
    hole = np.zeros(wide.shape[:2], bool)
    hole[:, : image.shape[1]] = mask
    assert plan_face_parts(wide, hole) == []


def test_without_a_faces_network_it_is_the_guided_engine(releases):
    engine = FaceRoutedEngine(PluralisticEngine.from_checkpoint(releases[0], device="cpu"))
    assert engine.faces_network is None and engine.name == "guided"


def test_two_faces_each_fill_their_own_hole(engine, astronaut):
    image, mask = astronaut
    both = np.concatenate([image, image[:, ::-1]], axis=1)  # the portrait and its mirror image
    holes = np.concatenate([mask, mask[:, ::-1]], axis=1)
    parts = plan_face_parts(both, holes)
    assert len(parts) == 2 and {round(p.face.x) // 512 for p in parts} == {0, 1}
    out = engine.inpaint(both, holes, n=1, seed=2)[0]
    assert out.filled_by == "faces network: 2 faces"
    assert np.array_equal(out.image[~holes], both[~holes])


def test_a_face_whose_frame_leaves_the_photo_is_filled_from_a_mirrored_frame(engine, astronaut):
    image, mask = astronaut
    cut, hole = image[:, 170:], mask[:, 170:]  # the frame reaches past the left edge
    parts = plan_face_parts(cut, hole)
    assert len(parts) == 1
    corners = (
        cv2.invertAffineTransform(parts[0].frame) @ np.array([[0, 0, 1], [0, parts[0].side, 1]], float).T
    )
    assert corners[0].min() < 0
    out = engine.inpaint(cut, hole, n=1, seed=0)[0]
    assert out.filled_by == "faces network: 1 face" and np.array_equal(out.image[~hole], cut[~hole])


def test_the_latent_search_runs_on_the_faces_frame_and_elsewhere_as_before(tmp_path, astronaut):
    from inpaint_gui.engine.face_router import FramedLatentEngine
    from inpaint_gui.engine.latent import LatentEngine, SearchSettings
    from inpaint_gui.engine.latent import save_random_release as save_latent

    path = save_latent(tmp_path / "latent.safetensors")
    fast = SearchSettings(steps=2)
    framed = FramedLatentEngine.from_checkpoint(path, device="cpu", settings=fast)
    plain = LatentEngine.from_checkpoint(path, device="cpu", settings=fast)
    image, mask = astronaut
    out = framed.inpaint(image, mask, n=2, seed=0)
    assert all(c.filled_by == "latent search on the face's frame: 1 face" for c in out)
    assert all(np.array_equal(c.image[~mask], image[~mask]) for c in out)
    suit = np.zeros_like(mask)
    suit[400:440, 300:340] = True  # no face near this hole
    a, b = framed.inpaint(image, suit, n=1, seed=3)[0], plain.inpaint(image, suit, n=1, seed=3)[0]
    assert np.array_equal(a.image, b.image) and a.filled_by == ""


def test_gaps_in_a_mask_on_a_face_are_closed_and_counted(engine, astronaut):
    """The router keeps the base template's mask clean-up: a 1 px gap inside the mask is filled too."""
    image, mask = astronaut
    ys, xs = np.nonzero(mask)
    y, x = int(np.median(ys)), int(np.median(xs))
    holed = mask.copy()
    holed[y, x] = False
    assert mask[y - 1 : y + 2, x - 1 : x + 2].all()
    cands = engine.inpaint(image, holed, n=1, seed=3)
    assert cands[0].closed_gaps == 1
    assert cands[0].filled_by
