"""The guided engine: structure from the pluralistic network, texture from the photo.

Each candidate's layout is one draw of the pluralistic network's conditional prior; patchmatch then
renders that layout with the photo's own patches, at the photo's own resolution. The network's fill
is the starting estimate of the hole at the coarse levels of the exemplar pyramid (see
core.exemplar.Completion.fill, guide), so the matches that settle there follow the network's edges
and masses rather than a diffusion of the border, and the finest levels copy real pixels.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from inpaint_gui.core.exemplar import Completion
from inpaint_gui.core.region import Region
from inpaint_gui.engine.exemplar import DEFAULT_PATCH, PatchMatchEngine
from inpaint_gui.engine.guided_layout import Layouts, compose_guides, draw_layouts, guide_level
from inpaint_gui.engine.pluralistic import PluralisticEngine


class GuidedEngine(PatchMatchEngine):
    """Patchmatch whose every candidate follows its own fill of the pluralistic network.

    Seed k gives the network's candidate k as the guide of patchmatch's fill k; the same seed gives
    the same bytes. The network fills each patchmatch region at its training size. Patchmatch's
    levels at `guide_reach` times the network's working scale and coarser start from that fill; the
    finer ones refine what was carried up from them, copying from the photo.
    """

    name = "guided"
    label = "Guided (network layout, photo texture)"
    options = (*PatchMatchEngine.options, "variety")
    #: The guide sets the levels at this share of the network's working scale and coarser: 0.5 leaves
    #: the level at the network's own scale to patchmatch as well. 60 eval/scenes images at 128 px,
    #: object holes, variety 2: LPIPS 0.142 -> 0.147 (patchmatch alone 0.155), LPIPS diversity
    #: 0.063 -> 0.068 (0.072), sharpness 0.66 -> 0.77 (0.82).
    guide_reach = 0.5
    #: The network's default variety here (PluralisticEngine.variety): patchmatch keeps only the
    #: layout of each draw, so a bolder one pays. Object holes, reach 0.5: variety 2 / 2.5 / 3 give
    #: LPIPS diversity 0.068 / 0.071 / 0.074 at LPIPS 0.147 / 0.147 / 0.149. Object-removal benchmark
    #: (three sets of 10 photos at 2 MP, six candidates), variety 3 / 4 / 5: LPIPS 0.1422 / 0.1417 /
    #: 0.1430, 0.1458 / 0.1463 / 0.1470, 0.1200 / 0.1200 / 0.1218; diversity 0.110 / 0.113 / 0.116,
    #: 0.106 / 0.108 / 0.114, 0.081 / 0.084 / 0.087 (docs/object-removal.md).
    default_variety = 4.0
    #: The sampling area, the hole's box grown by this share of its size on every side (patchmatch
    #: alone keeps 0.75): sources near the hole continue what surrounds it; far ones brought other
    #: material. Object-removal benchmark, guided, six candidates, three sets of 10 photos at 2 MP,
    #: 0.75 / 0.5 / 0.35 / 0.25 / 0.15: LPIPS 0.1514 / 0.1504 / 0.1422 / 0.1411 / 0.1390 and 0.1523 /
    #: 0.1474 / 0.1458 / 0.1472 / 0.1530 on the first two; 0.75 -> 0.35 on the third 0.1261 -> 0.1200.
    #: At native size (first set) 0.1455 -> 0.1366, diversity 0.103 -> 0.104 (docs/object-removal.md).
    context = 0.35

    def __init__(self, network: PluralisticEngine, patch_size: int = DEFAULT_PATCH) -> None:
        super().__init__(patch_size=patch_size)
        self.network = network
        # No detail: the guide is read at the pyramid's coarse levels only, and composited there
        # (engine.guided_layout). Its membrane blend stays: a hard paste cost native object holes
        # LPIPS 0.1745 -> 0.1761 and KID x10^3 2.3 -> 3.0, behind patchmatch alone (0.1759, 2.5).
        network.configure(detail="off", variety=self.default_variety)
        # The network sees each region at its training size (its own default too), not twice that: on a
        # full-size photo a crop at 256 px is closer up than any training crop, and the scenes
        # network's fills of a sunset's sky and treeline there were a grey, textured blob; at 128 px
        # it continues the treeline (elem_sunset-by-the-pier, 2% hole).
        network.max_side = network.info.resolution
        self.path: Path | None = network.path  # the checkpoint, as for the network engines

    @classmethod
    def from_checkpoint(
        cls, checkpoint: str | Path | None = None, device: str = "auto", **kwargs: Any
    ) -> GuidedEngine:
        """Load the network from a pluralistic release checkpoint; None = the default shipped one."""
        return cls(PluralisticEngine.from_checkpoint(checkpoint, device=device), **kwargs)

    @property
    def variety(self) -> float:
        """The network's sampling temperature (PluralisticEngine.variety)."""
        return self.network.variety

    @variety.setter
    def variety(self, value: float) -> None:  # configure() restores through this after a bad value
        self.network.variety = value

    def _set_option(self, key: str, value: object) -> None:
        if key == "variety":
            self.network.configure(variety=value)
        else:
            super()._set_option(key, value)

    def _fill_region(
        self,
        region: Region,
        image: NDArray[np.uint8],
        mask: NDArray[np.bool_],
        seeds: Sequence[int],
        near: int | None,
        spread: float,
    ) -> Iterator[NDArray[np.uint8]]:
        exclude = self._region_exclude(region)
        # The network's pass (torch, which lets go of the interpreter lock) runs while the lines are
        # drawn and patchmatch sets up its pyramid and texture maps: the first candidate comes that
        # much sooner. It sees the whole hole: the coarse levels it guides take the lines as hole.
        with ThreadPoolExecutor(1, "guide") as pool:
            drawn = pool.submit(
                draw_layouts, self.network, image, mask, seeds, near, spread, self._cancel_requested
            )
            lined, rest, fixed = self._lines(image, mask)
            completion = self._completion(lined, rest, exclude, fixed)
            layouts = drawn.result()
        scale = min(1.0, self.network_scale(mask) * self.guide_reach)
        level = guide_level(completion, layouts, scale)
        guides = self._guides(completion, layouts, level)
        yield from self._fills(completion, seeds, near, spread, guides, scale)

    def _guides(self, completion: Completion, layouts: Layouts, level: int) -> list[NDArray[np.uint8]]:
        """One guide per seed at the size of the completion's pyramid level `level`
        (engine.guided_layout)."""
        return compose_guides(completion, layouts, level, self.network.blend_band)

    def network_scale(self, mask: NDArray[np.bool_]) -> float:
        """The smallest scale (work size over crop size, at most 1) at which the network fills mask."""
        regions = self.network._plan_regions(mask)
        return min((r.work_h / r.crop_h for r in regions), default=1.0)
