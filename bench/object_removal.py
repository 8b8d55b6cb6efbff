"""The object-removal benchmark over several engines, with a contact sheet of every case at 100%.

    python bench/object_removal.py --photos DIR [--photos DIR ...] [--scale 2mp|native]
        [--engines guided,patchmatch,navier-stokes,pypatchmatch] [-n 6] [--n-pypatchmatch 1]
        (guided-nolines, patchmatch-nolines: without straight lines drawn first)
        [--every K] [--start I] [--limit N] [--seed 0] [--out DIR]
    python bench/object_removal.py --summarize RUN_DIR [RUN_DIR ...]   # cases all engines finished

Writes OUT/report.json, OUT/report.md (training/object_bench.py's table) and OUT/sheets/: per case
and engine a sheet of the input (hole greyed) and every candidate, each a crop of the hole's
neighbourhood at 100% (windows of at most --sheet-side px around the hole's outline where the
neighbourhood is larger), captioned with its seam ratio.

PyPatchMatch (`pypatchmatch==2.2.0`, PyPI) is a bench-only comparison, not a dependency. It runs in
its own venv (--pypatchmatch-python, default /work/venvs/pypatchmatch/bin/python; make it with
`python3 -m venv /work/venvs/pypatchmatch && /work/venvs/pypatchmatch/bin/pip install numpy
pypatchmatch==2.2.0`) through bench/pypatchmatch_worker.py, on the hole's box grown by its own size
each side (PatchMatch's cost grows with the picture it searches), pasted back. It has no seed, and
seeding the C library's rand() does not change its output: it is deterministic, so one candidate.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.contact_sheet import contact_sheet
from inpaint_gui.core.seams import seam_score
from inpaint_gui.training import object_bench as ob
from inpaint_gui.training.runs import grey_hole, write_png

log = logging.getLogger("object_removal")
HERE = Path(__file__).resolve().parent
DEFAULT_ENGINES = ("guided", "patchmatch", "navier-stokes", "pypatchmatch")
PYPATCHMATCH_PYTHON = Path("/work/venvs/pypatchmatch/bin/python")


def pypatchmatch_fill(python: Path, patch: int = 15, context: float = 1.0) -> ob.Fill:
    """PyPatchMatch in a subprocess, on the hole's box grown by `context` of its size each side."""

    def fill(image: NDArray[np.uint8], mask: NDArray[np.bool_], n: int, seed: int) -> list[NDArray[np.uint8]]:
        ys, xs = np.nonzero(mask)
        h, w = mask.shape
        gy, gx = round((ys.max() - ys.min() + 1) * context), round((xs.max() - xs.min() + 1) * context)
        box = (
            slice(max(int(ys.min()) - gy, 0), min(int(ys.max()) + gy + 1, h)),
            slice(max(int(xs.min()) - gx, 0), min(int(xs.max()) + gx + 1, w)),
        )
        with tempfile.TemporaryDirectory(prefix="pypatchmatch-") as tmp:
            np.save(Path(tmp) / "image.npy", np.ascontiguousarray(image[box]))
            np.save(Path(tmp) / "mask.npy", mask[box].astype(np.uint8) * 255)
            done = subprocess.run(
                # -P: bench/patchmatch.py must not shadow the installed package
                [str(python), "-P", str(HERE / "pypatchmatch_worker.py"), tmp, str(patch)],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise RuntimeError(f"pypatchmatch failed: {done.stderr.strip()[-300:]}")
            crop = np.load(Path(tmp) / "fill.npy", allow_pickle=False)
        out = image.copy()
        out[box] = np.where(mask[box][..., None], crop, image[box])
        return [out]  # deterministic: one candidate whatever n is

    return fill


@dataclass
class _Shown:
    image: NDArray[np.uint8]
    seed: int
    score: float


def sheet_window(mask: NDArray[np.bool_], side: int) -> tuple[int, int, int, int]:
    """The neighbourhood as (top, left, bottom, right), or where it is larger than side x side, a
    side x side window at 100% centred on the outline point nearest the hole's centre (so the
    window shows the outline and the inside)."""
    ys_, xs_ = ob.neighbourhood(mask)
    if ys_.stop - ys_.start <= side and xs_.stop - xs_.start <= side:
        return ys_.start, xs_.start, ys_.stop, xs_.stop
    ring = mask & ~cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    ys, xs = np.nonzero(ring)
    cy, cx = np.nonzero(mask)
    k = int(np.argmin((ys - cy.mean()) ** 2 + (xs - cx.mean()) ** 2))
    h, w = mask.shape
    top = int(np.clip(ys[k] - side // 2, 0, max(h - side, 0)))
    left = int(np.clip(xs[k] - side // 2, 0, max(w - side, 0)))
    return top, left, min(top + side, h), min(left + side, w)


def write_sheets(out: Path, side: int) -> Callable[[ob.Case, dict, dict], None]:
    """run_object_bench's on_case: the cases.jsonl line and the contact sheets of each case."""

    def on_case(case: ob.Case, shown: dict[str, list[NDArray[np.uint8]]], recs: dict) -> None:
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "cases.jsonl", "a") as f:  # what a run cut short still leaves
            for name, rec in recs.items():
                f.write(json.dumps({"engine": name, **rec}) + "\n")
        box = sheet_window(case.mask, side)
        cell = max(box[2] - box[0], box[3] - box[1])  # one picture pixel per photo pixel
        for name, fills in shown.items():
            cands = [_Shown(f, i, -seam_score(case.image, f, case.mask)) for i, f in enumerate(fills)]
            sheet = contact_sheet(
                cands,
                original=grey_hole(case.image, case.mask),
                box=box,
                cell=max(64, min(cell, 4096)),
                columns=4,
                title=f"{case.name} {case.image.shape[1]}x{case.image.shape[0]} {case.band} - {name} at 100%"
                " (caption: seam ratio, 1 = photo's own)",
            )
            write_png(out / "sheets" / f"{Path(case.name).stem}_{name}.png", sheet)
        truth = out / "sheets" / f"{Path(case.name).stem}_photo.png"
        t, left, b, r = box
        write_png(truth, case.image[t:b, left:r])

    return on_case


def summarize_cases(folders: list[Path]) -> str:
    """A table over the cases every engine in these runs' cases.jsonl finished (a run cut short, or
    engines run apart, compared on the same cases). No KID: it needs the runs' features."""
    rows: dict[str, dict[str, dict]] = {}
    for folder in folders:
        for line in (folder / "cases.jsonl").read_text().splitlines():
            rec = json.loads(line)
            rows.setdefault(rec["engine"], {})[rec["case"]] = rec
    shared = sorted(set.intersection(*(set(v) for v in rows.values())))
    head = (
        "| engine | cases | n | LPIPS mean | LPIPS best | LPIPS diversity | seam | photo's seam "
        "| s / candidate |"
    )
    lines = [head, "|" + "---|" * 9]
    for engine, by_case in rows.items():
        recs = [by_case[c] for c in shared]

        def mean(key: str, digits: int = 3, recs: list = recs) -> str:
            vals = [r[key] for r in recs if r.get(key) is not None]
            return f"{np.mean(vals):.{digits}f}" if vals else "–"

        lines.append(
            f"| {engine} | {len(recs)} | {mean('candidates', 0)} | {mean('lpips')} | {mean('lpips_best')} | "
            f"{mean('lpips_diversity')} | {mean('seam', 2)} | {mean('seam_photo', 2)} | "
            f"{mean('seconds_per_candidate', 1)} |"
        )
    return "\n".join(lines) + f"\n\nCases: {', '.join(shared)}\n"


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--summarize"]:
        print(summarize_cases([Path(a) for a in argv[1:]]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", action="append", required=True, metavar="DIR")
    ap.add_argument("--scale", choices=ob.SCALES, default="2mp")
    ap.add_argument("--engines", default=",".join(DEFAULT_ENGINES))
    ap.add_argument("-n", type=int, default=6, help="candidates per engine (default 6)")
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--start", type=int, default=0, help="with --every: begin at this photo (0-based)")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sheet-side", type=int, default=1200)
    ap.add_argument("--pypatchmatch-python", type=Path, default=PYPATCHMATCH_PYTHON)
    ap.add_argument("--pypatchmatch-context", type=float, default=1.0, help="crop: hole's box grown by this")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    photos = sorted(p for d in args.photos for p in ob.list_photos(d))[args.start :: args.every][: args.limit]
    engines: dict[str, ob.Fill] = {}
    counts: dict[str, int] = {}
    for name in args.engines.split(","):
        if name == "pypatchmatch":
            if not args.pypatchmatch_python.is_file():
                log.warning("no %s: PyPatchMatch left out", args.pypatchmatch_python)
                continue
            engines[name] = pypatchmatch_fill(args.pypatchmatch_python, context=args.pypatchmatch_context)
            counts[name] = 1
        elif name.endswith("-nolines"):  # the same engine without straight lines drawn first
            base = name.removesuffix("-nolines")
            engines[name] = ob.registry_fill(base, device="cpu", continue_lines=False)
            counts[name] = args.n
        else:
            engines[name], counts[name] = ob.registry_fill(name, device="cpu"), args.n
    report = ob.run_object_bench(
        photos,
        engines,
        scale=args.scale,
        n=counts,
        seed=args.seed,
        on_case=write_sheets(args.out, args.sheet_side),
    )
    report["settings"]["command"] = " ".join(sys.argv)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "report.md").write_text(ob.markdown_table(report))
    print(ob.markdown_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
