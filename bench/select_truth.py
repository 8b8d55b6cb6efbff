"""Ground-truth masks of ten objects for bench/select_objects.py, written OUTSIDE git.

    python bench/select_truth.py --photos /work/shared/datasets/eval/photos-full --out DIR

Most of the photos are eval/photos-full's, which may not be committed: so are the masks. Each
mask is drawn by a method chosen for its object and checked by eye at full size in the overlay
written beside it (DIR/check_<name>.png: the photo, then the mask's outline in green):
  coffee_spoon  hand-placed polygons (the handle's tip, the bowl) and a 4 px polyline for the
                stem, placed on a 4x view of resources/samples/coffee.jpg;
  bird_large    dark on a light sky: grey level past halfway from the sky (border median) to
                the bird (1st percentile);
  bird_small    light on a dark hillside: past 30% of the way to the bird (99th percentile);
                in a hand-placed window on the lower wing's tip, whose primaries are dark grey
                inside a light rim, also every pixel past 10% of the way that is connected to
                that mask (hysteresis), gaps closed by 2 px; the window stops short of the
                bright dot the wing's leading edge runs into (not bird);
  ladybird      red or dark (HSV), with the flower's dark hairy bud above the shell cut off by a
                hand-placed polygon; holes and gaps closed by 9 px;
  cherry_a..f   red (Lab a*) past 35% of the way from the cloth (border median) to the cherry
                (99th percentile), then the convex hull (a cherry is convex; its white highlights
                are not red). Three cherries are out of focus: the edge of their blur halo is at
                that 35% crossing. Stems are not part of a cherry here.
Methods that threshold start from a loose box placed by eye. The box the bench then drags is
derived from the truth: its bounding box plus 8% of its size on each side, as a user would.
Two objects also name correcting strokes placed by eye, as a user would paint them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "resources" / "samples"


def _at(points, ox: float, oy: float, zoom: float) -> list[tuple[float, float]]:
    """Points read off a `zoom`x view whose top-left is image pixel (ox, oy)."""
    return [(ox + x / zoom, oy + y / zoom) for x, y in points]


SPOON_TIP = [
    (398.75, 70), (405, 67), (413.75, 67), (420, 70), (423, 75), (422, 85), (419.5, 95),
    (416.25, 107.5), (413, 118.75), (411.5, 130), (410.25, 136.25), (409.5, 130), (408, 117.5),
    (405, 105), (402, 90), (400, 77.5),
]  # fmt: skip
SPOON_BOWL = _at(
    [
        (358, 0), (362, 20), (352, 60), (340, 110), (336, 150), (342, 190), (358, 220), (385, 248),
        (405, 278), (418, 318), (421, 360), (413, 400), (397, 440), (373, 478), (342, 508),
        (300, 530), (250, 541), (210, 538), (172, 516), (137, 482), (116, 442), (106, 392),
        (108, 342), (120, 302), (140, 272), (170, 250), (205, 236), (240, 222), (270, 200),
        (290, 175), (305, 140), (318, 100), (330, 60), (345, 20), (352, 0),
    ],
    300, 190, 4,
)  # fmt: skip
SPOON_STEM = [(411, 133), (409, 145), (406, 163), (401, 183), (394.5, 199), (388, 213)]
# The bud above the ladybird, in a 1.6925x view of the loose box's top-left corner.
LADYBIRD_CUT = [
    (0, 0), (745, 0), (745, 300), (520, 300), (470, 280), (420, 240), (330, 170), (260, 110),
    (200, 70), (120, 60), (0, 60),
]  # fmt: skip

JULIA = "elem_julia-craice.jpg"
JANICE = "sqz_janice-gill_0PueFmKKF28.jpg"
NEHA = "sqz_neha-deshmukh_GoKXJaQoLQs.jpg"
# name: photo, a loose box (x, y, w, h) to look in, method, its parameters, correcting strokes
OBJECTS: dict[str, dict] = {
    "coffee_spoon": dict(
        file="coffee.jpg", box=(312, 58, 118, 277), method="polygons",
        strokes={"fg": [[(409, 75), (412, 110)]], "bg": [[(324, 247), (346, 249)]], "radius": 3},
    ),
    "bird_large": dict(file=JULIA, box=(1370, 1070, 990, 560), method="dark"),
    "bird_small": dict(
        file=JULIA, box=(2780, 3190, 350, 300), method="light",
        params={"frac": 0.3, "tip": (2810, 3360, 80, 77), "tip_frac": 0.1},
    ),
    "ladybird": dict(
        file=JANICE, box=(850, 990, 440, 480), method="ladybird", params={"close": 9},
        strokes={"bg": [[(1110, 1020), (1240, 1100)]], "radius": 6},
    ),
    "cherry_a": dict(file=NEHA, box=(175, 180, 180, 170), method="red"),
    "cherry_b": dict(file=NEHA, box=(605, 535, 190, 185), method="red"),
    "cherry_c": dict(file=NEHA, box=(320, 1110, 210, 205), method="red"),
    "cherry_d": dict(file=NEHA, box=(645, 2130, 200, 210), method="red"),
    "cherry_e": dict(file=NEHA, box=(240, 1940, 210, 195), method="red"),
    "cherry_f": dict(file=NEHA, box=(975, 2130, 200, 210), method="red"),
}  # fmt: skip


def _largest_filled(m: np.ndarray, close: int = 0) -> np.ndarray:
    """The largest component of m, its holes filled (after closing gaps of `close` px)."""
    m = m.astype(np.uint8)
    if close:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * close + 1,) * 2)
        m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, k)
    n, comp, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n <= 1:
        return m.astype(bool)
    out = (comp == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    contours, _ = cv2.findContours(out, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, 1, -1)
    return out.astype(bool)


def _with_tip(sub: np.ndarray, grey: np.ndarray, level: float, window, origin) -> np.ndarray:
    """sub plus, inside window (x, y, w, h in image pixels), what is lighter than level and
    connected to sub: the dark grey primaries of a light bird's wing tip."""
    wx, wy, ww, wh = window
    wx, wy = wx - origin[0], wy - origin[1]
    n, comp = cv2.connectedComponents((grey > level).astype(np.uint8), connectivity=8)
    ids = np.unique(comp[sub])
    tip = np.zeros_like(sub)
    tip[wy : wy + wh, wx : wx + ww] = np.isin(comp[wy : wy + wh, wx : wx + ww], ids[ids > 0])
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    tip = cv2.morphologyEx(tip.astype(np.uint8), cv2.MORPH_CLOSE, k).astype(bool)
    out = np.zeros_like(sub)
    out[wy : wy + wh, wx : wx + ww] = True
    return _largest_filled(sub | (tip & out))


