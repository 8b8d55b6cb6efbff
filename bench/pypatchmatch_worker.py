"""Runs PyPatchMatch (`pypatchmatch` on PyPI) for bench/object_removal.py in its own interpreter.

    /work/venvs/pypatchmatch/bin/python bench/pypatchmatch_worker.py DIR PATCH_SIZE

Reads DIR/image.npy (uint8 H x W x 3) and DIR/mask.npy (uint8 H x W, non-zero = hole), writes
DIR/fill.npy. numpy and pypatchmatch only: the bench venv need not hold the app's dependencies.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from patchmatch import patch_match


def main() -> int:
    folder, patch = Path(sys.argv[1]), int(sys.argv[2])
    if not patch_match.patchmatch_available:
        print("pypatchmatch's library could not be loaded", file=sys.stderr)
        return 1
    image = np.load(folder / "image.npy", allow_pickle=False)
    mask = np.load(folder / "mask.npy", allow_pickle=False)
    np.save(folder / "fill.npy", patch_match.inpaint(image, mask, patch_size=patch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
