"""The `vit` space: plain ViT/DeiT nets (patch embedding, class token, pre-norm encoder blocks).

Knobs, all net-wide as in the ViT and DeiT papers:

* ``depth``: encoder blocks;
* ``width``: the token width, a multiple of 96 (2^5 * 3) so that every ``heads`` choice divides it (no repair);
* ``heads``: attention heads;
* ``mlp_ratio``: the MLP's hidden width over the token width;
* ``patch``: the patch side in pixels at the sampled resolution;
* ``resolution_mult``: the context's resolution times this, as in the resnet space.

ViT-B/16 and B/32, ViT-Ti/16 and DeiT-Ti/16 (the same net) and DeiT-S/16 are exact points at any
context resolution: their position embedding follows the input
(docs/token_sequences.md).  A patch larger than the sampled resolution is cut
to the resolution (one patch token), so every sample builds.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from search.spaces.base import KnobInfo, Space, SpaceContext, not_a_baseline, registered
from search.spaces.domains import Domain
from search.spaces.suggest import Suggest
from searchspace import NetSpec
from searchspace.scaling import scale_resolution
from searchspace.zoo.vit import TIMM_VITS, TORCHVISION_VITS, vit_spec

DEPTH = Domain.integers(1, 24)
WIDTH = Domain.integers(96, 768, 96)
HEADS = Domain.choices((1, 2, 3, 4, 6, 8, 12, 16))
MLP_RATIO = Domain.choices((1.0, 2.0, 3.0, 4.0))
PATCH = Domain.choices((4, 8, 16, 32))
RESOLUTION = Domain.choices((0.5, 0.625, 0.75, 0.875, 1.0))
KNOBS = {"depth": DEPTH, "width": WIDTH, "heads": HEADS, "mlp_ratio": MLP_RATIO, "patch": PATCH, "resolution_mult": RESOLUTION}
# The zoo's nets whose values lie in these ranges, as (patch, width, depth, heads) from the zoo's own tables.
_BASELINES = {
    **{name: TORCHVISION_VITS[name] for name in ("vit_b_16", "vit_b_32")},
    **{name: TIMM_VITS[name][1] for name in ("vit_tiny_patch16_224", "deit_tiny_patch16_224", "deit_small_patch16_224")},
}


class ViTSpace(Space):
    name = "vit"
    description = "ViT/DeiT: depth, token width, heads, MLP ratio, patch size and resolution of a plain vision transformer"

    @property
    def baselines(self) -> tuple[str, ...]:
        return registered(list(_BASELINES))

    def sample(self, suggest: Suggest, context: SpaceContext) -> NetSpec:
        values = {name: domain.draw(suggest, name) for name, domain in KNOBS.items()}
        resolution = max(1, round(context.resolution * values["resolution_mult"]))
        patch = min(values["patch"], resolution)
        spec = vit_spec(patch, values["width"], values["depth"], values["heads"], mlp_ratio=values["mlp_ratio"])
        spec = replace(spec, resolution=context.resolution, num_classes=context.num_classes, in_channels=context.in_channels)
        multiplier = values["resolution_mult"]
        return spec if multiplier == 1.0 else scale_resolution(spec, multiplier)

    def knobs(self) -> list[KnobInfo]:
        return [KnobInfo.of(name, domain, note="cut to the resolution if larger" if name == "patch" else "")
                for name, domain in KNOBS.items()]

    def log10_size(self) -> float:
        return sum(domain.log10_count() for domain in KNOBS.values())

    def known_point(self, zoo_name: str) -> dict[str, Any]:
        if zoo_name not in _BASELINES:
            raise not_a_baseline(self, zoo_name)
        patch, width, depth, heads = _BASELINES[zoo_name]
        return {"depth": depth, "width": width, "heads": heads, "mlp_ratio": 4.0, "patch": patch, "resolution_mult": 1.0}
