"""Faces inside larger photos: the default engine against the faces network on the native crops.

    python bench/faces_in_frames.py quality [--every 20] [--scales 2 4] [-n 6] [--out FILE.json]
    python bench/faces_in_frames.py speed [--photo PHOTO.jpg] [--repeat 5]
    python bench/faces_in_frames.py framing [--every 100]

quality: each eval/faces crop (128 px) with its eval/masks hole (the pairing of `inpaint eval`) is
filled three ways, n candidates from seed 0: the faces network on the crop itself ("native", what
it was trained for); the default engine on the crop scaled by each --scales factor and set in a
frame 1.75 times larger (the crop's blurred reflection around it), the same hole scaled with it;
and, at the first scale, the guided engine alone (faces off). Framed fills are brought back to the
crop's 128 px (area filter) and measured there against the crop: LPIPS (mean over candidates),
LPIPS diversity (mean between candidates) and the share of images whose hole went to the faces
network. Needs `inpaint metric-weights`.

speed: seconds of face detection (engine.face_router.plan_face_parts, what the default engine adds
to a request) on a 24 MP photo without faces and on the sample portrait scaled into a 24 MP frame,
a hole on the face (nose and mouth) in both at the same place; then on the photo without faces
with object-sized holes of 2% and 10% (bench/fullres.py's, at the centre); median of --repeat.

framing: where the detector finds the face box and the eyes in faces/utk crops (core.faces.FRAMING).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fullres import photo_hole  # noqa: E402

from inpaint_gui.core.faces import detect_faces  # noqa: E402
from inpaint_gui.core.haar import EYE_CASCADE, FACE_CASCADE, load_cascade  # noqa: E402
from inpaint_gui.engine.face_router import plan_face_parts  # noqa: E402

DATA = Path(os.environ.get("INPAINT_DATA", "/work/shared/datasets"))
FRAME = 1.75


def framed(crop: np.ndarray, mask: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The crop scaled and set in the middle of a frame FRAME times larger; its hole; its offset."""
    big = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    hole = cv2.resize(mask.astype(np.uint8), None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST) > 0
    side = big.shape[0]
    pad = int(side * (FRAME - 1) / 2)
    frame = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    soft = cv2.GaussianBlur(frame, (0, 0), side / 12)
    inside = np.zeros(frame.shape[:2], bool)
    inside[pad : pad + side, pad : pad + side] = True
    frame = np.where(inside[..., None], frame, soft)
    full = np.zeros(frame.shape[:2], bool)
    full[pad : pad + side, pad : pad + side] = hole
    return frame, full, pad


def quality(args: argparse.Namespace) -> None:
    from inpaint_gui.engine.checkpoint import FACES_NAME, checkpoint_dir
    from inpaint_gui.engine.face_router import FaceRoutedEngine
    from inpaint_gui.engine.pluralistic import PluralisticEngine
    from inpaint_gui.training.evaluate import load_pair, pair_images_and_masks
    from inpaint_gui.training.perceptual import Perceptual

    meter = Perceptual("cpu")
    faces = PluralisticEngine.from_checkpoint(checkpoint_dir() / FACES_NAME, device="cpu")
    default = FaceRoutedEngine.from_checkpoints(device="cpu")
    pairs = pair_images_and_masks(DATA / "eval" / "faces", DATA / "eval" / "masks", every=args.every)
    rows = []
    for i, pair in enumerate(pairs):
        loaded = load_pair(pair, 128)
        if loaded is None:
            continue
        crop, mask = loaded
        row: dict = {"image": pair.image.name, "band": pair.band, "hole": float(mask.mean())}
        fills = [c.image for c in faces.inpaint(crop, mask, n=args.n, seed=0)]
        row["native"] = _scores(meter, crop, fills)
        for k, scale in enumerate(args.scales):
            frame, hole, pad = framed(crop, mask, scale)
            side = 128 * scale
            for mode in ("auto", "off") if k == 0 else ("auto",):
                default.configure(faces=mode)
                start = time.perf_counter()
                out = default.inpaint(frame, hole, n=args.n, seed=0)
                seconds = time.perf_counter() - start
                back = [
                    cv2.resize(
                        c.image[pad : pad + side, pad : pad + side], (128, 128), interpolation=cv2.INTER_AREA
                    )
                    for c in out
                ]
                # Outside the hole the measure sees the crop itself, as the native fill's does.
                back = [np.where(mask[..., None], b, crop) for b in back]
                name = f"x{scale}" if mode == "auto" else f"x{scale}_guided"
                row[name] = {
                    **_scores(meter, crop, back),
                    "routed": bool(out[0].filled_by),
                    "seconds": seconds,
                }
            default.configure(faces="auto")
        rows.append(row)
        print(i, json.dumps(row), flush=True)
    summary = {}
    for key in rows[0]:
        if isinstance(rows[0][key], dict):
            summary[key] = {
                m: float(np.mean([r[key][m] for r in rows]))
                for m in rows[0][key]
                if m in ("lpips", "diversity", "routed", "seconds")
            }
    print(json.dumps(summary, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))


