"""Make docs/before_after.png: sample photos, a hole, and candidates of the shipped checkpoints.

    .venv/bin/python docs/before_after.py [--scenes CKPT] [--faces CKPT] [-o docs/before_after.png]

Uses only images from resources/samples (public domain / CC0, see SOURCES.md). Each row: the
photo, the hole (greyed), patchmatch alone (the default for photos before the guided engine) for
comparison, then three candidates of the default engine (guided, with the scenes network; on the
face it fills with the faces network at its training framing). Rows of a checkpoint that is not
installed are left out (and said so).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from inpaint_gui.core.image_io import load_image
from inpaint_gui.engine import load_engine
from inpaint_gui.engine.checkpoint import FACES_NAME, SCENES_NAME, checkpoint_dir
from inpaint_gui.engine.face_router import FaceRoutedEngine

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "resources" / "samples"
TILE = 240  # tile height in pixels
CANDIDATES = 3


def _strokes(shape: tuple[int, int], strokes: list[tuple[list[tuple[int, int]], int]]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    for points, width in strokes:
        cv2.polylines(mask, [np.array(points, np.int32)], False, 255, width, lineType=cv2.LINE_AA)
        for p in points:
            cv2.circle(mask, p, width // 2, 255, -1)
    return mask > 0


def _examples() -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(label, checkpoint kind, image, mask) for each row."""
    rocket = load_image(SAMPLES / "rocket.jpg").rgb
    # the left-hand lightning tower, from its tip to the lights at its foot
    rocket_mask = _strokes(rocket.shape[:2], [([(199, 118), (196, 200), (190, 300), (186, 380)], 30)])
    coffee = load_image(SAMPLES / "coffee.jpg").rgb
    # the spoon, as in the app's screenshots
    coffee_mask = _strokes(
        coffee.shape[:2],
        [
            ([(413, 68), (408, 110), (400, 150), (392, 188), (383, 222), (372, 248)], 28),
            ([(360, 262), (368, 300)], 84),
        ],
    )
    astronaut = load_image(SAMPLES / "astronaut.jpg").rgb
    face = np.ascontiguousarray(astronaut[15:195, 135:315])  # a square crop like the aligned training faces
    face_mask = np.zeros(face.shape[:2], bool)
    face_mask[105:150, 55:125] = True  # mouth and chin
    return [
        ("scenes: a tower removed", "scenes", rocket, rocket_mask),
        ("scenes: the spoon removed", "scenes", coffee, coffee_mask),
        ("faces: mouth filled", "faces", face, face_mask),
    ]


def _tile(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    size = (max(1, round(w * TILE / h)), TILE)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if h > TILE else cv2.INTER_CUBIC)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    out = tile.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 22), (20, 20, 20), -1)
    cv2.putText(out, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (235, 235, 235), 1, cv2.LINE_AA)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenes", type=Path, default=checkpoint_dir() / SCENES_NAME)
    p.add_argument("--faces", type=Path, default=checkpoint_dir() / FACES_NAME)
    p.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "before_after.png")
    args = p.parse_args()

    paths = {"scenes": args.scenes, "faces": args.faces}
    installed = {kind: path for kind, path in paths.items() if path.is_file()}
    missing = ", ".join(f"{kind} ({path})" for kind, path in paths.items() if kind not in installed)
    if not installed:
        p.error(f"no checkpoint found: {missing}")
    if missing:
        print(f"leaving out the rows of missing checkpoints: {missing}")
    names = {"scenes": "guided", "faces": "guided (faces network)"}
    if "scenes" not in installed:
        p.error(f"the default engine needs the scenes checkpoint: {args.scenes}")
    default = FaceRoutedEngine.from_checkpoints(args.scenes, installed.get("faces"), device="cpu")
    engines = {kind: default for kind in installed}
    before = load_engine("patchmatch")
    rows = []
    for label, kind, image, mask in _examples():
        if kind not in engines:
            continue
        shown = image.copy()
        shown[mask] = shown[mask] // 4 + 128
        fills = [c.image for c in engines[kind].inpaint(image, mask, n=CANDIDATES, seed=0)]
        alone = before.inpaint(image, mask, n=1, seed=0)[0].image
        tiles = [
            _label(_tile(image), label),
            _label(_tile(shown), "hole"),
            _label(_tile(alone), "patchmatch alone"),
        ]
        tiles += [_label(_tile(f), f"{names[kind]} #{i + 1}") for i, f in enumerate(fills)]
        rows.append(tiles)
    gap = 4
    width = max(sum(t.shape[1] for t in r) + gap * (len(r) - 1) for r in rows)
    sheet = np.full((len(rows) * (TILE + gap) - gap, width, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        x = 0
        for t in row:
            sheet[i * (TILE + gap) : i * (TILE + gap) + TILE, x : x + t.shape[1]] = t
            x += t.shape[1] + gap
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # A 256-colour palette with error diffusion: a fifth of the size, no visible banding.
    image = Image.fromarray(sheet)
    palette = image.quantize(256, method=Image.Quantize.MEDIANCUT)
    image.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(args.output, optimize=True)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
