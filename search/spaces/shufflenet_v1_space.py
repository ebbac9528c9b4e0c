"""The `shufflenet_v1` space: ShuffleNet (v1)'s layout with its groups, width, depths and kernel as knobs.

The layout is the paper's (Table 1, searchspace/zoo/shufflenet_v1.py): a 3x3
stride-2 stem and max pool, three stages of ShuffleNet units each starting at
stride 2, global pooling and the classifier.  Knobs:

* ``groups``: the paper's g, which also sets the stage widths (Table 1);
* ``width_mult``: the paper's "ShuffleNet s x" (0.5, 1 and 2 are its nets).
  0.25 is left out because the stem of 0.25x with g = 8 (6 channels rounded
  down to a multiple of 8) would be empty; every value listed gives widths
  that split into the groups, for every g;
* ``stage<i>.depth``: units per stage, around the paper's 4, 8, 4 (stage 2
  needs two: its first unit is the one with a dense first 1x1);
* ``kernel``: the depthwise kernel of every unit (the paper's is 3);
* ``resolution_mult``.

All 15 zoo ShuffleNets (g = 1, 2, 3, 4, 8 at 0.5x, 1x and 2x) are points.
"""

from __future__ import annotations

from typing import Any

from search.spaces.base import SpaceContext
from search.spaces.domains import Domain
from search.spaces.flat_space import RESOLUTION_MULT, FlatSpace, per_stage, stage_values
from searchspace import NetSpec
from searchspace.zoo.shufflenet_v1 import REPEATS, SCALES, STAGE2_WIDTHS, shufflenet_v1_spec

GROUPS = Domain.choices(tuple(STAGE2_WIDTHS))
WIDTH_MULT = Domain.choices((0.5, 0.75, 1.0, 1.5, 2.0))
DEPTH = (Domain.integers(2, 8), Domain.integers(2, 12), Domain.integers(1, 8))
KERNEL = Domain.choices((3, 5, 7))
STAGE_DEPTH = "stage{}.depth"
KNOBS = {"groups": GROUPS, "width_mult": WIDTH_MULT, **per_stage(STAGE_DEPTH, DEPTH), "kernel": KERNEL,
         "resolution_mult": RESOLUTION_MULT}
# Zoo name -> (groups, scale), from the zoo's own tables.
_BASELINES = {f"shufflenet_v1_g{groups}_x{suffix}": (groups, scale)
              for suffix, scale in SCALES.items() for groups in STAGE2_WIDTHS}


class ShuffleNetV1Space(FlatSpace):
    name = "shufflenet_v1"
    description = "ShuffleNet (v1): groups, width multiplier, units per stage, depthwise kernel and resolution"
    domains = KNOBS
    known = _BASELINES

    def net(self, values: dict[str, Any], context: SpaceContext) -> NetSpec:
        repeats = stage_values(values, STAGE_DEPTH, len(DEPTH))
        return shufflenet_v1_spec(values["groups"], values["width_mult"], repeats, values["kernel"])

    def point(self, entry: Any) -> dict[str, Any]:
        groups, scale = entry
        return {"groups": groups, "width_mult": scale, **per_stage(STAGE_DEPTH, REPEATS), "kernel": 3, "resolution_mult": 1.0}
