"""The `swin` space: Swin Transformer's layout (searchspace/zoo/swin.py) with its builder's arguments as knobs.

A 4x4 patch stem, four stages of Swin blocks (the first block of stages 1 to 3
merges patches), a layer norm and the pooled classifier.  Knobs:

* ``stage<i>.depth``: blocks per stage, around Swin-T's 2, 2, 6, 2 and Swin-S's 2, 2, 18, 2;
* ``width``: the first stage's width (Swin-T/S 96, B 128); each later stage
  doubles it, and every stage has width / 32 heads, as every Swin;
* ``window``: the attention window's side in tokens (V1's 7, V2's 8); maps
  are padded to whole windows, so any window fits any map;
* ``version``: v1 (pre-norm) or v2 (post-norm, cosine attention);
* ``mlp_ratio``: the MLP's hidden width over the block width (the paper's 4);
* ``stochastic_depth``: torchvision's rate at the last block (T 0.2, S 0.3); a
  training setting that changes nothing in eval mode, a knob so that the zoo
  nets are points;
* ``resolution_mult``.

Swin-T, Swin-S and Swin-V2-T are points (V2-T at the context's resolution, not its weights' 256 px).
"""

from __future__ import annotations

from typing import Any

from search.spaces.base import SpaceContext
from search.spaces.domains import Domain
from search.spaces.flat_space import RESOLUTION_MULT, FlatSpace, per_stage, stage_values
from searchspace import NetSpec
from searchspace.blocks import SwinSpec
from searchspace.zoo.swin import CONFIGS, EMBED_WIDTH, HEAD_WIDTH, swin_spec

DEPTH = (Domain.integers(1, 4), Domain.integers(1, 4), Domain.integers(1, 18), Domain.integers(1, 4))
STAGE_DEPTH = "stage{}.depth"
KNOBS = {
    **per_stage(STAGE_DEPTH, DEPTH),
    "width": Domain.choices(tuple(HEAD_WIDTH * heads for heads in (1, 2, 3, 4))),
    "window": Domain.choices((4, 7, 8)),
    "version": Domain.choices(("v1", "v2")),
    "mlp_ratio": Domain.choices((2.0, 3.0, 4.0)),
    "stochastic_depth": Domain.choices((0.1, 0.2, 0.3)),
    "resolution_mult": RESOLUTION_MULT,
}


class SwinSpace(FlatSpace):
    name = "swin"
    description = "Swin Transformer: blocks per stage, width, window, version, MLP ratio, stochastic depth and resolution"
    domains = KNOBS
    notes = {"width": "the first stage's; each later stage doubles it, heads = width / 32"}
    known = CONFIGS  # zoo name -> torchvision's builder arguments, the zoo's own table

    def net(self, values: dict[str, Any], context: SpaceContext) -> NetSpec:
        depths = stage_values(values, STAGE_DEPTH, len(DEPTH))
        return swin_spec(depths, values["window"], values["version"], values["stochastic_depth"], width=values["width"],
                         expand_ratio=values["mlp_ratio"])

    def point(self, entry: Any) -> dict[str, Any]:
        depths, window, version, stochastic_depth = entry
        # The zoo nets' blocks keep the spec's default MLP ratio, the paper's.
        return {**per_stage(STAGE_DEPTH, depths), "width": EMBED_WIDTH, "window": window, "version": version,
                "mlp_ratio": SwinSpec.expand_ratio, "stochastic_depth": stochastic_depth, "resolution_mult": 1.0}
