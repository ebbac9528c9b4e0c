"""The `xception` space: the aligned Xception's flows (searchspace/zoo/xception.py) with their sizes as knobs.

Two 3x3 stem convs, the entry flow, the middle flow of repeated 728-wide
blocks and the exit flow.  Knobs:

* ``entry.depth``: the entry flow's blocks, 3 (Xception-41 and -65) or 5
  (Xception-71's, with a stride-1 block before the second and third strided ones);
* ``middle.depth``: the middle flow's blocks (41: 8, 65 and 71: 16);
* ``width_mult``: every width, stem included, times this, rounded to a multiple
  of 8 as MobileNets round (the paper's widths are all multiples of 8, so 1.0 keeps them);
* ``resolution_mult``.

Xception-41, -65 and -71 are points (at the context's resolution, not their weights' 299 px).
"""

from __future__ import annotations

from typing import Any

from search.spaces.base import SpaceContext
from search.spaces.domains import Domain
from search.spaces.flat_space import RESOLUTION_MULT, FlatSpace
from searchspace import NetSpec
from searchspace.widths import make_divisible
from searchspace.zoo.xception import ENTRY_FLOWS, MIDDLE_BLOCKS, xception_layout

# The zoo's distinct entry flows, by their number of blocks.
ENTRY_BY_DEPTH = {len(flow): flow for flow in ENTRY_FLOWS.values()}
WIDTH_DIVISOR = 8
KNOBS = {
    "entry.depth": Domain.choices(tuple(sorted(ENTRY_BY_DEPTH))),
    "middle.depth": Domain.integers(1, 16),
    "width_mult": Domain.choices((0.5, 0.75, 1.0, 1.25)),
    "resolution_mult": RESOLUTION_MULT,
}


class XceptionSpace(FlatSpace):
    name = "xception"
    description = "Xception (aligned): entry and middle flow blocks, width multiplier and resolution"
    domains = KNOBS
    notes = {"width_mult": "every width, rounded to multiples of 8"}
    known = {f"xception{depth}": depth for depth in MIDDLE_BLOCKS}  # zoo name -> its depth, the zoo's tables' key

    def net(self, values: dict[str, Any], context: SpaceContext) -> NetSpec:
        def width(channels: int) -> int:
            return make_divisible(channels * values["width_mult"], WIDTH_DIVISOR)

        return xception_layout(ENTRY_BY_DEPTH[values["entry.depth"]], values["middle.depth"], width)

    def point(self, entry: Any) -> dict[str, Any]:
        return {"entry.depth": len(ENTRY_FLOWS[entry]), "middle.depth": MIDDLE_BLOCKS[entry], "width_mult": 1.0,
                "resolution_mult": 1.0}
