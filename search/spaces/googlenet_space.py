"""The `googlenet` space: GoogLeNet's stem and head around a body of Inception modules, searched by group.

GoogLeNet (searchspace/zoo/googlenet.py) has three groups of Inception modules,
3a-3b, 4a-4e and 5a-5b, with a max pool between groups.  Knobs:

* ``inception<g>.depth``: modules in group g.  A group takes its paper modules
  in order; modules past the paper's count repeat the group's last one;
* ``inception<g>.width_mult``: every branch width of group g's modules times
  this, rounded to a multiple of 8 as MobileNets round (the paper's widths are
  all multiples of 8, so 1.0 keeps them); the stem keeps its 64, 64 and 192;
* ``long_kernel``: the kernel of the "5x5" branch, 3 as torchvision builds
  it (the zoo's, pytorch/vision#906) or the paper's 5;
* ``resolution_mult``.

The auxiliary classifiers are a training aid, not part of a searched net:
samples have none, and GoogLeNet (without them, as the zoo's default) is the point.
"""

from __future__ import annotations

from typing import Any

from search.spaces.base import SpaceContext
from search.spaces.domains import Domain
from search.spaces.flat_space import RESOLUTION_MULT, FlatSpace
from searchspace import NetSpec, Stage
from searchspace.widths import make_divisible
from searchspace.zoo.googlenet import MODULE_WIDTHS, POOL_WINDOWS, googlenet_layout, inception_module, max_pool

# The paper's modules per group, in order, and the pool after each group but the last.
GROUPS = {"3": ("3a", "3b"), "4": ("4a", "4b", "4c", "4d", "4e"), "5": ("5a", "5b")}
POOLS_AFTER = {"3": POOL_WINDOWS["pool3"], "4": POOL_WINDOWS["pool4"]}
DEPTH = {"3": Domain.integers(1, 4), "4": Domain.integers(2, 7), "5": Domain.integers(1, 4)}
WIDTH_DIVISOR = 8
WIDTH_MULT = Domain.choices((0.5, 0.75, 1.0, 1.25, 1.5))
KNOBS = {
    **{f"inception{group}.{knob}": domain for group in GROUPS for knob, domain in (("depth", DEPTH[group]), ("width_mult", WIDTH_MULT))},
    "long_kernel": Domain.choices((3, 5)),
    "resolution_mult": RESOLUTION_MULT,
}


def _body(values: dict[str, Any]) -> tuple[Stage, ...]:
    stages = []
    for group, modules in GROUPS.items():
        for index in range(values[f"inception{group}.depth"]):
            widths = MODULE_WIDTHS[modules[min(index, len(modules) - 1)]]
            scaled = (make_divisible(width * values[f"inception{group}.width_mult"], WIDTH_DIVISOR) for width in widths)
            stages.append(Stage(block=inception_module(*scaled, long_kernel=values["long_kernel"])))
        if group in POOLS_AFTER:
            stages.append(max_pool(POOLS_AFTER[group]))
    return tuple(stages)


class GoogLeNetSpace(FlatSpace):
    name = "googlenet"
    description = "GoogLeNet: Inception modules per group, width multiplier, the long branch's kernel and resolution"
    domains = KNOBS
    raise_to_build = True  # unpadded pools: a tiny input takes the smallest resolution the layout builds at
    notes = {f"inception{group}.width_mult": "its modules' branch widths, rounded to multiples of 8" for group in GROUPS}
    # The paper's modules per group, the torchvision kernel, at the context's resolution.
    known = {"googlenet": {**{f"inception{group}.{knob}": value for group, modules in GROUPS.items()
                              for knob, value in (("depth", len(modules)), ("width_mult", 1.0))},
                           "long_kernel": 3, "resolution_mult": 1.0}}

    def net(self, values: dict[str, Any], context: SpaceContext) -> NetSpec:
        return googlenet_layout(_body(values))
