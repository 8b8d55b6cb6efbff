"""How well one box selects an object: coverage and extra against hand-checked masks, and time.

The ground-truth masks come from bench/select_truth.py (written outside git, since most photos
are eval/photos-full's). For each object the box is the one a user would drag: the true mask's
bounding box and 8% of its size on each side. Figures per object:
  coverage = |selection & truth| / |truth|   (share of the object's pixels selected)
  extra    = |selection - truth| / |truth|   (pixels selected outside it, against its size)
once with grow 0 (the outline itself) and once with the default grow (what the app selects).
Objects whose truth names correcting strokes (placed by eye, as a user would paint them) are
measured again with those strokes: the "+ strokes" rows.
Time: one box on a 24 MP photo (the large bird in elem_julia-craice.jpg, 6000x4000), median of
--repeat runs, wall and CPU seconds, alternating with runs without the second GrabCut pass.
--one-pass measures everything without the second pass (the baseline it is compared with).
--edge-bound also prints, per object (box only, grow 0), the figures an ideal edge step would
reach: every pixel within 1, 2 or 3 px of the outline put on the truth's side. An object that
fails there cannot be passed by any edge-precision step (guided filter, snapping, matting).
--baseline REF also runs core/selection.py as it was at git commit REF, object by object in
the same run, and prints its grow-0 figures beside ("before"); the time alternates with it.

    python bench/select_objects.py --truth /work/scratch/select/gt [--work-side 300] [--repeat 3]
        [--baseline COMMIT]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inpaint_gui.core import selection  # noqa: E402
from inpaint_gui.core.selection import (  # noqa: E402
    DEFAULT_GROW,
    DEFAULT_WORK_SIDE,
    Stroke,
    select_region,
)


def _read(path: str) -> np.ndarray:
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def _score(sel, truth: np.ndarray) -> tuple[float, float]:
    full = sel.full()
    area = np.count_nonzero(truth)
    return np.count_nonzero(full & truth) / area, np.count_nonzero(full & ~truth) / area


def _edge_bound(full: np.ndarray, truth: np.ndarray, reach: int) -> tuple[float, float]:
    """Coverage and extra if every pixel within `reach` px of the outline were decided right."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    u8 = full.view(np.uint8)
    band = cv2.dilate(u8, kernel) != cv2.erode(u8, kernel)
    ideal = np.where(band, truth, full)
    area = np.count_nonzero(truth)
    return np.count_nonzero(ideal & truth) / area, np.count_nonzero(ideal & ~truth) / area


def _one_pass(small, labels, first):
    return first.astype(np.float32)


