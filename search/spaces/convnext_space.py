"""The `convnext` space: ConvNeXt's layout (searchspace/zoo/convnext.py) with its stages' numbers as knobs.

A 4x4 patch stem, four stages of ConvNeXt blocks (the first block of stages 1
to 3 downsamples), a pooled layer norm and the classifier.  Knobs:

* ``stage<i>.depth``: blocks per stage, around ConvNeXt-T's 3, 3, 9, 3;
* ``stage<i>.width``: the stage's width; the first stage chooses among the
  family's first widths (timm's femto 48, pico 64, nano 80, T/S 96, B 128) and
  each later stage among twice the choices of the stage before, as every
  ConvNeXt doubles its width per stage;
* ``kernel``: the depthwise conv's (the paper's 7; its ablation tried 3 to 11);
* ``mlp_ratio``: the MLP's hidden width over the block width (the paper's 4);
* ``resolution_mult``.

ConvNeXt-T is a point.  The stem and three downsamplings need 32 px, so a
draw below that takes the smallest resolution that builds.
"""

from __future__ import annotations

from typing import Any

from search.spaces.base import SpaceContext
from search.spaces.domains import Domain
from search.spaces.flat_space import RESOLUTION_MULT, FlatSpace, per_stage, stage_values
from searchspace import NetSpec
from searchspace.blocks import ConvNeXtSpec
from searchspace.zoo.convnext import TINY, convnext_spec

FIRST_WIDTHS = (48, 64, 80, 96, 128)
DEPTH = (Domain.integers(1, 4), Domain.integers(1, 4), Domain.integers(2, 12), Domain.integers(1, 4))
WIDTH = tuple(Domain.choices(tuple(width * 2**stage for width in FIRST_WIDTHS)) for stage in range(len(DEPTH)))
STAGE_DEPTH, STAGE_WIDTH = "stage{}.depth", "stage{}.width"
KNOBS = {
    **per_stage(STAGE_DEPTH, DEPTH),
    **per_stage(STAGE_WIDTH, WIDTH),
    "kernel": Domain.choices((3, 5, 7)),
    "mlp_ratio": Domain.choices((2.0, 3.0, 4.0)),
    "resolution_mult": RESOLUTION_MULT,
}


class ConvNeXtSpace(FlatSpace):
    name = "convnext"
    description = "ConvNeXt: blocks and width per stage, depthwise kernel, MLP ratio and resolution"
    domains = KNOBS
    raise_to_build = True  # unpadded 2x2 downsampling: a tiny input takes the smallest resolution the layout builds at
    # Zoo name -> its (width, blocks) stages, from the zoo's own table.
    known = {"convnext_tiny": TINY}

    def net(self, values: dict[str, Any], context: SpaceContext) -> NetSpec:
        stages = tuple(zip(stage_values(values, STAGE_WIDTH, len(DEPTH)), stage_values(values, STAGE_DEPTH, len(DEPTH))))
        return convnext_spec(stages, kernel=values["kernel"], expand_ratio=values["mlp_ratio"])

    def point(self, entry: Any) -> dict[str, Any]:
        widths, depths = zip(*entry)
        # The zoo net's blocks keep the spec's defaults, the paper's kernel and MLP ratio.
        return {**per_stage(STAGE_DEPTH, depths), **per_stage(STAGE_WIDTH, widths), "kernel": ConvNeXtSpec.kernel,
                "mlp_ratio": ConvNeXtSpec.expand_ratio, "resolution_mult": 1.0}
