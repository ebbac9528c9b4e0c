"""The `densenet` space: DenseNet-BC's layout with its table's numbers as knobs.

torchvision's DenseNet-BC (searchspace/zoo/densenet.py): a 7x7 stride-2 stem
and max pool, four dense blocks with a halving transition between them, a
final norm and ReLU.  Knobs: ``block<i>.depth`` (layers per dense block, around
the paper's 6, 12, 24-48, 16-32), ``growth_rate`` (channels each layer adds),
``stem_width``, ``bottleneck`` (the 1x1's width over the growth rate, the
paper's 4) and ``resolution_mult``.  DenseNet-121, -161, -169 and -201 are points.
"""

from __future__ import annotations

from typing import Any

from search.spaces.base import SpaceContext
from search.spaces.domains import Domain
from search.spaces.flat_space import RESOLUTION_MULT, FlatSpace, per_stage, stage_values
from searchspace import NetSpec
from searchspace.zoo.densenet import BOTTLENECK, CONFIGS, densenet_spec

DEPTH = (Domain.integers(2, 8), Domain.integers(4, 16), Domain.integers(8, 48), Domain.integers(8, 32))
BLOCK_DEPTH = "block{}.depth"
KNOBS = {
    **per_stage(BLOCK_DEPTH, DEPTH),
    "growth_rate": Domain.choices((12, 16, 24, 32, 48)),
    "stem_width": Domain.choices((32, 48, 64, 96)),
    "bottleneck": Domain.choices((2, BOTTLENECK)),
    "resolution_mult": RESOLUTION_MULT,
}


class DenseNetSpace(FlatSpace):
    name = "densenet"
    description = "DenseNet-BC: layers per dense block, growth rate, stem width, bottleneck width and resolution"
    domains = KNOBS
    raise_to_build = True  # unpadded pools: a tiny input takes the smallest resolution the layout builds at
    known = CONFIGS

    def net(self, values: dict[str, Any], context: SpaceContext) -> NetSpec:
        depths = stage_values(values, BLOCK_DEPTH, len(DEPTH))
        return densenet_spec(depths, values["growth_rate"], values["stem_width"], values["bottleneck"])

    def point(self, entry: Any) -> dict[str, Any]:
        depths, growth_rate, stem_width = entry
        return {**per_stage(BLOCK_DEPTH, depths), "growth_rate": growth_rate, "stem_width": stem_width,
                "bottleneck": BOTTLENECK, "resolution_mult": 1.0}