def _fixed(points) -> np.ndarray:
    return np.round((np.asarray(points) - 0.5) * 16).astype(np.int32)


def truth(o: dict, img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    method, params = o["method"], o.get("params", {})
    if method == "polygons":
        canvas = np.zeros((h, w), np.uint8)
        for poly in (SPOON_TIP, SPOON_BOWL):
            cv2.fillPoly(canvas, [_fixed(poly)], 1, cv2.LINE_8, 4)
        cv2.polylines(canvas, [_fixed(SPOON_STEM)], False, 1, 4, cv2.LINE_8, 4)
        return canvas.astype(bool)
    x, y, bw, bh = o["box"]
    if method == "red":
        x, y, bw, bh = max(0, x - 60), max(0, y - 60), bw + 120, bh + 120
    crop = img[y : y + bh, x : x + bw].astype(np.float32)
    if method in ("dark", "light"):
        grey = crop.mean(axis=2)
        bg = np.median(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]]))
        fg = np.percentile(grey, 1 if method == "dark" else 99)
        t = bg + params.get("frac", 0.5) * (fg - bg)
        sub = _largest_filled(grey < t if method == "dark" else grey > t, params.get("close", 0))
        if "tip" in params:
            sub = _with_tip(sub, grey, bg + params["tip_frac"] * (fg - bg), params["tip"], (x, y))
    elif method == "red":
        a = cv2.cvtColor(crop.astype(np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)[..., 1]
        bg = np.median(np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]]))
        t = bg + params.get("frac", 0.35) * (np.percentile(a, 99) - bg)
        body = _largest_filled(a > t, 1).astype(np.uint8)
        contours, _ = cv2.findContours(body, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.fillConvexPoly(body, cv2.convexHull(contours[0]), 1)
        sub = body.astype(bool)
    elif method == "ladybird":
        hsv = cv2.cvtColor(crop.astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
        red = ((hsv[..., 0] < 12) | (hsv[..., 0] > 170)) & (hsv[..., 1] > 120) & (hsv[..., 2] > 60)
        dark = hsv[..., 2] < params.get("dark", 60)
        cut = np.zeros(red.shape, np.uint8)
        cv2.fillPoly(cut, [np.round(np.array(LADYBIRD_CUT) / 1.6925).astype(np.int32)], 1)
        sub = _largest_filled((red | dark) & (cut == 0), params.get("close", 3))
    else:
        raise ValueError(f"unknown method {method!r}")
    gt = np.zeros((h, w), bool)
    gt[y : y + bh, x : x + bw] = sub
    return gt


def user_box(gt: np.ndarray, margin: float = 0.08) -> tuple[int, int, int, int]:
    """The box a user drags: the object's bounding box and 8% of its size on each side."""
    ys, xs = np.nonzero(gt.any(axis=1))[0], np.nonzero(gt.any(axis=0))[0]
    h, w = ys[-1] + 1 - ys[0], xs[-1] + 1 - xs[0]
    mx, my = round(margin * w), round(margin * h)
    x0, y0 = max(0, xs[0] - mx), max(0, ys[0] - my)
    x1, y1 = min(gt.shape[1], xs[-1] + 1 + mx), min(gt.shape[0], ys[-1] + 1 + my)
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def _overlay(img: np.ndarray, gt: np.ndarray, box, path: Path) -> None:
    x, y, bw, bh = box
    scale = min(4.0, 1000 / max(bw, bh))
    crop = np.ascontiguousarray(img[y : y + bh, x : x + bw][:, :, ::-1])
    contours, _ = cv2.findContours(
        gt[y : y + bh, x : x + bw].astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE
    )
    marked = cv2.drawContours(crop.copy(), contours, -1, (0, 255, 0), 1)
    big = [cv2.resize(a, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST) for a in (crop, marked)]
    cv2.imwrite(str(path), np.hstack(big))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path, required=True, help="eval/photos-full")
    ap.add_argument("--out", type=Path, required=True, help="folder for the masks (outside git)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, o in OBJECTS.items():
        path = SAMPLES / o["file"] if o["file"] == "coffee.jpg" else args.photos / o["file"]
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise SystemExit(f"cannot read {path}")
        img = np.ascontiguousarray(bgr[:, :, ::-1])
        gt = truth(o, img)
        cv2.imwrite(str(args.out / f"{name}.png"), gt.astype(np.uint8) * 255)
        box = user_box(gt)
        _overlay(img, gt, box, args.out / f"check_{name}.png")
        meta = {"file": str(path), "box": box, "area": int(gt.sum())}
        if "strokes" in o:
            meta["strokes"] = o["strokes"]
        (args.out / f"{name}.json").write_text(json.dumps(meta))
        print(f"{name}: {meta['area']:,} px, box {box}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