def _scores(meter, truth: np.ndarray, fills: list[np.ndarray]) -> dict:
    to_photo, spread = meter.lpips_scores(truth, fills)
    return {"lpips": float(np.mean(to_photo)), "diversity": float(spread)}


def speed(args: argparse.Namespace) -> None:
    photo = cv2.cvtColor(cv2.imread(str(args.photo)), cv2.COLOR_BGR2RGB)
    h, w = photo.shape[:2]
    portrait = cv2.cvtColor(
        cv2.imread(str(ROOT / "resources" / "samples" / "astronaut.jpg")), cv2.COLOR_BGR2RGB
    )
    k = h / portrait.shape[0]
    big = cv2.resize(portrait, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    with_face = np.zeros_like(photo)
    with_face[:, :] = big[:, :1].mean(0)
    with_face[:, : big.shape[1]] = big[:, : min(w, big.shape[1])]
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (round(226 * k), round(136 * k)), (round(24 * k), round(22 * k)), 0, 0, 360, 1, -1)
    mask = mask.astype(bool)
    print(f"{w}x{h} ({w * h / 1e6:.1f} MP); load {os.getloadavg()[0]:.1f}")
    # Both cascades are parsed once, at the engine's warm-up, and their layouts for each level width
    # are made on the first request: one untimed pass of each case.
    load_cascade(FACE_CASCADE)
    load_cascade(EYE_CASCADE)
    plan_face_parts(photo, mask)
    plan_face_parts(with_face, mask)
    cases = [("no face", photo, mask), ("portrait", with_face, mask)]
    cases += [
        (f"no face, {share:.0%} hole", photo, photo_hole((h, w), share, 1, (0.5, 0.5)))
        for share in (0.02, 0.1)
    ]
    for name, image, hole in cases:
        times, cpu, parts = [], [], []
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            parts = plan_face_parts(image, hole)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        print(
            f"{name}: {statistics.median(times):.3f} s wall, {statistics.median(cpu):.3f} s CPU "
            f"(medians of {args.repeat}); faces routed: {len(parts)}"
        )


def framing(args: argparse.Namespace) -> None:
    files = sorted((DATA / "faces" / "utk").glob("*.webp"))[:: args.every]
    rows = []
    for f in files:
        img = cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB)
        found = detect_faces(img, None, tilts=())
        if found:
            a = found[0]
            rows.append((a.x, a.y, a.size, a.angle, a.eyes, a.eye_x, a.eye_y, a.eye_distance))
    r = np.array(rows, float)
    e = r[r[:, 4] > 0]
    print(f"found in {len(r)} of {len(files)}; eyes in {len(e)}")
    names = ["centre_x", "centre_y", "box", "roll"]
    for name, col in [
        *zip(names, r.T[:4], strict=True),
        *zip(("eye_x", "eye_y", "eye_distance"), e.T[5:], strict=True),
    ]:
        p10, p50, p90 = np.percentile(col, [10, 50, 90])
        print(f"{name}: median {p50:.1f} (p10 {p10:.1f}, p90 {p90:.1f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--every", type=int, default=20)
    q.add_argument("--scales", type=int, nargs="+", default=[2, 4])
    q.add_argument("-n", type=int, default=6)
    q.add_argument("--out")
    s = sub.add_parser("speed")
    s.add_argument("--photo", type=Path, default=DATA / "eval" / "photos-full" / "elem_julia-craice.jpg")
    s.add_argument("--repeat", type=int, default=5)
    f = sub.add_parser("framing")
    f.add_argument("--every", type=int, default=100)
    args = ap.parse_args()
    {"quality": quality, "speed": speed, "framing": framing}[args.cmd](args)


if __name__ == "__main__":
    main()
