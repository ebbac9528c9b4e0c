"""The `vit` space: plain ViT/DeiT nets (patch embedding, class token, pre-norm encoder blocks).

Knobs, all net-wide as in the ViT and DeiT papers:

* ``depth``: encoder blocks;
* ``width``: the token width, a multiple of 96 (2^5 * 3) so that every ``heads`` choice divides it (no repair);
* ``heads``: attention heads;
* ``mlp_ratio``: the MLP's hidden width over the token width;
* ``patch``: the patch side in pixels at the sampled resolution;
* ``resolution_mult``: the context's resolution times this, as in the resnet space;
* ``distilled``: DeiT's distillation token and second head (asked last, so the other knobs' draws
  stay those of the space without it).

ViT-B/16 and B/32, ViT-Ti/16 and DeiT-Ti/16 (the same net), DeiT-Ti/16 distilled and DeiT-S/16 are exact points at any
context resolution: their position embedding follows the input
(docs/token_sequences.md).  A patch larger than the sampled resolution is cut
to the resolution (one patch token), so every sample builds.
"""

from __future__ import annotations

from typing import Any

from search.spaces.base import SpaceContext
from search.spaces.domains import Domain
from search.spaces.flat_space import RESOLUTION_MULT, FlatSpace, sampled_resolution
from searchspace import NetSpec
from searchspace.zoo.vit import TIMM_VITS, TORCHVISION_VITS, vit_spec

DEPTH = Domain.integers(1, 24)
WIDTH = Domain.integers(96, 768, 96)
HEADS = Domain.choices((1, 2, 3, 4, 6, 8, 12, 16))
MLP_RATIO = Domain.choices((1.0, 2.0, 3.0, 4.0))
PATCH = Domain.choices((4, 8, 16, 32))
DISTILLED = Domain.choices((False, True))
KNOBS = {"depth": DEPTH, "width": WIDTH, "heads": HEADS, "mlp_ratio": MLP_RATIO, "patch": PATCH,
         "resolution_mult": RESOLUTION_MULT, "distilled": DISTILLED}
# The zoo's nets whose values lie in these ranges, as ((patch, width, depth, heads), distilled) from the zoo's own tables.
_BASELINES = {
    **{name: (TORCHVISION_VITS[name], False) for name in ("vit_b_16", "vit_b_32")},
    **{name: TIMM_VITS[name][1:] for name in ("vit_tiny_patch16_224", "deit_tiny_patch16_224", "deit_small_patch16_224",
                                              "deit_tiny_distilled_patch16_224")},
}


class ViTSpace(FlatSpace):
    name = "vit"
    description = "ViT/DeiT: depth, token width, heads, MLP ratio, patch size and resolution of a plain vision transformer"
    domains = KNOBS
    notes = {"patch": "cut to the resolution if larger"}
    known = _BASELINES

    def net(self, values: dict[str, Any], context: SpaceContext) -> NetSpec:
        patch = min(values["patch"], sampled_resolution(context, values["resolution_mult"]))
        return vit_spec(patch, values["width"], values["depth"], values["heads"], distilled=values["distilled"],
                        mlp_ratio=values["mlp_ratio"])

    def point(self, entry: Any) -> dict[str, Any]:
        (patch, width, depth, heads), distilled = entry
        return {"depth": depth, "width": width, "heads": heads, "mlp_ratio": 4.0, "patch": patch, "resolution_mult": 1.0,
                "distilled": distilled}