def _module_at(ref: str):
    """core/selection.py as it was at git commit `ref`, imported under another name."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "show", f"{ref}:inpaint_gui/core/selection.py"], cwd=root, capture_output=True, check=True
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="selection_base_"))
    (folder / "selection_base.py").write_bytes(source)
    spec = importlib.util.spec_from_file_location("selection_base", folder / "selection_base.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["selection_base"] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truth", type=Path, required=True, help="folder of <name>.png + <name>.json")
    ap.add_argument("--work-side", type=int, default=DEFAULT_WORK_SIDE)
    ap.add_argument("--grow", type=int, default=DEFAULT_GROW)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated object names")
    ap.add_argument("--one-pass", action="store_true", help="without the second GrabCut pass")
    ap.add_argument("--edge-bound", action="store_true", help="what an ideal edge step could reach")
    ap.add_argument("--baseline", default="", help="git commit whose selection.py runs beside")
    args = ap.parse_args()
    base = _module_at(args.baseline) if args.baseline else None
    base_rows = []
    two_pass = selection._second_pass
    if args.one_pass:
        selection._second_pass = _one_pass

    names = sorted(p.stem for p in args.truth.glob("*.json"))
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    if not names:
        raise SystemExit(f"no <name>.json ground truth in {args.truth}")
    images: dict[str, np.ndarray] = {}
    rows = []
    corrected = []  # with the correcting strokes where an object has them
    print(f"work side {args.work_side} px, grow {args.grow} px")
    print("load average {:.1f} {:.1f} {:.1f} (1, 5, 15 min)".format(*os.getloadavg()))
    print(
        f"{'object':14} {'size':>10} {'box':>22} "
        f"{'cover0':>7} {'extra0':>7} {'cover':>7} {'extra':>7} {'s':>6}"
        + (f" | before {'cover0':>7} {'extra0':>7}" if base else "")
    )
    for name in names:
        meta = json.loads((args.truth / f"{name}.json").read_text())
        if meta["file"] not in images:
            images[meta["file"]] = _read(meta["file"])
        image = images[meta["file"]]
        truth = cv2.imread(str(args.truth / f"{name}.png"), cv2.IMREAD_GRAYSCALE) > 127
        box = tuple(meta["box"])
        t = time.perf_counter()
        sel0 = select_region(image, box, grow=0, work_side=args.work_side)
        dt = time.perf_counter() - t
        sel = select_region(image, box, grow=args.grow, work_side=args.work_side)
        c0, e0 = _score(sel0, truth)
        c, e = _score(sel, truth)
        rows.append((c0, e0, c, e))
        size = f"{image.shape[1]}x{image.shape[0]}"
        line = f"{name:14} {size:>10} {str(box):>22} {c0:7.1%} {e0:7.1%} {c:7.1%} {e:7.1%} {dt:6.2f}"
        if base:
            b0 = _score(base.select_region(image, box, grow=0, work_side=args.work_side), truth)
            base_rows.append(b0)
            line += f" |        {b0[0]:7.1%} {b0[1]:7.1%}"
        print(line)
        if args.edge_bound:
            bounds = (_edge_bound(sel0.full(), truth, reach) for reach in (1, 2, 3))
            pairs = zip((1, 2, 3), bounds, strict=True)
            text = " | ".join(f"{r} px {c:6.1%} {e:6.1%}" for r, (c, e) in pairs)
            print(f"{'ideal edge':>14} {'':>10} {'':>22} {text}")
        if "strokes" in meta:
            st = meta["strokes"]
            fg = [Stroke(tuple(map(tuple, s)), st["radius"]) for s in st.get("fg", [])]
            bg = [Stroke(tuple(map(tuple, s)), st["radius"]) for s in st.get("bg", [])]
            sel0 = select_region(image, box, fg, bg, grow=0, work_side=args.work_side)
            sel = select_region(image, box, fg, bg, grow=args.grow, work_side=args.work_side)
            (c0, e0), (c, e) = _score(sel0, truth), _score(sel, truth)
            corrected.append((c0, e0, c, e))
            label = f"+ {len(fg) + len(bg)} stroke"
            print(f"{label:>14} {'':>10} {'':>22} {c0:7.1%} {e0:7.1%} {c:7.1%} {e:7.1%}")
        else:
            corrected.append((c0, e0, c, e))
    mean = np.mean(rows, axis=0)
    worst = (
        min(r[0] for r in rows),
        max(r[1] for r in rows),
        min(r[2] for r in rows),
        max(r[3] for r in rows),
    )
    print(f"{'mean':14} {'':>10} {'':>22} {mean[0]:7.1%} {mean[1]:7.1%} {mean[2]:7.1%} {mean[3]:7.1%}")
    print(f"{'worst':14} {'':>10} {'':>22} {worst[0]:7.1%} {worst[1]:7.1%} {worst[2]:7.1%} {worst[3]:7.1%}")
    for label, table in (("box only", rows), ("with strokes", corrected)):
        for k, grow in ((0, 0), (2, args.grow)):
            passed = sum(r[k] >= 0.95 and r[k + 1] < 0.10 for r in table)
            print(f"{label}, grow {grow}: coverage >= 95% and extra < 10% for {passed}/{len(table)} objects")
    if base:
        passed = sum(r[0] >= 0.95 and r[1] < 0.10 for r in base_rows)
        mean = np.mean(base_rows, axis=0)
        print(
            f"before ({args.baseline}), box only, grow 0: coverage >= 95% and extra < 10% for "
            f"{passed}/{len(base_rows)} objects; mean cover0 {mean[0]:.1%} extra0 {mean[1]:.1%}"
        )
    mean = np.mean(corrected, axis=0)
    print(
        f"with strokes, mean: cover0 {mean[0]:.1%} extra0 {mean[1]:.1%} "
        f"cover {mean[2]:.1%} extra {mean[3]:.1%}"
    )

    big = [
        n
        for n in names
        if json.loads((args.truth / f"{n}.json").read_text())["file"].endswith("julia-craice.jpg")
    ]
    if big:
        meta = json.loads((args.truth / f"{big[0]}.json").read_text())
        image = images[meta["file"]]
        variants = {"": two_pass, ", one pass": _one_pass}
        if args.one_pass:
            variants = {", one pass": _one_pass}
        if base:
            variants = {"": two_pass, f", before ({args.baseline})": None}
        walls = {k: [] for k in variants}
        cpus = {k: [] for k in variants}
        for _ in range(args.repeat):  # alternating, so both see the same load
            for label, fn in variants.items():
                run = base.select_region if fn is None else select_region
                if fn is not None:
                    selection._second_pass = fn
                t, c = time.perf_counter(), time.process_time()
                run(image, tuple(meta["box"]), grow=args.grow, work_side=args.work_side)
                walls[label].append(time.perf_counter() - t)
                cpus[label].append(time.process_time() - c)
        selection._second_pass = two_pass
        mp = image.shape[0] * image.shape[1] / 1e6
        for label in variants:
            print(
                f"one box on a {mp:.0f} MP photo ({big[0]}, box {meta['box']}{label}): "
                f"median {statistics.median(walls[label]):.2f} s wall, "
                f"{statistics.median(cpus[label]):.2f} s CPU over {args.repeat} runs"
            )
    print("load average {:.1f} {:.1f} {:.1f} (1, 5, 15 min)".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
